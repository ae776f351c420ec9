#include "schema/schema.h"

#include <nlohmann/json.hpp>

#include "common/decimal.h"
#include "common/value_text.h"

namespace propgrade {

std::string_view ColumnTypeName(ColumnType t) {
  switch (t) {
    case ColumnType::kText:
      return "text";
    case ColumnType::kInteger:
      return "integer";
    case ColumnType::kReal:
      return "real";
    case ColumnType::kBool:
      return "bool";
    case ColumnType::kDate:
      return "date";
    case ColumnType::kTimestamp:
      return "timestamp";
  }
  return "text";
}

int TableDef::ColumnIndex(std::string_view column) const {
  for (size_t i = 0; i < columns.size(); ++i) {
    if (columns[i].name == column) return static_cast<int>(i);
  }
  return -1;
}

std::vector<int> TableDef::KeyIndexes() const {
  std::vector<int> out;
  for (const std::string& k : key_columns) out.push_back(ColumnIndex(k));
  return out;
}

bool TableDef::BusinessKeyIsStoredKey() const {
  if (business_key.size() != key_columns.size()) return false;
  for (size_t i = 0; i < key_columns.size(); ++i) {
    if (business_key[i].column != key_columns[i] || business_key[i].round_places >= 0) {
      return false;
    }
  }
  return true;
}

BusinessKey::BusinessKey(const TableDef& table) : table_(table) {
  for (const KeyPart& part : table.business_key) indexes_.push_back(table.ColumnIndex(part.column));
}

std::string BusinessKey::Of(const Row& row) const {
  std::string key;
  key.reserve(64);
  for (size_t i = 0; i < indexes_.size(); ++i) {
    const Value& v = row[indexes_[i]];
    const int places = table_.business_key[i].round_places;
    if (v.is_null()) {
      key += "\x1eNULL";
    } else if (v.is_text()) {
      key.append(v.as_text());  // no copy: this runs once per graded prediction
    } else if (auto real = v.ToReal(); real && places >= 0) {
      // Equal rounded values have equal bytes (RoundHalfAway turns -0.0 into 0.0).
      const double rounded = RoundHalfAway(*real, places);
      key.append(reinterpret_cast<const char*>(&rounded), sizeof rounded);
    } else {
      key.append(FormatCell(v));
    }
    key += '\x1f';
  }
  return key;
}

std::string BusinessKey::TextOf(const Row& row) const {
  std::string text;
  for (size_t i = 0; i < indexes_.size(); ++i) {
    const Value& v = row[indexes_[i]];
    const int places = table_.business_key[i].round_places;
    if (i > 0) text += '|';
    if (v.is_null()) {
      text += "NULL";
    } else if (auto real = v.ToReal(); real && places >= 0) {
      text.append(FormatCell(Value::Real(RoundHalfAway(*real, places))));
    } else {
      text.append(FormatCell(v));
    }
  }
  return text;
}

bool Newer(const WinnerRule& rule, const TableDef& table, const Row& a, const Row& b,
           std::optional<bool> latest) {
  const int time = table.ColumnIndex(rule.time_column);
  const bool want_latest = latest.value_or(rule.latest);
  const ColumnType type = table.columns[time].type;
  if (type == ColumnType::kInteger || type == ColumnType::kReal) {
    // Numbers order as numbers (a declared table's `version`), a missing one first.
    const std::optional<double> na = a[time].ToReal(), nb = b[time].ToReal();
    if (na != nb) return want_latest ? na > nb : na < nb;
  } else {
    // Canonical timestamps and dates order as instants.
    const std::string ta = FormatCell(a[time]), tb = FormatCell(b[time]);
    if (ta != tb) return want_latest ? ta > tb : ta < tb;
  }
  if (!latest && !rule.tie_column.empty()) {
    const int tie = table.ColumnIndex(rule.tie_column);
    return FormatCell(a[tie]) > FormatCell(b[tie]);
  }
  return false;  // storage order: the earlier row stays
}

bool Newer(const TableDef& table, const Row& a, const Row& b) {
  return Newer(*table.winner, table, a, b);
}

namespace {

#define PG_COLUMN_DEF_ENTRY_(name, type, required) {#name, ColumnType::type, required},

TableDef Make(std::string name, std::vector<ColumnDef> columns, std::string partition,
              std::vector<std::string> key, bool configurable) {
  TableDef t;
  t.name = std::move(name);
  t.columns = std::move(columns);
  t.partition_column = std::move(partition);
  for (const std::string& k : key) t.business_key.push_back({k});
  t.key_columns = std::move(key);
  t.key_uniqueness_configurable = configurable;
  return t;
}

// A table of grading's inputs or outputs: its writes are versioned (input fencing).
TableDef* DataTable(TableDef t, std::string writer = "") {
  t.versioned = true;
  t.writer = std::move(writer);
  return new TableDef(std::move(t));
}

// A grading output: its duplicates are resolved by `winner` (operations.md §7, dedupe).
TableDef* OutputTable(TableDef t, std::string writer, WinnerRule winner) {
  t.stamp_columns = {winner.time_column, "run_id", "fence_token"};
  t.winner = std::move(winner);
  return DataTable(std::move(t), std::move(writer));
}

// An append-only table whose rows get an id from the database.
TableDef* EventTable(std::string name, std::vector<ColumnDef> columns) {
  auto* def = new TableDef(Make(std::move(name), std::move(columns), "", {"id"}, false));
  def->generated_id = true;
  return def;
}

}  // namespace

namespace tables {

const TableDef& Predictions() {
  static const TableDef* t = [] {
    auto* def =
        DataTable(Make("player_prop_predictions", {PG_PREDICTION_COLUMNS(PG_COLUMN_DEF_ENTRY_)},
                       "game_date", {"prediction_id"}, false),
                  "consolidation");
    def->import_aliases = {{"current_points_line", "line_value"}};
    // grading.md §2: one prediction per (date, player, game, system, line to 2 places); the
    // latest created_at wins, then the greatest prediction_id.
    def->business_key = {
        {"game_date"}, {"player_lookup"}, {"game_id"}, {"system_id"}, {"line_value", 2}};
    def->winner = WinnerRule{"created_at", true, "prediction_id"};
    return def;
  }();
  return *t;
}

const TableDef& Actuals() {
  static const TableDef* t = [] {
    auto* def = DataTable(Make("player_game_summary", {PG_ACTUAL_COLUMNS(PG_COLUMN_DEF_ENTRY_)},
                               "game_date", {"game_date", "game_id", "player_lookup"}, false));
    def->ranges = {{"points", 0, 200, "points"},
                   {"minutes_played", 0, std::nullopt, "minutes", true}};
    return def;
  }();
  return *t;
}

const TableDef& Injuries() {
  static const TableDef* t =
      DataTable(Make("injury_report", {PG_INJURY_COLUMNS(PG_COLUMN_DEF_ENTRY_)}, "game_date",
                     {"game_date", "player_lookup", "reported_at"}, false));
  return *t;
}

const TableDef& Archetypes() {
  static const TableDef* t =
      DataTable(Make("player_archetypes", {PG_ARCHETYPE_COLUMNS(PG_COLUMN_DEF_ENTRY_)}, "",
                     {"player_lookup"}, false));
  return *t;
}

const TableDef& Accuracy() {
  // The first grading of a key stays (a re-grade replaces the partition whole).
  static const TableDef* t = OutputTable(
      Make("prediction_accuracy", {PG_ACCURACY_COLUMNS(PG_COLUMN_DEF_ENTRY_)}, "game_date",
           {"game_date", "player_lookup", "game_id", "system_id", "line_value"}, true),
      "grading", {"graded_at", false, ""});
  return *t;
}

const TableDef& DailyPerformance() {
  static const TableDef* t =
      OutputTable(Make("system_daily_performance", {PG_DAILY_COLUMNS(PG_COLUMN_DEF_ENTRY_)},
                       "game_date", {"game_date", "system_id"}, true),
                  "daily_performance", {"computed_at", true, ""});
  return *t;
}

const TableDef& Summary() {
  static const TableDef* t =
      OutputTable(Make("prediction_performance_summary", {PG_SUMMARY_COLUMNS(PG_COLUMN_DEF_ENTRY_)},
                       "as_of_date", {"as_of_date", "summary_key"}, true),
                  "performance_summary", {"computed_at", true, ""});
  return *t;
}

const TableDef& GradingRuns() {
  static const TableDef* t =
      new TableDef(Make("grading_runs", {PG_RUN_COLUMNS(PG_COLUMN_DEF_ENTRY_)}, "game_date",
                        {"run_id", "processor"}, false));
  return *t;
}

const TableDef& PartitionFence() {
  static const TableDef* t =
      new TableDef(Make("partition_fence", {PG_FENCE_COLUMNS(PG_COLUMN_DEF_ENTRY_)}, "",
                        {"lock_namespace", "table_name", "partition"}, false));
  return *t;
}

const TableDef& PartitionVersions() {
  static const TableDef* t = [] {
    auto* def = new TableDef(Make("partition_versions", {PG_VERSION_COLUMNS(PG_COLUMN_DEF_ENTRY_)},
                                  "", {"table_name", "partition"}, false));
    def->extra_indexes = {{"version"}};  // the next version is max(version) + 1 on SQLite
    return def;
  }();
  return *t;
}

const TableDef& Locks() {
  static const TableDef* t =
      new TableDef(Make("locks", {PG_LOCK_COLUMNS(PG_COLUMN_DEF_ENTRY_)}, "", {"key"}, false));
  return *t;
}

const TableDef& LockEvents() {
  static const TableDef* t = [] {
    TableDef* def = EventTable("lock_events", {PG_LOCK_EVENT_COLUMNS(PG_COLUMN_DEF_ENTRY_)});
    def->extra_indexes = {{"at"}};  // lock_health reads the last 24 h
    return def;
  }();
  return *t;
}

const TableDef& DuplicateAudit() {
  static const TableDef* t =
      EventTable("duplicate_audit", {PG_AUDIT_COLUMNS(PG_COLUMN_DEF_ENTRY_)});
  return *t;
}

const TableDef& Quarantine() {
  static const TableDef* t =
      EventTable("remediation_quarantine", {PG_QUARANTINE_COLUMNS(PG_COLUMN_DEF_ENTRY_)});
  return *t;
}

const TableDef& History() {
  static const TableDef* t = [] {
    TableDef* def = EventTable("partition_history", {PG_HISTORY_COLUMNS(PG_COLUMN_DEF_ENTRY_)});
    def->partition_column = "subject";
    return def;
  }();
  return *t;
}

const TableDef& HistoryEntries() {
  static const TableDef* t = [] {
    auto* def = new TableDef(History());
    def->columns.pop_back();  // replaced_rows
    return def;
  }();
  return *t;
}

const TableDef& Alerts() {
  static const TableDef* t = [] {
    TableDef* def = EventTable("alerts", {PG_ALERT_COLUMNS(PG_COLUMN_DEF_ENTRY_)});
    def->extra_indexes = {{"type", "subject", "at"}};  // repeat folding looks up by these
    return def;
  }();
  return *t;
}

const TableDef& CircuitBreakers() {
  static const TableDef* t = new TableDef(
      Make("circuit_breakers", {PG_BREAKER_COLUMNS(PG_COLUMN_DEF_ENTRY_)}, "", {"name"}, false));
  return *t;
}

const TableDef& CheckResults() {
  static const TableDef* t = [] {
    auto* def = new TableDef(Make("check_results", {PG_CHECK_COLUMNS(PG_COLUMN_DEF_ENTRY_)}, "",
                                  {"checked_at", "name"}, false));
    def->extra_indexes = {{"name", "checked_at"}};
    return def;
  }();
  return *t;
}

const TableDef& Staging() {
  static const TableDef* t = [] {
    auto* def = new TableDef(Make("prediction_staging", {PG_STAGING_COLUMNS(PG_COLUMN_DEF_ENTRY_)},
                                  "game_date", {"batch_id", "prediction_id"}, false));
    def->import_aliases = {{"current_points_line", "line_value"}};
    def->extra_indexes = {{"staged_at"}};
    def->writer = "consolidation";
    return def;
  }();
  return *t;
}

}  // namespace tables

const std::vector<const TableDef*>& AllTables() {
  static const auto* all =
      new std::vector<const TableDef*>{&tables::Predictions(),    &tables::Actuals(),
                                       &tables::Injuries(),       &tables::Archetypes(),
                                       &tables::Accuracy(),       &tables::DailyPerformance(),
                                       &tables::Summary(),        &tables::GradingRuns(),
                                       &tables::PartitionFence(), &tables::PartitionVersions(),
                                       &tables::Locks(),          &tables::LockEvents(),
                                       &tables::DuplicateAudit(), &tables::Quarantine(),
                                       &tables::Alerts(),         &tables::CircuitBreakers(),
                                       &tables::CheckResults(),   &tables::Staging(),
                                       &tables::History()};
  return *all;
}

const TableDef* FindTable(std::string_view name) { return Catalogue::BuiltIn()->Find(name); }

const TableDef* TableWrittenBy(std::string_view processor) {
  return Catalogue::BuiltIn()->WrittenBy(processor);
}

StatusOr<Row> RowFromJsonObject(const TableDef& table, std::string_view json) {
  nlohmann::json object = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (!object.is_object())
    return InvalidArgumentError("not a JSON object: " + std::string(json.substr(0, 80)));
  Row row(table.columns.size());
  for (size_t i = 0; i < table.columns.size(); ++i) {
    const ColumnDef& c = table.columns[i];
    auto it = object.find(c.name);
    if (it == object.end() || it->is_null()) continue;
    const nlohmann::json& v = *it;
    bool fits = true;
    switch (c.type) {
      case ColumnType::kBool:
        fits = v.is_boolean();
        if (fits) row[i] = Value::Bool(v.get<bool>());
        break;
      case ColumnType::kInteger:
        fits = v.is_number_integer();
        if (fits) row[i] = Value::Int(v.get<int64_t>());
        break;
      case ColumnType::kReal:
        fits = v.is_number();
        if (fits) row[i] = Value::Real(v.get<double>());
        break;
      default:
        fits = v.is_string();
        if (fits) row[i] = Value::Text(v.get<std::string>());
    }
    if (!fits) {
      return InvalidArgumentError(table.name + "." + c.name + " cannot hold " + v.dump());
    }
  }
  return row;
}

}  // namespace propgrade

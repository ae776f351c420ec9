#include "server/dashboard_api.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>
#include <tuple>

#include "common/civil_date.h"
#include "common/strings.h"
#include "reports/reports.h"
#include "schema/schema.h"

namespace propgrade::server {

namespace {

using json = nlohmann::json;

json ToJson(const Value& v) {
  if (v.is_int()) return v.as_int();
  if (v.is_real()) return std::isfinite(v.as_real()) ? json(v.as_real()) : json(nullptr);
  if (v.is_bool()) return v.as_bool();
  if (v.is_text()) return v.as_text();
  return nullptr;
}

std::string Dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

// The graded window: the last `days` dates up to the latest partition of `table`; nullopt
// when nothing is graded.
StatusOr<std::optional<std::pair<std::string, std::string>>> Window(Store* store,
                                                                     const TableDef& table,
                                                                     int days) {
  ASSIGN_OR_RETURN(std::vector<std::string> parts, store->ListPartitions(table));
  if (parts.empty()) return std::optional<std::pair<std::string, std::string>>();
  std::optional<CivilDay> last = CivilDay::Parse(parts.back());
  if (!last) return InternalError("bad partition '" + parts.back() + "'");
  return std::make_optional(
      std::make_pair(last->AddDays(-(std::max(days, 1) - 1)).ToString(), parts.back()));
}

// The newest `limit` rows of an event table by `time_column` (text timestamps sort in time).
StatusOr<std::vector<Row>> Newest(Store* store, const TableDef& t, const std::string& time_column,
                                  std::vector<std::string> columns, size_t limit) {
  std::vector<Row> rows;
  ScanSpec spec;
  spec.columns = std::move(columns);
  int time_index = 0;
  for (size_t i = 0; i < spec.columns.size(); ++i) {
    if (spec.columns[i] == time_column) time_index = static_cast<int>(i);
  }
  RETURN_IF_ERROR(store->Scan(t, spec, [&](Row&& r) {
    rows.push_back(std::move(r));
    return OkStatus();
  }));
  std::stable_sort(rows.begin(), rows.end(), [&](const Row& a, const Row& b) {
    return a[time_index].ToText().value_or("") > b[time_index].ToText().value_or("");
  });
  if (rows.size() > limit) rows.resize(limit);
  return rows;
}

json RowObject(const std::vector<std::string>& columns, const Row& row) {
  json o = json::object();
  for (size_t i = 0; i < columns.size(); ++i) o[columns[i]] = ToJson(row[i]);
  return o;
}

}  // namespace

StatusOr<std::string> SummaryJson(Store* store, std::string_view lock_backend, Clock* clock) {
  ASSIGN_OR_RETURN(std::vector<std::string> dates, store->ListPartitions(tables::DailyPerformance()));
  json out;
  out["generated_at"] = FormatTimestampMicros(clock->NowMicros());
  out["store"] = RedactUrlCredentials(store->DisplayName());
  out["lock"] = lock_backend;
  out["dates"] = dates.size();
  out["latest_date"] = dates.empty() ? json(nullptr) : json(dates.back());
  std::vector<std::string> systems;
  if (!dates.empty()) {
    ScanSpec spec;
    spec.partition = dates.back();
    spec.columns = {"system_id"};
    RETURN_IF_ERROR(store->Scan(tables::DailyPerformance(), spec, [&](Row&& r) {
      systems.push_back(r[0].ToText().value_or(""));
      return OkStatus();
    }));
  }
  std::sort(systems.begin(), systems.end());
  systems.erase(std::unique(systems.begin(), systems.end()), systems.end());
  out["systems"] = systems;
  return Dump(out);
}

StatusOr<std::string> PerformanceJson(Store* store, int days) {
  json out = {{"dates", json::array()}, {"systems", json::array()}};
  ASSIGN_OR_RETURN(auto window, Window(store, tables::DailyPerformance(), days));
  if (!window) return Dump(out);
  std::map<std::string, std::map<std::string, std::pair<Value, Value>>> by_system;  // sys→date
  std::vector<std::string> dates;
  ScanSpec spec;
  spec.partition_from = window->first;
  spec.partition_to = window->second;
  spec.columns = {"game_date", "system_id", "win_rate", "mae"};
  RETURN_IF_ERROR(store->Scan(tables::DailyPerformance(), spec, [&](Row&& r) {
    std::string date = r[0].ToText().value_or("");
    if (dates.empty() || dates.back() != date) dates.push_back(date);
    by_system[r[1].ToText().value_or("")][date] = {std::move(r[2]), std::move(r[3])};
    return OkStatus();
  }));
  std::sort(dates.begin(), dates.end());
  dates.erase(std::unique(dates.begin(), dates.end()), dates.end());
  out["dates"] = dates;
  for (const auto& [system, cells] : by_system) {
    json win = json::array(), mae = json::array();
    for (const std::string& d : dates) {
      auto it = cells.find(d);
      win.push_back(it == cells.end() ? json(nullptr) : ToJson(it->second.first));
      mae.push_back(it == cells.end() ? json(nullptr) : ToJson(it->second.second));
    }
    out["systems"].push_back({{"system_id", system}, {"win_rate", win}, {"mae", mae}});
  }
  return Dump(out);
}

StatusOr<std::string> CalibrationJson(Store* store, int days) {
  ASSIGN_OR_RETURN(ReportTable report, BuildReport(store, "calibration", days));
  // columns: system_id, decile, decided, mean_confidence, hit_rate
  json out = {{"systems", json::array()}};
  std::map<std::string, json> by_system;
  for (const Row& r : report.rows) {
    json& s = by_system[r[0].ToText().value_or("")];
    if (s.is_null()) {
      s = {{"system_id", r[0].ToText().value_or("")}, {"deciles", json::array()},
           {"decided", json::array()}, {"mean_confidence", json::array()},
           {"hit_rate", json::array()}};
    }
    s["deciles"].push_back(ToJson(r[1]));
    s["decided"].push_back(ToJson(r[2]));
    s["mean_confidence"].push_back(ToJson(r[3]));
    s["hit_rate"].push_back(ToJson(r[4]));
  }
  for (auto& [name, s] : by_system) out["systems"].push_back(std::move(s));
  out["from"] = report.from.empty() ? json(nullptr) : json(report.from);
  out["to"] = report.to.empty() ? json(nullptr) : json(report.to);
  return Dump(out);
}

StatusOr<std::string> DuplicatesJson(Store* store, int days) {
  json out = {{"dates", json::array()}, {"duplicate_rows", json::array()},
              {"audit_groups", json::array()}};
  ASSIGN_OR_RETURN(auto window, Window(store, tables::Accuracy(), days));
  if (!window) return Dump(out);
  ASSIGN_OR_RETURN(std::vector<std::string> parts, store->ListPartitions(tables::Accuracy()));
  std::map<std::string, std::pair<int64_t, int64_t>> by_date;  // rows beyond the first, groups
  for (const std::string& p : parts) {
    if (p >= window->first && p <= window->second) by_date[p] = {0, 0};
  }
  ScanSpec spec;
  spec.range_column = "partition";
  spec.partition_from = window->first;
  spec.partition_to = window->second;
  spec.columns = {"partition", "occurrences"};
  RETURN_IF_ERROR(store->Scan(tables::DuplicateAudit(), spec, [&](Row&& r) {
    auto& cell = by_date[r[0].ToText().value_or("")];
    cell.first += std::max<int64_t>(0, r[1].ToInt().value_or(1) - 1);
    cell.second += 1;
    return OkStatus();
  }));
  for (const auto& [date, cell] : by_date) {
    out["dates"].push_back(date);
    out["duplicate_rows"].push_back(cell.first);
    out["audit_groups"].push_back(cell.second);
  }
  return Dump(out);
}

StatusOr<std::string> LockWaitsJson(Store* store, Clock* clock, int days) {
  json out = {{"points", json::array()}};
  ScanSpec spec;
  spec.range_column = "started_at";
  spec.partition_from = FormatTimestampMicros(clock->NowMicros() - int64_t{86400000000} * days);
  spec.columns = {"started_at", "lock_wait_seconds", "processor"};
  std::vector<std::tuple<int64_t, double, std::string>> points;
  RETURN_IF_ERROR(store->Scan(tables::GradingRuns(), spec, [&](Row&& r) {
    std::optional<int64_t> at = ParseTimestampMicros(r[0].ToText().value_or(""));
    std::optional<double> wait = r[1].ToReal();
    if (at && wait) points.emplace_back(*at / 1000000, *wait, r[2].ToText().value_or(""));
    return OkStatus();
  }));
  std::sort(points.begin(), points.end());
  for (const auto& [at, wait, processor] : points) {
    out["points"].push_back({{"at", at}, {"wait_seconds", wait}, {"processor", processor}});
  }
  return Dump(out);
}

StatusOr<std::string> LocksJson(LockService* locks, Clock* clock) {
  ASSIGN_OR_RETURN(std::vector<LockInfo> held, locks->List());
  int64_t now = clock->NowMicros();
  json out = {{"backend", locks->backend()}, {"locks", json::array()}};
  for (const LockInfo& l : held) {
    out["locks"].push_back({{"key", l.key},
                            {"holder_id", l.holder_id},
                            {"token", l.token ? json(*l.token) : json(nullptr)},
                            {"held_seconds", l.held_micros / 1e6},  // by the service's clock
                            {"expires_in_seconds", (l.expires_at_micros - now) / 1e6},
                            {"waiters", l.waiters}});
  }
  return Dump(out);
}

StatusOr<std::string> RunsJson(Store* store, int limit) {
  std::vector<std::string> columns = {"run_id",       "processor",    "partition",
                                      "status",       "started_at",   "finished_at",
                                      "rows_written", "duplicate_rows", "lock_wait_seconds",
                                      "trigger_source", "error", "correlation_id"};
  ASSIGN_OR_RETURN(std::vector<Row> rows,
                   Newest(store, tables::GradingRuns(), "started_at", columns,
                          static_cast<size_t>(std::max(limit, 0))));
  json out = {{"runs", json::array()}};
  for (const Row& r : rows) {
    json o = RowObject(columns, r);
    auto start = ParseTimestampMicros(r[4].ToText().value_or(""));
    auto end = ParseTimestampMicros(r[5].ToText().value_or(""));
    o["duration_seconds"] = start && end ? json((*end - *start) / 1e6) : json(nullptr);
    out["runs"].push_back(std::move(o));
  }
  return Dump(out);
}

StatusOr<std::string> TablesJson(Store* store, Clock* clock) {
  json out = {{"tables", json::array()}};
  std::vector<const TableDef*> declared = store->catalogue().declared();
  if (declared.empty()) return Dump(out);
  std::sort(declared.begin(), declared.end(),
            [](const TableDef* a, const TableDef* b) { return a->name < b->name; });
  // The last run of each processor, and the surplus rows found in the last 7 days per table.
  std::map<std::string, Row> last_run;  // processor -> its newest run by started_at
  ScanSpec runs;
  runs.columns = {"processor", "status", "partition", "finished_at", "started_at"};
  RETURN_IF_ERROR(store->Scan(tables::GradingRuns(), runs, [&](Row&& r) {
    Row& newest = last_run[r[0].ToText().value_or("")];
    if (newest.empty() || r[4].ToText().value_or("") > newest[4].ToText().value_or("")) {
      newest = std::move(r);
    }
    return OkStatus();
  }));
  std::map<std::string, int64_t> surplus;
  ScanSpec audit;
  audit.range_column = "detected_at";
  audit.partition_from = FormatTimestampMicros(clock->NowMicros() - int64_t{7} * 86400000000);
  audit.columns = {"table_name", "occurrences"};
  RETURN_IF_ERROR(store->Scan(tables::DuplicateAudit(), audit, [&](Row&& r) {
    surplus[r[0].ToText().value_or("")] += std::max<int64_t>(0, r[1].ToInt().value_or(1) - 1);
    return OkStatus();
  }));
  for (const TableDef* t : declared) {
    ASSIGN_OR_RETURN(std::vector<std::string> parts, store->ListPartitions(*t));
    json o = {{"name", t->name},
              {"processor", t->writer},
              {"partition_column", t->partition_column},
              {"partitions", parts.size()},
              {"newest_partition", nullptr},
              {"newest_rows", nullptr},
              {"last_written_at", nullptr},
              {"last_run", nullptr},
              {"duplicate_rows_7d", surplus[t->name]}};
    if (!parts.empty()) {
      ASSIGN_OR_RETURN(int64_t rows, store->CountPartitionRows(*t, parts.back()));
      o["newest_partition"] = parts.back();
      o["newest_rows"] = rows;
    }
    ASSIGN_OR_RETURN(const std::string written, store->LastChangedAt(*t));
    if (!written.empty()) o["last_written_at"] = written;
    if (auto it = last_run.find(t->writer); it != last_run.end()) {
      o["last_run"] = {{"status", ToJson(it->second[1])},
                       {"partition", ToJson(it->second[2])},
                       {"finished_at", ToJson(it->second[3])}};
    }
    out["tables"].push_back(std::move(o));
  }
  return Dump(out);
}

StatusOr<std::string> HistoryJson(Store* store, int dates) {
  const TableDef& t = tables::Accuracy();
  ASSIGN_OR_RETURN(std::vector<std::string> parts, store->ListPartitions(t));
  if (parts.size() > static_cast<size_t>(std::max(dates, 0))) {
    parts.erase(parts.begin(), parts.end() - std::max(dates, 0));
  }
  json out = {{"table", t.name}, {"partitions", json::array()}, {"refused", json::array()}};
  std::vector<json> refused;
  for (const std::string& p : parts) {
    ASSIGN_OR_RETURN(std::vector<HistoryEntry> entries, store->ReadHistory(t, p));
    ASSIGN_OR_RETURN(int64_t rows, store->CountPartitionRows(t, p));
    json writes = json::array();
    for (const HistoryEntry& e : entries) {
      writes.push_back({{"run_id", e.run_id},
                        {"kind", e.kind},
                        {"written_at", e.written_at},
                        {"rows_before", e.rows_before},
                        {"rows_after", e.rows_after},
                        {"keys_added", e.keys_added},
                        {"keys_removed", e.keys_removed},
                        {"keys_changed", e.keys_changed}});
    }
    out["partitions"].push_back({{"partition", p}, {"rows_now", rows}, {"writes", writes}});
    ScanSpec runs;
    runs.range_column = "partition";
    runs.partition = p;
    runs.columns = {"run_id",      "processor",    "status",          "started_at",   "error",
                    "rows_before", "keys_removed", "player_coverage", "game_coverage"};
    RETURN_IF_ERROR(store->Scan(tables::GradingRuns(), runs, [&](Row&& r) {
      const std::string status = r[2].ToText().value_or("");
      if (r[1].ToText().value_or("") != t.writer ||
          (status != "shrink_refused" && status != "insufficient_actuals")) {
        return OkStatus();
      }
      refused.push_back({{"run_id", ToJson(r[0])},
                         {"partition", p},
                         {"status", status},
                         {"started_at", ToJson(r[3])},
                         {"error", ToJson(r[4])},
                         {"rows_before", ToJson(r[5])},
                         {"keys_removed", ToJson(r[6])},
                         {"player_coverage", ToJson(r[7])},
                         {"game_coverage", ToJson(r[8])}});
      return OkStatus();
    }));
  }
  std::sort(refused.begin(), refused.end(), [](const json& a, const json& b) {
    return a["started_at"].dump() > b["started_at"].dump();
  });
  for (json& r : refused) out["refused"].push_back(std::move(r));
  return Dump(out);
}

StatusOr<std::string> AlertsJson(Store* store, int limit) {
  std::vector<std::string> columns = {"at",      "type",      "severity",    "subject",
                                      "summary", "delivered", "folded_count", "table_name",
                                      "partition"};
  ASSIGN_OR_RETURN(std::vector<Row> rows, Newest(store, tables::Alerts(), "at", columns,
                                                 static_cast<size_t>(std::max(limit, 0))));
  json out = {{"alerts", json::array()}};
  for (const Row& r : rows) out["alerts"].push_back(RowObject(columns, r));
  return Dump(out);
}

StatusOr<std::string> BreakersJson(CircuitBreaker* breaker) {
  ASSIGN_OR_RETURN(std::vector<BreakerStatus> all, breaker->List());
  json out = {{"breakers", json::array()}};
  for (const BreakerStatus& b : all) {
    out["breakers"].push_back(
        {{"name", b.name},
         {"state", BreakerStateName(b.state)},
         {"consecutive_failures", b.consecutive_failures},
         {"opened_at", b.opened_at_micros ? json(FormatTimestampMicros(b.opened_at_micros))
                                          : json(nullptr)},
         {"updated_at", b.updated_at_micros ? json(FormatTimestampMicros(b.updated_at_micros))
                                            : json(nullptr)}});
  }
  return Dump(out);
}

}  // namespace propgrade::server

#include "store/postgres/postgres_store.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <mutex>
#include <set>

#include "common/civil_date.h"
#include "common/strings.h"
#include "common/value_text.h"
#include "db/pg_conn.h"
#include "store/fenced_store.h"
#include "store/sql_text.h"

namespace propgrade {
namespace {

using sql::ColumnList;
using sql::Q;

// 1: inputs, outputs, grading_runs, partition_fence. 2: locks, lock_events. 3: duplicate_audit,
// remediation_quarantine, alerts, circuit_breakers. 4: check_results, prediction_staging.
// 5: partition_versions and its sequence.
constexpr int kSchemaVersion = 7;

// Transaction-level advisory locks (pg_advisory_xact_lock). Every write transaction takes all of
// its locks in its first statement, sorted by key, so two transactions cannot deadlock on them:
//   <table>/<partition>  exclusive by the writer of that partition; shared by a write fenced on
//                        it as an input (so the input cannot change before that write commits)
//   versions:<table>     shared by a writer of one partition of the table and by a write fenced
//                        on one partition of it; exclusive by a writer of many partitions (an
//                        import, a dedupe) and by a write fenced on a range of partitions (no
//                        partition of the range can change, or appear, before it commits)
//   prediction_staging/<date>  shared by staging rows of that date, exclusive by consolidating it
struct AdvisoryLock {
  std::string key;
  bool exclusive;
};

std::string PartitionLockKey(const TableDef& t, std::string_view partition) {
  return t.name + "/" + std::string(partition);
}
std::string VersionsLockKey(const TableDef& t) { return "versions:" + t.name; }

// The locks that keep a write's fenced inputs from changing until it commits.
void AddInputLocks(const std::vector<InputVersions>& inputs, std::vector<AdvisoryLock>* locks) {
  for (const InputVersions& in : inputs) {
    if (in.from == in.to) {
      locks->push_back({PartitionLockKey(*in.table, in.from), false});
      locks->push_back({VersionsLockKey(*in.table), false});
    } else {
      locks->push_back({VersionsLockKey(*in.table), true});
    }
  }
}

// A PostgreSQL text[] literal of `items` (each quoted, so any text is safe inside).
std::string TextArray(const std::vector<std::string>& items) {
  std::string out = "{";
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) out += ',';
    out += '"';
    for (char c : items[i]) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  return out + "}";
}

std::string SqlType(ColumnType t) { return sql::SqlType(t, sql::Dialect::kPostgres); }

// How a column is selected so that its text is the catalogue's canonical form.
std::string SelectExpr(const ColumnDef& c) {
  if (c.type == ColumnType::kTimestamp) {
    return "to_char(" + Q(c.name) + " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')";
  }
  if (c.type == ColumnType::kDate) return Q(c.name) + "::text";
  return Q(c.name);
}

std::string KeyExprList(const TableDef& t) {
  return sql::KeyExprList(t, sql::Dialect::kPostgres);
}

std::optional<std::string> Param(const Value& v) {
  if (v.is_null()) return std::nullopt;
  if (v.is_bool()) return std::string(v.as_bool() ? "true" : "false");
  if (v.is_int()) return std::to_string(v.as_int());
  if (v.is_real()) return FormatDouble(v.as_real());
  return v.as_text();
}

// A value of a column type as COPY/parameter text (bools stored as SQLite ints arrive as 0/1).
std::optional<std::string> TypedParam(ColumnType type, const Value& v) {
  if (type == ColumnType::kBool && v.is_int()) return std::string(v.as_int() ? "true" : "false");
  return Param(v);
}

Value ParseValue(ColumnType type, const PgResult& r, int row, int col) {
  if (r.is_null(row, col)) return Value();
  std::string_view t = r.text(row, col);
  switch (type) {
    case ColumnType::kBool: return Value::Bool(t == "t" || t == "true");
    case ColumnType::kInteger: return Value::Int(ParseInt64(t).value_or(0));
    case ColumnType::kReal: return Value::Real(ParseFiniteDouble(t).value_or(0));
    default: return Value::Text(std::string(t));
  }
}

class PostgresStore final : public FencedStore {
 public:
  PostgresStore(std::unique_ptr<PgConn> conn, StoreOptions options)
      : FencedStore(std::move(options)), conn_(std::move(conn)) {}

  std::string_view backend() const override { return "postgres"; }
  std::string DisplayName() const override { return conn_->url().display; }
  std::string Durability() const override {
    return "the server's settings decide (fsync, synchronous_commit)";
  }

  Status Migrate() override {
    std::lock_guard<std::mutex> lock(mu_);
    return InTransaction([&]() -> Status {
      // Concurrent migrations of one database wait for each other.
      RETURN_IF_ERROR(
          conn_->Exec("SELECT pg_advisory_xact_lock(hashtextextended('propgrade:migrate', 0))")
              .status());
      RETURN_IF_ERROR(conn_->Exec("CREATE TABLE IF NOT EXISTS propgrade_schema (version "
                                  "INTEGER NOT NULL, migrated_at TIMESTAMPTZ NOT NULL)")
                          .status());
      ASSIGN_OR_RETURN(PgResult v, conn_->Exec("SELECT coalesce(max(version), 0) FROM "
                                               "propgrade_schema"));
      int version = static_cast<int>(ParseInt64(v.text(0, 0)).value_or(0));
      if (version > kSchemaVersion) {
        return FailedPreconditionError("the database schema (version " +
                                       std::to_string(version) + ") is newer than this propgrade");
      }
      ASSIGN_OR_RETURN(PgResult tables,
                       conn_->Exec("SELECT table_name::text FROM information_schema.tables WHERE "
                                   "table_schema = current_schema()"));
      std::vector<std::string> existing;
      for (int i = 0; i < tables.rows(); ++i) existing.emplace_back(tables.text(i, 0));
      if (version < kSchemaVersion || sql::LacksACatalogueTable(existing)) {
        // One idempotent pass serves each older version, and a database that lacks a table
        // the catalogue gained.
        for (const std::string& ddl : sql::CatalogueDdl(sql::Dialect::kPostgres)) {
          RETURN_IF_ERROR(conn_->Exec(ddl).status());
        }
        // Columns a built-in table gained (version 6: grading_runs' coverage and key counts;
        // version 7: the grading tables' fence_token).
        for (const TableDef* t : AllTables()) {
          ASSIGN_OR_RETURN(std::vector<ExistingColumn> columns, ReadColumns(t->name));
          for (const std::string& ddl :
               sql::AddedColumnsDdl(*t, sql::Dialect::kPostgres, columns)) {
            RETURN_IF_ERROR(conn_->Exec(ddl).status());
          }
        }
        // Fencing tokens of the PostgreSQL `db` lock backend.
        RETURN_IF_ERROR(
            conn_->Exec("CREATE SEQUENCE IF NOT EXISTS propgrade_lock_token").status());
        // Versions of partition_versions (one counter for the database).
        RETURN_IF_ERROR(
            conn_->Exec("CREATE SEQUENCE IF NOT EXISTS propgrade_version_seq").status());
        RETURN_IF_ERROR(conn_->Exec("INSERT INTO propgrade_schema (version, migrated_at) "
                                    "VALUES ($1, now())",
                                    {std::to_string(kSchemaVersion)})
                            .status());
      }
      for (const TableDef* t : AllTables()) {
        RETURN_IF_ERROR(
            EnsureKeyIndex(*t, options_.enforce_unique_keys, /*replace=*/false, nullptr));
      }
      // The SQL fence (sql::SqlFenceDdl), added to a schema that lacks it.
      ASSIGN_OR_RETURN(PgResult fence,
                       conn_->Exec("SELECT 1 FROM pg_proc p JOIN pg_namespace n ON n.oid = "
                                   "p.pronamespace WHERE n.nspname = current_schema() AND "
                                   "p.proname = $1",
                                   {sql::kSqlFenceName}));
      if (fence.rows() == 0) {
        for (const std::string& ddl : sql::SqlFenceDdl(sql::Dialect::kPostgres)) {
          RETURN_IF_ERROR(conn_->Exec(ddl).status());
        }
      }
      return OkStatus();
    });
  }

  // Open without create_if_missing: NotFound unless propgrade's tables are there; read-only,
  // FailedPrecondition too unless they are of this propgrade's version (nothing migrates them).
  Status RequireSchema(bool exact_version) {
    std::lock_guard<std::mutex> lock(mu_);
    const std::string& name = conn_->url().display;
    ASSIGN_OR_RETURN(PgResult found,
                     conn_->Exec("SELECT to_regclass('propgrade_schema') IS NOT NULL"));
    if (found.text(0, 0) != "t") return NoSuchDatabaseError(name);
    if (!exact_version) return OkStatus();
    ASSIGN_OR_RETURN(PgResult v, conn_->Exec("SELECT coalesce(max(version), 0) FROM "
                                             "propgrade_schema"));
    const int version = static_cast<int>(ParseInt64(v.text(0, 0)).value_or(0));
    if (version < kSchemaVersion) {
      return FailedPreconditionError(name + " has schema version " + std::to_string(version) +
                                     ", older than this propgrade's (" +
                                     std::to_string(kSchemaVersion) +
                                     "): run `propgrade init` to migrate it");
    }
    if (version > kSchemaVersion) {
      return FailedPreconditionError(name + " has schema version " + std::to_string(version) +
                                     ", newer than this propgrade's (" +
                                     std::to_string(kSchemaVersion) + ")");
    }
    return OkStatus();
  }

  StatusOr<ImportCounts> Import(const TableDef& t, const std::vector<Row>& rows,
                                const std::vector<int>& columns,
                                const std::vector<int64_t>& line_numbers, std::string_view source,
                                ImportMode mode) override {
    RETURN_IF_ERROR(CheckImportColumns(t, columns));
    std::lock_guard<std::mutex> lock(mu_);
    ImportCounts counts;
    Status s = InTransaction([&]() -> Status {
      if (t.versioned) RETURN_IF_ERROR(TakeLocks({{VersionsLockKey(t), true}}));
      // Stage the file with its row order, then merge it in one statement.
      RETURN_IF_ERROR(conn_->Exec("CREATE TEMP TABLE propgrade_stage (LIKE " + Q(t.name) +
                                  ") ON COMMIT DROP")
                          .status());
      RETURN_IF_ERROR(
          conn_->Exec("ALTER TABLE propgrade_stage ADD COLUMN propgrade_ord BIGINT").status());
      int id_col = t.generated_id ? 0 : -1;
      if (id_col == 0) {  // LIKE copies NOT NULL but not the identity: the table assigns ids
        RETURN_IF_ERROR(conn_->Exec("ALTER TABLE propgrade_stage ALTER COLUMN " +
                                    Q(t.columns[0].name) + " DROP NOT NULL")
                            .status());
      }
      std::vector<std::string> cols;
      for (size_t i = 0; i < t.columns.size(); ++i) {
        if (static_cast<int>(i) != id_col) cols.push_back(Q(t.columns[i].name));
      }
      std::string data;
      for (size_t r = 0; r < rows.size(); ++r) {
        for (size_t i = 0; i < t.columns.size(); ++i) {
          if (static_cast<int>(i) == id_col) continue;
          AppendCopyField(&data, TypedParam(t.columns[i].type, rows[r][i]));
          data += '\t';
        }
        data += std::to_string(r) + "\n";
      }
      RETURN_IF_ERROR(conn_->CopyIn("COPY propgrade_stage (" + Join(cols, ", ") +
                                        ", propgrade_ord) FROM STDIN",
                                    data));
      std::string col_list = Join(cols, ", ");
      if (mode == ImportMode::kUpsert) {
        // A stored row keeps the columns the file does not have.
        std::string updates = sql::UpdateNonKeyColumns(t, columns);
        ASSIGN_OR_RETURN(
            PgResult merged,
            conn_->Exec("INSERT INTO " + Q(t.name) + " (" + col_list + ") SELECT DISTINCT ON (" +
                        sql::KeyColumnList(t) + ") " + col_list +
                        " FROM propgrade_stage ORDER BY " + sql::KeyColumnList(t) +
                        ", propgrade_ord DESC ON CONFLICT (" + sql::KeyColumnList(t) + ") DO " +
                        (updates.empty() ? "NOTHING" : "UPDATE SET " + updates) +
                        " RETURNING (xmax = 0)"));
        for (int i = 0; i < merged.rows(); ++i) counts.inserted += merged.text(i, 0) == "t";
        counts.replaced = static_cast<int64_t>(rows.size()) - counts.inserted;
      } else {
        // Generated ids are unique by construction (and NULL in the stage).
        bool unique = !t.generated_id && KeysUniqueLocked(t);
        if (unique) {
          // Name the first row whose key repeats an earlier row of the file or a stored row.
          std::string keys = KeyExprList(t);
          ASSIGN_OR_RETURN(
              PgResult dup,
              conn_->Exec("SELECT min(o) FROM (SELECT min(propgrade_ord) AS o FROM (SELECT "
                          "propgrade_ord, row_number() OVER (PARTITION BY " + keys +
                          " ORDER BY propgrade_ord) AS rn FROM propgrade_stage) s WHERE rn > 1 "
                          "UNION ALL SELECT min(propgrade_ord) FROM propgrade_stage WHERE (" +
                          keys + ") IN (SELECT " + keys + " FROM " + Q(t.name) + ")) d"));
          if (!dup.is_null(0, 0)) {
            size_t ord = static_cast<size_t>(ParseInt64(dup.text(0, 0)).value_or(0));
            std::string line = ord < line_numbers.size() ? std::to_string(line_numbers[ord])
                                                         : "row " + std::to_string(ord + 1);
            return InvalidArgumentError(std::string(source) + ":" + line + ": duplicate key in " +
                                        t.name + " while unique keys are enforced");
          }
        }
        RETURN_IF_ERROR(conn_->Exec("INSERT INTO " + Q(t.name) + " (" + col_list + ") SELECT " +
                                    col_list + " FROM propgrade_stage ORDER BY propgrade_ord")
                            .status());
        counts.inserted = static_cast<int64_t>(rows.size());
      }
      if (t.versioned && !rows.empty()) {
        int part = t.PartitionIndex();
        std::set<std::string> parts;
        for (const Row& r : rows) parts.insert(part >= 0 ? FormatCell(r[part]) : "");
        for (const std::string& p : parts) RETURN_IF_ERROR(BumpVersion(t, p, "import"));
      }
      return OkStatus();
    });
    if (!s.ok()) return s;
    return counts;
  }

  Status Scan(const TableDef& t, const ScanSpec& spec,
              const std::function<Status(Row&&)>& fn) override {
    std::lock_guard<std::mutex> lock(mu_);
    RETURN_IF_ERROR(conn_->EnsureConnected());
    ASSIGN_OR_RETURN(std::vector<int> cols, ScanColumns(t, spec));
    std::vector<std::string> select;
    for (int i : cols) select.push_back(SelectExpr(t.columns[i]));
    std::string sql = "SELECT " + Join(select, ", ") + " FROM " + Q(t.name);
    PgParams params;
    std::vector<std::string> where;
    auto bound = [&](const std::string& op, const std::string& v) {
      params.push_back(v);
      where.push_back(Q(spec.RangeColumn(t)) + " " + op + " $" + std::to_string(params.size()));
    };
    if (spec.partition) bound("=", *spec.partition);
    if (spec.partition_from) bound(">=", *spec.partition_from);
    if (spec.partition_to) bound("<=", *spec.partition_to);
    if (!where.empty()) sql += " WHERE " + Join(where, " AND ");
    sql += " ORDER BY " + KeyExprList(t);
    return conn_->Stream(sql, params, [&](const PgResult& r) {
      Row row(cols.size());
      for (size_t i = 0; i < cols.size(); ++i) {
        row[i] = ParseValue(t.columns[cols[i]].type, r, 0, static_cast<int>(i));
      }
      return fn(std::move(row));
    });
  }

  StatusOr<int64_t> StageBatch(const std::string& batch_id, const std::vector<Row>& rows,
                               bool replace) override {
    std::lock_guard<std::mutex> lock(mu_);
    const TableDef& t = tables::Staging();
    Status s = InTransaction([&]() -> Status {
      // Two stagings of one batch id wait for each other; then the dates it touches (its
      // rows' and, when replaced, the old batch's), which their consolidations hold.
      RETURN_IF_ERROR(TakeLocks({{"prediction_staging:batch/" + batch_id, true}}));
      ASSIGN_OR_RETURN(PgResult old, conn_->Exec("SELECT DISTINCT game_date::text FROM "
                                                 "prediction_staging WHERE batch_id = $1",
                                                 {batch_id}));
      if (old.rows() > 0 && !replace) {
        return AlreadyExistsError("batch " + batch_id +
                                  " is already staged; use --replace to swap it");
      }
      std::vector<AdvisoryLock> dates;
      for (int i = 0; i < old.rows(); ++i) dates.push_back({PartitionLockKey(t, old.text(i, 0)), false});
      for (const Row& r : rows) dates.push_back({PartitionLockKey(t, FormatCell(r[stage::kPred + pred::game_date])), false});
      RETURN_IF_ERROR(TakeLocks(std::move(dates)));
      RETURN_IF_ERROR(
          conn_->Exec("DELETE FROM prediction_staging WHERE batch_id = $1", {batch_id}).status());
      return InsertRows(t, rows);
    });
    if (!s.ok()) return s;
    return static_cast<int64_t>(rows.size());
  }

  StatusOr<DedupeResult> Dedupe(const DedupeRequest& request) override {
    std::lock_guard<std::mutex> lock(mu_);
    const TableDef& t = *request.table;
    DedupeResult out;
    Status s = InTransaction([&]() -> Status {
      if (t.versioned) RETURN_IF_ERROR(TakeLocks({{VersionsLockKey(t), true}}));
      std::vector<std::string> select;
      for (const ColumnDef& c : t.columns) select.push_back(SelectExpr(c));
      std::string sql = "SELECT ctid::text, " + Join(select, ", ") + " FROM " + Q(t.name);
      PgParams params;
      if (request.partition) {
        if (t.partition_column.empty()) return InvalidArgumentError(t.name + " has no partitions");
        sql += " WHERE " + Q(t.partition_column) + " = $1";
        params.push_back(*request.partition);
      }
      sql += " ORDER BY " + KeyExprList(t) + ", ctid FOR UPDATE";
      ASSIGN_OR_RETURN(PgResult r, conn_->Exec(sql, params));
      std::vector<std::string> ctids;
      std::vector<Row> rows;
      for (int i = 0; i < r.rows(); ++i) {
        ctids.emplace_back(r.text(i, 0));
        Row row(t.columns.size());
        for (size_t c = 0; c < t.columns.size(); ++c) {
          row[c] = ParseValue(t.columns[c].type, r, i, static_cast<int>(c + 1));
        }
        rows.push_back(std::move(row));
      }
      out.rows_scanned = static_cast<int64_t>(rows.size());
      std::vector<size_t> surplus = request.choose_surplus(rows);
      out.moved = static_cast<int64_t>(surplus.size());
      std::set<std::string> partitions;
      int part = t.PartitionIndex();
      std::vector<Row> copies;
      for (size_t i : surplus) {
        if (i >= rows.size()) return InternalError("dedupe chose a row that does not exist");
        if (part >= 0 && rows[i][part].is_text()) partitions.insert(rows[i][part].as_text());
        if (request.dry_run) continue;
        copies.push_back(QuarantineRow(t, rows[i], request.reason, request.run_id,
                                       options_.clock->NowMicros()));
        RETURN_IF_ERROR(conn_->Exec("DELETE FROM " + Q(t.name) + " WHERE ctid = $1::tid", {ctids[i]})
                            .status());
      }
      RETURN_IF_ERROR(InsertRows(tables::Quarantine(), copies));
      out.partitions.assign(partitions.begin(), partitions.end());
      if (request.dry_run) return AbortedError("dry run");  // roll back; nothing was changed
      for (const std::string& p : out.partitions) {
        RETURN_IF_ERROR(BumpVersion(t, p, request.run_id));
      }
      return OkStatus();
    });
    if (!s.ok() && !(request.dry_run && s.code() == StatusCode::kAborted)) return s;
    return out;
  }

  StatusOr<DuplicateCount> CountDuplicates(const TableDef& t,
                                           std::string_view partition) override {
    std::lock_guard<std::mutex> lock(mu_);
    RETURN_IF_ERROR(conn_->EnsureConnected());
    std::string groups = "SELECT " + KeyExprList(t) + ", count(*) AS n FROM " + Q(t.name) +
                         " WHERE " + Q(t.partition_column) + " = $1 GROUP BY " + KeyExprList(t) +
                         " HAVING count(*) > 1";
    ASSIGN_OR_RETURN(PgResult r, conn_->Exec("SELECT count(*), coalesce(sum(n - 1), 0) FROM (" +
                                                 groups + ") g",
                                             {std::string(partition)}));
    DuplicateCount out;
    out.groups = ParseInt64(r.text(0, 0)).value_or(0);
    out.surplus_rows = ParseInt64(r.text(0, 1)).value_or(0);
    if (out.groups > 0) {
      ASSIGN_OR_RETURN(PgResult sample, conn_->Exec(groups + " LIMIT 5", {std::string(partition)}));
      for (int i = 0; i < sample.rows(); ++i) {
        std::vector<std::string> parts;
        for (size_t k = 0; k < t.key_columns.size(); ++k) {
          std::string v(sample.text(i, static_cast<int>(k)));
          parts.push_back(v == "NaN" ? "NULL" : v);
        }
        out.sample_keys.push_back(Join(parts, "|"));
      }
    }
    return out;
  }

  StatusOr<int64_t> RecordAlert(const Row& row) override {
    std::lock_guard<std::mutex> lock(mu_);
    RETURN_IF_ERROR(conn_->EnsureConnected());
    const TableDef& t = tables::Alerts();
    std::vector<std::string> cols;
    PgParams params;
    for (size_t i = 1; i < t.columns.size(); ++i) {
      cols.push_back(Q(t.columns[i].name));
      params.push_back(TypedParam(t.columns[i].type, row[i]));
    }
    ASSIGN_OR_RETURN(PgResult r, conn_->Exec("INSERT INTO alerts (" + Join(cols, ", ") +
                                                 ") VALUES (" +
                                                 sql::Placeholders(cols.size(), sql::Dialect::kPostgres) +
                                                 ") RETURNING id",
                                             params));
    return ParseInt64(r.text(0, 0)).value_or(0);
  }

  Status UpdateAlert(int64_t id, bool delivered, int64_t attempts, int64_t folded_count,
                     std::optional<int64_t> sent_at) override {
    std::lock_guard<std::mutex> lock(mu_);
    RETURN_IF_ERROR(conn_->EnsureConnected());
    return conn_
        ->Exec("UPDATE alerts SET delivered = $1, attempts = $2, folded_count = $3, sent_at = $4 "
               "WHERE id = $5",
               {std::string(delivered ? "true" : "false"), std::to_string(attempts),
                std::to_string(folded_count),
                sent_at ? std::optional<std::string>(FormatTimestampMicros(*sent_at))
                        : std::nullopt,
                std::to_string(id)})
        .status();
  }

  StatusOr<AlertFold> AlertFoldState(std::string_view type, std::string_view subject) override {
    std::lock_guard<std::mutex> lock(mu_);
    RETURN_IF_ERROR(conn_->EnsureConnected());
    ASSIGN_OR_RETURN(
        PgResult r,
        conn_->Exec("WITH last AS (SELECT max(sent_at) AS t FROM alerts WHERE type = $1 AND "
                    "subject = $2 AND delivered) SELECT " + std::string("(extract(epoch from (SELECT t FROM last)) * 1000000)::bigint") +
                    ", (SELECT count(*) FROM alerts WHERE type = $1 AND subject = $2 AND NOT "
                    "delivered AND attempts = 0 AND at > coalesce((SELECT t FROM last), "
                    "'-infinity'))",
                    {std::string(type), std::string(subject)}));
    AlertFold fold;
    if (!r.is_null(0, 0)) fold.last_sent_micros = ParseInt64(r.text(0, 0));
    fold.folded_since = ParseInt64(r.text(0, 1)).value_or(0);
    return fold;
  }

  Status UpsertRun(const Row& run_record) override {
    std::lock_guard<std::mutex> lock(mu_);
    RETURN_IF_ERROR(conn_->EnsureConnected());
    return UpsertRunRow(run_record);
  }

  StatusOr<VersionMap> PartitionVersions(const TableDef& t, std::string_view from,
                                         std::string_view to) override {
    std::lock_guard<std::mutex> lock(mu_);
    RETURN_IF_ERROR(conn_->EnsureConnected());
    return ReadVersions(t.name, from, to);
  }

  StatusOr<std::vector<std::string>> ListPartitions(const TableDef& t) override {
    std::lock_guard<std::mutex> lock(mu_);
    RETURN_IF_ERROR(conn_->EnsureConnected());
    if (t.partition_column.empty()) return InvalidArgumentError(t.name + " has no partitions");
    ASSIGN_OR_RETURN(PgResult r, conn_->Exec("SELECT DISTINCT " + Q(t.partition_column) +
                                             "::text FROM " + Q(t.name) + " ORDER BY 1"));
    std::vector<std::string> out;
    for (int i = 0; i < r.rows(); ++i) out.emplace_back(r.text(i, 0));
    return out;
  }

  StatusOr<bool> DeleteFence(std::string_view ns, const TableDef& t,
                             std::string_view partition) override {
    std::lock_guard<std::mutex> lock(mu_);
    RETURN_IF_ERROR(conn_->EnsureConnected());
    ASSIGN_OR_RETURN(PgResult r, conn_->Exec("DELETE FROM partition_fence WHERE lock_namespace = "
                                             "$1 AND table_name = $2 AND partition = $3 "
                                             "RETURNING 1",
                                             {std::string(ns), t.name, std::string(partition)}));
    return r.rows() > 0;
  }

  StatusOr<std::optional<int64_t>> FenceToken(std::string_view ns, const TableDef& t,
                                              std::string_view partition) override {
    std::lock_guard<std::mutex> lock(mu_);
    RETURN_IF_ERROR(conn_->EnsureConnected());
    return ReadFenceToken(ns, t.name, partition);
  }

  Status Ping() override {
    std::lock_guard<std::mutex> lock(mu_);
    RETURN_IF_ERROR(conn_->EnsureConnected());
    return conn_->Exec("SELECT 1", {}).status();
  }


  StatusOr<std::vector<std::string>> ApplyKeyUniqueness(bool unique) override {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<std::string> changes;
    RETURN_IF_ERROR(InTransaction([&]() -> Status {
      for (const TableDef* t : catalogue().tables()) {
        if (!t->key_uniqueness_configurable) continue;
        RETURN_IF_ERROR(TakeLocks({{VersionsLockKey(*t), true}}));
        RETURN_IF_ERROR(EnsureKeyIndex(*t, unique, /*replace=*/true, &changes));
      }
      return OkStatus();
    }));
    return changes;
  }

 protected:
  sql::Dialect dialect() const override { return sql::Dialect::kPostgres; }

  StatusOr<std::vector<ExistingColumn>> ReadColumns(const std::string& table) override {
    ASSIGN_OR_RETURN(PgResult r,
                     conn_->Exec("SELECT column_name::text, data_type::text, is_nullable::text "
                                 "FROM information_schema.columns WHERE table_schema = "
                                 "current_schema() AND table_name = $1 ORDER BY ordinal_position",
                                 {table}));
    std::vector<ExistingColumn> out;
    for (int i = 0; i < r.rows(); ++i) {
      out.push_back({std::string(r.text(i, 0)), std::string(r.text(i, 1)), r.text(i, 2) == "NO"});
    }
    return out;
  }

  Status ApplyDeclaredSchema(const TableDef& t, const std::vector<std::string>& ddl) override {
    return InTransaction([&]() -> Status {
             // Concurrent migrations of one database wait for each other.
             RETURN_IF_ERROR(
                 conn_
                     ->Exec(
                         "SELECT pg_advisory_xact_lock(hashtextextended('propgrade:migrate', 0))")
                     .status());
             for (const std::string& statement : ddl)
               RETURN_IF_ERROR(conn_->Exec(statement).status());
             return EnsureKeyIndex(t, options_.enforce_unique_keys, /*replace=*/false, nullptr);
           })
        .WithContext("table " + t.name);
  }

 private:
  // Takes `locks` (see AdvisoryLock) in one statement, in key order; a key asked for both
  // shared and exclusive is taken exclusive.
  Status TakeLocks(std::vector<AdvisoryLock> locks) {
    std::map<std::string, bool> merged;
    for (const AdvisoryLock& l : locks) merged[l.key] = merged[l.key] || l.exclusive;
    if (merged.empty()) return OkStatus();
    std::string sql = "SELECT ";
    PgParams params;
    for (const auto& [key, exclusive] : merged) {
      if (!params.empty()) sql += ", ";
      params.push_back(key);
      sql += std::string(exclusive ? "pg_advisory_xact_lock" : "pg_advisory_xact_lock_shared") +
             "(hashtextextended($" + std::to_string(params.size()) + ", 0))";
    }
    return conn_->Exec(sql, params).status();
  }

  // Records that `partition` of `t` changed in this transaction, with the next version of the
  // database's counter (taken under the partition's locks, so conflicting writes get versions
  // in their commit order).
  Status BumpVersion(const TableDef& t, std::string_view partition,
                     std::string_view run_id) override {
    if (!t.versioned) return OkStatus();
    return conn_
        ->Exec("INSERT INTO partition_versions (table_name, partition, version, changed_at, "
               "run_id) VALUES ($1, $2, nextval('propgrade_version_seq'), $3, $4) ON CONFLICT "
               "(table_name, partition) DO UPDATE SET version = excluded.version, changed_at = "
               "excluded.changed_at, run_id = excluded.run_id",
               {t.name, std::string(partition), FormatTimestampMicros(options_.clock->NowMicros()),
                std::string(run_id)})
        .status();
  }

  StatusOr<VersionMap> ReadVersions(std::string_view table, std::string_view from,
                                    std::string_view to) override {
    ASSIGN_OR_RETURN(PgResult r, conn_->Exec("SELECT partition, version FROM partition_versions "
                                             "WHERE table_name = $1 AND partition >= $2 AND "
                                             "partition <= $3",
                                             {std::string(table), std::string(from),
                                              std::string(to)}));
    VersionMap out;
    for (int i = 0; i < r.rows(); ++i) {
      out[std::string(r.text(i, 0))] = ParseInt64(r.text(i, 1)).value_or(0);
    }
    return out;
  }

  // Every row of `t` whose `column` equals `value`, in catalogue order.
  StatusOr<std::string> QueryAsJsonLines(const std::string& sql, std::string_view param) override {
    // A subquery can only read (a data-modifying statement is refused there) and is one
    // statement; to_jsonb gives each row with its column names, timestamps in RFC 3339.
    std::string body(Trim(sql));
    while (!body.empty() &&
           (body.back() == ';' || std::isspace(static_cast<unsigned char>(body.back())))) {
      body.pop_back();
    }
    if (body.empty()) return InvalidArgumentError("the query is empty");
    PgParams params;
    if (body.find("$1") != std::string::npos) params.push_back(std::string(param));
    StatusOr<PgResult> r =
        conn_->Exec("SELECT to_jsonb(q)::text FROM (" + body + "\n) AS q", params);
    if (!r.ok()) {
      const StatusCode code = r.status().code();
      if (code == StatusCode::kUnavailable || code == StatusCode::kCancelled) return r.status();
      return InvalidArgumentError("the query: " + r.status().message());
    }
    std::string out;
    for (int i = 0; i < r->rows(); ++i) {
      out += r->text(i, 0);
      out += '\n';
    }
    return out;
  }

  StatusOr<std::vector<Row>> ReadRowsWhere(const TableDef& t, const std::string& column,
                                           std::string_view value) override {
    std::vector<std::string> select;
    for (const ColumnDef& c : t.columns) select.push_back(SelectExpr(c));
    ASSIGN_OR_RETURN(PgResult r, conn_->Exec("SELECT " + Join(select, ", ") + " FROM " +
                                                 Q(t.name) + " WHERE " + Q(column) + " = $1",
                                             {std::string(value)}));
    std::vector<Row> rows;
    for (int i = 0; i < r.rows(); ++i) {
      Row row(t.columns.size());
      for (size_t c = 0; c < t.columns.size(); ++c) {
        row[c] = ParseValue(t.columns[c].type, r, i, static_cast<int>(c));
      }
      rows.push_back(std::move(row));
    }
    return rows;
  }

  // COPYs rows (catalogue order) into `t`; a generated id is left to the database.
  Status InsertRows(const TableDef& t, const std::vector<Row>& rows) override {
    if (rows.empty()) return OkStatus();
    const size_t first = t.generated_id ? 1 : 0;
    std::vector<std::string> columns;
    for (size_t i = first; i < t.columns.size(); ++i) columns.push_back(Q(t.columns[i].name));
    std::string data;
    data.reserve(rows.size() * 256);
    for (const Row& r : rows) {
      for (size_t i = first; i < t.columns.size(); ++i) {
        if (i > first) data += '\t';
        AppendCopyField(&data, TypedParam(t.columns[i].type, r[i]));
      }
      data += '\n';
    }
    return conn_->CopyIn("COPY " + Q(t.name) + " (" + Join(columns, ", ") + ") FROM STDIN", data);
  }

  // ---- The other FencedStore primitives (mu_ held) ----

  // BEGIN, then the write's advisory locks: the partition exclusive (as `also`), its table's
  // versions shared, and those of AddInputLocks.
  Status BeginWrite(const TableDef& t, std::string_view partition,
                    const std::vector<InputVersions>& inputs,
                    const std::vector<PartitionRef>& also) override {
    RETURN_IF_ERROR(conn_->EnsureConnected());
    RETURN_IF_ERROR(conn_->Exec("BEGIN").status());
    std::vector<AdvisoryLock> locks = {{VersionsLockKey(t), false}};
    if (!options_.TEST_skip_advisory_lock) locks.push_back({PartitionLockKey(t, partition), true});
    for (const PartitionRef& p : also) locks.push_back({PartitionLockKey(*p.table, p.partition), true});
    AddInputLocks(inputs, &locks);
    Status s = TakeLocks(std::move(locks));
    if (!s.ok()) RollbackWrite();
    return s;
  }
  Status CommitWrite() override { return conn_->Exec("COMMIT").status(); }
  void RollbackWrite() override {
    if (conn_->in_transaction()) conn_->Exec("ROLLBACK").status().IgnoreError();
  }

  StatusOr<int64_t> DeletePartitionRows(const TableDef& t, std::string_view partition) override {
    ASSIGN_OR_RETURN(PgResult del,
                     conn_->Exec("WITH d AS (DELETE FROM " + Q(t.name) + " WHERE " +
                                     Q(t.partition_column) + " = $1 RETURNING 1) SELECT count(*) FROM d",
                                 {std::string(partition)}));
    return ParseInt64(del.text(0, 0)).value_or(0);
  }

  // One statement: the keys as typed arrays, unnested and joined.
  StatusOr<int64_t> DeleteKeys(const TableDef& t, const std::vector<int>& columns,
                               const std::vector<Row>& keys) override {
    if (keys.empty()) return int64_t{0};
    std::vector<std::string> names, arrays, match;
    PgParams params;
    for (size_t i = 0; i < columns.size(); ++i) {
      const ColumnDef& c = t.columns[columns[i]];
      std::vector<std::string> cells;
      for (const Row& key : keys) cells.push_back(FormatCell(key[i]));
      params.push_back(TextArray(cells));
      arrays.push_back("$" + std::to_string(i + 1) + "::" + SqlType(c.type) + "[]");
      names.push_back(Q(c.name));
      match.push_back("s." + Q(c.name) + " = k." + Q(c.name));
    }
    ASSIGN_OR_RETURN(PgResult d, conn_->Exec("DELETE FROM " + Q(t.name) + " s USING unnest(" +
                                                 Join(arrays, ", ") + ") AS k(" +
                                                 Join(names, ", ") + ") WHERE " +
                                                 Join(match, " AND ") + " RETURNING 1",
                                             params));
    return static_cast<int64_t>(d.rows());
  }

  StatusOr<std::map<std::string, std::string>> PartitionsElsewhere(
      const TableDef& t, int column, const std::vector<std::string>& values,
      std::string_view partition) override {
    std::map<std::string, std::string> out;
    if (values.empty()) return out;
    const std::string& c = t.columns[column].name;
    ASSIGN_OR_RETURN(PgResult other,
                     conn_->Exec("SELECT " + Q(c) + "::text, " + Q(t.partition_column) +
                                     "::text FROM " + Q(t.name) + " WHERE " + Q(c) +
                                     " = ANY($1::text[]) AND " + Q(t.partition_column) + " <> $2",
                                 {TextArray(values), std::string(partition)}));
    for (int i = 0; i < other.rows(); ++i) {
      out[std::string(other.text(i, 0))] = std::string(other.text(i, 1));
    }
    return out;
  }

  // Runs `body` inside BEGIN ... COMMIT, rolling back when it fails.
  Status InTransaction(const std::function<Status()>& body) {
    RETURN_IF_ERROR(conn_->EnsureConnected());
    RETURN_IF_ERROR(conn_->Exec("BEGIN").status());
    Status s = body();
    if (s.ok()) s = conn_->Exec("COMMIT").status();
    if (!s.ok() && conn_->in_transaction()) conn_->Exec("ROLLBACK").status().IgnoreError();
    return s;
  }

  // As the SQLite store's: creates a missing key index; replaces one of the other kind only
  // when `replace`; records each table's kind in unique_keys_.
  Status EnsureKeyIndex(const TableDef& t, bool unique_if_configurable, bool replace,
                        std::vector<std::string>* changes) {
    if (t.generated_id) return OkStatus();
    bool unique = t.key_uniqueness_configurable ? unique_if_configurable : true;
    std::string want = (unique ? "ux_" : "ix_") + t.name + "_key";
    std::string other = (unique ? "ix_" : "ux_") + t.name + "_key";
    auto exists = [&](const std::string& name) -> StatusOr<bool> {
      ASSIGN_OR_RETURN(PgResult r, conn_->Exec("SELECT 1 FROM pg_indexes WHERE schemaname = "
                                               "current_schema() AND indexname = $1",
                                               {name}));
      return r.rows() > 0;
    };
    ASSIGN_OR_RETURN(bool have, exists(want));
    if (have) {
      unique_keys_[t.name] = unique;
      return OkStatus();
    }
    ASSIGN_OR_RETURN(bool have_other, exists(other));
    if (have_other) {
      if (!replace) {  // only `propgrade init` changes a key index
        unique_keys_[t.name] = !unique;
        return OkStatus();
      }
      RETURN_IF_ERROR(conn_->Exec("DROP INDEX " + Q(other)).status());
    }
    Status s = conn_->Exec(std::string("CREATE ") + (unique ? "UNIQUE " : "") + "INDEX " +
                           Q(want) + " ON " + Q(t.name) + " (" + KeyExprList(t) + ")")
                   .status();
    if (!s.ok() && s.code() == StatusCode::kAlreadyExists) {
      return CannotEnforceUniqueKeys(t);
    }
    if (s.ok()) {
      unique_keys_[t.name] = unique;
      if (changes) {
        changes->push_back(t.name + ": key index made " + (unique ? "unique" : "non-unique"));
      }
    }
    return s;
  }

  StatusOr<std::optional<int64_t>> ReadFenceToken(std::string_view ns, std::string_view table,
                                                  std::string_view partition) override {
    ASSIGN_OR_RETURN(PgResult r, conn_->Exec("SELECT token FROM partition_fence WHERE "
                                             "lock_namespace = $1 AND table_name = $2 AND "
                                             "partition = $3",
                                             {std::string(ns), std::string(table),
                                              std::string(partition)}));
    if (r.rows() == 0 || r.is_null(0, 0)) return std::optional<int64_t>();
    return ParseInt64(r.text(0, 0));
  }

  Status WriteFenceToken(std::string_view ns, std::string_view table, std::string_view partition,
                         std::optional<int64_t> token, std::string_view run_id) override {
    return conn_
        ->Exec("INSERT INTO partition_fence (lock_namespace, table_name, partition, token, run_id, "
               "written_at) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (lock_namespace, "
               "table_name, partition) DO UPDATE SET token = coalesce(excluded.token, "
               "partition_fence.token), run_id = excluded.run_id, written_at = "
               "excluded.written_at",
               {std::string(ns), std::string(table), std::string(partition),
                token ? std::optional<std::string>(std::to_string(*token)) : std::nullopt,
                std::string(run_id), FormatTimestampMicros(options_.clock->NowMicros())})
        .status();
  }

  Status UpsertRunRow(const Row& run) override {
    const TableDef& t = tables::GradingRuns();
    if (run.size() != t.columns.size()) return InternalError("grading_runs row of wrong width");
    PgParams params;
    for (size_t i = 0; i < t.columns.size(); ++i) params.push_back(TypedParam(t.columns[i].type, run[i]));
    return conn_
        ->Exec("INSERT INTO grading_runs (" + ColumnList(t) + ") VALUES (" +
                   sql::Placeholders(t.columns.size(), sql::Dialect::kPostgres) +
                   ") ON CONFLICT (" + sql::KeyColumnList(t) + ") DO UPDATE SET " +
                   sql::UpdateNonKeyColumns(t),
               params)
        .status();
  }

  // Whether `t`'s key index is unique in this database (as Migrate found or made it).
  bool KeysUniqueLocked(const TableDef& t) const {
    auto it = unique_keys_.find(t.name);
    return it == unique_keys_.end() || it->second;
  }

  std::unique_ptr<PgConn> conn_;
  std::map<std::string, bool> unique_keys_;  // table → key index unique; guarded by mu_
};

}  // namespace

StatusOr<std::unique_ptr<Store>> OpenPostgresStore(const std::string& url,
                                                   const StoreOptions& options) {
  ASSIGN_OR_RETURN(PgUrl parsed, ParsePgUrl(url));
  const bool create = options.create_if_missing && !options.read_only;
  parsed.create_schema = create;
  parsed.read_only = options.read_only;
  parsed.lock_timeout_ms = options.busy_timeout_ms;
  parsed.statement_timeout_ms = options.statement_timeout_ms;
  parsed.idle_in_transaction_timeout_ms = options.idle_in_transaction_timeout_ms;
  parsed.cancel = options.cancel;
  ASSIGN_OR_RETURN(std::unique_ptr<PgConn> conn, PgConn::Connect(parsed));
  auto store = std::make_unique<PostgresStore>(std::move(conn), options);
  if (!create) RETURN_IF_ERROR(store->RequireSchema(/*exact_version=*/options.read_only));
  if (!options.read_only) RETURN_IF_ERROR(store->Migrate());
  RETURN_IF_ERROR(store->AdoptDeclaredTables());
  return std::unique_ptr<Store>(std::move(store));
}

}  // namespace propgrade

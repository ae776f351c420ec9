#include "store/sqlite/sqlite_store.h"

#include <sqlite3.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>
#include <unordered_map>

#include "common/civil_date.h"
#include "db/sqlite_conn.h"
#include "common/strings.h"
#include "common/value_text.h"
#include "store/fenced_store.h"
#include "store/sql_text.h"

namespace propgrade {
namespace {

// 1: inputs, outputs, grading_runs, partition_fence. 2: locks, lock_events. 3: duplicate_audit,
// remediation_quarantine, alerts, circuit_breakers. 4: check_results, prediction_staging.
// 5: (partition, key) indexes. 6: partition_versions, lock_tokens.
constexpr int kSchemaVersion = 8;

using sql::ColumnList;
using sql::Q;

std::string KeyExprList(const TableDef& t) { return sql::KeyExprList(t, sql::Dialect::kSqlite); }
std::string Placeholders(size_t n) { return sql::Placeholders(n, sql::Dialect::kSqlite); }

bool KeyUnique(const TableDef& t, bool enforce) {
  return t.key_uniqueness_configurable ? enforce : true;
}

class SqliteStore final : public FencedStore {
 public:
  SqliteStore(std::unique_ptr<SqliteConn> conn, StoreOptions options)
      : FencedStore(std::move(options)),
        conn_(std::move(conn)),
        db_(conn_->handle()),
        path_(conn_->path()) {}

  std::string_view backend() const override { return "sqlite"; }
  void UseSmallCache() override {
    std::lock_guard<std::mutex> lock(mu_);
    Exec("PRAGMA cache_size=-8192").IgnoreError();  // 8 MiB
  }
  std::string DisplayName() const override { return "sqlite:" + path_; }
  std::string Durability() const override { return durability_; }

  Status Configure() {
    std::lock_guard<std::mutex> lock(mu_);
    if (options_.read_only) {
      durability_ = "read-only";
      RETURN_IF_ERROR(Exec("PRAGMA cache_size=-32768"));
      return Exec("PRAGMA temp_store=MEMORY");
    }
    RETURN_IF_ERROR(Exec("PRAGMA journal_mode=WAL"));
    RETURN_IF_ERROR(Exec(options_.sqlite_synchronous_full ? "PRAGMA synchronous=FULL"
                                                          : "PRAGMA synchronous=NORMAL"));
    {
      ASSIGN_OR_RETURN(sqlite3_stmt * stmt, Prepare("PRAGMA synchronous"));
      Reset guard(stmt);
      int level = sqlite3_step(stmt) == SQLITE_ROW ? sqlite3_column_int(stmt, 0) : -1;
      durability_ = level >= 2 ? "WAL, synchronous=FULL: every acknowledged commit survives a "
                                 "power loss"
                               : "WAL, synchronous=NORMAL: the last commits before a power loss "
                                 "or OS crash may be lost ([sqlite] synchronous = \"full\" keeps "
                                 "them)";
    }
    RETURN_IF_ERROR(Exec("PRAGMA cache_size=-32768"));  // 32 MiB: keeps key index pages hot
    RETURN_IF_ERROR(Exec("PRAGMA temp_store=MEMORY"));
    return OkStatus();
  }

  Status Migrate() override {
    std::lock_guard<std::mutex> lock(mu_);
    RETURN_IF_ERROR(Begin());
    Status s = MigrateLocked();
    if (!s.ok()) {
      Exec("ROLLBACK").IgnoreError();
      return s;
    }
    return Commit();
  }

  StatusOr<ImportCounts> Import(const TableDef& t, const std::vector<Row>& rows,
                                const std::vector<int>& columns,
                                const std::vector<int64_t>& line_numbers, std::string_view source,
                                ImportMode mode) override {
    RETURN_IF_ERROR(CheckImportColumns(t, columns));
    std::lock_guard<std::mutex> lock(mu_);
    RETURN_IF_ERROR(Begin());
    auto counts = ImportLocked(t, rows, columns, line_numbers, source, mode);
    if (!counts.ok()) {
      Exec("ROLLBACK").IgnoreError();
      return counts.status();
    }
    RETURN_IF_ERROR(Commit());
    return counts;
  }

  Status Scan(const TableDef& t, const ScanSpec& spec,
              const std::function<Status(Row&&)>& fn) override {
    std::lock_guard<std::mutex> lock(mu_);
    ASSIGN_OR_RETURN(std::vector<int> cols, ScanColumns(t, spec));
    std::vector<std::string> names;
    for (int i : cols) names.push_back(Q(t.columns[i].name));
    std::string sql = "SELECT " + Join(names, ", ") + " FROM " + Q(t.name);
    std::vector<std::string> params;
    std::vector<std::string> where;
    const std::string range = Q(spec.RangeColumn(t));
    if (spec.partition) {
      where.push_back(range + " = ?");
      params.push_back(*spec.partition);
    }
    if (spec.partition_from) {
      where.push_back(range + " >= ?");
      params.push_back(*spec.partition_from);
    }
    if (spec.partition_to) {
      where.push_back(range + " <= ?");
      params.push_back(*spec.partition_to);
    }
    if (!where.empty()) sql += " WHERE " + Join(where, " AND ");
    sql += " ORDER BY " + KeyExprList(t);
    ASSIGN_OR_RETURN(sqlite3_stmt * stmt, Prepare(sql));
    Reset guard(stmt);
    for (size_t i = 0; i < params.size(); ++i) {
      sqlite3_bind_text(stmt, static_cast<int>(i + 1), params[i].data(),
                        static_cast<int>(params[i].size()), SQLITE_TRANSIENT);
    }
    while (true) {
      int rc = sqlite3_step(stmt);
      if (rc == SQLITE_DONE) break;
      if (rc != SQLITE_ROW) return SqliteError(db_, rc, "reading " + t.name);
      Row row(cols.size());
      for (size_t i = 0; i < cols.size(); ++i) {
        row[i] = ReadColumn(stmt, static_cast<int>(i), t.columns[cols[i]].type);
      }
      RETURN_IF_ERROR(fn(std::move(row)));
    }
    return OkStatus();
  }

  StatusOr<DuplicateCount> CountDuplicates(const TableDef& t,
                                           std::string_view partition) override {
    std::lock_guard<std::mutex> lock(mu_);
    std::string groups_sql = "SELECT " + KeyExprList(t) + ", count(*) AS n FROM " + Q(t.name) +
                             " WHERE " + Q(t.partition_column) + " = ? GROUP BY " +
                             KeyExprList(t) + " HAVING count(*) > 1";
    ASSIGN_OR_RETURN(sqlite3_stmt * stmt,
                     Prepare("SELECT count(*), coalesce(sum(n - 1), 0) FROM (" + groups_sql + ")"));
    DuplicateCount out;
    {
      Reset guard(stmt);
      BindText(stmt, 1, partition);
      int rc = sqlite3_step(stmt);
      if (rc != SQLITE_ROW) return SqliteError(db_, rc, "counting duplicates in " + t.name);
      out.groups = sqlite3_column_int64(stmt, 0);
      out.surplus_rows = sqlite3_column_int64(stmt, 1);
    }
    if (out.groups > 0) {
      ASSIGN_OR_RETURN(sqlite3_stmt * sample, Prepare(groups_sql + " LIMIT 5"));
      Reset guard(sample);
      BindText(sample, 1, partition);
      while (sqlite3_step(sample) == SQLITE_ROW) {
        std::vector<std::string> parts;
        for (size_t k = 0; k < t.key_columns.size(); ++k) {
          int col = static_cast<int>(k);
          bool null_key = sqlite3_column_type(sample, col) == SQLITE_BLOB;  // before any read
          parts.push_back(null_key ? "NULL" : ColumnText(sample, col));
        }
        out.sample_keys.push_back(Join(parts, "|"));
      }
    }
    return out;
  }

  StatusOr<int64_t> StageBatch(const std::string& batch_id, const std::vector<Row>& rows,
                               bool replace) override {
    std::lock_guard<std::mutex> lock(mu_);
    const TableDef& t = tables::Staging();
    RETURN_IF_ERROR(Begin());
    auto staged = [&]() -> StatusOr<int64_t> {
      ASSIGN_OR_RETURN(sqlite3_stmt * del,
                       Prepare("DELETE FROM prediction_staging WHERE batch_id = ?"));
      {
        Reset guard(del);
        BindText(del, 1, batch_id);
        int rc = sqlite3_step(del);
        if (rc != SQLITE_DONE) return SqliteError(db_, rc, "replacing a staged batch");
      }
      if (sqlite3_changes(db_) > 0 && !replace) {
        return AlreadyExistsError("batch " + batch_id +
                                  " is already staged; use --replace to swap it");
      }
      RETURN_IF_ERROR(InsertRows(t, rows));
      return static_cast<int64_t>(rows.size());
    }();
    if (!staged.ok()) {
      Exec("ROLLBACK").IgnoreError();
      return staged;
    }
    RETURN_IF_ERROR(Commit());
    return staged;
  }

  StatusOr<DedupeResult> Dedupe(const DedupeRequest& request) override {
    std::lock_guard<std::mutex> lock(mu_);
    const TableDef& t = *request.table;
    RETURN_IF_ERROR(Begin());
    auto result = [&]() -> StatusOr<DedupeResult> {
      DedupeResult out;
      std::string sql = "SELECT rowid, " + ColumnList(t) + " FROM " + Q(t.name);
      if (request.partition) {
        if (t.partition_column.empty()) return InvalidArgumentError(t.name + " has no partitions");
        sql += " WHERE " + Q(t.partition_column) + " = ?";
      }
      sql += " ORDER BY " + KeyExprList(t) + ", rowid";
      ASSIGN_OR_RETURN(sqlite3_stmt * stmt, Prepare(sql));
      std::vector<int64_t> rowids;
      std::vector<Row> rows;
      {
        Reset guard(stmt);
        if (request.partition) BindText(stmt, 1, *request.partition);
        int rc;
        while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
          rowids.push_back(sqlite3_column_int64(stmt, 0));
          Row row(t.columns.size());
          for (size_t i = 0; i < t.columns.size(); ++i) {
            row[i] = ReadColumn(stmt, static_cast<int>(i + 1), t.columns[i].type);
          }
          rows.push_back(std::move(row));
        }
        if (rc != SQLITE_DONE) return SqliteError(db_, rc, "reading " + t.name);
      }
      out.rows_scanned = static_cast<int64_t>(rows.size());
      std::vector<size_t> surplus = request.choose_surplus(rows);
      out.moved = static_cast<int64_t>(surplus.size());
      std::set<std::string> partitions;
      int part = t.PartitionIndex();
      const TableDef& q = tables::Quarantine();
      ASSIGN_OR_RETURN(sqlite3_stmt * ins,
                       Prepare("INSERT INTO " + Q(q.name) + " (" + ColumnList(q) + ") VALUES (" +
                               Placeholders(q.columns.size()) + ")"));
      ASSIGN_OR_RETURN(sqlite3_stmt * del,
                       Prepare("DELETE FROM " + Q(t.name) + " WHERE rowid = ?"));
      for (size_t i : surplus) {
        if (i >= rows.size()) return InternalError("dedupe chose a row that does not exist");
        if (part >= 0 && rows[i][part].is_text()) partitions.insert(rows[i][part].as_text());
        if (request.dry_run) continue;
        Row qrow = QuarantineRow(t, rows[i], request.reason, request.run_id, options_.clock->NowMicros());
        {
          Reset guard(ins);
          for (size_t c = 0; c < q.columns.size(); ++c) {
            BindValue(ins, static_cast<int>(c + 1), q.columns[c].type, qrow[c]);
          }
          int rc = sqlite3_step(ins);
          if (rc != SQLITE_DONE) return SqliteError(db_, rc, "quarantining a row");
        }
        Reset guard(del);
        sqlite3_bind_int64(del, 1, rowids[i]);
        int rc = sqlite3_step(del);
        if (rc != SQLITE_DONE) return SqliteError(db_, rc, "removing a quarantined row");
      }
      out.partitions.assign(partitions.begin(), partitions.end());
      if (!request.dry_run) {
        for (const std::string& p : out.partitions) {
          RETURN_IF_ERROR(BumpVersion(t, p, request.run_id));
        }
      }
      return out;
    }();
    if (!result.ok() || request.dry_run) {
      Exec("ROLLBACK").IgnoreError();
      return result;
    }
    RETURN_IF_ERROR(Commit());
    return result;
  }

  StatusOr<int64_t> RecordAlert(const Row& row) override {
    std::lock_guard<std::mutex> lock(mu_);
    const TableDef& t = tables::Alerts();
    ASSIGN_OR_RETURN(sqlite3_stmt * stmt,
                     Prepare("INSERT INTO alerts (" + ColumnList(t) + ") VALUES (" +
                             Placeholders(t.columns.size()) + ")"));
    Reset guard(stmt);
    for (size_t i = 0; i < t.columns.size(); ++i) {
      BindValue(stmt, static_cast<int>(i + 1), t.columns[i].type, row[i]);
    }
    int rc = sqlite3_step(stmt);
    if (rc != SQLITE_DONE) return SqliteError(db_, rc, "recording an alert");
    return static_cast<int64_t>(sqlite3_last_insert_rowid(db_));
  }

  Status UpdateAlert(int64_t id, bool delivered, int64_t attempts, int64_t folded_count,
                     std::optional<int64_t> sent_at) override {
    std::lock_guard<std::mutex> lock(mu_);
    ASSIGN_OR_RETURN(sqlite3_stmt * stmt,
                     Prepare("UPDATE alerts SET delivered = ?, attempts = ?, folded_count = ?, "
                             "sent_at = ? WHERE id = ?"));
    Reset guard(stmt);
    sqlite3_bind_int64(stmt, 1, delivered ? 1 : 0);
    sqlite3_bind_int64(stmt, 2, attempts);
    sqlite3_bind_int64(stmt, 3, folded_count);
    if (sent_at) {
      BindText(stmt, 4, FormatTimestampMicros(*sent_at));
    } else {
      sqlite3_bind_null(stmt, 4);
    }
    sqlite3_bind_int64(stmt, 5, id);
    int rc = sqlite3_step(stmt);
    if (rc != SQLITE_DONE) return SqliteError(db_, rc, "updating an alert");
    return OkStatus();
  }

  StatusOr<AlertFold> AlertFoldState(std::string_view type, std::string_view subject) override {
    std::lock_guard<std::mutex> lock(mu_);
    AlertFold fold;
    ASSIGN_OR_RETURN(sqlite3_stmt * last,
                     Prepare("SELECT max(sent_at) FROM alerts WHERE type = ? AND subject = ? "
                             "AND delivered = 1"));
    std::string last_sent;
    {
      Reset guard(last);
      BindText(last, 1, type);
      BindText(last, 2, subject);
      if (sqlite3_step(last) == SQLITE_ROW && sqlite3_column_type(last, 0) != SQLITE_NULL) {
        last_sent = ColumnText(last, 0);
        fold.last_sent_micros = ParseTimestampMicros(last_sent);
      }
    }
    ASSIGN_OR_RETURN(sqlite3_stmt * folded,
                     Prepare("SELECT count(*) FROM alerts WHERE type = ? AND subject = ? AND "
                             "delivered = 0 AND attempts = 0 AND at > ?"));
    Reset guard(folded);
    BindText(folded, 1, type);
    BindText(folded, 2, subject);
    BindText(folded, 3, last_sent);
    int rc = sqlite3_step(folded);
    if (rc != SQLITE_ROW) return SqliteError(db_, rc, "reading alert history");
    fold.folded_since = sqlite3_column_int64(folded, 0);
    return fold;
  }

  Status UpsertRun(const Row& run_record) override {
    std::lock_guard<std::mutex> lock(mu_);
    return UpsertRunRow(run_record);
  }

  StatusOr<VersionMap> PartitionVersions(const TableDef& t, std::string_view from,
                                         std::string_view to) override {
    std::lock_guard<std::mutex> lock(mu_);
    return ReadVersions(t.name, from, to);
  }

  StatusOr<std::vector<std::string>> ListPartitions(const TableDef& t) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (t.partition_column.empty()) return InvalidArgumentError(t.name + " has no partitions");
    ASSIGN_OR_RETURN(sqlite3_stmt * stmt,
                     Prepare("SELECT DISTINCT " + Q(t.partition_column) + " FROM " + Q(t.name) +
                             " ORDER BY 1"));
    Reset guard(stmt);
    std::vector<std::string> out;
    while (true) {
      int rc = sqlite3_step(stmt);
      if (rc == SQLITE_DONE) break;
      if (rc != SQLITE_ROW) return SqliteError(db_, rc, "listing partitions of " + t.name);
      out.push_back(ColumnText(stmt, 0));
    }
    return out;
  }

  StatusOr<bool> DeleteFence(std::string_view ns, const TableDef& t,
                             std::string_view partition) override {
    std::lock_guard<std::mutex> lock(mu_);
    ASSIGN_OR_RETURN(sqlite3_stmt * stmt,
                     Prepare("DELETE FROM partition_fence WHERE lock_namespace = ? AND "
                             "table_name = ? AND partition = ?"));
    Reset guard(stmt);
    BindText(stmt, 1, ns);
    BindText(stmt, 2, t.name);
    BindText(stmt, 3, partition);
    int rc = sqlite3_step(stmt);
    if (rc != SQLITE_DONE) return SqliteError(db_, rc, "resetting the partition fence");
    return sqlite3_changes(db_) > 0;
  }

  StatusOr<std::optional<int64_t>> FenceToken(std::string_view ns, const TableDef& t,
                                              std::string_view partition) override {
    std::lock_guard<std::mutex> lock(mu_);
    return ReadFenceToken(ns, t.name, partition);
  }

  Status Ping() override {
    std::lock_guard<std::mutex> lock(mu_);
    return Exec("SELECT count(*) FROM sqlite_master");
  }

  StatusOr<std::vector<std::string>> ApplyKeyUniqueness(bool unique) override {
    std::lock_guard<std::mutex> lock(mu_);
    RETURN_IF_ERROR(Begin());
    std::vector<std::string> changes;
    Status s = OkStatus();
    for (const TableDef* t : catalogue().tables()) {
      if (!t->key_uniqueness_configurable) continue;
      s = EnsureKeyIndex(*t, unique, /*replace=*/true, &changes);
      if (!s.ok()) break;
    }
    if (!s.ok()) {
      Exec("ROLLBACK").IgnoreError();
      return s;
    }
    RETURN_IF_ERROR(Commit());
    return changes;
  }

 protected:
  sql::Dialect dialect() const override { return sql::Dialect::kSqlite; }

  StatusOr<std::vector<ExistingColumn>> ReadColumns(const std::string& table) override {
    ASSIGN_OR_RETURN(sqlite3_stmt * stmt,
                     Prepare("SELECT name, type, \"notnull\" FROM pragma_table_info(?)"));
    Reset guard(stmt);
    BindText(stmt, 1, table);
    std::vector<ExistingColumn> out;
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
      out.push_back({ColumnText(stmt, 0), ColumnText(stmt, 1), sqlite3_column_int(stmt, 2) != 0});
    }
    if (rc != SQLITE_DONE) return SqliteError(db_, rc, "reading the columns of " + table);
    return out;
  }

  Status ApplyDeclaredSchema(const TableDef& t, const std::vector<std::string>& ddl) override {
    RETURN_IF_ERROR(Begin());
    Status s = OkStatus();
    for (const std::string& statement : ddl) {
      s = Exec(statement);
      if (!s.ok()) break;
    }
    if (s.ok()) s = EnsureKeyIndex(t, options_.enforce_unique_keys, /*replace=*/false, nullptr);
    if (!s.ok()) {
      Exec("ROLLBACK").IgnoreError();
      return s.WithContext("table " + t.name);
    }
    return Commit();
  }

 private:
  Status Exec(const std::string& sql) { return conn_->Exec(sql); }
  Status Begin() { return conn_->Begin(); }
  Status Commit() { return conn_->Commit(); }
  StatusOr<sqlite3_stmt*> Prepare(const std::string& sql) { return conn_->Prepare(sql); }
  using Reset = StmtReset;
  static void BindText(sqlite3_stmt* stmt, int idx, std::string_view text) {
    SqliteConn::BindText(stmt, idx, text);
  }
  static std::string ColumnText(sqlite3_stmt* stmt, int i) {
    return SqliteConn::ColumnText(stmt, i);
  }

  static void BindValue(sqlite3_stmt* stmt, int idx, ColumnType type, const Value& v) {
    if (v.is_null()) {
      sqlite3_bind_null(stmt, idx);
      return;
    }
    switch (type) {
      case ColumnType::kBool:
      case ColumnType::kInteger:
        sqlite3_bind_int64(stmt, idx, v.ToInt().value_or(0));
        return;
      case ColumnType::kReal:
        sqlite3_bind_double(stmt, idx, v.ToReal().value_or(0));
        return;
      default:
        if (v.is_text()) {
          sqlite3_bind_text(stmt, idx, v.as_text().data(), static_cast<int>(v.as_text().size()),
                            SQLITE_STATIC);
        } else if (v.is_real()) {
          BindText(stmt, idx, FormatDouble(v.as_real()));
        } else {
          BindText(stmt, idx, std::to_string(v.ToInt().value_or(0)));
        }
    }
  }

  static Value ReadColumn(sqlite3_stmt* stmt, int i, ColumnType type) {
    if (sqlite3_column_type(stmt, i) == SQLITE_NULL) return Value();
    switch (type) {
      case ColumnType::kBool:
        return Value::Bool(sqlite3_column_int64(stmt, i) != 0);
      case ColumnType::kInteger:
        return Value::Int(sqlite3_column_int64(stmt, i));
      case ColumnType::kReal:
        return Value::Real(sqlite3_column_double(stmt, i));
      default:
        return Value::Text(ColumnText(stmt, i));
    }
  }

  Status MigrateLocked() {
    int version = 0;
    {
      ASSIGN_OR_RETURN(sqlite3_stmt * stmt, Prepare("PRAGMA user_version"));
      Reset guard(stmt);
      if (sqlite3_step(stmt) == SQLITE_ROW) version = sqlite3_column_int(stmt, 0);
    }
    if (version > kSchemaVersion) {
      return FailedPreconditionError("the database schema (version " + std::to_string(version) +
                                     ") is newer than this propgrade (version " +
                                     std::to_string(kSchemaVersion) + ")");
    }
    std::vector<std::string> existing;
    {
      ASSIGN_OR_RETURN(sqlite3_stmt * stmt,
                       Prepare("SELECT name FROM sqlite_master WHERE type = 'table'"));
      Reset guard(stmt);
      while (sqlite3_step(stmt) == SQLITE_ROW) existing.push_back(ColumnText(stmt, 0));
    }
    if (version < kSchemaVersion || sql::LacksACatalogueTable(existing)) {
      // Every change so far adds tables or replaces indexes, so one idempotent pass serves each
      // older version, and a database that lacks a table the catalogue gained.
      for (const std::string& ddl : sql::CatalogueDdl(sql::Dialect::kSqlite)) {
        RETURN_IF_ERROR(Exec(ddl));
      }
      // Columns a built-in table gained (version 7: grading_runs' coverage and key counts;
      // version 8: the grading tables' fence_token).
      for (const TableDef* t : AllTables()) {
        ASSIGN_OR_RETURN(std::vector<ExistingColumn> columns, ReadColumns(t->name));
        for (const std::string& ddl : sql::AddedColumnsDdl(*t, sql::Dialect::kSqlite, columns)) {
          RETURN_IF_ERROR(Exec(ddl));
        }
      }
      // The `db` lock backend's token counter (version 6; PostgreSQL draws from the sequence
      // propgrade_lock_token): one for the whole file, starting above every token handed out.
      RETURN_IF_ERROR(Exec("CREATE TABLE IF NOT EXISTS lock_tokens (name TEXT PRIMARY KEY, "
                           "last_token INTEGER NOT NULL)"));
      RETURN_IF_ERROR(Exec("INSERT INTO lock_tokens (name, last_token) SELECT 'db', "
                           "coalesce(max(token), 0) FROM locks WHERE true ON CONFLICT (name) DO "
                           "NOTHING"));
      RETURN_IF_ERROR(Exec("PRAGMA user_version = " + std::to_string(kSchemaVersion)));
    }
    for (const TableDef* t : AllTables()) {
      RETURN_IF_ERROR(EnsureKeyIndex(*t, options_.enforce_unique_keys, /*replace=*/false, nullptr));
    }
    // The SQL fence (sql::SqlFenceDdl), added to a database that lacks it.
    ASSIGN_OR_RETURN(sqlite3_stmt * fence,
                     Prepare("SELECT 1 FROM sqlite_master WHERE type = 'trigger' AND name = ?"));
    Reset guard(fence);
    BindText(fence, 1, sql::kSqlFenceName);
    if (sqlite3_step(fence) != SQLITE_ROW) {
      for (const std::string& ddl : sql::SqlFenceDdl(sql::Dialect::kSqlite)) {
        RETURN_IF_ERROR(Exec(ddl));
      }
    }
    return OkStatus();
  }

  // Creates a missing key index, unique or not as `unique_if_configurable` says for grading
  // outputs (always unique elsewhere). An existing index of the other kind is replaced only
  // when `replace` (ApplyKeyUniqueness); the change is appended to `changes`.
  Status EnsureKeyIndex(const TableDef& t, bool unique_if_configurable, bool replace,
                        std::vector<std::string>* changes) {
    if (t.generated_id) return OkStatus();  // the primary key is the index
    bool unique = KeyUnique(t, unique_if_configurable);
    std::string want = (unique ? "ux_" : "ix_") + t.name + "_key";
    std::string other = (unique ? "ix_" : "ux_") + t.name + "_key";
    ASSIGN_OR_RETURN(sqlite3_stmt * stmt,
                     Prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND name = ?"));
    auto exists = [&](const std::string& name) {
      Reset guard(stmt);
      BindText(stmt, 1, name);
      return sqlite3_step(stmt) == SQLITE_ROW;
    };
    if (exists(want)) return OkStatus();
    if (exists(other)) {
      if (!replace) return OkStatus();  // only `propgrade init` changes a key index
      RETURN_IF_ERROR(Exec("DROP INDEX " + Q(other)));
    }
    Status s = Exec(std::string("CREATE ") + (unique ? "UNIQUE " : "") + "INDEX " + Q(want) +
                    " ON " + Q(t.name) + " (" + KeyExprList(t) + ")");
    if (!s.ok() && s.code() == StatusCode::kAlreadyExists) {
      return CannotEnforceUniqueKeys(t);
    }
    if (s.ok() && changes) {
      changes->push_back(t.name + ": key index made " + (unique ? "unique" : "non-unique"));
    }
    return s;
  }

  StatusOr<ImportCounts> ImportLocked(const TableDef& t, const std::vector<Row>& rows,
                                      const std::vector<int>& columns,
                                      const std::vector<int64_t>& line_numbers,
                                      std::string_view source, ImportMode mode) {
    std::string insert = "INSERT INTO " + Q(t.name) + " (" + ColumnList(t) + ") VALUES (" +
                         Placeholders(t.columns.size()) + ")";
    std::vector<int> key = t.KeyIndexes();
    std::vector<std::string> key_eq;
    for (int k : key) key_eq.push_back(Q(t.columns[k].name) + " IS ?");
    // A stored row keeps the columns the file does not have.
    std::string updates = sql::UpdateNonKeyColumns(t, columns);
    if (mode == ImportMode::kUpsert) {
      insert += " ON CONFLICT (" + sql::KeyColumnList(t) + ") DO " +
                (updates.empty() ? "NOTHING" : "UPDATE SET " + updates);
    }
    ASSIGN_OR_RETURN(sqlite3_stmt * ins, Prepare(insert));
    ASSIGN_OR_RETURN(sqlite3_stmt * exists,
                     Prepare("SELECT 1 FROM " + Q(t.name) + " WHERE " + Join(key_eq, " AND ")));
    ImportCounts counts;
    std::set<std::string> partitions;
    int part = t.PartitionIndex();
    for (size_t r = 0; r < rows.size(); ++r) {
      const Row& row = rows[r];
      std::string where = std::string(source) + ":" +
                          (r < line_numbers.size() ? std::to_string(line_numbers[r])
                                                   : "row " + std::to_string(r + 1));
      if (mode == ImportMode::kUpsert) {
        Reset guard(exists);
        for (size_t k = 0; k < key.size(); ++k) {
          BindValue(exists, static_cast<int>(k + 1), t.columns[key[k]].type, row[key[k]]);
        }
        int rc = sqlite3_step(exists);
        if (rc != SQLITE_ROW && rc != SQLITE_DONE) return SqliteError(db_, rc, where);
        ++(rc == SQLITE_ROW ? counts.replaced : counts.inserted);
      }
      Reset guard(ins);
      for (size_t i = 0; i < t.columns.size(); ++i) {
        BindValue(ins, static_cast<int>(i + 1), t.columns[i].type, row[i]);
      }
      int rc = sqlite3_step(ins);
      if (rc != SQLITE_DONE) {
        if ((rc & 0xff) == SQLITE_CONSTRAINT) {
          std::vector<std::string> parts;
          for (int k : key) parts.push_back(t.columns[k].name + "=" + ValueText(row[k]));
          return InvalidArgumentError(where + ": duplicate key (" + Join(parts, ", ") + ") in " +
                                      t.name + " while unique keys are enforced");
        }
        return SqliteError(db_, rc, where);
      }
      if (mode == ImportMode::kInsert) ++counts.inserted;
      if (part >= 0 && row[part].is_text()) partitions.insert(row[part].as_text());
    }
    if (part < 0 && !rows.empty()) partitions.insert("");
    for (const std::string& p : partitions) RETURN_IF_ERROR(BumpVersion(t, p, "import"));
    return counts;
  }

  static std::string ValueText(const Value& v) { return v.is_null() ? "NULL" : FormatCell(v); }

  // ---- FencedStore primitives (mu_ held) ----

  Status BeginWrite(const TableDef&, std::string_view, const std::vector<InputVersions>&,
                    const std::vector<PartitionRef>&) override {
    return Begin();  // BEGIN IMMEDIATE: one writer at a time holds the whole database
  }
  Status CommitWrite() override { return Commit(); }
  void RollbackWrite() override { Exec("ROLLBACK").IgnoreError(); }

  StatusOr<std::optional<int64_t>> ReadFenceToken(std::string_view ns, std::string_view table,
                                                  std::string_view partition) override {
    ASSIGN_OR_RETURN(sqlite3_stmt * stmt,
                     Prepare("SELECT token FROM partition_fence WHERE lock_namespace = ? AND "
                             "table_name = ? AND partition = ?"));
    Reset guard(stmt);
    BindText(stmt, 1, ns);
    BindText(stmt, 2, table);
    BindText(stmt, 3, partition);
    int rc = sqlite3_step(stmt);
    if (rc == SQLITE_DONE) return std::optional<int64_t>();
    if (rc != SQLITE_ROW) return SqliteError(db_, rc, "reading the partition fence");
    if (sqlite3_column_type(stmt, 0) == SQLITE_NULL) return std::optional<int64_t>();
    return std::optional<int64_t>(sqlite3_column_int64(stmt, 0));
  }

  Status WriteFenceToken(std::string_view ns, std::string_view table, std::string_view partition,
                         std::optional<int64_t> token, std::string_view run_id) override {
    ASSIGN_OR_RETURN(
        sqlite3_stmt * stmt,
        Prepare("INSERT INTO partition_fence (lock_namespace, table_name, partition, token, "
                "run_id, written_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (lock_namespace, "
                "table_name, partition) DO UPDATE SET token = coalesce(excluded.token, token), "
                "run_id = excluded.run_id, written_at = excluded.written_at"));
    Reset guard(stmt);
    BindText(stmt, 1, ns);
    BindText(stmt, 2, table);
    BindText(stmt, 3, partition);
    if (token) {
      sqlite3_bind_int64(stmt, 4, *token);
    } else {
      sqlite3_bind_null(stmt, 4);
    }
    BindText(stmt, 5, run_id);
    BindText(stmt, 6, FormatTimestampMicros(options_.clock->NowMicros()));
    int rc = sqlite3_step(stmt);
    if (rc != SQLITE_DONE) return SqliteError(db_, rc, "recording the partition fence");
    return OkStatus();
  }

  // Records that `partition` of `t` changed in this transaction: a version one above every
  // version so far (writers are serialised, so the order of versions is the order of commits).
  Status BumpVersion(const TableDef& t, std::string_view partition,
                     std::string_view run_id) override {
    if (!t.versioned) return OkStatus();
    ASSIGN_OR_RETURN(
        sqlite3_stmt * stmt,
        Prepare("INSERT INTO partition_versions (table_name, partition, version, changed_at, "
                "run_id) VALUES (?, ?, (SELECT coalesce(max(version), 0) + 1 FROM "
                "partition_versions), ?, ?) ON CONFLICT (table_name, partition) DO UPDATE SET "
                "version = excluded.version, changed_at = excluded.changed_at, run_id = "
                "excluded.run_id"));
    Reset guard(stmt);
    BindText(stmt, 1, t.name);
    BindText(stmt, 2, partition);
    BindText(stmt, 3, FormatTimestampMicros(options_.clock->NowMicros()));
    BindText(stmt, 4, run_id);
    int rc = sqlite3_step(stmt);
    if (rc != SQLITE_DONE) return SqliteError(db_, rc, "recording the partition version");
    return OkStatus();
  }

  StatusOr<VersionMap> ReadVersions(std::string_view table, std::string_view from,
                                    std::string_view to) override {
    ASSIGN_OR_RETURN(sqlite3_stmt * stmt,
                     Prepare("SELECT partition, version FROM partition_versions WHERE "
                             "table_name = ? AND partition >= ? AND partition <= ?"));
    Reset guard(stmt);
    BindText(stmt, 1, table);
    BindText(stmt, 2, from);
    BindText(stmt, 3, to);
    VersionMap out;
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
      out[ColumnText(stmt, 0)] = sqlite3_column_int64(stmt, 1);
    }
    if (rc != SQLITE_DONE) return SqliteError(db_, rc, "reading partition versions");
    return out;
  }

  Status UpsertRunRow(const Row& run) override {
    const TableDef& t = tables::GradingRuns();
    if (run.size() != t.columns.size()) return InternalError("grading_runs row of wrong width");
    ASSIGN_OR_RETURN(sqlite3_stmt * stmt,
                     Prepare("INSERT INTO grading_runs (" + ColumnList(t) + ") VALUES (" +
                             Placeholders(t.columns.size()) + ") ON CONFLICT (" +
                             sql::KeyColumnList(t) + ") DO UPDATE SET " +
                             sql::UpdateNonKeyColumns(t)));
    Reset guard(stmt);
    for (size_t i = 0; i < t.columns.size(); ++i) {
      BindValue(stmt, static_cast<int>(i + 1), t.columns[i].type, run[i]);
    }
    int rc = sqlite3_step(stmt);
    if (rc != SQLITE_DONE) return SqliteError(db_, rc, "recording the run");
    return OkStatus();
  }

  // Inserts rows in catalogue order; a generated id left NULL is assigned by SQLite.
  Status InsertRows(const TableDef& t, const std::vector<Row>& rows) override {
    if (rows.empty()) return OkStatus();
    ASSIGN_OR_RETURN(sqlite3_stmt * ins,
                     Prepare("INSERT INTO " + Q(t.name) + " (" + ColumnList(t) + ") VALUES (" +
                             Placeholders(t.columns.size()) + ")"));
    for (const Row& row : rows) {
      Reset guard(ins);
      for (size_t i = 0; i < t.columns.size(); ++i) {
        BindValue(ins, static_cast<int>(i + 1), t.columns[i].type, row[i]);
      }
      int rc = sqlite3_step(ins);
      if (rc != SQLITE_DONE) return SqliteError(db_, rc, "inserting into " + t.name);
    }
    return OkStatus();
  }

  // Every row of `t` whose `column` equals `value`, in catalogue order.
  StatusOr<std::string> QueryAsJsonLines(const std::string& sql, std::string_view param) override {
    sqlite3_stmt* raw = nullptr;
    const char* tail = nullptr;
    int rc = sqlite3_prepare_v2(db_, sql.c_str(), static_cast<int>(sql.size()), &raw, &tail);
    std::unique_ptr<sqlite3_stmt, int (*)(sqlite3_stmt*)> stmt(raw, sqlite3_finalize);
    if (rc != SQLITE_OK) {
      return InvalidArgumentError(std::string("the query: ") + sqlite3_errmsg(db_));
    }
    if (!stmt) return InvalidArgumentError("the query is empty");
    if (!Trim(tail).empty() && Trim(tail) != ";") {
      return InvalidArgumentError("the query must be one statement");
    }
    if (!sqlite3_stmt_readonly(stmt.get())) {
      return InvalidArgumentError("the query must only read (a SELECT); propgrade does the write");
    }
    // $1 (or ?1, ?) is the partition; no other parameter.
    const int params = sqlite3_bind_parameter_count(stmt.get());
    if (params > 1)
      return InvalidArgumentError("the query takes one parameter, $1 (the partition)");
    if (params == 1) BindText(stmt.get(), 1, param);
    const int n = sqlite3_column_count(stmt.get());
    std::string out;
    while ((rc = sqlite3_step(stmt.get())) == SQLITE_ROW) {
      out += '{';
      for (int i = 0; i < n; ++i) {
        if (i) out += ',';
        AppendJsonString(&out, sqlite3_column_name(stmt.get(), i));
        out += ':';
        switch (sqlite3_column_type(stmt.get(), i)) {
          case SQLITE_NULL:
            out += "null";
            break;
          case SQLITE_INTEGER:
            out += std::to_string(sqlite3_column_int64(stmt.get(), i));
            break;
          case SQLITE_FLOAT:
            AppendJsonValue(&out, Value::Real(sqlite3_column_double(stmt.get(), i)));
            break;
          default:
            AppendJsonString(&out, ColumnText(stmt.get(), i));
        }
      }
      out += "}\n";
    }
    if (rc != SQLITE_DONE)
      return InvalidArgumentError(std::string("the query: ") + sqlite3_errmsg(db_));
    return out;
  }

  StatusOr<std::vector<Row>> ReadRowsWhere(const TableDef& t, const std::string& column,
                                           std::string_view value) override {
    ASSIGN_OR_RETURN(sqlite3_stmt * stmt, Prepare("SELECT " + ColumnList(t) + " FROM " +
                                                  Q(t.name) + " WHERE " + Q(column) + " = ?"));
    Reset guard(stmt);
    BindText(stmt, 1, value);
    std::vector<Row> rows;
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
      Row row(t.columns.size());
      for (size_t i = 0; i < t.columns.size(); ++i) {
        row[i] = ReadColumn(stmt, static_cast<int>(i), t.columns[i].type);
      }
      rows.push_back(std::move(row));
    }
    if (rc != SQLITE_DONE) return SqliteError(db_, rc, "reading " + t.name);
    return rows;
  }

  StatusOr<int64_t> DeletePartitionRows(const TableDef& t, std::string_view partition) override {
    ASSIGN_OR_RETURN(sqlite3_stmt * del, Prepare("DELETE FROM " + Q(t.name) + " WHERE " +
                                                 Q(t.partition_column) + " = ?"));
    Reset guard(del);
    BindText(del, 1, partition);
    int rc = sqlite3_step(del);
    if (rc != SQLITE_DONE) return SqliteError(db_, rc, "deleting " + t.name + " partition");
    return static_cast<int64_t>(sqlite3_changes(db_));
  }

  StatusOr<int64_t> DeleteKeys(const TableDef& t, const std::vector<int>& columns,
                               const std::vector<Row>& keys) override {
    if (keys.empty()) return int64_t{0};
    std::string where;
    for (int c : columns) where += (where.empty() ? "" : " AND ") + Q(t.columns[c].name) + " = ?";
    ASSIGN_OR_RETURN(sqlite3_stmt * del, Prepare("DELETE FROM " + Q(t.name) + " WHERE " + where));
    int64_t deleted = 0;
    for (const Row& key : keys) {
      Reset guard(del);
      for (size_t i = 0; i < columns.size(); ++i) {
        BindValue(del, static_cast<int>(i + 1), t.columns[columns[i]].type, key[i]);
      }
      int rc = sqlite3_step(del);
      if (rc != SQLITE_DONE) return SqliteError(db_, rc, "deleting from " + t.name);
      deleted += sqlite3_changes(db_);
    }
    return deleted;
  }

  StatusOr<std::map<std::string, std::string>> PartitionsElsewhere(
      const TableDef& t, int column, const std::vector<std::string>& values,
      std::string_view partition) override {
    ASSIGN_OR_RETURN(sqlite3_stmt * other,
                     Prepare("SELECT " + Q(t.partition_column) + " FROM " + Q(t.name) +
                             " WHERE " + Q(t.columns[column].name) + " = ? AND " +
                             Q(t.partition_column) + " <> ?"));
    std::map<std::string, std::string> out;
    for (const std::string& v : values) {
      Reset guard(other);
      BindText(other, 1, v);
      BindText(other, 2, partition);
      int rc = sqlite3_step(other);
      if (rc == SQLITE_ROW) {
        out[v] = ColumnText(other, 0);
      } else if (rc != SQLITE_DONE) {
        return SqliteError(db_, rc, "reading " + t.columns[column].name + "s");
      }
    }
    return out;
  }

  std::unique_ptr<SqliteConn> conn_;
  sqlite3* db_;  // conn_'s handle, for the sqlite3_* calls on its statements
  std::string path_;
  std::string durability_;
};

}  // namespace

namespace {

// The schema version of an open database (PRAGMA user_version); SQLite's result code.
int ReadSchemaVersion(sqlite3* db, int* version) {
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &stmt, nullptr);
  if (rc == SQLITE_OK) {
    rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW) {
      *version = sqlite3_column_int(stmt, 0);
      rc = SQLITE_OK;
    }
  }
  sqlite3_finalize(stmt);
  return rc;
}

// `path` as a file: URI with `query` (RFC 3986: '%', '?' and '#' percent-encoded; an absolute
// path after an empty authority).
std::string FileUri(const std::string& path, std::string_view query) {
  std::string uri = path.rfind('/', 0) == 0 ? "file://" : "file:";
  for (char c : path) {
    if (c == '%' || c == '?' || c == '#' || static_cast<unsigned char>(c) <= ' ') {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", static_cast<unsigned char>(c));
      uri += buf;
    } else {
      uri += c;
    }
  }
  return uri + "?" + std::string(query);
}

// Opens an existing file for reading only, checking that it holds this propgrade's schema.
// A WAL database needs its -shm file, which a reader creates when it may; where it may not (a
// directory this user cannot write) and no -wal file holds commits the file lacks (there is
// none, or it is empty), the file is read as immutable: without locks, so nothing may change
// it during the read.
StatusOr<sqlite3*> OpenSqliteReadOnly(const std::string& path, int busy_timeout_ms) {
  auto open = [&](const std::string& name, int extra_flags, sqlite3** db) {
    int rc = sqlite3_open_v2(name.c_str(), db,
                             SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX | extra_flags, nullptr);
    if (rc == SQLITE_OK) {
      sqlite3_extended_result_codes(*db, 1);
      sqlite3_busy_timeout(*db, busy_timeout_ms);
    }
    return rc;
  };
  sqlite3* db = nullptr;
  int version = 0;
  int rc = open(path, 0, &db);
  if (rc == SQLITE_OK) rc = ReadSchemaVersion(db, &version);
  // No commits in a -wal file: none, or an empty one.
  auto wal_empty = [&] {
    std::error_code ec;
    const auto st = std::filesystem::status(path + "-wal", ec);
    if (st.type() == std::filesystem::file_type::not_found) return true;
    return !ec && std::filesystem::file_size(path + "-wal", ec) == 0 && !ec;
  };
  if (rc != SQLITE_OK && ((rc & 0xff) == SQLITE_READONLY || (rc & 0xff) == SQLITE_CANTOPEN) &&
      wal_empty()) {
    sqlite3_close_v2(db);
    db = nullptr;
    rc = open(FileUri(path, "immutable=1"), SQLITE_OPEN_URI, &db);
    if (rc == SQLITE_OK) rc = ReadSchemaVersion(db, &version);
  }
  if (rc != SQLITE_OK) {
    Status s = SqliteError(db, rc, "opening read-only", path);
    sqlite3_close_v2(db);
    return s;
  }
  std::string problem;
  if (version == 0) {
    problem = " holds no propgrade schema (run `propgrade init` or check --db)";
  } else if (version < kSchemaVersion) {
    problem = " has schema version " + std::to_string(version) + ", older than this propgrade's (" +
              std::to_string(kSchemaVersion) + "): run `propgrade init` to migrate it";
  } else if (version > kSchemaVersion) {
    problem = " has schema version " + std::to_string(version) +
              ", newer than this propgrade's (" + std::to_string(kSchemaVersion) + ")";
  }
  if (!problem.empty()) {
    sqlite3_close_v2(db);
    return FailedPreconditionError("sqlite:" + path + problem);
  }
  return db;
}

}  // namespace

StatusOr<std::unique_ptr<Store>> OpenSqliteStore(const std::string& path,
                                                 const StoreOptions& options) {
  ConfigureSqliteOnce();
  if (path != ":memory:" && (options.read_only || !options.create_if_missing)) {
    std::error_code ec;
    const std::filesystem::file_status st = std::filesystem::status(path, ec);
    if (st.type() == std::filesystem::file_type::not_found) {
      return NoSuchDatabaseError("sqlite:" + path);
    }
  }
  if (options.read_only) {
    ASSIGN_OR_RETURN(sqlite3 * db, OpenSqliteReadOnly(path, options.busy_timeout_ms));
    auto store = std::make_unique<SqliteStore>(std::make_unique<SqliteConn>(db, path), options);
    RETURN_IF_ERROR(store->Configure());
    RETURN_IF_ERROR(store->AdoptDeclaredTables());
    return std::unique_ptr<Store>(std::move(store));
  }
  SqliteConn::OpenOptions open;
  open.create_if_missing = options.create_if_missing;
  open.busy_timeout_ms = options.busy_timeout_ms;
  ASSIGN_OR_RETURN(auto conn, SqliteConn::Open(path, open));
  auto store = std::make_unique<SqliteStore>(std::move(conn), options);
  RETURN_IF_ERROR(store->Configure());
  RETURN_IF_ERROR(store->Migrate());
  RETURN_IF_ERROR(store->AdoptDeclaredTables());
  return std::unique_ptr<Store>(std::move(store));
}

}  // namespace propgrade

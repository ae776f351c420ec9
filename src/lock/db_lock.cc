// The `db` lock backend on SQLite: a lease table in the store's database file, written in
// BEGIN IMMEDIATE transactions, with expiry judged by the injected Clock (one machine holds
// the file, so one clock decides). Tokens come from one counter for the whole database
// (lock_tokens, created by the store's migration), shared by Acquire and DrawToken.
#include <sqlite3.h>

#include <mutex>

#include "common/civil_date.h"
#include "db/sqlite_conn.h"
#include "lock/backends.h"

namespace propgrade {
namespace {

Status LockDbError(sqlite3* db, int rc, std::string_view what) {
  return SqliteError(db, rc, "lock table: " + std::string(what));
}

class SqliteLockService final : public LockService {
 public:
  SqliteLockService(std::unique_ptr<SqliteConn> conn, const LockOptions& options)
      : conn_(std::move(conn)), db_(conn_->handle()), options_(options) {}

  std::string_view backend() const override { return "db"; }
  std::string fence_namespace() const override { return "db"; }

  StatusOr<Lease> Acquire(const std::string& key, int64_t ttl_micros,
                          int64_t max_wait_micros) override {
    return PollAcquire(options_.clock, key, max_wait_micros,
                       [&](std::string* holder) { return TryAcquire(key, ttl_micros, holder); });
  }

  Status Renew(Lease* lease) override {
    std::lock_guard<std::mutex> lock(mu_);
    int64_t ttl = lease->expires_at_micros - lease->acquired_at_micros;
    if (!lease->handle.empty()) ttl = std::stoll(lease->handle);
    RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE"));
    // The extension counts from once the write lock is ours: no other process can change the
    // row until this transaction ends, so the lease (unexpired below) is ours from here on.
    // Counting from before the wait for the write lock would lose the wait from every lease.
    const int64_t sent = options_.clock->NowMicros();
    const int64_t sent_steady = options_.clock->SteadyMicros();
    Status s = [&]() -> Status {
      ASSIGN_OR_RETURN(auto row, ReadRow(lease->key));
      if (!row || row->holder != lease->holder_id || row->token != lease->token ||
          row->expires_at <= options_.clock->NowMicros()) {
        return AbortedError("lease on " + lease->key + " (token " +
                                std::to_string(lease->token.value_or(0)) + ") is no longer held",
                            StatusReason::kLockLost);
      }
      RETURN_IF_ERROR(
          Write("UPDATE locks SET expires_at = ?, renewed_at = ? WHERE key = ?",
                {FormatTimestampMicros(sent + ttl), FormatTimestampMicros(sent), lease->key}));
      return OkStatus();
    }();
    if (!s.ok()) {
      Exec("ROLLBACK").IgnoreError();
      return s;
    }
    RETURN_IF_ERROR(Exec("COMMIT"));
    lease->expires_at_micros = sent + ttl;
    lease->valid_until_steady_micros = sent_steady + ttl;
    return OkStatus();
  }

  Status Release(const Lease& lease) override {
    std::lock_guard<std::mutex> lock(mu_);
    return Write(
        "UPDATE locks SET holder_id = NULL, expires_at = NULL WHERE key = ? AND token = ? AND "
        "holder_id = ?",
        {lease.key, std::to_string(lease.token.value_or(-1)), lease.holder_id});
  }

  StatusOr<bool> ForceRelease(const std::string& key, int64_t token) override {
    std::lock_guard<std::mutex> lock(mu_);
    RETURN_IF_ERROR(Write(
        "UPDATE locks SET holder_id = NULL, expires_at = NULL WHERE key = ? AND token = ? AND "
        "holder_id IS NOT NULL AND expires_at > ?",
        {key, std::to_string(token), FormatTimestampMicros(options_.clock->NowMicros())}));
    return sqlite3_changes(db_) > 0;
  }

  StatusOr<int64_t> DrawToken(const std::string& key) override {
    std::lock_guard<std::mutex> lock(mu_);
    RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE"));
    auto token = [&]() -> StatusOr<int64_t> {
      ASSIGN_OR_RETURN(auto row, ReadRow(key));
      return NextToken(row ? row->token.value_or(0) : 0);
    }();
    if (!token.ok()) {
      Exec("ROLLBACK").IgnoreError();
      return token;
    }
    RETURN_IF_ERROR(Exec("COMMIT"));
    return token;
  }

  StatusOr<std::vector<LockInfo>> List() override {
    std::lock_guard<std::mutex> lock(mu_);
    ASSIGN_OR_RETURN(sqlite3_stmt * stmt,
                     conn_->Prepare("SELECT key, holder_id, token, acquired_at, expires_at, "
                                    "renewed_at FROM locks WHERE holder_id IS NOT NULL AND "
                                    "expires_at > ? ORDER BY key"));
    StmtReset reset(stmt);
    const int64_t now_micros = options_.clock->NowMicros();
    SqliteConn::BindText(stmt, 1, FormatTimestampMicros(now_micros));
    std::vector<LockInfo> out;
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
      LockInfo info;
      info.key = Text(stmt, 0);
      info.holder_id = Text(stmt, 1);
      info.token = sqlite3_column_int64(stmt, 2);
      info.acquired_at_micros = ParseTimestampMicros(Text(stmt, 3)).value_or(0);
      info.expires_at_micros = ParseTimestampMicros(Text(stmt, 4)).value_or(0);
      info.renewed_at_micros = ParseTimestampMicros(Text(stmt, 5)).value_or(0);
      info.held_micros = now_micros - info.acquired_at_micros;  // the file's one clock
      out.push_back(std::move(info));
    }
    if (rc != SQLITE_DONE) return LockDbError(db_, rc, "listing locks");
    return out;
  }

 private:
  struct LockRow {
    std::string holder;
    std::optional<int64_t> token;
    int64_t expires_at = 0;
  };

  static std::string Text(sqlite3_stmt* stmt, int i) { return SqliteConn::ColumnText(stmt, i); }

  Status Exec(const char* sql) { return conn_->Exec(sql); }

  Status Write(const char* sql, const std::vector<std::string>& params) {
    ASSIGN_OR_RETURN(sqlite3_stmt * stmt, conn_->Prepare(sql));
    StmtReset reset(stmt);
    for (size_t i = 0; i < params.size(); ++i) {
      SqliteConn::BindText(stmt, static_cast<int>(i + 1), params[i]);
    }
    int rc = sqlite3_step(stmt);
    return rc == SQLITE_DONE ? OkStatus() : LockDbError(db_, rc, "writing");
  }

  // Inside a write transaction: advances the database's token counter past both its last value
  // and `at_least` (the key's last token) and returns the new value.
  StatusOr<int64_t> NextToken(int64_t at_least) {
    RETURN_IF_ERROR(Write(
        "INSERT INTO lock_tokens (name, last_token) VALUES ('db', CAST(?1 AS INTEGER) + 1) "
        "ON CONFLICT (name) DO UPDATE SET last_token = max(last_token, CAST(?1 AS INTEGER)) + 1",
        {std::to_string(at_least)}));
    ASSIGN_OR_RETURN(sqlite3_stmt * stmt,
                     conn_->Prepare("SELECT last_token FROM lock_tokens WHERE name = 'db'"));
    StmtReset reset(stmt);
    int rc = sqlite3_step(stmt);
    int64_t token = rc == SQLITE_ROW ? sqlite3_column_int64(stmt, 0) : 0;
    if (rc != SQLITE_ROW) return LockDbError(db_, rc, "reading the token counter");
    return token;
  }

  StatusOr<std::optional<LockRow>> ReadRow(const std::string& key) {
    ASSIGN_OR_RETURN(
        sqlite3_stmt * stmt,
        conn_->Prepare("SELECT holder_id, token, expires_at FROM locks WHERE key = ?"));
    StmtReset reset(stmt);
    SqliteConn::BindText(stmt, 1, key);
    std::optional<LockRow> row;
    int rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW) {
      row = LockRow{Text(stmt, 0), sqlite3_column_int64(stmt, 1),
                    ParseTimestampMicros(Text(stmt, 2)).value_or(0)};
      if (sqlite3_column_type(stmt, 0) == SQLITE_NULL) row->holder.clear();
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return LockDbError(db_, rc, "reading a lock");
    return row;
  }

  StatusOr<std::optional<Lease>> TryAcquire(const std::string& key, int64_t ttl_micros,
                                            std::string* holder) {
    std::lock_guard<std::mutex> lock(mu_);
    RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE"));
    // Both clocks are read once the write lock is ours (as in Renew): a lease whose validity
    // counted the wait for the write lock (seconds under a busy writer) could expire before
    // its holder wrote anything.
    const int64_t sent_steady = options_.clock->SteadyMicros();
    auto result = [&]() -> StatusOr<std::optional<Lease>> {
      int64_t now = options_.clock->NowMicros();
      ASSIGN_OR_RETURN(auto row, ReadRow(key));
      if (row && !row->holder.empty() && row->expires_at > now) {
        *holder = row->holder + " (token " + std::to_string(row->token.value_or(0)) + ")";
        return std::optional<Lease>();
      }
      Lease lease;
      lease.key = key;
      lease.holder_id = options_.holder_id;
      ASSIGN_OR_RETURN(lease.token, NextToken(row ? row->token.value_or(0) : 0));
      lease.acquired_at_micros = now;
      lease.expires_at_micros = now + ttl_micros;
      lease.valid_until_steady_micros = sent_steady + ttl_micros;
      lease.handle = std::to_string(ttl_micros);
      std::string at = FormatTimestampMicros(now);
      RETURN_IF_ERROR(
          Write("INSERT INTO locks (key, holder_id, token, acquired_at, expires_at, renewed_at) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (key) DO UPDATE SET holder_id = "
                "excluded.holder_id, token = excluded.token, acquired_at = excluded.acquired_at, "
                "expires_at = excluded.expires_at, renewed_at = excluded.renewed_at",
                {key, lease.holder_id, std::to_string(*lease.token), at,
                 FormatTimestampMicros(lease.expires_at_micros), at}));
      return std::optional<Lease>(std::move(lease));
    }();
    if (!result.ok() || !result->has_value()) {
      Exec("ROLLBACK").IgnoreError();
      return result;
    }
    RETURN_IF_ERROR(Exec("COMMIT"));
    return result;
  }

  std::mutex mu_;
  std::unique_ptr<SqliteConn> conn_;
  sqlite3* db_;  // conn_'s handle
  LockOptions options_;
};

}  // namespace

StatusOr<std::unique_ptr<LockService>> NewSqliteLockService(const std::string& path,
                                                            const LockOptions& options) {
  SqliteConn::OpenOptions open;
  open.busy_timeout_ms = options.busy_timeout_ms;
  auto conn = SqliteConn::Open(path, open);
  if (!conn.ok()) return Status(conn.status().code(), "lock `db`: " + conn.status().message());
  (*conn)->Exec("PRAGMA journal_mode=WAL").IgnoreError();
  // No fsync per lease commit, whatever the store's setting: the WAL is one file the store's
  // commits share, and recovery keeps a prefix of it, so a fenced write that survives a power
  // loss (synchronous=FULL fsyncs the WAL at its commit) brings the lease and token it was made
  // under along; a lease lost to a power loss was never written under.
  (*conn)->Exec("PRAGMA synchronous=NORMAL").IgnoreError();
  if (!(*conn)->Prepare("SELECT 1 FROM locks, lock_tokens LIMIT 1").ok()) {
    return FailedPreconditionError("lock `db`: sqlite:" + path +
                                   " has no locks table (or no lock_tokens); run `propgrade "
                                   "init` first");
  }
  return std::unique_ptr<LockService>(new SqliteLockService(std::move(*conn), options));
}

}  // namespace propgrade

#include "db/sqlite_conn.h"

#include <sqlite3.h>

#include <filesystem>
#include <mutex>

namespace propgrade {

void ConfigureSqliteOnce() {
  static std::once_flag once;
  std::call_once(once, [] {
    // SQLITE_MISUSE when the library was already initialised: the setting is then left as is.
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
  });
}

StatusOr<std::string> SqlitePathOf(const std::string& url) {
  if (url.rfind("sqlite:", 0) != 0) return InvalidArgumentError("not a sqlite: URL");
  std::string path = url.substr(7);
  if (path.rfind("//", 0) == 0) path = path.substr(2);
  if (path.empty()) return InvalidArgumentError("--db sqlite: needs a file path (sqlite:PATH)");
  return path;
}

bool IsPostgresUrl(std::string_view url) {
  return url.rfind("postgresql://", 0) == 0 || url.rfind("postgres://", 0) == 0;
}

bool IsSqliteStorageFault(int rc) {
  switch (rc & 0xff) {
    case SQLITE_READONLY:
    case SQLITE_CANTOPEN:
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_PERM:
    case SQLITE_NOLFS:
      return true;
    default:
      return false;
  }
}

// What an operator should check after a storage fault on the database file at `path`: the
// file or its directory not writable, or the disk full (judged by the free space now).
std::string SqliteStorageHint(int rc, const std::string& path) {
  std::string dir = std::filesystem::path(path).parent_path().string();
  if (dir.empty()) dir = ".";
  const std::string writable = "check that " + path +
                               " and its directory are writable by this user, not immutable "
                               "(chattr +i) and not on a read-only mount";
  switch (rc & 0xff) {
    case SQLITE_READONLY:
    case SQLITE_PERM:
      return writable;
    case SQLITE_CANTOPEN:
      return "cannot open the database or create its -wal/-shm/-journal file beside it: " +
             writable;
    default:
      break;
  }
  std::error_code ec;
  std::filesystem::space_info space = std::filesystem::space(dir, ec);
  if (!ec && space.available < (1u << 20)) {
    return "the disk holding " + dir + " is full: " + std::to_string(space.available / 1024) +
           " KiB free";
  }
  if ((rc & 0xff) == SQLITE_FULL) {
    return "the disk holding " + dir + " is full, or the database reached its size limit";
  }
  return "the disk holding " + dir + " may be full, failing or read-only";
}

// `what` failed with SQLite's `rc`. Storage faults are Unavailable (exit 3) and their message
// names the database file (`path`, or the connection's file) and what to check.
Status SqliteError(sqlite3* db, int rc, std::string_view what, std::string path) {
  std::string msg = std::string(what) + ": " + (db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
  if (IsSqliteStorageFault(rc)) {
    if (path.empty() && db) {
      const char* file = sqlite3_db_filename(db, "main");
      path = file ? file : "";
    }
    return UnavailableError("sqlite:" + path + ": " + msg + " (" + SqliteStorageHint(rc, path) +
                            ")");
  }
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return UnavailableError(msg + " (another writer held the database past the busy timeout)");
    case SQLITE_AUTH:
      return UnavailableError(msg);
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return DataLossError(msg);
    case SQLITE_CONSTRAINT:
      return AlreadyExistsError(msg);
    case SQLITE_INTERRUPT:
      return CancelledError(msg);
    default:
      return InternalError(msg);
  }
}

StmtReset::~StmtReset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

StatusOr<std::unique_ptr<SqliteConn>> SqliteConn::Open(const std::string& path,
                                                       const OpenOptions& options) {
  ConfigureSqliteOnce();
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db,
                           SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX |
                               (options.create_if_missing ? SQLITE_OPEN_CREATE : 0),
                           nullptr);
  if (rc != SQLITE_OK) {
    Status s = SqliteError(db, rc, "opening", path);
    sqlite3_close_v2(db);
    return s;
  }
  if (sqlite3_db_readonly(db, "main") == 1) {
    sqlite3_close_v2(db);
    return UnavailableError("sqlite:" + path + " is read-only (" +
                            SqliteStorageHint(SQLITE_READONLY, path) + ")");
  }
  auto conn = std::make_unique<SqliteConn>(db, path);
  sqlite3_busy_timeout(db, options.busy_timeout_ms);
  sqlite3_extended_result_codes(db, 1);
  return conn;
}

SqliteConn::SqliteConn(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}

SqliteConn::~SqliteConn() {
  for (auto& [sql, stmt] : stmts_) sqlite3_finalize(stmt);
  sqlite3_close_v2(db_);
}

Status SqliteConn::Exec(const std::string& sql) {
  char* err = nullptr;
  int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err);
  if (rc == SQLITE_OK) return OkStatus();
  std::string msg = err ? err : sqlite3_errstr(rc);
  sqlite3_free(err);
  if (IsSqliteStorageFault(rc)) msg += " (" + SqliteStorageHint(rc, path_) + ")";
  Status s = SqliteError(nullptr, rc, "");
  return Status(s.code(), "sqlite:" + path_ + ": " + msg);
}

StatusOr<sqlite3_stmt*> SqliteConn::Prepare(const std::string& sql) {
  auto it = stmts_.find(sql);
  if (it != stmts_.end()) return it->second;
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v3(db_, sql.c_str(), static_cast<int>(sql.size()),
                              SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
  if (rc != SQLITE_OK) return SqliteError(db_, rc, "preparing a statement");
  stmts_.emplace(sql, stmt);
  return stmt;
}

Status SqliteConn::Commit() {
  Status s = Exec("COMMIT");
  if (!s.ok()) Rollback();
  return s;
}

void SqliteConn::Rollback() { Exec("ROLLBACK").IgnoreError(); }

Status SqliteConn::InTransaction(const std::function<Status()>& body) {
  RETURN_IF_ERROR(Begin());
  Status s = body();
  if (!s.ok()) {
    Rollback();
    return s;
  }
  return Commit();
}

int64_t SqliteConn::changes() const { return sqlite3_changes64(db_); }

void SqliteConn::BindText(sqlite3_stmt* stmt, int idx, std::string_view text) {
  sqlite3_bind_text(stmt, idx, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
}

std::string SqliteConn::ColumnText(sqlite3_stmt* stmt, int i) {
  const unsigned char* t = sqlite3_column_text(stmt, i);
  return t ? std::string(reinterpret_cast<const char*>(t), sqlite3_column_bytes(stmt, i)) : "";
}

}  // namespace propgrade

// SqliteConn: one SQLite connection (open, busy timeout, cached prepared statements,
// transactions) and the mapping of SQLite result codes to Status, shared by the SQLite store
// and the SQLite `db` lock backend. Messages name the database as sqlite:PATH. Not thread-safe:
// callers serialise (the store and the lock service each hold a mutex around their conn).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/status.h"

struct sqlite3;
struct sqlite3_stmt;

namespace propgrade {

// Turns SQLite's memory statistics off: their global mutex serialises every SQLite allocation
// across threads (the pipeline's helper threads each hold a connection). Called by Open; later
// calls do nothing. Thread-safe.
void ConfigureSqliteOnce();

// The PATH of a `sqlite:PATH` (or `sqlite://PATH`) URL; InvalidArgument for any other URL.
StatusOr<std::string> SqlitePathOf(const std::string& url);
// Whether `url` names a PostgreSQL server (postgresql:// or postgres://).
bool IsPostgresUrl(std::string_view url);

// `what` failed with SQLite's `rc` on `db` (may be null). Storage faults (read-only, cannot
// open, I/O error, disk full) are Unavailable and name the file (`path`, else the connection's)
// with what to check; busy/locked Unavailable; corrupt DataLoss; constraint AlreadyExists;
// interrupt Cancelled; anything else Internal.
Status SqliteError(sqlite3* db, int rc, std::string_view what, std::string path = "");
// Whether `rc` is a storage fault, and what an operator should check for it at `path`.
bool IsSqliteStorageFault(int rc);
std::string SqliteStorageHint(int rc, const std::string& path);

// Resets and unbinds a statement when the scope ends, so it holds no read lock.
class StmtReset {
 public:
  explicit StmtReset(sqlite3_stmt* s) : stmt_(s) {}
  ~StmtReset();
  StmtReset(const StmtReset&) = delete;
  StmtReset& operator=(const StmtReset&) = delete;

 private:
  sqlite3_stmt* stmt_;
};

class SqliteConn {
 public:
  struct OpenOptions {
    bool create_if_missing = false;  // Default: the file must exist
    int busy_timeout_ms = 60000;     // how long a statement waits for another writer
  };
  // Opens `path` read-write (no mutex: one thread at a time) with extended result codes and
  // the busy timeout. Unavailable when the file cannot be opened or is read-only.
  static StatusOr<std::unique_ptr<SqliteConn>> Open(const std::string& path,
                                                    const OpenOptions& options);
  // Adopts an open handle (closed with the conn).
  SqliteConn(sqlite3* db, std::string path);
  ~SqliteConn();
  SqliteConn(const SqliteConn&) = delete;
  SqliteConn& operator=(const SqliteConn&) = delete;

  sqlite3* handle() const { return db_; }
  const std::string& path() const { return path_; }

  // Runs statements without parameters (pragmas, BEGIN, COMMIT, DDL).
  Status Exec(const std::string& sql);
  // A statement prepared once per connection and reused; reset it with StmtReset.
  StatusOr<sqlite3_stmt*> Prepare(const std::string& sql);
  // BEGIN IMMEDIATE (the database's write lock), `body`, COMMIT; ROLLBACK when either fails.
  Status InTransaction(const std::function<Status()>& body);
  Status Begin() { return Exec("BEGIN IMMEDIATE"); }
  Status Commit();  // rolls back when the commit fails
  void Rollback();  // errors ignored: the transaction is gone either way
  // Rows changed by the last statement.
  int64_t changes() const;

  // Binds a text parameter (copied) / reads a text column ("" for NULL).
  static void BindText(sqlite3_stmt* stmt, int idx, std::string_view text);
  static std::string ColumnText(sqlite3_stmt* stmt, int i);

 private:
  sqlite3* db_;
  std::string path_;
  std::unordered_map<std::string, sqlite3_stmt*> stmts_;  // sql → prepared statement
};

}  // namespace propgrade

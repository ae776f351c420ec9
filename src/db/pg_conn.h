// PgConn: one libpq connection with bound-parameter statements, COPY, error mapping to Status
// and reconnection after the server went away. Shared by the PostgreSQL store and the
// PostgreSQL `db` lock backend. Passwords never appear in messages: errors name the server by
// PgUrl::display. Not thread-safe (callers serialise).
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/cancel.h"
#include "common/status.h"

struct pg_conn;
struct pg_result;

namespace propgrade {

// A parsed `postgresql://user:pass@host:port/db[?schema=NAME&...]` URL.
struct PgUrl {
  std::string conninfo;  // what libpq gets (the URL without our own parameters)
  std::string display;   // postgresql://user@host:port/db (no password)
  std::string password;  // scrubbed from every message
  // The values of ?password= and ?sslpassword= as written, scrubbed from every message too.
  std::vector<std::string> query_secrets;
  std::string schema;    // ?schema=NAME: created if missing and put first on the search_path
  // Set by the caller, not parsed: whether the session may create `schema` (Default: true),
  // and whether it is read-only (default_transaction_read_only; Default: false).
  bool create_schema = true;
  bool read_only = false;
  // Session bounds, set by the caller; 0 = none. lock_timeout: how long a statement waits for
  // a row, table or advisory lock (then Unavailable, SQLSTATE 55P03). statement_timeout: how
  // long one statement may run (then Unavailable). idle_in_transaction_session_timeout: the
  // server ends a session that leaves a transaction open and silent this long (a stopped or
  // hung client), releasing its locks.
  int lock_timeout_ms = 0;
  int statement_timeout_ms = 0;
  int idle_in_transaction_timeout_ms = 0;
  // Once cancelled (SIGTERM, SIGINT), a statement still running kCancelGraceMs after the
  // cancellation was seen is cancelled on the server (PQcancel) and fails with Cancelled; short
  // statements (a rollback, a run record) still complete. Not owned; may be null.
  CancelToken* cancel = nullptr;
};
inline constexpr int kCancelGraceMs = 2000;
StatusOr<PgUrl> ParsePgUrl(const std::string& url);

// The rows of one statement, every value as text (NULL as nullopt).
class PgResult {
 public:
  explicit PgResult(pg_result* r = nullptr) : r_(r) {}
  ~PgResult();
  PgResult(PgResult&& o) noexcept : r_(o.r_) { o.r_ = nullptr; }
  PgResult& operator=(PgResult&& o) noexcept;
  int rows() const;
  int columns() const;
  bool is_null(int row, int col) const;
  std::string_view text(int row, int col) const;
  std::optional<std::string> value(int row, int col) const;

 private:
  pg_result* r_;
};

using PgParams = std::vector<std::optional<std::string>>;

class PgConn {
 public:
  static StatusOr<std::unique_ptr<PgConn>> Connect(const PgUrl& url);
  ~PgConn();

  // One statement with $1.. parameters (sent as text; types from the statement). Statements
  // are prepared once per connection and reused.
  StatusOr<PgResult> Exec(const std::string& sql, const PgParams& params = {});
  // Streams the rows of a query one at a time (libpq single-row mode); a non-ok status from
  // `on_row` stops the stream (the rest is drained) and is returned.
  Status Stream(const std::string& sql, const PgParams& params,
                const std::function<Status(const PgResult& row)>& on_row);
  // COPY table (columns) FROM STDIN with `data` in COPY text format.
  Status CopyIn(const std::string& copy_sql, const std::string& data);
  // Re-connects when the connection broke (server restart); a no-op otherwise.
  Status EnsureConnected();
  bool in_transaction() const;

  const PgUrl& url() const { return url_; }

 private:
  PgConn(pg_conn* c, PgUrl url) : c_(c), url_(std::move(url)) {}
  Status Setup();
  // Waits until the statement sent can be read without blocking, cancelling it on the server
  // as url_.cancel says. False when the connection broke.
  bool AwaitResult();
  // Reads every result of the statement sent: the first error, else the last result.
  pg_result* Collect();  // null when the connection broke
  Status ErrorFrom(pg_result* r, std::string_view what);
  Status ConnectionError(std::string_view what);
  std::string Scrub(std::string s) const;

  pg_conn* c_;
  PgUrl url_;
  bool cancel_sent_ = false;  // PQcancel was sent for the current statement
  std::unordered_map<std::string, std::string> prepared_;  // sql → statement name
};

// Appends one COPY text-format field (\N for NULL; backslash, tab, newline, CR escaped).
void AppendCopyField(std::string* out, const std::optional<std::string>& value);

}  // namespace propgrade

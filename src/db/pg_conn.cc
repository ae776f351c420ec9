#include "db/pg_conn.h"

#include <libpq-fe.h>
#include <poll.h>

#include <algorithm>
#include <chrono>
#include <optional>

#include "common/strings.h"

namespace propgrade {

PgResult::~PgResult() {
  if (r_) PQclear(r_);
}
PgResult& PgResult::operator=(PgResult&& o) noexcept {
  if (this != &o) {
    if (r_) PQclear(r_);
    r_ = o.r_;
    o.r_ = nullptr;
  }
  return *this;
}
int PgResult::rows() const { return r_ ? PQntuples(r_) : 0; }
int PgResult::columns() const { return r_ ? PQnfields(r_) : 0; }
bool PgResult::is_null(int row, int col) const { return PQgetisnull(r_, row, col) == 1; }
std::string_view PgResult::text(int row, int col) const {
  return std::string_view(PQgetvalue(r_, row, col), PQgetlength(r_, row, col));
}
std::optional<std::string> PgResult::value(int row, int col) const {
  if (is_null(row, col)) return std::nullopt;
  return std::string(text(row, col));
}

StatusOr<PgUrl> ParsePgUrl(const std::string& url) {
  PgUrl out;
  std::string rest;
  for (const char* scheme : {"postgresql://", "postgres://"}) {
    if (url.rfind(scheme, 0) == 0) rest = url.substr(std::string(scheme).size());
  }
  if (rest.empty()) return InvalidArgumentError("expected postgresql://user:pass@host:port/db");
  std::string query;
  if (size_t q = rest.find('?'); q != std::string::npos) {
    query = rest.substr(q + 1);
    rest = rest.substr(0, q);
  }
  std::string userinfo, hostpart = rest;
  if (size_t at = rest.rfind('@'); at != std::string::npos) {
    userinfo = rest.substr(0, at);
    hostpart = rest.substr(at + 1);
  }
  std::string user = userinfo;
  if (size_t colon = userinfo.find(':'); colon != std::string::npos) {
    user = userinfo.substr(0, colon);
    out.password = userinfo.substr(colon + 1);
  }
  std::vector<std::string> kept;
  for (std::string_view p : Split(query, '&')) {
    if (p.empty()) continue;
    if (p.rfind("schema=", 0) == 0) {
      out.schema = std::string(p.substr(7));
      for (char c : out.schema) {
        if (!(c == '_' || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))) {
          return InvalidArgumentError("schema names may use a-z, 0-9 and _ only");
        }
      }
    } else {
      for (std::string_view key : {"password=", "sslpassword="}) {
        if (p.rfind(key, 0) == 0 && p.size() > key.size()) {
          out.query_secrets.emplace_back(p.substr(key.size()));
        }
      }
      kept.emplace_back(p);
    }
  }
  out.conninfo = "postgresql://" + rest + (kept.empty() ? "" : "?" + Join(kept, "&"));
  out.display = "postgresql://" + (user.empty() ? "" : user + "@") + hostpart +
                (out.schema.empty() ? "" : "?schema=" + out.schema);
  return out;
}

StatusOr<std::unique_ptr<PgConn>> PgConn::Connect(const PgUrl& url) {
  PGconn* c = PQconnectdb(url.conninfo.c_str());
  std::unique_ptr<PgConn> conn(new PgConn(c, url));
  if (PQstatus(c) != CONNECTION_OK) return conn->ConnectionError("connecting");
  RETURN_IF_ERROR(conn->Setup());
  return conn;
}

PgConn::~PgConn() {
  if (c_) PQfinish(c_);
}

Status PgConn::Setup() {
  PQsetClientEncoding(c_, "UTF8");
  RETURN_IF_ERROR(Exec("SET TIME ZONE 'UTC'").status());
  RETURN_IF_ERROR(Exec("SET extra_float_digits = 1").status());  // shortest exact floats
  RETURN_IF_ERROR(Exec("SET client_min_messages TO warning").status());
  auto ms = [](int v) { return std::to_string(std::max(v, 0)); };
  RETURN_IF_ERROR(Exec("SELECT set_config('lock_timeout', $1, false), "
                       "set_config('statement_timeout', $2, false), "
                       "set_config('idle_in_transaction_session_timeout', $3, false)",
                       {ms(url_.lock_timeout_ms), ms(url_.statement_timeout_ms),
                        ms(url_.idle_in_transaction_timeout_ms)})
                      .status());
  if (url_.read_only) RETURN_IF_ERROR(Exec("SET default_transaction_read_only = on").status());
  if (!url_.schema.empty()) {
    if (url_.create_schema && !url_.read_only) {
      RETURN_IF_ERROR(Exec("CREATE SCHEMA IF NOT EXISTS \"" + url_.schema + "\"").status());
    }
    RETURN_IF_ERROR(Exec("SET search_path TO \"" + url_.schema + "\"").status());
  }
  return OkStatus();
}

// libpq's messages hold no password, except in URLs and where it quotes a value of the
// connection string it could not use (`invalid percent-encoded token: "..."`): those two are
// redacted, and nothing else of the message is touched.
std::string PgConn::Scrub(std::string s) const {
  s = RedactUrlCredentials(s);
  std::vector<std::string> secrets = url_.query_secrets;
  secrets.push_back(url_.password);
  for (const std::string& secret : secrets) {
    if (secret.empty()) continue;
    const std::string quoted = "\"" + secret + "\"";
    for (size_t p = 0; (p = s.find(quoted, p)) != std::string::npos; p += 5) {
      s.replace(p, quoted.size(), "\"***\"");
    }
  }
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

Status PgConn::ConnectionError(std::string_view what) {
  return UnavailableError(url_.display + ": " + std::string(what) + ": " +
                          Scrub(PQerrorMessage(c_)));
}

Status PgConn::ErrorFrom(pg_result* r, std::string_view what) {
  const char* state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
  std::string sqlstate = state ? state : "";
  std::string msg = url_.display + ": " + std::string(what) + ": " +
                    Scrub(r ? PQresultErrorMessage(r) : PQerrorMessage(c_));
  if (PQstatus(c_) != CONNECTION_OK || sqlstate.empty()) return UnavailableError(msg);
  std::string cls = sqlstate.substr(0, 2);
  if (sqlstate == "23505") return AlreadyExistsError(msg);
  if (sqlstate == "57014") {
    // Ours (a cancellation asked for) or the server's (statement_timeout).
    if (cancel_sent_) return CancelledError(url_.display + ": statement cancelled: stopping");
    return UnavailableError(msg + " (statement_timeout_seconds)");
  }
  if (cls == "08" || cls == "53" || cls == "57" || cls == "58" || sqlstate == "25006" ||
      sqlstate == "40001" || sqlstate == "40P01" || sqlstate == "55P03") {
    return UnavailableError(msg);
  }
  if (cls == "22" || cls == "23") return InvalidArgumentError(msg);
  return InternalError(msg + " [SQLSTATE " + sqlstate + "]");
}

Status PgConn::EnsureConnected() {
  if (PQstatus(c_) == CONNECTION_OK) return OkStatus();
  PQreset(c_);
  prepared_.clear();  // prepared statements died with the old session
  if (PQstatus(c_) != CONNECTION_OK) return ConnectionError("reconnecting");
  return Setup();
}

bool PgConn::in_transaction() const {
  PGTransactionStatusType t = PQtransactionStatus(c_);
  return t == PQTRANS_INTRANS || t == PQTRANS_INERROR || t == PQTRANS_ACTIVE;
}

bool PgConn::AwaitResult() {
  using Steady = std::chrono::steady_clock;
  std::optional<Steady::time_point> cancel_at;
  while (true) {
    // Parse what is buffered before reading more: libpq moves the unparsed input to the front
    // of its buffer on every read, so reading ahead of a streamed result (one row per
    // PGresult) would copy the rest of the buffer once per row — quadratic in its size.
    if (!PQisBusy(c_)) return true;
    if (PQconsumeInput(c_) != 1) return false;
    if (!PQisBusy(c_)) return true;
    if (url_.cancel && url_.cancel->cancelled() && !cancel_sent_) {
      if (!cancel_at) cancel_at = Steady::now() + std::chrono::milliseconds(kCancelGraceMs);
      if (Steady::now() >= *cancel_at) {
        if (PGcancel* cancel = PQgetCancel(c_)) {
          char error[256];
          PQcancel(cancel, error, sizeof error);  // best effort: the statement may have ended
          PQfreeCancel(cancel);
        }
        cancel_sent_ = true;
      }
    }
    pollfd fd{PQsocket(c_), POLLIN, 0};
    if (fd.fd < 0) return false;
    poll(&fd, 1, url_.cancel ? 100 : -1);  // wakes to look at the token
  }
}

pg_result* PgConn::Collect() {
  PGresult* kept = nullptr;  // the first error, else the latest result
  while (AwaitResult()) {
    PGresult* r = PQgetResult(c_);
    if (!r) return kept;
    const ExecStatusType st = PQresultStatus(r);
    if (kept && PQresultStatus(kept) == PGRES_FATAL_ERROR) {
      PQclear(r);
    } else {
      if (kept) PQclear(kept);
      kept = r;
    }
    if (st == PGRES_COPY_IN) return kept;  // the caller sends the data now
  }
  if (kept) PQclear(kept);
  return nullptr;
}

StatusOr<PgResult> PgConn::Exec(const std::string& sql, const PgParams& params) {
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const auto& p : params) values.push_back(p ? p->c_str() : nullptr);
  cancel_sent_ = false;
  PGresult* r;
  if (params.empty()) {
    // Utility statements (BEGIN, SET, DDL): nothing to reuse.
    r = PQsendQuery(c_, sql.c_str()) == 1 ? Collect() : nullptr;
  } else {
    auto it = prepared_.find(sql);
    if (it == prepared_.end()) {
      std::string name = "propgrade_" + std::to_string(prepared_.size());
      PGresult* prep =
          PQsendPrepare(c_, name.c_str(), sql.c_str(), 0, nullptr) == 1 ? Collect() : nullptr;
      if (!prep || PQresultStatus(prep) != PGRES_COMMAND_OK) {
        Status s = ErrorFrom(prep, "preparing a statement");
        if (prep) PQclear(prep);
        return s;
      }
      PQclear(prep);
      it = prepared_.emplace(sql, name).first;
    }
    r = PQsendQueryPrepared(c_, it->second.c_str(), static_cast<int>(params.size()),
                            values.data(), nullptr, nullptr, 0) == 1
            ? Collect()
            : nullptr;
  }
  ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
    Status s = ErrorFrom(r, "statement failed");
    if (r) PQclear(r);
    return s;
  }
  return PgResult(r);
}

Status PgConn::Stream(const std::string& sql, const PgParams& params,
                      const std::function<Status(const PgResult& row)>& on_row) {
  std::vector<const char*> values;
  for (const auto& p : params) values.push_back(p ? p->c_str() : nullptr);
  cancel_sent_ = false;
  if (PQsendQueryParams(c_, sql.c_str(), static_cast<int>(params.size()), nullptr, values.data(),
                        nullptr, nullptr, 0) != 1) {
    return ConnectionError("sending a query");
  }
  PQsetSingleRowMode(c_);
  Status result = OkStatus();
  while (true) {
    if (!AwaitResult()) return ConnectionError("reading rows");
    PGresult* r = PQgetResult(c_);
    if (!r) break;
    ExecStatusType st = PQresultStatus(r);
    if (st == PGRES_SINGLE_TUPLE) {
      PgResult row(r);
      if (result.ok()) result = on_row(row);
      continue;  // keep draining after an error so the connection stays usable
    }
    if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK && result.ok()) {
      result = ErrorFrom(r, "query failed");
    }
    PQclear(r);
  }
  return result;
}

Status PgConn::CopyIn(const std::string& copy_sql, const std::string& data) {
  cancel_sent_ = false;
  PGresult* r = PQsendQuery(c_, copy_sql.c_str()) == 1 ? Collect() : nullptr;
  if (!r || PQresultStatus(r) != PGRES_COPY_IN) {
    Status s = ErrorFrom(r, "starting COPY");
    if (r) PQclear(r);
    return s;
  }
  PQclear(r);
  const size_t kChunk = 1 << 20;
  for (size_t off = 0; off < data.size(); off += kChunk) {
    size_t n = std::min(kChunk, data.size() - off);
    if (PQputCopyData(c_, data.data() + off, static_cast<int>(n)) != 1) {
      return ConnectionError("sending COPY data");
    }
  }
  if (PQputCopyEnd(c_, nullptr) != 1) return ConnectionError("ending COPY");
  r = Collect();
  Status result = r && PQresultStatus(r) == PGRES_COMMAND_OK ? OkStatus() : ErrorFrom(r, "COPY");
  if (r) PQclear(r);
  return result;
}

void AppendCopyField(std::string* out, const std::optional<std::string>& value) {
  if (!value) {
    out->append("\\N");
    return;
  }
  for (char c : *value) {
    switch (c) {
      case '\\': out->append("\\\\"); break;
      case '\t': out->append("\\t"); break;
      case '\n': out->append("\\n"); break;
      case '\r': out->append("\\r"); break;
      default: out->push_back(c);
    }
  }
}

}  // namespace propgrade

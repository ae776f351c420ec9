// The `db` lock backend on PostgreSQL: the lease table `locks` in the store's database, each
// operation one statement, expiry judged by the server's clock (clock_timestamp()), tokens from
// the sequence propgrade_lock_token (strictly increasing for every key; DrawToken takes the next
// value too). How long a lock has been held is computed by the server as well.
//
// A row naming this service's holder id for a key it holds no lease on is an orphan: an
// acquisition whose commit went through while its answer was lost (the server restarted), or
// a release that could not reach the server. Acquire takes such a row over at once, with a new
// token, instead of waiting out its TTL; fencing makes that safe.
#include <mutex>
#include <set>

#include "common/strings.h"
#include "lock/backends.h"
#include "db/pg_conn.h"

namespace propgrade {
namespace {

// Epoch microseconds of a timestamptz expression.
std::string Micros(const std::string& expr) {
  return "(extract(epoch from " + expr + ") * 1000000)::bigint";
}

class PostgresLockService final : public LockService {
 public:
  PostgresLockService(std::unique_ptr<PgConn> conn, const LockOptions& options)
      : conn_(std::move(conn)), options_(options) {}

  std::string_view backend() const override { return "db"; }
  std::string fence_namespace() const override { return "db"; }

  StatusOr<Lease> Acquire(const std::string& key, int64_t ttl_micros,
                          int64_t max_wait_micros) override {
    return PollAcquire(options_.clock, key, max_wait_micros, [&](std::string* holder) {
      return TryAcquire(key, ttl_micros, holder);
    });
  }

  Status Renew(Lease* lease) override {
    std::lock_guard<std::mutex> lock(mu_);
    RETURN_IF_ERROR(conn_->EnsureConnected());
    int64_t ttl = std::stoll(lease->handle);
    // The server extends from its clock_timestamp(), at or after this send time.
    const int64_t sent = options_.clock->NowMicros();
    const int64_t sent_steady = options_.clock->SteadyMicros();
    ASSIGN_OR_RETURN(
        PgResult r,
        conn_->Exec("UPDATE locks SET expires_at = clock_timestamp() + $4 * interval '1 "
                    "microsecond', renewed_at = clock_timestamp() WHERE key = $1 AND holder_id = "
                    "$2 AND token = $3 AND expires_at > clock_timestamp() RETURNING 1",
                    {lease->key, lease->holder_id, std::to_string(lease->token.value_or(-1)),
                     std::to_string(ttl)}));
    if (r.rows() == 0) {
      return AbortedError("lease on " + lease->key + " (token " +
                              std::to_string(lease->token.value_or(0)) + ") is no longer held",
                          StatusReason::kLockLost);
    }
    lease->expires_at_micros = sent + ttl;
    lease->valid_until_steady_micros = sent_steady + ttl;
    return OkStatus();
  }

  Status Release(const Lease& lease) override {
    std::lock_guard<std::mutex> lock(mu_);
    held_.erase(lease.key);  // given up either way: a row left behind is an orphan
    RETURN_IF_ERROR(conn_->EnsureConnected());
    return conn_
        ->Exec("UPDATE locks SET holder_id = NULL, expires_at = NULL WHERE key = $1 AND token = "
               "$2 AND holder_id = $3",
               {lease.key, std::to_string(lease.token.value_or(-1)), lease.holder_id})
        .status();
  }

  StatusOr<bool> ForceRelease(const std::string& key, int64_t token) override {
    std::lock_guard<std::mutex> lock(mu_);
    RETURN_IF_ERROR(conn_->EnsureConnected());
    ASSIGN_OR_RETURN(PgResult r,
                     conn_->Exec("UPDATE locks SET holder_id = NULL, expires_at = NULL WHERE key "
                                 "= $1 AND token = $2 AND holder_id IS NOT NULL AND expires_at > "
                                 "clock_timestamp() RETURNING 1",
                                 {key, std::to_string(token)}));
    return r.rows() > 0;
  }

  StatusOr<int64_t> DrawToken(const std::string&) override {
    std::lock_guard<std::mutex> lock(mu_);
    RETURN_IF_ERROR(conn_->EnsureConnected());
    ASSIGN_OR_RETURN(PgResult r, conn_->Exec("SELECT nextval('propgrade_lock_token')"));
    auto token = ParseInt64(r.text(0, 0));
    if (!token) return InternalError("nextval('propgrade_lock_token') answered no number");
    return *token;
  }

  StatusOr<std::vector<LockInfo>> List() override {
    std::lock_guard<std::mutex> lock(mu_);
    RETURN_IF_ERROR(conn_->EnsureConnected());
    ASSIGN_OR_RETURN(PgResult r,
                     conn_->Exec("SELECT key, holder_id, token, " + Micros("acquired_at") + ", " +
                                 Micros("expires_at") + ", " + Micros("renewed_at") + ", " +
                                 Micros("clock_timestamp()") + " - " + Micros("acquired_at") +
                                 " FROM locks WHERE holder_id IS NOT NULL AND expires_at > "
                                 "clock_timestamp() ORDER BY key"));
    std::vector<LockInfo> out;
    for (int i = 0; i < r.rows(); ++i) {
      LockInfo info;
      info.key = std::string(r.text(i, 0));
      info.holder_id = std::string(r.text(i, 1));
      info.token = ParseInt64(r.text(i, 2));
      info.acquired_at_micros = ParseInt64(r.text(i, 3)).value_or(0);
      info.expires_at_micros = ParseInt64(r.text(i, 4)).value_or(0);
      info.renewed_at_micros = ParseInt64(r.text(i, 5)).value_or(0);
      info.held_micros = ParseInt64(r.text(i, 6)).value_or(0);  // by the server's clock
      out.push_back(std::move(info));
    }
    return out;
  }

 private:
  StatusOr<std::optional<Lease>> TryAcquire(const std::string& key, int64_t ttl_micros,
                                            std::string* holder) {
    std::lock_guard<std::mutex> lock(mu_);
    RETURN_IF_ERROR(conn_->EnsureConnected());
    // One statement: take the key when it is free, its lease has run out by the server's
    // clock, or it is this service's orphan; a new token either way. The update draws its token
    // and times once it holds the row: a statement that waited for the row while another
    // holder came and went still gets a newer token than that holder's.
    const bool orphan_ok = held_.count(key) == 0;
    const int64_t sent = options_.clock->NowMicros();
    const int64_t sent_steady = options_.clock->SteadyMicros();
    ASSIGN_OR_RETURN(
        PgResult r,
        conn_->Exec("INSERT INTO locks AS l (key, holder_id, token, acquired_at, expires_at, "
                    "renewed_at) VALUES ($1, $2, nextval('propgrade_lock_token'), "
                    "clock_timestamp(), clock_timestamp() + $3 * interval '1 microsecond', "
                    "clock_timestamp()) ON CONFLICT (key) DO UPDATE SET holder_id = "
                    "excluded.holder_id, token = nextval('propgrade_lock_token'), acquired_at = "
                    "clock_timestamp(), expires_at = clock_timestamp() + $3 * interval "
                    "'1 microsecond', renewed_at = clock_timestamp() WHERE l.holder_id IS NULL "
                    "OR l.expires_at <= "
                    "clock_timestamp() OR (l.holder_id = excluded.holder_id AND $4) "
                    "RETURNING token",
                    {key, options_.holder_id, std::to_string(ttl_micros),
                     orphan_ok ? "true" : "false"}));
    if (r.rows() == 0) {
      ASSIGN_OR_RETURN(PgResult h, conn_->Exec("SELECT holder_id, token FROM locks WHERE key = $1",
                                               {key}));
      if (h.rows() > 0) *holder = std::string(h.text(0, 0)) + " (token " + std::string(h.text(0, 1)) + ")";
      return std::optional<Lease>();
    }
    Lease lease;
    lease.key = key;
    lease.holder_id = options_.holder_id;
    lease.token = ParseInt64(r.text(0, 0));
    lease.acquired_at_micros = options_.clock->NowMicros();
    lease.expires_at_micros = sent + ttl_micros;
    lease.valid_until_steady_micros = sent_steady + ttl_micros;
    lease.handle = std::to_string(ttl_micros);
    held_.insert(key);
    return std::optional<Lease>(std::move(lease));
  }

  std::mutex mu_;
  std::unique_ptr<PgConn> conn_;
  LockOptions options_;
  std::set<std::string> held_;  // keys with a lease handed out and not released; guarded by mu_
};

}  // namespace

StatusOr<std::unique_ptr<LockService>> NewPostgresLockService(const LockOptions& options) {
  ASSIGN_OR_RETURN(PgUrl url, ParsePgUrl(options.store_url));
  url.lock_timeout_ms = options.busy_timeout_ms;
  url.statement_timeout_ms = options.statement_timeout_ms;
  url.idle_in_transaction_timeout_ms = options.idle_in_transaction_timeout_ms;
  ASSIGN_OR_RETURN(std::unique_ptr<PgConn> conn, PgConn::Connect(url));
  ASSIGN_OR_RETURN(PgResult probe, conn->Exec("SELECT to_regclass('locks') IS NOT NULL"));
  if (probe.text(0, 0) != "t") {
    return FailedPreconditionError("lock `db`: " + url.display +
                                   " has no locks table; run `propgrade init` first");
  }
  return std::unique_ptr<LockService>(new PostgresLockService(std::move(conn), options));
}

}  // namespace propgrade

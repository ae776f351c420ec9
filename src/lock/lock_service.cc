#include "lock/lock_service.h"

#include <algorithm>
#include <random>

#include "common/ids.h"
#include "common/strings.h"
#include "db/sqlite_conn.h"
#include "lock/backends.h"

namespace propgrade {

std::string LockKey(std::string_view processor, std::string_view partition) {
  return std::string(processor) + "/" + std::string(partition);
}

int64_t BackoffMicros(int attempt) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  int64_t base = 50000;
  for (int i = 0; i < attempt && base < 5000000; ++i) base *= 2;
  base = std::min<int64_t>(base, 5000000);
  std::uniform_real_distribution<double> jitter(0.5, 1.5);
  return std::min<int64_t>(5000000, static_cast<int64_t>(base * jitter(rng)));
}

StatusOr<Lease> PollAcquire(Clock* clock, const std::string& key, int64_t max_wait_micros,
                            const TryAcquireFn& try_once, int64_t max_sleep_micros,
                            const WaitForChangeFn& wait_for_change) {
  const int64_t start = clock->SteadyMicros();
  std::string holder;
  for (int attempt = 0;; ++attempt) {
    ASSIGN_OR_RETURN(std::optional<Lease> lease, try_once(&holder));
    int64_t waited = clock->SteadyMicros() - start;
    if (lease) {
      lease->wait_seconds = waited / 1e6;
      return *std::move(lease);
    }
    if (waited >= max_wait_micros) {
      return DeadlineExceededError("lock " + key + " is held by " +
                                       (holder.empty() ? "another run" : holder) +
                                       "; gave up after waiting " +
                                       std::to_string(waited / 1000000) + " s",
                                   StatusReason::kLockTimeout);
    }
    const int64_t budget = std::min(max_sleep_micros, max_wait_micros - waited);
    if (wait_for_change && wait_for_change(budget)) continue;
    clock->SleepMicros(std::min(BackoffMicros(attempt), budget));
  }
}

StatusOr<std::unique_ptr<LockService>> LockService::Open(const std::string& url,
                                                         const LockOptions& in) {
  LockOptions options = in;
  if (!options.clock) options.clock = &RealClock();
  if (options.holder_id.empty()) options.holder_id = ProcessHolderId();
  if (url == "none") return NewNoneLockService(options);
  if (url == "db") {
    if (options.store_url.empty()) {
      return InvalidArgumentError("lock `db` needs the store's database");
    }
    if (IsPostgresUrl(options.store_url)) return NewPostgresLockService(options);
    ASSIGN_OR_RETURN(std::string path, SqlitePathOf(options.store_url));
    return NewSqliteLockService(path, options);
  }
  if (url.rfind("etcd://", 0) == 0) return NewEtcdLockService(url.substr(7), options);
  return InvalidArgumentError("unknown lock service '" + RedactUrlCredentials(url) +
                              "' (db, etcd://host:port[,host:port...], none)");
}

namespace {

// No lock at all: every Acquire succeeds at once without a token.
class NoneLockService final : public LockService {
 public:
  explicit NoneLockService(const LockOptions& options) : options_(options) {}
  std::string_view backend() const override { return "none"; }
  std::string fence_namespace() const override { return "none"; }
  StatusOr<Lease> Acquire(const std::string& key, int64_t ttl_micros, int64_t) override {
    Lease lease;
    lease.key = key;
    lease.holder_id = options_.holder_id;
    lease.acquired_at_micros = options_.clock->NowMicros();
    lease.expires_at_micros = lease.acquired_at_micros + ttl_micros;
    lease.valid_until_steady_micros = options_.clock->SteadyMicros() + ttl_micros;
    return lease;
  }
  Status Renew(Lease* lease) override { return OkStatus(); }
  Status Release(const Lease&) override { return OkStatus(); }
  StatusOr<bool> ForceRelease(const std::string&, int64_t) override { return false; }
  StatusOr<int64_t> DrawToken(const std::string&) override {
    return FailedPreconditionError("lock `none` hands out no fencing tokens");
  }
  StatusOr<std::vector<LockInfo>> List() override { return std::vector<LockInfo>{}; }

 private:
  LockOptions options_;
};

}  // namespace

std::unique_ptr<LockService> NewNoneLockService(const LockOptions& options) {
  return std::make_unique<NoneLockService>(options);
}

}  // namespace propgrade

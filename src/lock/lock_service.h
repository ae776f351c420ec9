// LockService: lease locks with fencing tokens, one per (processor, partition) key such as
// `grading/2026-01-16` (DESIGN.md §1 layer 1). A Lease is held until its expiry unless renewed;
// each new holder of a key gets a token strictly greater than every earlier one, which the
// store checks inside the write transaction, so a holder that lost its lease without noticing
// still cannot write. Backends: `db` (a lease table in the SQLite store; expiry judged by the
// injected Clock), `etcd://host:port[,host:port...]` (v3 JSON gateway; expiry judged by etcd),
// and `none` (no lock, no token: tests and demonstrations only). On PostgreSQL, `db` keeps the
// lease table in the store's database with expiry judged by the server's clock.
// Implementations are thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/status.h"

namespace propgrade {

struct Lease {
  std::string key;
  std::string holder_id;
  std::optional<int64_t> token;  // none for the `none` backend
  int64_t acquired_at_micros = 0;
  // When the lease ends unless renewed, on the acquiring process's clock (an estimate for etcd,
  // whose own clock decides).
  int64_t expires_at_micros = 0;
  double wait_seconds = 0;  // how long Acquire waited
  // Backend state (etcd: the lease id and the waiter key).
  std::string handle;
};

struct LockInfo {
  std::string key;
  std::string holder_id;
  std::optional<int64_t> token;
  int64_t acquired_at_micros = 0;
  int64_t expires_at_micros = 0;
  int64_t renewed_at_micros = 0;
  int waiters = 0;  // etcd: processes queued behind the holder
};

struct LockOptions {
  Clock* clock = nullptr;  // Default: the real clock
  std::string holder_id;   // Default: ProcessHolderId()
  // Where the `db` backend keeps its lease table: the store's SQLite file, or its PostgreSQL
  // URL (one of the two).
  std::string sqlite_path;
  std::string postgres_url;
  int busy_timeout_ms = 60000;
};

class LockService {
 public:
  virtual ~LockService() = default;

  // `db` (needs options.sqlite_path), `etcd://h1:2379,h2:2379`, or `none`.
  static StatusOr<std::unique_ptr<LockService>> Open(const std::string& url,
                                                     const LockOptions& options);

  virtual std::string_view backend() const = 0;  // "db", "etcd", "none"
  // The partition_fence namespace of this service's tokens ("db", "etcd:<cluster id>", "none").
  virtual std::string fence_namespace() const = 0;

  // Acquires `key` for `ttl_micros`, waiting up to `max_wait_micros` with back-off and jitter
  // (at most 5 s between tries); `max_wait_micros` = 0 tries exactly once. Errors:
  // DeadlineExceeded with reason kLockTimeout when not acquired in time; Unavailable when the
  // service cannot be reached.
  virtual StatusOr<Lease> Acquire(const std::string& key, int64_t ttl_micros,
                                  int64_t max_wait_micros) = 0;
  // Extends the lease by its TTL. Aborted with reason kLockLost when it is no longer held.
  virtual Status Renew(Lease* lease) = 0;
  // Ends the lease if its token still holds the key (a no-op otherwise).
  virtual Status Release(const Lease& lease) = 0;
  // Ends whatever lease holds `key` (stuck-lock recovery). Returns whether one was held.
  virtual StatusOr<bool> ForceRelease(const std::string& key) = 0;
  // The keys held now.
  virtual StatusOr<std::vector<LockInfo>> List() = 0;
};

// The lock key of a processor's partition: "grading/2026-01-16".
std::string LockKey(std::string_view processor, std::string_view partition);

// Back-off between acquisition tries: doubles from 50 ms, capped at 5 s, with ±50% jitter.
// Used by the polling backends; `attempt` counts from 0.
int64_t BackoffMicros(int attempt);

}  // namespace propgrade

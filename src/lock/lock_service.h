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
  // When the lease ends unless renewed, on the acquiring process's wall clock (an estimate for
  // etcd and PostgreSQL, whose own clocks decide): the send time of the request that took or
  // last extended the lease plus the TTL the service granted.
  int64_t expires_at_micros = 0;
  // The same deadline on the steady clock of the service's Clock (Clock::SteadyMicros): the
  // lease is surely held until then unless taken away (a force release). Taken from the send
  // time of the request that took or last extended the lease, so it never runs past the
  // service's own deadline; wall-clock steps do not move it. This is what LeaseKeeper::CheckHeld
  // judges expiry by.
  int64_t valid_until_steady_micros = 0;
  double wait_seconds = 0;  // how long Acquire waited
  // Backend state (etcd: the lease id; db: the TTL in microseconds).
  std::string handle;
};

struct LockInfo {
  std::string key;
  std::string holder_id;
  std::optional<int64_t> token;
  int64_t acquired_at_micros = 0;
  int64_t expires_at_micros = 0;
  int64_t renewed_at_micros = 0;
  // How long the holder has held the key, judged by the lock service's own clock (PostgreSQL:
  // clock_timestamp(); SQLite: the injected Clock; etcd: the members' HTTP Date headers at the
  // acquisition and at the listing, 1 s resolution), never by comparing this host's clock with
  // a time another machine recorded.
  int64_t held_micros = 0;
  int waiters = 0;  // etcd: processes queued behind the holder
};

struct LockOptions {
  Clock* clock = nullptr;  // Default: the real clock
  std::string holder_id;   // Default: ProcessHolderId()
  // Where the `db` backend keeps its lease table: the store's URL (`sqlite:PATH` or
  // `postgresql://...`, as Store::Open takes it).
  std::string store_url;
  // How long a statement waits for another session's lock (SQLite busy timeout, PostgreSQL
  // lock_timeout), and PostgreSQL's statement_timeout and idle_in_transaction_session_timeout
  // (0 = none), as StoreOptions.
  int busy_timeout_ms = 60000;
  int statement_timeout_ms = 900000;
  int idle_in_transaction_timeout_ms = 60000;
};

class LockService {
 public:
  virtual ~LockService() = default;

  // `db` (needs options.store_url), `etcd://h1:2379,h2:2379`, or `none`.
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
  // Extends the lease by its TTL, counted from when the renewal was sent. Updates only
  // lease->expires_at_micros and lease->valid_until_steady_micros. Aborted with reason
  // kLockLost when it is no longer held.
  virtual Status Renew(Lease* lease) = 0;
  // Ends the lease if its token still holds the key (a no-op otherwise).
  virtual Status Release(const Lease& lease) = 0;
  // Stuck-lock recovery: ends the lease that holds `key` with `token` (as List() showed it), and
  // nothing else: a holder that took the key since then keeps it. Returns whether that lease
  // was still held (and is now released).
  virtual StatusOr<bool> ForceRelease(const std::string& key, int64_t token) = 0;
  // A fencing token for a write made without the lease (`on_lock_timeout = "proceed"`):
  // strictly greater than every token handed out for `key` so far and smaller than every token
  // handed out later, drawn without disturbing the current holder (its Renew and Release keep
  // working; its own writes are then fenced out by the drawn token once that is stored).
  // FailedPrecondition for `none`, which has no tokens.
  virtual StatusOr<int64_t> DrawToken(const std::string& key) = 0;
  // The keys held now.
  virtual StatusOr<std::vector<LockInfo>> List() = 0;
};

// The lock key of a processor's partition: "grading/2026-01-16".
std::string LockKey(std::string_view processor, std::string_view partition);

// Back-off between acquisition tries: doubles from 50 ms, capped at 5 s, with ±50% jitter.
// Used by the polling backends; `attempt` counts from 0.
int64_t BackoffMicros(int attempt);

}  // namespace propgrade

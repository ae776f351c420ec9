// lock run: a command run under a lease, as `flock` and `etcdctl lock` run one (`propgrade lock
// run KEY -- CMD ARGS...`). The lease is acquired first (any LockService), the command started
// with the lease in its environment, the lease renewed while the command runs, and released
// when it exits. When the lease is lost (a renewal refused, or its time ran out without one),
// the command is sent SIGTERM and, after a grace period, SIGKILL: a command that goes on
// writing past that point is stopped by the fence its writes check (docs/own-tables.md), not
// by this. Thread-compatible; RunUnderLease blocks until the command has ended.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/cancel.h"
#include "common/clock.h"
#include "common/status.h"
#include "lock/lock_service.h"
#include "observe/log.h"

namespace propgrade {

struct LockRunOptions {
  std::string key;                    // e.g. "analytics/2026-01-16"
  int64_t ttl_micros = 0;             // the lease's TTL
  int64_t max_wait_micros = 0;        // how long to wait for the key (0: try once)
  int64_t renew_every_micros = 0;     // < ttl_micros
  int64_t grace_micros = 10'000'000;  // SIGTERM to SIGKILL when the lease is lost
  // More environment for the command ({name, value}), beside the lease's (see LockRunResult).
  std::vector<std::pair<std::string, std::string>> env;
};

// How a run ended. `status` is ok when the command ran to its end (whatever its exit status)
// with the lease held throughout; otherwise DeadlineExceeded/kLockTimeout (the command never
// started), Aborted/kLockLost (it was stopped: `exit_status` is then how it ended), Cancelled
// (propgrade was interrupted: the command got SIGTERM), or the error that kept it from
// starting.
struct LockRunResult {
  Status status;
  int exit_status = 0;  // the command's exit status; 128 + N when signal N ended it
  Lease lease;          // as acquired
};

// Runs `argv` (argv[0] looked up in PATH) with, in its environment, PROPGRADE_LOCK_KEY,
// PROPGRADE_FENCE_TOKEN (empty for the `none` service), PROPGRADE_FENCE_NAMESPACE,
// PROPGRADE_LOCK_HOLDER and PROPGRADE_LOCK_EXPIRES_AT (RFC 3339, at acquisition), and
// `options.env`. `cancel` (may be null) stops the command as a lost lease does, with SIGTERM.
LockRunResult RunUnderLease(LockService* locks, const LockRunOptions& options,
                            const std::vector<std::string>& argv, Clock* clock, Logger* log,
                            CancelToken* cancel);

// The lease as `propgrade lock acquire` prints it, for jobs that cannot keep a process (each
// step a separate invocation): {"key", "token" (null for `none`), "holder_id", "expires_at"
// (RFC 3339), "handle"}. `lock renew|release --lease` read it back; InvalidArgument for a
// text that is not such an object.
std::string LeaseJson(const Lease& lease);
StatusOr<Lease> LeaseFromJson(std::string_view json);

}  // namespace propgrade

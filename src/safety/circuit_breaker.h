// CircuitBreaker: stops a processor from hammering a broken dependency. After
// `failure_threshold` consecutive runs ending `unavailable` or `failed` (safety refusals such as
// lock_timeout do not count) it OPENs and refuses runs; after `open_seconds` it lets one trial
// through (HALF_OPEN), which closes it on success or re-opens it on failure. The state lives
// in a per-host JSON file guarded by flock(2), so it works while the store is down and separate
// CLI processes share it; callers mirror it to the store for the dashboard.
// Thread-safe and multi-process safe.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/exit_codes.h"
#include "common/status.h"

namespace propgrade {

enum class BreakerState { kClosed, kHalfOpen, kOpen };
std::string_view BreakerStateName(BreakerState s);  // "closed", "half_open", "open"
int BreakerStateNumber(BreakerState s);             // 0, 1, 2 (the breaker_state metric)

struct BreakerStatus {
  std::string name;
  BreakerState state = BreakerState::kClosed;
  int consecutive_failures = 0;
  int64_t opened_at_micros = 0;
  int64_t updated_at_micros = 0;
  int64_t trial_started_micros = 0;  // HALF_OPEN: when the trial run was let through
};

struct BreakerDecision {
  bool allowed = true;
  BreakerState state = BreakerState::kClosed;
  double retry_after_seconds = 0;  // when refused
};

struct BreakerTransition {
  BreakerState from = BreakerState::kClosed;
  BreakerState to = BreakerState::kClosed;
  BreakerStatus status;
  bool opened() const { return to == BreakerState::kOpen && from != BreakerState::kOpen; }
};

class CircuitBreaker {
 public:
  // `state_file` may start with "~/" (the home directory); its directory is created.
  CircuitBreaker(std::string state_file, int failure_threshold, double open_seconds, Clock* clock);

  // May a run of `name` start now? OPEN turns HALF_OPEN here once open_seconds have passed.
  StatusOr<BreakerDecision> Allow(const std::string& name);
  // How an allowed run ended.
  StatusOr<BreakerTransition> Record(const std::string& name, RunStatus status);
  StatusOr<std::vector<BreakerStatus>> List();
  // The half-open timer: moves every OPEN breaker whose open_seconds have passed to HALF_OPEN
  // with its trial slot free, so status, metrics and the dashboard show it before the next run
  // (`propgrade serve` calls it on a schedule). Returns the transitions made.
  StatusOr<std::vector<BreakerTransition>> Tick();
  // Back to CLOSED with no failures (`propgrade breaker reset NAME`). NotFound when unknown.
  Status Reset(const std::string& name);

  const std::string& state_file() const { return path_; }
  double open_seconds() const { return open_micros_ / 1e6; }

 private:
  // Runs `fn` on the parsed state under an exclusive flock and writes the result back.
  Status Update(const std::function<Status(std::vector<BreakerStatus>*)>& fn);

  std::string path_;
  int failure_threshold_;
  int64_t open_micros_;
  Clock* clock_;
};

}  // namespace propgrade

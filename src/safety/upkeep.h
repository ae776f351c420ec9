// Upkeep shared by `propgrade locks sweep`, the pipeline and `propgrade serve`'s schedule: the
// stuck-lock sweep with its lock events, metrics and alerts, and the breaker half-open timer
// with the breaker_state metric and the store's circuit_breakers mirror (what the dashboard
// reads; the breaker's file stays the truth). Thread-safe when the Store and LockService are.
#pragma once

#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "lock/lock_policy.h"
#include "lock/lock_service.h"
#include "lock/sweeper.h"
#include "observe/log.h"
#include "observe/metrics.h"
#include "safety/alerter.h"
#include "safety/circuit_breaker.h"
#include "store/store.h"

namespace propgrade {

// Optional members may be null.
struct UpkeepDeps {
  LockService* locks = nullptr;
  Store* store = nullptr;  // lock events and the breaker mirror
  Clock* clock = nullptr;
  const LockPolicy* policy = nullptr;
  CircuitBreaker* breaker = nullptr;
  Alerter* alerts = nullptr;  // optional
  Metrics* metrics = nullptr;  // optional
  Logger* log = nullptr;       // optional
};

// One stuck-lock sweep: each lock held too long is recorded (`stuck` or `force_released`),
// logged and alerted (stuck_lock); sets locks_stuck and counts lock_force_released_total.
StatusOr<std::vector<StuckLock>> SweepAndReport(const UpkeepDeps& d);

// The half-open timer (CircuitBreaker::Tick) and the mirror of every breaker to the store
// with the breaker_state metric. Returns the breakers moved to half-open.
StatusOr<std::vector<BreakerTransition>> TickBreakers(const UpkeepDeps& d);

// Writes one breaker's state to the circuit_breakers table.
Status MirrorBreaker(Store* store, const BreakerStatus& status);

}  // namespace propgrade

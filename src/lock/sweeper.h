// Stuck-lock detection: a lock held (and renewed) longer than the policy allows is reported,
// and past the release threshold force-released. Thread-safe when the LockService is.
#pragma once

#include <string>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "lock/lock_policy.h"
#include "lock/lock_service.h"

namespace propgrade {

struct StuckLock {
  LockInfo lock;
  double held_seconds = 0;
  bool released = false;  // force-released by this sweep
};

// One sweep over the held locks.
StatusOr<std::vector<StuckLock>> SweepStuckLocks(LockService* locks, Clock* clock,
                                                 const LockPolicy& policy);

}  // namespace propgrade

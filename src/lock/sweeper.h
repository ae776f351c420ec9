// Stuck-lock detection: a lock held (and renewed) longer than the policy allows is reported,
// and past the release threshold force-released. How long a lock has been held is the lock
// service's own judgement (LockInfo::held_micros), never this host's clock against a time
// another machine recorded; a force release names the token listed, so a holder that took the
// key after the listing keeps it. Thread-safe when the LockService is.
#pragma once

#include <vector>

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
StatusOr<std::vector<StuckLock>> SweepStuckLocks(LockService* locks, const LockPolicy& policy);

}  // namespace propgrade

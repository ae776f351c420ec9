#include "lock/sweeper.h"

namespace propgrade {

StatusOr<std::vector<StuckLock>> SweepStuckLocks(LockService* locks, const LockPolicy& policy) {
  ASSIGN_OR_RETURN(std::vector<LockInfo> held, locks->List());
  std::vector<StuckLock> stuck;
  for (LockInfo& info : held) {
    double held_seconds = info.held_micros / 1e6;
    if (held_seconds <= policy.stuck_alert_after_seconds) continue;
    StuckLock s{std::move(info), held_seconds, false};
    if (policy.stuck_release_after_seconds > 0 &&
        held_seconds > policy.stuck_release_after_seconds && s.lock.token) {
      ASSIGN_OR_RETURN(s.released, locks->ForceRelease(s.lock.key, *s.lock.token));
    }
    stuck.push_back(std::move(s));
  }
  return stuck;
}

}  // namespace propgrade

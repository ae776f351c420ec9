// The lock_events table: timeouts, lost leases, fence rejections, stuck and force-released
// locks, fence resets — what `check` (lock_health) and the dashboard read. Thread-safe when the
// Store is.
#pragma once

#include <optional>
#include <string>

#include "common/clock.h"
#include "common/status.h"
#include "store/store.h"

namespace propgrade {

struct LockEvent {
  std::string key;
  std::string event;  // acquire_timeout, lock_lost, fenced_out, stuck, force_released, fence_reset
  std::string holder_id;
  std::optional<int64_t> token;
  std::optional<double> wait_seconds;
  std::optional<double> hold_seconds;
  std::string detail;
};

Status RecordLockEvent(Store* store, Clock* clock, const LockEvent& event);

}  // namespace propgrade

#include "safety/upkeep.h"

#include <cstdio>

#include "common/civil_date.h"
#include "schema/schema.h"
#include "observe/alerts.h"
#include "safety/lock_events.h"

namespace propgrade {

StatusOr<std::vector<StuckLock>> SweepAndReport(const UpkeepDeps& d) {
  ASSIGN_OR_RETURN(std::vector<StuckLock> stuck, SweepStuckLocks(d.locks, *d.policy));
  for (const StuckLock& s : stuck) {
    char held[32];
    std::snprintf(held, sizeof held, "%.0f", s.held_seconds);
    std::string detail = std::string("held ") + held + " s by " + s.lock.holder_id;
    if (d.store) {
      RETURN_IF_ERROR(RecordLockEvent(
          d.store, d.clock,
          {s.lock.key, s.released ? "force_released" : "stuck", s.lock.holder_id, s.lock.token,
           std::nullopt, s.held_seconds, s.released ? "stuck: " + detail : detail}));
    }
    if (s.released && d.metrics) d.metrics->Inc("lock_force_released_total");
    if (d.log) {
      d.log->Warn(s.released ? "lock_force_released" : "lock_stuck",
                  {{"key", Value::Text(s.lock.key)},
                   {"holder_id", Value::Text(s.lock.holder_id)},
                   {"held_seconds", Value::Real(s.held_seconds)}});
    }
    if (d.alerts) {
      Alert alert = MakeAlert(
          "stuck_lock", "", "",
          (s.released ? "force-released stuck lock " : "lock held too long: ") + s.lock.key +
              " (" + detail + ")",
          {{"key", Value::Text(s.lock.key)},
           {"holder_id", Value::Text(s.lock.holder_id)},
           {"token", Value::OptInt(s.lock.token)},
           {"held_seconds", Value::Real(s.held_seconds)},
           {"force_released", Value::Bool(s.released)}});
      alert.subject = s.lock.key;
      d.alerts->Raise(std::move(alert));
    }
  }
  if (d.metrics) d.metrics->Set("locks_stuck", {}, static_cast<double>(stuck.size()));
  return stuck;
}

Status MirrorBreaker(Store* store, const BreakerStatus& status) {
  Row mirror(breakercol::kNumColumns);
  mirror[breakercol::name] = Value::Text(status.name);
  mirror[breakercol::state] = Value::Text(std::string(BreakerStateName(status.state)));
  mirror[breakercol::consecutive_failures] = Value::Int(status.consecutive_failures);
  if (status.opened_at_micros) {
    mirror[breakercol::opened_at] = Value::Text(FormatTimestampMicros(status.opened_at_micros));
  }
  if (status.updated_at_micros) {
    mirror[breakercol::updated_at] = Value::Text(FormatTimestampMicros(status.updated_at_micros));
  }
  return store->Import(tables::CircuitBreakers(), {mirror}, {}, "breaker", ImportMode::kUpsert)
      .status();
}

StatusOr<std::vector<BreakerTransition>> TickBreakers(const UpkeepDeps& d) {
  ASSIGN_OR_RETURN(std::vector<BreakerTransition> moved, d.breaker->Tick());
  for (const BreakerTransition& t : moved) {
    if (d.log) {
      d.log->Info("breaker_half_open", {{"name", Value::Text(t.status.name)}});
    }
  }
  ASSIGN_OR_RETURN(std::vector<BreakerStatus> all, d.breaker->List());
  for (const BreakerStatus& b : all) {
    if (d.metrics) d.metrics->Set("breaker_state", {b.name}, BreakerStateNumber(b.state));
    if (d.store) RETURN_IF_ERROR(MirrorBreaker(d.store, b));
  }
  return moved;
}

}  // namespace propgrade

#include "safety/lock_events.h"

#include "common/civil_date.h"
#include "schema/schema.h"

namespace propgrade {

Status RecordLockEvent(Store* store, Clock* clock, const LockEvent& e) {
  Row row(lockev::kNumColumns);
  row[lockev::at] = Value::Text(FormatTimestampMicros(clock->NowMicros()));
  row[lockev::key] = Value::Text(e.key);
  row[lockev::event] = Value::Text(e.event);
  if (!e.holder_id.empty()) row[lockev::holder_id] = Value::Text(e.holder_id);
  row[lockev::token] = Value::OptInt(e.token);
  row[lockev::wait_seconds] = Value::OptReal(e.wait_seconds);
  row[lockev::hold_seconds] = Value::OptReal(e.hold_seconds);
  if (!e.detail.empty()) row[lockev::detail] = Value::Text(e.detail);
  return store->Append(tables::LockEvents(), {row});
}

}  // namespace propgrade

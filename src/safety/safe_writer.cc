#include "safety/safe_writer.h"

#include "common/civil_date.h"
#include "lock/lease_keeper.h"
#include "safety/lock_events.h"

namespace propgrade {

namespace {

int64_t Micros(double seconds) { return static_cast<int64_t>(seconds * 1e6); }

}  // namespace

void SafeWriter::Event(const std::string& key, const std::string& event, const Lease* lease,
                       const std::string& detail) {
  LockEvent e;
  e.key = key;
  e.event = event;
  e.detail = detail;
  if (lease) {
    e.holder_id = lease->holder_id;
    e.token = lease->token;
    e.wait_seconds = lease->wait_seconds;
    if (lease->acquired_at_micros) {
      e.hold_seconds = (clock_->NowMicros() - lease->acquired_at_micros) / 1e6;
    }
  }
  Status s = RecordLockEvent(store_, clock_, e);
  if (!s.ok()) {
    log_->Error("lock_event_not_recorded", {{"key", Value::Text(key)},
                                            {"event", Value::Text(event)},
                                            {"error", Value::Text(s.message())}});
  }
}

StatusOr<WriteOutcome> SafeWriter::Replace(WriteRequest request) {
  WriteOutcome outcome;
  outcome.lock_backend = std::string(locks_->backend());
  const std::string key = LockKey(request.processor, request.partition);
  const std::string& table = request.table->name;

  // Layer 1: the lease.
  std::optional<Lease> lease;
  auto acquired = locks_->Acquire(key, Micros(policy_->ttl_seconds),
                                  Micros(policy_->max_wait_seconds));
  if (acquired.ok()) {
    lease = std::move(acquired).value();
    outcome.lock_wait_seconds = lease->wait_seconds;
    outcome.holder_id = lease->holder_id;
    outcome.fence_token = lease->token;
  } else if (acquired.status().reason() == StatusReason::kLockTimeout) {
    bool proceed = policy_->on_lock_timeout == "proceed";
    Event(key, "acquire_timeout", nullptr,
          acquired.status().message() + (proceed ? "; proceeding without the lock" : ""));
    log_->Log(Severity::kCritical, "lock_acquisition_failed",
              {{"key", Value::Text(key)},
               {"error", Value::Text(acquired.status().message())},
               {"action", Value::Text(proceed ? "proceeded (atomic replace, no token)"
                                              : "wrote nothing")}});
    if (!proceed) return acquired.status();
    outcome.proceeded_without_lock = true;
    outcome.lock_wait_seconds = policy_->max_wait_seconds;
  } else {
    return acquired.status().WithContext("lock " + key);
  }

  std::unique_ptr<LeaseKeeper> keeper;
  if (lease && lease->token) {
    keeper = std::make_unique<LeaseKeeper>(locks_, &*lease, clock_,
                                           Micros(policy_->renew_every_seconds));
    if (hooks_ && hooks_->TEST_disable_lease_check) keeper->TEST_DisableLossCheck();
    keeper->Start();
  }
  // Each run logs entering and leaving the write section with its token, so tests can show
  // that no two runs were inside at once.
  log_->Info("write_section", {{"phase", Value::Text("enter")},
                               {"key", Value::Text(key)},
                               {"token", Value::OptInt(outcome.fence_token)},
                               {"at_micros", Value::Int(clock_->NowMicros())}});
  if (hooks_ && hooks_->TEST_pause_after_acquire_micros > 0) {
    clock_->SleepMicros(hooks_->TEST_pause_after_acquire_micros);
  }

  Row& run = request.run_record;
  bool has_run = run.size() == runs::kNumColumns;
  if (has_run) {
    run[runs::lock_backend] = Value::Text(outcome.lock_backend);
    run[runs::lock_wait_seconds] = Value::Real(outcome.lock_wait_seconds);
    run[runs::holder_id] = Value::Text(outcome.holder_id);
    run[runs::fence_token] = Value::OptInt(outcome.fence_token);
  }
  WriteSpec spec;
  spec.fence_token = outcome.fence_token;
  spec.lock_namespace = locks_->fence_namespace();
  spec.run_id = request.run_id;
  spec.run_record = has_run ? &run : nullptr;
  if (keeper) spec.before_commit = [&keeper] { return keeper->CheckHeld(); };

  // Layer 0: the fenced atomic replace (after a cheap early look at the lease).
  Status held = keeper ? keeper->CheckHeld() : OkStatus();
  auto written = held.ok() ? store_->ReplacePartition(*request.table, request.partition,
                                                      std::move(request.rows), spec)
                           : StatusOr<WriteResult>(held);
  int64_t exit_at = clock_->NowMicros();
  if (keeper) keeper->Stop();

  // Layer 2: the post-write duplicate check, still under the lock.
  if (written.ok()) {
    outcome.write = *written;
    auto dups = store_->CountDuplicates(*request.table, request.partition);
    if (dups.ok()) {
      outcome.duplicates = std::move(dups).value();
      if (outcome.duplicates.groups > 0) {
        log_->Log(Severity::kCritical, "duplicates_detected",
                  {{"table", Value::Text(table)},
                   {"partition", Value::Text(request.partition)},
                   {"duplicate_groups", Value::Int(outcome.duplicates.groups)},
                   {"duplicate_rows", Value::Int(outcome.duplicates.surplus_rows)}});
      }
    } else {
      outcome.duplicate_check =
          dups.status().WithContext("post-write duplicate check of " + table);
      log_->Error("duplicate_check_failed", {{"table", Value::Text(table)},
                                             {"partition", Value::Text(request.partition)},
                                             {"error", Value::Text(outcome.duplicate_check.message())}});
    }
  }
  log_->Info("write_section", {{"phase", Value::Text("exit")},
                               {"key", Value::Text(key)},
                               {"token", Value::OptInt(outcome.fence_token)},
                               {"committed", Value::Bool(written.ok())},
                               {"at_micros", Value::Int(exit_at)}});
  if (lease) {
    Status released = locks_->Release(*lease);
    if (!released.ok()) {
      log_->Warn("lock_release_failed", {{"key", Value::Text(key)},
                                         {"error", Value::Text(released.message())}});
    }
  }
  if (!written.ok()) {
    StatusReason r = written.status().reason();
    if (r == StatusReason::kLockLost || r == StatusReason::kFencedOut) {
      Event(key, r == StatusReason::kLockLost ? "lock_lost" : "fenced_out",
            lease ? &*lease : nullptr, written.status().message());
      log_->Log(Severity::kCritical, "lock_lost", {{"key", Value::Text(key)},
                                                   {"token", Value::OptInt(outcome.fence_token)},
                                                   {"error", Value::Text(written.status().message())},
                                                   {"written", Value::Bool(false)}});
    }
    return written.status();
  }
  return outcome;
}

}  // namespace propgrade

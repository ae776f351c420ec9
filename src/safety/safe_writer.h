// SafeWriter: the one door every processor writes through (DESIGN.md §1, §3):
//   lock (a lease on processor/partition, renewed by a LeaseKeeper)
//   → the store's atomic replace, fenced with the lease's token and re-checking the lease
//     inside the transaction just before COMMIT
//   → the post-write duplicate check → release.
// A lock timeout writes nothing unless the policy says `proceed` (then the write goes through
// the atomic replace without a token). The circuit breaker, alerts and remediation plug in
// here without touching the processors. Thread-safe when its Store and LockService are.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "common/table_catalog.h"
#include "common/value.h"
#include "lock/lock_policy.h"
#include "lock/lock_service.h"
#include "observe/log.h"
#include "store/store.h"

namespace propgrade {

struct WriteRequest {
  std::string processor;  // grading, daily_performance, performance_summary, consolidation
  const TableDef* table = nullptr;
  std::string partition;
  std::vector<Row> rows;  // catalogue order; every row in `partition`
  std::string run_id;
  // The step's grading_runs row; SafeWriter fills the lock columns and records it inside the
  // write transaction.
  Row run_record;
};

struct WriteOutcome {
  WriteResult write;
  DuplicateCount duplicates;
  // Not ok when the post-write check itself failed: the rows are committed, but nobody may
  // read that as "no duplicates".
  Status duplicate_check;
  std::optional<int64_t> fence_token;
  double lock_wait_seconds = 0;
  std::string lock_backend;
  std::string holder_id;
  bool proceeded_without_lock = false;  // on_lock_timeout = proceed was used
};

// Fault-injection switches for the reliability tests (never set in production).
struct SafeWriterTestHooks {
  int64_t TEST_pause_after_acquire_micros = 0;  // sleep between acquiring and writing
  bool TEST_disable_lease_check = false;        // skip the keeper's loss check (fence only)
};

class SafeWriter {
 public:
  // All pointers must outlive the writer.
  SafeWriter(Store* store, LockService* locks, const LockPolicy* policy, Logger* log,
             Clock* clock, const SafeWriterTestHooks* hooks = nullptr)
      : store_(store), locks_(locks), policy_(policy), log_(log), clock_(clock), hooks_(hooks) {}

  // Writes `request.rows` as the new content of the partition, then checks it for duplicate
  // keys. Errors (nothing written): lock timeout (DeadlineExceeded, kLockTimeout), lease lost
  // (kLockLost), fence rejected (kFencedOut), and those of Store::ReplacePartition.
  StatusOr<WriteOutcome> Replace(WriteRequest request);

 private:
  void Event(const std::string& key, const std::string& event, const Lease* lease,
             const std::string& detail);

  Store* store_;
  LockService* locks_;
  const LockPolicy* policy_;
  Logger* log_;
  Clock* clock_;
  const SafeWriterTestHooks* hooks_;
};

}  // namespace propgrade

// SafeWriter: the one door every processor writes through (DESIGN.md §1, §3):
//   lock (a lease on processor/partition, renewed by a LeaseKeeper)
//   → the store's atomic replace, fenced with the lease's token and re-checking the lease
//     inside the transaction just before COMMIT
//   → the post-write duplicate check (duplicate_audit, alert, bounded auto-remediation into
//     quarantine, re-check) → release.
// A lock timeout writes nothing unless the policy says `proceed`: then the write goes through
// the atomic replace without a lease but with a fencing token drawn from the lock service at
// that moment (LockService::DrawToken), so it is still ordered against fenced writes. Every lock event is logged with its durations, counted
// in metrics and, where the catalogue says so, alerted. The circuit breaker is consulted by
// the pipeline before a step starts. Thread-safe when its Store and LockService are.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "common/value.h"
#include "lock/lock_policy.h"
#include "lock/lock_service.h"
#include "observe/log.h"
#include "observe/metrics.h"
#include "safety/alerter.h"
#include "safety/remediation.h"
#include "schema/schema.h"
#include "store/store.h"

namespace propgrade {

// How every replace guards and keeps a partition ([writes], operations.md §3).
struct WritePolicy {
  // The shrink guard: a replace that would remove more than this share of the stored
  // partition's keys is refused (shrink_refused); 1 turns it off. Default: 0.2
  double max_shrink_ratio = 0.2;
  // The same per table, over max_shrink_ratio ([writes.max_shrink_ratio_by_table]).
  std::map<std::string, double> max_shrink_ratio_by_table;
  // Partition history: each replace keeps the rows it replaced, the newest this many entries
  // per partition (0 = no history), none older than history_keep_days (0 = any age).
  // Default: 5 and 0
  int history_keep_runs = 5;
  double history_keep_days = 0;

  double MaxShrinkRatio(const std::string& table) const {
    auto it = max_shrink_ratio_by_table.find(table);
    return it == max_shrink_ratio_by_table.end() ? max_shrink_ratio : it->second;
  }
};

struct WriteRequest {
  std::string processor;  // grading, daily_performance, performance_summary, consolidation
  const TableDef* table = nullptr;
  std::string partition;
  std::vector<Row> rows;  // catalogue order; every row in `partition`
  std::string run_id;
  // The step's grading_runs row; SafeWriter fills the lock columns and records it inside the
  // write transaction.
  Row run_record;
  // The versions of the inputs `rows` were computed from (read before the inputs): the write is
  // refused with reason kInputsChanged when any changed (WriteSpec::inputs).
  std::vector<InputVersions> inputs;
  // Set: the rows come from this query, run inside the write transaction and turned into rows
  // by `parse_query` (Store::ReplacePartitionFromQuery); `rows` is unused.
  std::string select_sql;
  QueryRowsParser parse_query;
  // This write may shrink the partition past the guard (--allow-shrink, a rollback).
  bool allow_shrink = false;
  std::string history_kind = "replace";  // partition_history.kind
  // Receives the replace's counts even when the shrink guard refused it. May be null.
  WriteResult* counts = nullptr;
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
  bool proceeded_without_lock = false;  // on_lock_timeout = proceed was used (fence_token drawn)
  int64_t remediated_rows = 0;          // moved into quarantine by auto-remediation
  bool remediation_verified = false;    // and the re-check found no duplicate left
};

// Fault-injection switches for the reliability tests (never set in production).
struct SafeWriterTestHooks {
  // Called (then slept) after the inputs were read and before the lock is asked for: the
  // moment a run's inputs can go stale before it writes.
  std::function<void()> TEST_before_acquire;
  int64_t TEST_pause_before_acquire_micros = 0;
  // Called (then slept) between acquiring the lease (or proceeding without it) and writing.
  std::function<void()> TEST_after_acquire;
  int64_t TEST_pause_after_acquire_micros = 0;
  // Sleep inside the write transaction: before COMMIT (after the lease check's early look), and
  // in consolidation also after reading the staged rows.
  int64_t TEST_pause_in_transaction_micros = 0;
  bool TEST_disable_lease_check = false;        // skip the keeper's loss check (fence only)
};

// What a SafeWriter works with. Pointers must outlive the writer; those marked optional may
// be null.
struct SafeWriterDeps {
  Store* store = nullptr;
  LockService* locks = nullptr;
  const LockPolicy* policy = nullptr;
  RemediationPolicy remediation;
  WritePolicy writes;
  Logger* log = nullptr;
  Metrics* metrics = nullptr;  // optional
  Alerter* alerts = nullptr;   // optional
  Clock* clock = nullptr;
  const SafeWriterTestHooks* hooks = nullptr;  // optional
};

class SafeWriter {
 public:
  explicit SafeWriter(const SafeWriterDeps& deps) : d_(deps) {}

  // Writes `request.rows` as the new content of the partition, then checks it for duplicate
  // keys. Errors (nothing written): lock timeout (DeadlineExceeded, kLockTimeout), lease lost
  // (kLockLost), fence rejected (kFencedOut), inputs changed since they were read
  // (kInputsChanged: read them again and retry; not alerted here), and those of
  // Store::ReplacePartition.
  StatusOr<WriteOutcome> Replace(WriteRequest request);

  // The same layers around any ONE-transaction write of `request.partition` of
  // `request.table` (`request.rows` unused): `write` gets the WriteSpec (fence token,
  // namespace, run record, lease check) and must pass it to the store. Consolidation uses it.
  using FencedWrite = std::function<StatusOr<WriteResult>(const WriteSpec& spec)>;
  StatusOr<WriteOutcome> Write(WriteRequest request, const FencedWrite& write);

 private:
  // The post-write check: the table's key, or grading.md §2's business key for predictions.
  StatusOr<DuplicateCount> CheckDuplicates(const WriteRequest& request);
  void Event(const std::string& key, const std::string& event, const Lease* lease,
             const std::string& detail);
  void Count(const char* name, const MetricLabels& labels, double by = 1);
  void Raise(Alert alert);
  // Layer 2 and 3 after a committed write: audit, remediate, alert.
  void RespondToDuplicates(const WriteRequest& request, WriteOutcome* outcome);

  SafeWriterDeps d_;
};

}  // namespace propgrade

// Pipeline: the processors of a run — grading, then daily performance, then the summary as of
// the date — reading inputs through the Store, computing with src/grading and writing through
// SafeWriter. Before a step starts, the processor's circuit breaker must allow it; after, the
// step is recorded (grading_runs, metrics, breaker) and alerted on when the catalogue says so.
// The CLI and the HTTP service both drive this class. When the store or lock service cannot be
// opened, steps end `unavailable` (and count against the breaker) and are retried on the next
// step. Thread-safe: runs for different dates may proceed at once (each opens its own Store
// through the factory); aggregations are serialised.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/cancel.h"
#include "common/civil_date.h"
#include "common/clock.h"
#include "grading/grader.h"
#include "grading/performance_summary.h"
#include "grading/rules.h"
#include "io/table_file.h"
#include "lock/lock_policy.h"
#include "lock/lock_service.h"
#include "observe/log.h"
#include "pipeline/fact_cache.h"
#include "pipeline/processor.h"
#include "pipeline/run_summary.h"
#include "pipeline/step_reporter.h"
#include "safety/circuit_breaker.h"
#include "safety/remediation.h"
#include "safety/safe_writer.h"
#include "store/store.h"

namespace propgrade {

// Opens a fresh Store connection (one per parallel worker).
using StoreFactory = std::function<StatusOr<std::unique_ptr<Store>>()>;
// Opens the lock service (the `db` backend uses the store's database).
using LockFactory = std::function<StatusOr<std::unique_ptr<LockService>>(Store* store)>;

// How a pipeline's steps behave (the composition root fills it from Config).
struct PipelineOptions {
  LockPolicy lock_policy;
  RemediationPolicy remediation;
  // Line sources that count as real lines. Default: grading::DefaultRealLineSources()
  std::vector<std::string> real_line_sources = grading::DefaultRealLineSources();
  // The coverage gate ([grading], grading::GradeOptions). Default: 0.70 and 0.80
  double min_player_coverage = 0.70;
  double min_game_coverage = 0.80;
  // The shrink guard and partition history of every write ([writes]).
  WritePolicy writes;
};

// What a pipeline works with. Pointers must outlive the pipeline; optional ones may be null.
struct PipelineDeps {
  Store* store = nullptr;        // optional: opened through store_factory when null
  StoreFactory store_factory;    // more connections (--jobs), and the store when null
  LockService* locks = nullptr;  // optional: opened through lock_factory when null
  LockFactory lock_factory;
  PipelineOptions options;
  Clock* clock = nullptr;
  Logger* log = nullptr;
  Metrics* metrics = nullptr;         // optional
  Alerter* alerts = nullptr;          // optional
  CircuitBreaker* breaker = nullptr;  // optional
  CancelToken* cancel = nullptr;      // optional
};

// How `Pipeline::Load` writes a partition: the partition becomes exactly the rows (replace),
// or the rows are upserted by key into it (merge).
enum class LoadMode { kReplace, kMerge };

struct LoadRequest {
  std::string table;
  std::string partition;
  std::string text;  // the file's content
  // Instead of `text`: a query (one SELECT, $1 = the partition) whose rows become the partition,
  // run inside the fenced write transaction. Replace mode only.
  std::string sql;
  FileFormat format = FileFormat::kCsv;
  std::string source;  // names the file in errors ("form.csv", "stdin", "request body")
  LoadMode mode = LoadMode::kReplace;
  bool allow_empty = false;  // a file without rows empties the partition only when set
};

struct RunOptions {
  bool aggregate = true;       // daily performance and summary after a successful grading
  std::string trigger_source;  // cli, http, pubsub, demo, ...
  std::string correlation_id;
  // Writes of this run may remove more of a partition's keys than max_shrink_ratio allows
  // (--allow-shrink).
  bool allow_shrink = false;
};

// One date of a run: its run id and the steps that ran.
struct DateRun {
  CivilDay date;
  std::string run_id;
  std::vector<RunSummary> steps;
  ExitCode exit_code() const;
};

class Pipeline {
 public:
  explicit Pipeline(PipelineDeps deps);

  // Fault injection for the reliability suites.
  void set_test_hooks(const SafeWriterTestHooks& hooks) { hooks_ = hooks; }

  // Grading, then (when it ended success and options.aggregate) the two aggregations.
  DateRun RunDate(CivilDay date, const RunOptions& options);
  // The same under a run id the caller chose (the HTTP service answers with it before the run
  // starts).
  DateRun RunDate(CivilDay date, const std::string& run_id, const RunOptions& options);

  // Many dates: grading with up to `jobs` dates at once, then the aggregations in date order.
  // With one job the work is pipelined over two helper threads, each on its own store
  // connection: one reads and grades the next date, the other computes a date's summary while
  // the next date's grading is written. Every write stays on the calling thread: per date in
  // step order, and a date's summary is written after the next date's grading.
  // `progress` (may be empty) is called after each date completes, from the calling thread.
  std::vector<DateRun> RunDates(
      const std::vector<CivilDay>& dates, const RunOptions& options, int jobs,
      const std::function<void(const DateRun&, size_t done, size_t total)>& progress);

  // The single steps (`propgrade aggregate` / `summarize`), each with its own run id. A null
  // `store` means the pipeline's own.
  RunSummary GradeDate(CivilDay date, const std::string& run_id, const RunOptions& options,
                       Store* store = nullptr);
  RunSummary AggregateDate(CivilDay date, const std::string& run_id, const RunOptions& options);
  RunSummary SummarizeAsOf(CivilDay as_of, const std::string& run_id, const RunOptions& options);

  // Merges the staged predictions of `date` into player_prop_predictions under the
  // consolidation/D lock, in one fenced transaction (spec/operations.md §9).
  RunSummary Consolidate(CivilDay date, const std::string& run_id, const RunOptions& options);

  // The undo of remediation (`propgrade dedupe --restore RUN`): every row the run
  // `quarantine_run_id` moved into remediation_quarantine (of `table` only, when not null) goes
  // back into its partition, one fenced write per partition under the lock of the table's
  // writer (TableDef::writer), so it cannot interleave with a run writing that partition. The
  // post-write check then reports the duplicates the rows bring back (auto-remediation stays
  // off for these writes). A dry run counts and writes nothing.
  struct Restored {
    std::string table, partition;
    int64_t rows = 0;
    Status status;             // of this partition's write
    DuplicateCount duplicates;  // after it
  };
  StatusOr<std::vector<Restored>> RestoreQuarantined(const std::string& quarantine_run_id,
                                                     const TableDef* table, bool dry_run);

  // One partition of a declared table from `rows` (catalogue order, each in `partition`,
  // checked by the caller) through what every step goes through: the processor's breaker, its
  // lease on TableDef::writer/partition, the fenced replace, the post-write check and the run
  // record. Ends `unchanged`, writing nothing, when the partition already holds the result.
  // `columns`: the catalogue indexes the rows carry (a merge keeps a stored row's others);
  // empty = all.
  RunSummary Load(const TableDef& table, const std::string& partition, std::vector<Row> rows,
                  std::vector<int> columns, LoadMode mode, const std::string& run_id,
                  const RunOptions& options);
  // A load as `propgrade load` and PUT /v1/tables/T/partitions/P receive it: the table by name,
  // the file's text checked whole first (types, required values, partition, repeated keys).
  // InvalidArgument, nothing written, for an unknown or built-in table and for bad input
  // ("FILE:LINE: column 'C': ..."); otherwise the step's summary.
  StatusOr<RunSummary> LoadText(const LoadRequest& request, const std::string& run_id,
                                const RunOptions& options);

  // Partition history (store.h ReadHistory, RowsWrittenBy).
  // The rows `run_id` left in `partition` of `table` written back, as a fenced write of their
  // own (run `new_run_id`, partition_history kind "rollback", past the shrink guard) under
  // the lease of the table's writer; for prediction_accuracy, the date's daily performance and
  // summary are then recomputed (summaries of later dates are left, and `check` reports them
  // stale). NotFound when the run's rows are not kept; InvalidArgument for a table no
  // processor writes.
  StatusOr<DateRun> Rollback(const TableDef& table, const std::string& partition,
                             const std::string& to_run, const std::string& new_run_id,
                             const RunOptions& options);
  // The rows a step of the processor writing `table` (grading, daily_performance,
  // performance_summary) would write into `partition` now, computed from the stored inputs and
  // written nowhere (`propgrade diff --dry-run`); the step's status when it would write
  // nothing (its error says why). InvalidArgument for other tables.
  struct Preview {
    RunStatus status = RunStatus::kSuccess;
    std::string detail;
    std::vector<Row> rows;
  };
  StatusOr<Preview> PreviewStep(const TableDef& table, const std::string& partition);

  // The pipeline's lock service (opened if need be). Leases a caller keeps across calls (the
  // HTTP lease routes) are taken from it, so a load of the same key waits for them instead of
  // taking them over as this process's own orphans.
  StatusOr<LockService*> Locks();

  std::string NewRunId() const;

 private:
  RunSummary StartStep(const char* processor, CivilDay date, const std::string& run_id,
                       const RunOptions& options) const;
  // Opens the store and the lock service when they are not open yet.
  Status EnsureReady();
  // The breaker's verdict: false (and `step` ended circuit_open) when it refuses.
  bool Allowed(RunSummary* step);
  // Allowed and the store and lock service open; otherwise `step` is finished (circuit_open or
  // unavailable) and false returned.
  bool Ready(RunSummary* step, Store* store);
  // The SafeWriter dependencies of this pipeline, writing to `store`.
  SafeWriterDeps WriterDeps(Store* store);
  // Writes what Prepare computed (its rows or its query, from its inputs) as the partition
  // through SafeWriter and completes `step`; except when the inputs changed since they were
  // read and `may_retry`: then returns false and leaves `step` open, for the caller to read the
  // inputs again.
  bool WriteStep(Store* store, const TableDef& table, Prepared prepared, bool may_retry,
                 RunSummary* step);
  // The step of a load (LoadProcessor) of `partition`.
  RunSummary RunLoad(Processor& load, const std::string& partition, const std::string& run_id,
                     const RunOptions& options);
  void DoAggregations(DateRun* run, const RunOptions& options);
  // The processor of processors_ called `name` (one of this pipeline's).
  Processor& ByName(std::string_view name);

  // A step read and computed ahead of its write (Processor::Prepare): touches neither the
  // breaker nor any lock and writes nothing, so any thread with its own store may prepare it.
  struct StepPrep {
    RunSummary step;
    Prepared prepared;
  };
  // The caller holds aggregate_mu_ when p.shares_fact_cache().
  StepPrep PrepareStep(Processor& p, RunSummary step, Store* store);
  // The rest of a step whose breaker and readiness checks passed: the write. When the inputs
  // changed after they were read, they are read again through `store` and the step recomputed
  // (up to kWriteAttempts writes in all).
  RunSummary CommitStep(Processor& p, StepPrep prep, Store* store);
  // A started step, whole: breaker and readiness, prepare (under aggregate_mu_ when the
  // processor shares the fact cache), write. A null `store` means the pipeline's own.
  RunSummary RunStep(Processor& p, RunSummary step, Store* store);
  // RunDates with one job: pipelined over two helper connections (see RunDates).
  std::vector<DateRun> RunDatesInOrder(
      const std::vector<CivilDay>& dates, const RunOptions& options,
      const std::function<void(const DateRun&, size_t done, size_t total)>& progress);
  bool Cancelled() const { return cancel_ && cancel_->cancelled(); }

  PipelineDeps d_;
  std::mutex ready_mu_;  // guards the opening of store/locks
  std::unique_ptr<Store> owned_store_;
  std::unique_ptr<LockService> owned_locks_;
  Store* store_;
  LockService* locks_;
  SafeWriterTestHooks hooks_;
  Clock* clock_;
  Logger* log_;
  CancelToken* cancel_;
  StepReporter reporter_;
  std::mutex aggregate_mu_;  // guards cache_ and summaries_ (the processors that share them)
  FactCache cache_;
  grading::SummaryAccumulator summaries_;
  // The processors (pipeline.cc builds them): grading, then the steps that follow a date's
  // successful grading, in step order.
  std::vector<std::unique_ptr<Processor>> processors_;
  Processor* grading_;
  std::vector<Processor*> after_grading_;
};

}  // namespace propgrade

// Pipeline: the processors of a run — grading, then daily performance, then the summary as of
// the date — reading inputs through the Store, computing with src/grading and writing through
// SafeWriter. The CLI and the HTTP service both drive this class.
// Thread-safe: runs for different dates may proceed at once (each opens its own Store through
// the factory); aggregations are serialised.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/cancel.h"
#include "common/civil_date.h"
#include "common/clock.h"
#include "observe/log.h"
#include "pipeline/config.h"
#include "pipeline/fact_cache.h"
#include "pipeline/run_summary.h"
#include "lock/lock_service.h"
#include "safety/safe_writer.h"
#include "store/store.h"

namespace propgrade {

// Opens a fresh Store connection (one per parallel worker).
using StoreFactory = std::function<StatusOr<std::unique_ptr<Store>>()>;

struct RunOptions {
  bool aggregate = true;       // daily performance and summary after a successful grading
  std::string trigger_source;  // cli, http, pubsub, demo, ...
  std::string correlation_id;
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
  // `store` serves single-threaded work; `factory` opens more connections for --jobs > 1;
  // `locks` is shared by all of them. Pointers must outlive the pipeline.
  Pipeline(Store* store, StoreFactory factory, LockService* locks, const Config* config,
           Clock* clock, Logger* log, CancelToken* cancel);

  // Fault injection for the reliability suites.
  void set_test_hooks(const SafeWriterTestHooks& hooks) { hooks_ = hooks; }

  // Grading, then (when it ended success and options.aggregate) the two aggregations.
  DateRun RunDate(CivilDay date, const RunOptions& options);

  // Many dates: grading with up to `jobs` dates at once, then the aggregations in date order.
  // `progress` (may be empty) is called after each date completes, from the calling thread.
  std::vector<DateRun> RunDates(
      const std::vector<CivilDay>& dates, const RunOptions& options, int jobs,
      const std::function<void(const DateRun&, size_t done, size_t total)>& progress);

  // The single steps (`propgrade aggregate` / `summarize`), each with its own run id.
  RunSummary GradeDate(CivilDay date, const std::string& run_id, const RunOptions& options,
                       Store* store);
  RunSummary AggregateDate(CivilDay date, const std::string& run_id, const RunOptions& options);
  RunSummary SummarizeAsOf(CivilDay as_of, const std::string& run_id, const RunOptions& options);

  std::string NewRunId() const;

 private:
  RunSummary StartStep(const char* processor, CivilDay date, const std::string& run_id,
                       const RunOptions& options) const;
  // Writes `rows` as the partition through SafeWriter and completes `step`.
  void WriteStep(Store* store, const TableDef& table, std::vector<Row> rows, RunSummary* step);
  void Finish(Store* store, RunSummary* step, const Status& error);
  void DoAggregations(DateRun* run, const RunOptions& options);

  Store* store_;
  StoreFactory factory_;
  LockService* locks_;
  SafeWriterTestHooks hooks_;
  const Config* config_;
  Clock* clock_;
  Logger* log_;
  CancelToken* cancel_;
  std::mutex aggregate_mu_;  // guards cache_
  FactCache cache_;
};

}  // namespace propgrade

// RunRegistry: the runs `propgrade serve` was asked for, with single flight per date: while a
// run for a date is queued or running, every further trigger for that date joins it and gets
// its id; otherwise a new run starts. `max_parallel` worker threads run them (the rest wait,
// queued, in arrival order); each runs the injected
// executor (the Pipeline in production). Finished runs are kept in memory (the newest
// `keep_finished`) for `GET /v1/runs/{id}`; grading_runs keeps them for good. Thread-safe.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/civil_date.h"
#include "common/clock.h"
#include "common/status.h"
#include "pipeline/pipeline.h"

namespace propgrade::server {

enum class RunState { kQueued, kRunning, kFinished, kAbandoned };
std::string_view RunStateName(RunState s);  // queued, running, finished, abandoned

// A run as the API shows it. Plain value.
struct RunView {
  std::string run_id;
  CivilDay date;
  RunState state = RunState::kQueued;
  RunOptions options;
  int64_t submitted_at_micros = 0;
  int64_t finished_at_micros = 0;
  int joined = 0;  // triggers that joined this run after the first
  DateRun result;  // the steps, once finished

  // The HTTP status of a finished run (the worst step's, spec/operations.md §2); 202 before.
  int http_status() const;
  // Seconds a circuit_open refusal asks the caller to wait (0 when none).
  double retry_after_seconds() const;
  // The run summary JSON: the grading step's grading_runs columns (null for NULL) plus
  // "state", "exit_code", "joined" and "steps" (every step's summary).
  std::string ToJson() const;
};

struct Submission {
  std::string run_id;
  bool joined = false;  // an existing run for the date
};

class RunRegistry {
 public:
  using Executor =
      std::function<DateRun(CivilDay date, const std::string& run_id, const RunOptions& options)>;
  using IdSource = std::function<std::string()>;

  RunRegistry(Executor executor, IdSource new_id, Clock* clock, int max_parallel = 2,
              size_t keep_finished = 1000);
  ~RunRegistry();  // Shutdown, waiting for running runs however long they take

  // Joins the date's queued or running run, or starts a new one. Unavailable while shutting
  // down.
  StatusOr<Submission> Submit(CivilDay date, const RunOptions& options);

  std::optional<RunView> Get(const std::string& run_id) const;
  // The date's runs that this process knows, newest first.
  std::vector<RunView> ForDate(CivilDay date) const;
  // Waits until the run is finished (or abandoned), or until `timeout_micros` passed (real
  // time; a day or more: without limit), and returns the run as it is then (still queued or
  // running after a timeout); nullopt for an unknown id.
  std::optional<RunView> Wait(const std::string& run_id,
                              int64_t timeout_micros = INT64_MAX) const;

  int active() const;  // queued or running

  // Stops accepting runs; queued runs are abandoned (they never start, so write nothing);
  // waits up to `grace_micros` (real time; a day or more: without limit) for running ones.
  // Returns how many still run.
  int Shutdown(int64_t grace_micros);

 private:
  struct Entry;
  void Execute(std::shared_ptr<Entry> entry);
  void PruneLocked();

  Executor executor_;
  IdSource new_id_;
  Clock* clock_;
  const int max_parallel_;
  const size_t keep_finished_;

  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  bool shutting_down_ = false;
  int running_ = 0;
  std::map<std::string, std::shared_ptr<Entry>> runs_;        // by run id
  std::map<CivilDay, std::string> in_flight_;                 // date → its queued/running run
  std::deque<std::shared_ptr<Entry>> queue_;                  // queued, in arrival order
  std::deque<std::string> finished_order_;                    // for pruning
  std::vector<std::thread> threads_;                          // max_parallel workers
};

}  // namespace propgrade::server

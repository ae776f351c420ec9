// StepReporter: where a finished step goes. One "step finished" event is reported, in this
// order, to the run record (grading_runs), the metrics, the processor's circuit breaker (with
// its dashboard mirror and the circuit_open alert), the step's alerts and the log. Every
// processor step, consolidation included, ends through Finish. Thread-safe.
#pragma once

#include <map>
#include <mutex>
#include <string>

#include "common/clock.h"
#include "common/status.h"
#include "observe/alerts.h"
#include "observe/log.h"
#include "observe/metrics.h"
#include "pipeline/run_summary.h"
#include "safety/alerter.h"
#include "safety/circuit_breaker.h"
#include "store/store.h"

namespace propgrade {

class StepReporter {
 public:
  struct Deps {
    Clock* clock = nullptr;
    Logger* log = nullptr;
    Metrics* metrics = nullptr;         // optional
    Alerter* alerts = nullptr;          // optional
    CircuitBreaker* breaker = nullptr;  // optional
  };
  explicit StepReporter(Deps deps) : d_(deps) {}

  // Ends `step` (with the run status of `error` when it is not ok) and reports it. `store`
  // (may be null) takes the run record; a run record that cannot be written turns a success
  // into the failure to record it.
  void Finish(Store* store, RunSummary* step, const Status& error);
  void Raise(Alert alert);

 private:
  // `store` (may be null) names the table a declared processor writes.
  void RaiseStepAlerts(const RunSummary& step, const Store* store);
  // Whether the dashboard's mirror of a breaker needs rewriting: when its state or failure
  // count changed since this reporter last wrote it, else at most once a minute.
  bool MirrorDue(const BreakerStatus& status);

  Deps d_;
  struct Mirrored {
    BreakerState state;
    int consecutive_failures;
    int64_t at_micros;
  };
  std::mutex mirror_mu_;  // guards mirrored_
  std::map<std::string, Mirrored> mirrored_;
};

}  // namespace propgrade

// Alerter: raises alerts off the run's critical path. Raise() logs the alert at once and queues
// it; a background thread folds repeats of the same type and subject within
// `min_interval_seconds` (across processes, through the alerts table; the folded count rides on
// the next alert sent), delivers to the webhook sinks with retries and back-off, records every
// alert in the alerts table and counts deliveries in alerts_sent_total{type,result}.
// Sending never blocks or fails a run. Thread-safe.
#pragma once

#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "observe/alerts.h"
#include "observe/log.h"
#include "observe/metrics.h"
#include "store/store.h"

namespace propgrade {

struct AlerterOptions {
  double min_interval_seconds = 300;  // Default: 300
  int max_attempts = 3;               // per sink and alert. Default: 3
  int64_t first_backoff_micros = 500000;  // doubles per retry. Default: 0.5 s
};

class Alerter {
 public:
  // `store` and `metrics` may be null. Pointers must outlive the Alerter.
  Alerter(Store* store, std::vector<std::unique_ptr<AlertSink>> sinks, Metrics* metrics,
          Logger* log, Clock* clock, AlerterOptions options);
  ~Alerter();  // delivers what is queued (up to 10 s), then stops

  void Raise(Alert alert);
  // Waits until the queue is delivered or `timeout_micros` passed (real time).
  void Flush(int64_t timeout_micros);

 private:
  struct Pending {
    Alert alert;
    int64_t at_micros;
  };
  void Run();
  void Deliver(const Pending& p);

  Store* store_;
  std::vector<std::unique_ptr<AlertSink>> sinks_;
  Metrics* metrics_;
  Logger* log_;
  Clock* clock_;
  AlerterOptions options_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Pending> queue_;
  bool busy_ = false;
  bool stopping_ = false;
  std::map<std::string, int64_t> last_sent_;  // when the store cannot say: type|subject → time
  std::map<std::string, int64_t> folded_;     // ... and folded since
  std::thread thread_;
};

}  // namespace propgrade

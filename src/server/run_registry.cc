#include "server/run_registry.h"

#include <algorithm>
#include <chrono>
#include <nlohmann/json.hpp>

namespace propgrade::server {

using json = nlohmann::json;

std::string_view RunStateName(RunState s) {
  switch (s) {
    case RunState::kQueued: return "queued";
    case RunState::kRunning: return "running";
    case RunState::kFinished: return "finished";
    case RunState::kAbandoned: return "abandoned";
  }
  return "unknown";
}

namespace {

// The step that decides the run's exit code and HTTP status (the first of the worst).
const RunSummary* DecidingStep(const DateRun& run) {
  const RunSummary* worst = nullptr;
  for (const RunSummary& s : run.steps) {
    if (!worst || WorseExitCode(worst->exit_code(), s.exit_code()) != worst->exit_code()) {
      worst = &s;
    }
  }
  return worst;
}

}  // namespace

int RunView::http_status() const {
  if (state == RunState::kQueued || state == RunState::kRunning) return 202;
  const RunSummary* s = DecidingStep(result);
  if (!s) return 503;  // abandoned at shutdown
  return PolicyFor(s->status, s->duplicates_detected()).http_status;
}

double RunView::retry_after_seconds() const {
  const RunSummary* s = DecidingStep(result);
  return s && s->status == RunStatus::kCircuitOpen ? s->retry_after_seconds : 0;
}

std::string RunView::ToJson() const {
  json out;
  if (!result.steps.empty()) {
    out = json::parse(result.steps.front().ToJson());
  } else {
    RunSummary pending;  // the columns, all null but the ids
    json j = json::parse(pending.ToJson());
    for (auto& [k, v] : j.items()) out[k] = nullptr;
    out["processor"] = "grading";
    out["partition"] = date.ToString();
    out["game_date"] = date.ToString();
    out["trigger_source"] = options.trigger_source;
    out["correlation_id"] =
        options.correlation_id.empty() ? json(nullptr) : json(options.correlation_id);
  }
  out["run_id"] = run_id;
  out["state"] = RunStateName(state);
  out["joined"] = joined;
  if (state == RunState::kFinished) {
    out["exit_code"] = static_cast<int>(result.exit_code());
  } else {
    out["exit_code"] = nullptr;
  }
  out["steps"] = json::array();
  for (const RunSummary& s : result.steps) out["steps"].push_back(json::parse(s.ToJson()));
  return out.dump();
}

struct RunRegistry::Entry {
  RunView view;
};

RunRegistry::RunRegistry(Executor executor, IdSource new_id, Clock* clock, int max_parallel,
                         size_t keep_finished)
    : executor_(std::move(executor)),
      new_id_(std::move(new_id)),
      clock_(clock),
      max_parallel_(std::max(1, max_parallel)),
      keep_finished_(keep_finished) {
  for (int i = 0; i < max_parallel_; ++i) {
    threads_.emplace_back([this] {
      while (true) {
        std::shared_ptr<Entry> next;
        {
          std::unique_lock<std::mutex> lock(mu_);
          cv_.wait(lock, [&] { return shutting_down_ || !queue_.empty(); });
          if (queue_.empty()) return;  // shutting down
          next = queue_.front();
          queue_.pop_front();
          next->view.state = RunState::kRunning;
          ++running_;
        }
        Execute(next);
      }
    });
  }
}

RunRegistry::~RunRegistry() { Shutdown(INT64_MAX); }

StatusOr<Submission> RunRegistry::Submit(CivilDay date, const RunOptions& options) {
  std::lock_guard<std::mutex> lock(mu_);
  if (shutting_down_) return UnavailableError("the server is shutting down");
  if (auto it = in_flight_.find(date); it != in_flight_.end()) {
    ++runs_.at(it->second)->view.joined;
    return Submission{it->second, true};
  }
  auto entry = std::make_shared<Entry>();
  entry->view.run_id = new_id_();
  entry->view.date = date;
  entry->view.options = options;
  entry->view.submitted_at_micros = clock_->NowMicros();
  runs_[entry->view.run_id] = entry;
  in_flight_[date] = entry->view.run_id;
  queue_.push_back(entry);
  cv_.notify_all();
  return Submission{entry->view.run_id, false};
}

void RunRegistry::Execute(std::shared_ptr<Entry> entry) {
  DateRun result = executor_(entry->view.date, entry->view.run_id, entry->view.options);
  std::lock_guard<std::mutex> lock(mu_);
  entry->view.result = std::move(result);
  entry->view.state = RunState::kFinished;
  entry->view.finished_at_micros = clock_->NowMicros();
  in_flight_.erase(entry->view.date);
  finished_order_.push_back(entry->view.run_id);
  --running_;
  PruneLocked();
  cv_.notify_all();
}

void RunRegistry::PruneLocked() {
  while (finished_order_.size() > keep_finished_) {
    runs_.erase(finished_order_.front());
    finished_order_.pop_front();
  }
}

std::optional<RunView> RunRegistry::Get(const std::string& run_id) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = runs_.find(run_id);
  if (it == runs_.end()) return std::nullopt;
  return it->second->view;
}

std::vector<RunView> RunRegistry::ForDate(CivilDay date) const {
  std::vector<RunView> out;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [id, e] : runs_) {
      if (e->view.date == date) out.push_back(e->view);
    }
  }
  std::sort(out.begin(), out.end(), [](const RunView& a, const RunView& b) {
    return a.submitted_at_micros != b.submitted_at_micros
               ? a.submitted_at_micros > b.submitted_at_micros
               : a.run_id > b.run_id;
  });
  return out;
}

namespace {
// Beyond a day counts as "wait as long as it takes" (and keeps the deadline arithmetic in
// range).
constexpr int64_t kDayMicros = int64_t{86400} * 1000000;
}  // namespace

std::optional<RunView> RunRegistry::Wait(const std::string& run_id,
                                         int64_t timeout_micros) const {
  std::unique_lock<std::mutex> lock(mu_);
  auto it = runs_.find(run_id);
  if (it == runs_.end()) return std::nullopt;
  std::shared_ptr<Entry> e = it->second;
  auto done = [&] {
    return e->view.state == RunState::kFinished || e->view.state == RunState::kAbandoned;
  };
  if (timeout_micros >= kDayMicros) {
    cv_.wait(lock, done);
  } else {
    cv_.wait_for(lock, std::chrono::microseconds(std::max<int64_t>(0, timeout_micros)), done);
  }
  return e->view;
}

int RunRegistry::active() const {
  std::lock_guard<std::mutex> lock(mu_);
  return static_cast<int>(in_flight_.size());
}

int RunRegistry::Shutdown(int64_t grace_micros) {
  std::unique_lock<std::mutex> lock(mu_);
  shutting_down_ = true;
  for (auto& e : queue_) {
    e->view.state = RunState::kAbandoned;
    e->view.finished_at_micros = clock_->NowMicros();
    in_flight_.erase(e->view.date);
  }
  queue_.clear();
  cv_.notify_all();
  if (grace_micros >= kDayMicros) {
    cv_.wait(lock, [&] { return running_ == 0; });
  } else {
    cv_.wait_for(lock, std::chrono::microseconds(grace_micros), [&] { return running_ == 0; });
  }
  int still = running_;
  lock.unlock();
  if (still == 0) {
    for (auto& t : threads_) {
      if (t.joinable()) t.join();
    }
  }
  return still;
}

}  // namespace propgrade::server

#include "server/run_registry.h"

#include <gtest/gtest.h>

#include <atomic>
#include <nlohmann/json.hpp>
#include <set>

#include "testing/fake_clock.h"

namespace propgrade::server {
namespace {

using json = nlohmann::json;

// An executor that blocks every run until released and counts the runs per date.
class GatedExecutor {
 public:
  DateRun operator()(CivilDay date, const std::string& run_id, const RunOptions& options) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      ++started_[date.ToString()];
      ++running_;
      cv_.notify_all();
      cv_.wait(lock, [&] { return open_; });
      --running_;
    }
    DateRun run;
    run.date = date;
    run.run_id = run_id;
    RunSummary step;
    step.run_id = run_id;
    step.processor = "grading";
    step.game_date = date;
    step.status = status_;
    step.trigger_source = options.trigger_source;
    run.steps.push_back(step);
    return run;
  }
  void Open() {
    std::lock_guard<std::mutex> lock(mu_);
    open_ = true;
    cv_.notify_all();
  }
  void WaitRunning(int n) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return running_ >= n; });
  }
  int started(const std::string& date) {
    std::lock_guard<std::mutex> lock(mu_);
    return started_[date];
  }
  int running() {
    std::lock_guard<std::mutex> lock(mu_);
    return running_;
  }
  RunStatus status_ = RunStatus::kSuccess;

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = false;
  int running_ = 0;
  std::map<std::string, int> started_;
};

class RunRegistryTest : public ::testing::Test {
 protected:
  std::unique_ptr<RunRegistry> Make(int parallel) {
    return std::make_unique<RunRegistry>(
        [this](CivilDay d, const std::string& id, const RunOptions& o) { return exec_(d, id, o); },
        [this] { return "run-" + std::to_string(++ids_); }, &clock_, parallel);
  }
  CivilDay Day(const char* s) { return *CivilDay::Parse(s); }

  GatedExecutor exec_;
  std::atomic<int> ids_{0};
  testing::FakeClock clock_;
};

TEST_F(RunRegistryTest, ConcurrentTriggersForADateJoinOneRun) {
  auto reg = Make(2);
  std::vector<std::thread> callers;
  std::mutex mu;
  std::set<std::string> ids;
  int joined = 0;
  for (int i = 0; i < 100; ++i) {
    callers.emplace_back([&] {
      auto s = reg->Submit(Day("2026-01-16"), RunOptions{});
      ASSERT_TRUE(s.ok());
      std::lock_guard<std::mutex> lock(mu);
      ids.insert(s->run_id);
      joined += s->joined;
    });
  }
  for (auto& t : callers) t.join();
  EXPECT_EQ(ids.size(), 1u);
  EXPECT_EQ(joined, 99);
  exec_.WaitRunning(1);
  EXPECT_EQ(reg->Get(*ids.begin())->state, RunState::kRunning);
  EXPECT_EQ(reg->Get(*ids.begin())->joined, 99);
  exec_.Open();
  auto done = reg->Wait(*ids.begin());
  ASSERT_TRUE(done.has_value());
  EXPECT_EQ(done->state, RunState::kFinished);
  EXPECT_EQ(exec_.started("2026-01-16"), 1);
  // Once finished, a new trigger starts a new run.
  auto again = reg->Submit(Day("2026-01-16"), RunOptions{});
  EXPECT_FALSE(again->joined);
  EXPECT_NE(again->run_id, *ids.begin());
  reg->Wait(again->run_id);
  EXPECT_EQ(exec_.started("2026-01-16"), 2);
  EXPECT_EQ(reg->ForDate(Day("2026-01-16")).front().run_id, again->run_id);  // newest first
}

TEST_F(RunRegistryTest, DatesRunInParallelUpToTheLimitAndShutdownAbandonsTheQueue) {
  auto reg = Make(2);
  auto a = reg->Submit(Day("2026-01-14"), RunOptions{});
  auto b = reg->Submit(Day("2026-01-15"), RunOptions{});
  auto c = reg->Submit(Day("2026-01-16"), RunOptions{});
  exec_.WaitRunning(2);
  EXPECT_EQ(exec_.running(), 2);
  EXPECT_EQ(reg->Get(c->run_id)->state, RunState::kQueued);
  EXPECT_EQ(reg->active(), 3);
  std::thread release([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    exec_.Open();
  });
  EXPECT_EQ(reg->Shutdown(60 * 1000000LL), 0);
  release.join();
  EXPECT_EQ(reg->Get(a->run_id)->state, RunState::kFinished);
  EXPECT_EQ(reg->Get(b->run_id)->state, RunState::kFinished);
  auto abandoned = reg->Wait(c->run_id);
  EXPECT_EQ(abandoned->state, RunState::kAbandoned);
  EXPECT_EQ(abandoned->http_status(), 503);
  EXPECT_EQ(exec_.started("2026-01-16"), 0);  // never started: wrote nothing
  EXPECT_EQ(reg->Submit(Day("2026-01-17"), RunOptions{}).status().code(),
            StatusCode::kUnavailable);
}

TEST_F(RunRegistryTest, WaitWithATimeoutReturnsTheRunStillRunning) {
  auto reg = Make(1);
  auto a = reg->Submit(Day("2026-01-15"), RunOptions{});
  auto b = reg->Submit(Day("2026-01-16"), RunOptions{});
  exec_.WaitRunning(1);  // a runs (held by the gate), b waits in the queue
  auto running = reg->Wait(a->run_id, 1000);
  ASSERT_TRUE(running.has_value());
  EXPECT_EQ(running->state, RunState::kRunning);
  EXPECT_EQ(running->http_status(), 202);
  EXPECT_EQ(reg->Wait(b->run_id, 0)->state, RunState::kQueued);
  EXPECT_FALSE(reg->Wait("no-such-run", 1000).has_value());
  exec_.Open();
  EXPECT_EQ(reg->Wait(a->run_id, 3600 * 1000000LL)->state, RunState::kFinished);
  EXPECT_EQ(reg->Wait(b->run_id)->state, RunState::kFinished);
}

TEST_F(RunRegistryTest, SummaryJsonAndHttpStatusFollowTheWorstStep) {
  exec_.status_ = RunStatus::kLockTimeout;
  exec_.Open();
  auto reg = Make(1);
  RunOptions options;
  options.trigger_source = "pubsub";
  auto s = reg->Submit(Day("2026-01-16"), options);
  auto view = reg->Wait(s->run_id);
  EXPECT_EQ(view->http_status(), 503);
  json j = json::parse(view->ToJson());
  EXPECT_EQ(j["run_id"], s->run_id);
  EXPECT_EQ(j["state"], "finished");
  EXPECT_EQ(j["status"], "lock_timeout");
  EXPECT_EQ(j["game_date"], "2026-01-16");
  EXPECT_EQ(j["exit_code"], 3);
  EXPECT_TRUE(j["rows_written"].is_null());
  EXPECT_EQ(j["steps"].size(), 1u);
  EXPECT_EQ(j["steps"][0]["trigger_source"], "pubsub");

  RunView queued;
  queued.run_id = "r";
  queued.date = Day("2026-01-16");
  json q = json::parse(queued.ToJson());
  EXPECT_EQ(q["state"], "queued");
  EXPECT_TRUE(q["status"].is_null());
  EXPECT_TRUE(q["exit_code"].is_null());
  EXPECT_EQ(queued.http_status(), 202);
}

}  // namespace
}  // namespace propgrade::server

#include "safety/circuit_breaker.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testing/fake_clock.h"
#include "testing/temp_dir.h"

namespace propgrade {
namespace {

class CircuitBreakerTest : public ::testing::Test {
 protected:
  testing::TempDir dir_;
  testing::FakeClock clock_;
  std::string file_ = dir_.path() + "/state/breakers.json";
  CircuitBreaker breaker_{file_, 3, 300, &clock_};
};

TEST_F(CircuitBreakerTest, TickHalfOpensOnlyAfterTheWaitAndLeavesTheTrialFree) {
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(breaker_.Record("grading", RunStatus::kUnavailable).ok());
  clock_.AdvanceSeconds(299);
  EXPECT_TRUE(breaker_.Tick()->empty());
  EXPECT_EQ(breaker_.List()->at(0).state, BreakerState::kOpen);
  clock_.AdvanceSeconds(1);
  auto moved = breaker_.Tick();
  ASSERT_EQ(moved->size(), 1u);
  EXPECT_EQ(moved->at(0).status.name, "grading");
  EXPECT_EQ(moved->at(0).to, BreakerState::kHalfOpen);
  EXPECT_TRUE(breaker_.Tick()->empty());  // once
  auto trial = breaker_.Allow("grading");
  EXPECT_TRUE(trial->allowed);
  EXPECT_EQ(trial->state, BreakerState::kHalfOpen);
  EXPECT_FALSE(breaker_.Allow("grading")->allowed);
}

TEST_F(CircuitBreakerTest, OpensAfterConsecutiveFailuresAndHalfOpensAfterTheWait) {
  EXPECT_TRUE(breaker_.Allow("grading")->allowed);
  EXPECT_EQ(breaker_.Record("grading", RunStatus::kUnavailable)->to, BreakerState::kClosed);
  EXPECT_EQ(breaker_.Record("grading", RunStatus::kFailed)->to, BreakerState::kClosed);
  // Safety refusals neither count nor reset the count.
  EXPECT_EQ(breaker_.Record("grading", RunStatus::kLockTimeout)->to, BreakerState::kClosed);
  auto opened = breaker_.Record("grading", RunStatus::kUnavailable);
  EXPECT_TRUE(opened->opened());
  EXPECT_EQ(opened->status.consecutive_failures, 3);
  auto refused = breaker_.Allow("grading");
  EXPECT_FALSE(refused->allowed);
  EXPECT_EQ(refused->state, BreakerState::kOpen);
  EXPECT_DOUBLE_EQ(refused->retry_after_seconds, 300);
  EXPECT_TRUE(breaker_.Allow("daily_performance")->allowed);  // breakers are per processor
  clock_.AdvanceSeconds(299);
  EXPECT_FALSE(breaker_.Allow("grading")->allowed);
  clock_.AdvanceSeconds(1);
  auto trial = breaker_.Allow("grading");
  EXPECT_TRUE(trial->allowed);
  EXPECT_EQ(trial->state, BreakerState::kHalfOpen);
  EXPECT_FALSE(breaker_.Allow("grading")->allowed);  // only one trial at a time
  // The trial fails: open again for another open_seconds.
  EXPECT_TRUE(breaker_.Record("grading", RunStatus::kUnavailable)->opened());
  EXPECT_FALSE(breaker_.Allow("grading")->allowed);
  clock_.AdvanceSeconds(300);
  EXPECT_TRUE(breaker_.Allow("grading")->allowed);
  auto closed = breaker_.Record("grading", RunStatus::kSuccess);
  EXPECT_EQ(closed->from, BreakerState::kHalfOpen);
  EXPECT_EQ(closed->to, BreakerState::kClosed);
  EXPECT_EQ(closed->status.consecutive_failures, 0);
  EXPECT_TRUE(breaker_.Allow("grading")->allowed);
}

TEST_F(CircuitBreakerTest, AStalledTrialDoesNotBlockForever) {
  for (int i = 0; i < 3; ++i) breaker_.Record("grading", RunStatus::kFailed).status().IgnoreError();
  clock_.AdvanceSeconds(300);
  EXPECT_TRUE(breaker_.Allow("grading")->allowed);  // the trial never reports back
  clock_.AdvanceSeconds(300);
  EXPECT_TRUE(breaker_.Allow("grading")->allowed);  // a new trial
}

TEST_F(CircuitBreakerTest, StateIsSharedThroughTheFileAndCanBeReset) {
  CircuitBreaker other(file_, 3, 300, &clock_);  // another process
  for (int i = 0; i < 3; ++i) other.Record("grading", RunStatus::kUnavailable).status().IgnoreError();
  EXPECT_FALSE(breaker_.Allow("grading")->allowed);
  auto list = breaker_.List();
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].state, BreakerState::kOpen);
  ASSERT_TRUE(breaker_.Reset("grading").ok());
  EXPECT_TRUE(other.Allow("grading")->allowed);
  EXPECT_EQ(breaker_.Reset("nope").code(), StatusCode::kNotFound);
}

TEST_F(CircuitBreakerTest, ConcurrentProcessesLoseNoUpdate) {
  CircuitBreaker counting(file_, 1000000, 300, &clock_);
  const int kChildren = 4, kEach = 50;
  std::vector<pid_t> pids;
  for (int c = 0; c < kChildren; ++c) {
    pid_t pid = fork();
    if (pid == 0) {
      CircuitBreaker mine(file_, 1000000, 300, &RealClock());
      for (int i = 0; i < kEach; ++i) {
        if (!mine.Record("grading", RunStatus::kFailed).ok()) _exit(1);
      }
      _exit(0);
    }
    pids.push_back(pid);
  }
  for (pid_t pid : pids) {
    int status = 0;
    waitpid(pid, &status, 0);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  EXPECT_EQ((*counting.List())[0].consecutive_failures, kChildren * kEach);
}

}  // namespace
}  // namespace propgrade

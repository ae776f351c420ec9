// RunUnderLease with the `db` lock on a real SQLite file and real child processes.
#include "lockrun/lock_run.h"

#include <gtest/gtest.h>

#include <csignal>
#include <fstream>
#include <sstream>
#include <thread>

#include "store/store.h"
#include "testing/temp_dir.h"

namespace propgrade {
namespace {

constexpr int64_t kSecond = 1'000'000;

class LockRunTest : public ::testing::Test {
 protected:
  void SetUp() override {
    url_ = "sqlite:" + dir_.path() + "/l.db";
    ASSERT_TRUE(Store::Open(url_, StoreOptions{}).ok());
    locks_ = Locks("runner");
  }
  std::unique_ptr<LockService> Locks(const std::string& holder) {
    LockOptions o;
    o.holder_id = holder;
    o.store_url = url_;
    return std::move(LockService::Open("db", o)).value();
  }
  LockRunOptions Options(int64_t ttl = 5 * kSecond) {
    LockRunOptions o;
    o.key = "analytics/2026-01-16";
    o.ttl_micros = ttl;
    o.renew_every_micros = ttl / 5;
    o.grace_micros = 2 * kSecond;
    return o;
  }
  LockRunResult Run(const LockRunOptions& o, const std::string& script) {
    return RunUnderLease(locks_.get(), o, {"/bin/sh", "-c", script}, &RealClock(), &NullLogger(),
                         &cancel_);
  }
  // Force-releases the run's lease (as an operator would a stuck lock) once it is held.
  std::thread TakeTheLeaseAway() {
    return std::thread([this] {
      auto other = Locks("operator");
      for (int i = 0; i < 100; ++i) {
        auto list = other->List();
        if (list.ok() && !list->empty() && list->front().token) {
          ASSERT_TRUE(other->ForceRelease(list->front().key, *list->front().token).ok());
          return;
        }
        RealClock().SleepMicros(50'000);
      }
      ADD_FAILURE() << "the lease never showed";
    });
  }
  std::string Read(const std::string& name) {
    std::ifstream in(dir_.path() + "/" + name);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }

  testing::TempDir dir_;
  std::string url_;
  std::unique_ptr<LockService> locks_;
  CancelToken cancel_;
};

TEST_F(LockRunTest, TheCommandRunsWithTheLeaseInItsEnvironmentAndKeepsItsExitStatus) {
  LockRunOptions o = Options();
  o.env = {{"PROPGRADE_DB", url_}};
  const std::string out = dir_.path() + "/env.txt";
  LockRunResult r = Run(o,
                        "echo \"$PROPGRADE_LOCK_KEY $PROPGRADE_FENCE_TOKEN "
                        "$PROPGRADE_FENCE_NAMESPACE $PROPGRADE_DB\" > " +
                            out + "; exit 7");
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_EQ(r.exit_status, 7);
  ASSERT_TRUE(r.lease.token.has_value());
  EXPECT_EQ(Read("env.txt"),
            "analytics/2026-01-16 " + std::to_string(*r.lease.token) + " db " + url_ + "\n");
  // Released when the command ended: the next holder gets the key at once, with a newer token.
  auto next = Locks("other")->Acquire("analytics/2026-01-16", kSecond, 0);
  ASSERT_TRUE(next.ok()) << next.status().ToString();
  EXPECT_GT(next->token.value_or(0), *r.lease.token);
}

TEST_F(LockRunTest, AKeyHeldElsewhereTimesOutAndTheCommandNeverStarts) {
  auto other = Locks("other");
  auto held = other->Acquire("analytics/2026-01-16", 30 * kSecond, 0);
  ASSERT_TRUE(held.ok());
  LockRunResult r = Run(Options(), "touch " + dir_.path() + "/ran");
  EXPECT_EQ(r.status.reason(), StatusReason::kLockTimeout) << r.status.ToString();
  EXPECT_FALSE(std::ifstream(dir_.path() + "/ran").good());
}

TEST_F(LockRunTest, ALostLeaseStopsTheCommand) {
  // The command waits; meanwhile the lease is taken away (a force release, as for a stuck
  // lock): the next renewal fails and the command is sent SIGTERM.
  LockRunOptions o = Options(2 * kSecond);
  std::thread taker = TakeTheLeaseAway();
  LockRunResult r = Run(o, "sleep 30");
  taker.join();
  EXPECT_EQ(r.status.reason(), StatusReason::kLockLost) << r.status.ToString();
  EXPECT_EQ(r.exit_status, 128 + SIGTERM);
}

TEST_F(LockRunTest, ACommandThatIgnoresSigtermIsKilledAfterTheGrace) {
  LockRunOptions o = Options(2 * kSecond);
  o.grace_micros = kSecond / 2;
  std::thread taker = TakeTheLeaseAway();
  LockRunResult r = Run(o, "trap '' TERM; sleep 30");
  taker.join();
  EXPECT_EQ(r.status.reason(), StatusReason::kLockLost);
  EXPECT_EQ(r.exit_status, 128 + SIGKILL);
}

TEST_F(LockRunTest, AnInterruptStopsTheCommand) {
  std::thread stopper([&] {
    RealClock().SleepMicros(300'000);
    cancel_.Cancel();
  });
  LockRunResult r = Run(Options(), "sleep 30");
  stopper.join();
  EXPECT_EQ(r.status.code(), StatusCode::kCancelled);
  EXPECT_EQ(r.exit_status, 128 + SIGTERM);
}

TEST_F(LockRunTest, AMissingCommandIsAnErrorAndTheLeaseIsReleased) {
  LockRunResult r = RunUnderLease(locks_.get(), Options(), {"/no/such/command"}, &RealClock(),
                                  &NullLogger(), &cancel_);
  EXPECT_EQ(r.status.code(), StatusCode::kNotFound) << r.status.ToString();
  EXPECT_TRUE(Locks("other")->Acquire("analytics/2026-01-16", kSecond, 0).ok());
}

}  // namespace
}  // namespace propgrade

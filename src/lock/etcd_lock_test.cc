// The etcd backend against a real etcd (scripts/test.sh starts one and sets
// PROPGRADE_TEST_ETCD=host:port; and a 3-node cluster in PROPGRADE_TEST_ETCD_CLUSTER with the
// member PIDs in PROPGRADE_TEST_ETCD_CLUSTER_PIDS). Short real TTLs.
#include <gtest/gtest.h>
#include <signal.h>

#include <cstdlib>
#include <thread>

#include "common/strings.h"
#include "lock/lease_keeper.h"
#include "lock/lock_service.h"

namespace propgrade {
namespace {

constexpr int64_t kSecond = 1000000;

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

std::unique_ptr<LockService> OpenEtcd(const std::string& endpoints, const std::string& holder) {
  LockOptions o;
  o.holder_id = holder;
  auto s = LockService::Open("etcd://" + endpoints, o);
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return s.ok() ? std::move(s).value() : nullptr;
}

class EtcdLockTest : public ::testing::Test {
 protected:
  void SetUp() override {
    endpoint_ = Env("PROPGRADE_TEST_ETCD");
    if (endpoint_.empty()) GTEST_SKIP() << "PROPGRADE_TEST_ETCD is not set";
    key_ = "test/" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()) +
           "-" + std::to_string(getpid());
    a_ = OpenEtcd(endpoint_, "host-a:1:aaaa");
    b_ = OpenEtcd(endpoint_, "host-b:2:bbbb");
    ASSERT_TRUE(a_ && b_);
  }
  std::string endpoint_, key_;
  std::unique_ptr<LockService> a_, b_;
};

TEST_F(EtcdLockTest, AcquireReleaseAndIncreasingTokens) {
  auto l1 = a_->Acquire(key_, 5 * kSecond, 0);
  ASSERT_TRUE(l1.ok()) << l1.status().ToString();
  ASSERT_TRUE(l1->token.has_value());
  EXPECT_EQ(b_->Acquire(key_, 5 * kSecond, 0).status().reason(), StatusReason::kLockTimeout);
  ASSERT_TRUE(a_->Release(*l1).ok());
  auto l2 = b_->Acquire(key_, 5 * kSecond, 0);
  ASSERT_TRUE(l2.ok()) << l2.status().ToString();
  EXPECT_GT(*l2->token, *l1->token);
  EXPECT_EQ(a_->fence_namespace().rfind("etcd:", 0), 0u);
  EXPECT_GT(a_->fence_namespace().size(), 5u);
  ASSERT_TRUE(b_->Release(*l2).ok());
}

TEST_F(EtcdLockTest, WaiterGetsTheLockWhenTheHolderReleases) {
  auto l1 = a_->Acquire(key_, 5 * kSecond, 0);
  ASSERT_TRUE(l1.ok());
  std::thread releaser([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(700));
    a_->Release(*l1).IgnoreError();
  });
  auto l2 = b_->Acquire(key_, 5 * kSecond, 10 * kSecond);
  releaser.join();
  ASSERT_TRUE(l2.ok()) << l2.status().ToString();
  EXPECT_GT(*l2->token, *l1->token);
  EXPECT_GE(l2->wait_seconds, 0.5);
  b_->Release(*l2).IgnoreError();
}

TEST_F(EtcdLockTest, ExpiredLeaseIsTakenOverAndTheOldHolderLosesIt) {
  auto l1 = a_->Acquire(key_, 2 * kSecond, 0);  // never renewed
  ASSERT_TRUE(l1.ok());
  auto l2 = b_->Acquire(key_, 5 * kSecond, 10 * kSecond);
  ASSERT_TRUE(l2.ok()) << l2.status().ToString();
  EXPECT_GE(l2->wait_seconds, 1.0);
  EXPECT_GT(*l2->token, *l1->token);
  Lease stale = *l1;
  EXPECT_EQ(a_->Renew(&stale).reason(), StatusReason::kLockLost);
  b_->Release(*l2).IgnoreError();
}

TEST_F(EtcdLockTest, TimeoutLeavesTheQueue) {
  auto l1 = a_->Acquire(key_, 5 * kSecond, 0);
  ASSERT_TRUE(l1.ok());
  auto timed_out = b_->Acquire(key_, 5 * kSecond, 1 * kSecond);
  EXPECT_EQ(timed_out.status().reason(), StatusReason::kLockTimeout);
  auto list = a_->List();
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  for (const LockInfo& info : *list) {
    if (info.key == key_) EXPECT_EQ(info.waiters, 0);  // b revoked its waiting key
  }
  a_->Release(*l1).IgnoreError();
}

TEST_F(EtcdLockTest, KeeperRenewsPastTheTtlAndForceReleaseIsNoticed) {
  auto held = a_->Acquire(key_, 2 * kSecond, 0);
  ASSERT_TRUE(held.ok());
  LeaseKeeper keeper(a_.get(), &*held, &RealClock(), 500000);
  keeper.Start();
  std::this_thread::sleep_for(std::chrono::milliseconds(3000));
  EXPECT_TRUE(keeper.CheckHeld().ok());
  auto list = b_->List();
  ASSERT_TRUE(list.ok());
  bool listed = false;
  for (const LockInfo& info : *list) {
    if (info.key == key_) {
      listed = true;
      EXPECT_EQ(info.holder_id, "host-a:1:aaaa");
      EXPECT_EQ(info.token, held->token);
    }
  }
  EXPECT_TRUE(listed);
  EXPECT_TRUE(*b_->ForceRelease(key_));
  std::this_thread::sleep_for(std::chrono::milliseconds(1200));
  EXPECT_EQ(keeper.CheckHeld().reason(), StatusReason::kLockLost);
  keeper.Stop();
}

TEST(EtcdClusterTest, LockKeepsWorkingWithAFollowerStopped) {
  std::string endpoints = Env("PROPGRADE_TEST_ETCD_CLUSTER");
  std::string pids = Env("PROPGRADE_TEST_ETCD_CLUSTER_PIDS");
  std::string follower_pid = Env("PROPGRADE_TEST_ETCD_CLUSTER_FOLLOWER_PID");
  if (endpoints.empty() || follower_pid.empty()) {
    GTEST_SKIP() << "PROPGRADE_TEST_ETCD_CLUSTER(_FOLLOWER_PID) not set";
  }
  pid_t follower = static_cast<pid_t>(std::stol(follower_pid));
  auto a = OpenEtcd(endpoints, "cluster-a");
  auto b = OpenEtcd(endpoints, "cluster-b");
  ASSERT_TRUE(a && b);
  std::string key = "test/cluster-" + std::to_string(getpid());
  ASSERT_EQ(kill(follower, SIGSTOP), 0);
  int64_t last_token = 0;
  for (int i = 0; i < 5; ++i) {
    auto l = (i % 2 ? a : b)->Acquire(key, 3 * kSecond, 5 * kSecond);
    ASSERT_TRUE(l.ok()) << i << ": " << l.status().ToString();
    EXPECT_GT(*l->token, last_token);
    last_token = *l->token;
    ASSERT_TRUE((i % 2 ? a : b)->Release(*l).ok());
  }
  kill(follower, SIGCONT);
}

}  // namespace
}  // namespace propgrade

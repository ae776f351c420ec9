#include "lock/lock_service.h"

#include <gtest/gtest.h>

#include "lock/lease_keeper.h"
#include "lock/sweeper.h"
#include "store/store.h"
#include "testing/fake_clock.h"
#include "testing/temp_dir.h"

namespace propgrade {
namespace {

constexpr int64_t kSecond = 1000000;

// The `db` backend on a real SQLite file, with time under the test's control.
class DbLockTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = dir_.path() + "/locks.db";
    StoreOptions so;
    so.clock = &clock_;
    auto store = Store::Open("sqlite:" + path_, so);  // creates the lock tables
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    a_ = Open("host-a:1:aaaa");
    b_ = Open("host-b:2:bbbb");
  }
  std::unique_ptr<LockService> Open(const std::string& holder) {
    LockOptions o;
    o.clock = &clock_;
    o.holder_id = holder;
    o.sqlite_path = path_;
    auto s = LockService::Open("db", o);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return std::move(s).value();
  }

  testing::TempDir dir_;
  testing::FakeClock clock_;
  std::string path_;
  std::unique_ptr<LockService> a_, b_;
};

TEST_F(DbLockTest, TokensStrictlyIncreasePerKey) {
  auto l1 = a_->Acquire("grading/2026-01-16", 10 * kSecond, 0);
  ASSERT_TRUE(l1.ok()) << l1.status().ToString();
  EXPECT_EQ(l1->token, 1);
  EXPECT_EQ(l1->holder_id, "host-a:1:aaaa");
  ASSERT_TRUE(a_->Release(*l1).ok());
  auto l2 = b_->Acquire("grading/2026-01-16", 10 * kSecond, 0);
  ASSERT_TRUE(l2.ok());
  EXPECT_EQ(l2->token, 2);
  auto other = a_->Acquire("grading/2026-01-17", 10 * kSecond, 0);
  EXPECT_EQ(other->token, 1);  // per key
  EXPECT_EQ(a_->fence_namespace(), "db");
}

TEST_F(DbLockTest, TryOnceFailsFastWhileHeld) {
  auto held = a_->Acquire("k", 10 * kSecond, 0);
  ASSERT_TRUE(held.ok());
  int64_t before = clock_.SteadyMicros();
  auto second = b_->Acquire("k", 10 * kSecond, 0);
  EXPECT_EQ(second.status().reason(), StatusReason::kLockTimeout);
  EXPECT_EQ(second.status().code(), StatusCode::kDeadlineExceeded);
  EXPECT_NE(second.status().message().find("host-a:1:aaaa"), std::string::npos);
  EXPECT_EQ(clock_.SteadyMicros(), before);  // tried exactly once, no waiting
}

TEST_F(DbLockTest, TimeoutWaitsMaxWaitWithBoundedBackoff) {
  ASSERT_TRUE(a_->Acquire("k", 600 * kSecond, 0).ok());
  int64_t before = clock_.SteadyMicros();
  auto second = b_->Acquire("k", 10 * kSecond, 30 * kSecond);
  EXPECT_EQ(second.status().reason(), StatusReason::kLockTimeout);
  int64_t waited = clock_.SteadyMicros() - before;
  EXPECT_GE(waited, 30 * kSecond);
  EXPECT_LE(waited, 30 * kSecond + 5 * kSecond);  // never sleeps far past the deadline
  for (int i = 0; i < 20; ++i) EXPECT_LE(BackoffMicros(i), 5 * kSecond);
}

TEST_F(DbLockTest, WaiterTakesOverAnExpiredLease) {
  auto held = a_->Acquire("k", 10 * kSecond, 0);
  ASSERT_TRUE(held.ok());
  // b waits; a never renews, so its lease runs out and b gets the key with a newer token.
  auto taken = b_->Acquire("k", 10 * kSecond, 60 * kSecond);
  ASSERT_TRUE(taken.ok()) << taken.status().ToString();
  EXPECT_GT(*taken->token, *held->token);
  EXPECT_GE(taken->wait_seconds, 10.0);
  // The old holder can neither renew nor release the new holder's lease.
  Lease stale = *held;
  EXPECT_EQ(a_->Renew(&stale).reason(), StatusReason::kLockLost);
  ASSERT_TRUE(a_->Release(*held).ok());
  auto list = b_->List();
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].holder_id, "host-b:2:bbbb");
}

TEST_F(DbLockTest, RenewExtendsTheLease) {
  auto held = a_->Acquire("k", 10 * kSecond, 0);
  ASSERT_TRUE(held.ok());
  for (int i = 0; i < 5; ++i) {
    clock_.AdvanceSeconds(6);
    ASSERT_TRUE(a_->Renew(&*held).ok()) << i;
  }
  EXPECT_EQ(b_->Acquire("k", 10 * kSecond, 0).status().reason(), StatusReason::kLockTimeout);
  clock_.AdvanceSeconds(11);
  EXPECT_EQ(a_->Renew(&*held).reason(), StatusReason::kLockLost);  // expired: lost for good
}

TEST_F(DbLockTest, ReleaseByNonOwnerIsRefused) {
  auto held = a_->Acquire("k", 10 * kSecond, 0);
  ASSERT_TRUE(held.ok());
  Lease forged = *held;
  forged.holder_id = "host-b:2:bbbb";
  ASSERT_TRUE(b_->Release(forged).ok());  // no-op: the holder does not match
  Lease old_token = *held;
  old_token.token = *held->token - 1;
  ASSERT_TRUE(a_->Release(old_token).ok());  // no-op: the token does not match
  EXPECT_EQ(b_->Acquire("k", 10 * kSecond, 0).status().reason(), StatusReason::kLockTimeout);
  ASSERT_TRUE(a_->Release(*held).ok());
  EXPECT_TRUE(b_->Acquire("k", 10 * kSecond, 0).ok());
}

TEST_F(DbLockTest, ForceReleaseAndList) {
  auto held = a_->Acquire("grading/2026-01-16", 10 * kSecond, 0);
  ASSERT_TRUE(held.ok());
  auto list = a_->List();
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].key, "grading/2026-01-16");
  EXPECT_EQ((*list)[0].token, 1);
  EXPECT_EQ((*list)[0].expires_at_micros - (*list)[0].acquired_at_micros, 10 * kSecond);
  EXPECT_TRUE(*b_->ForceRelease("grading/2026-01-16"));
  EXPECT_FALSE(*b_->ForceRelease("grading/2026-01-16"));
  EXPECT_TRUE(a_->List()->empty());
  EXPECT_EQ(a_->Renew(&*held).reason(), StatusReason::kLockLost);
  EXPECT_EQ(b_->Acquire("grading/2026-01-16", 10 * kSecond, 0)->token, 2);
}

TEST_F(DbLockTest, KeeperRenewsAndNoticesLoss) {
  auto held = a_->Acquire("k", 9 * kSecond, 0);
  ASSERT_TRUE(held.ok());
  LeaseKeeper keeper(a_.get(), &*held, &clock_, 3 * kSecond);
  for (int i = 0; i < 10; ++i) {
    clock_.AdvanceSeconds(3);
    keeper.Tick();
    ASSERT_TRUE(keeper.CheckHeld().ok()) << i;
  }
  // Paused past the TTL: the next renewal fails and the loss is permanent.
  clock_.AdvanceSeconds(20);
  EXPECT_EQ(keeper.CheckHeld().reason(), StatusReason::kLockLost);  // expired by our clock
  keeper.Tick();
  EXPECT_TRUE(keeper.lost());
  EXPECT_EQ(keeper.CheckHeld().reason(), StatusReason::kLockLost);
}

TEST_F(DbLockTest, KeeperSeesAForceRelease) {
  auto held = a_->Acquire("k", 9 * kSecond, 0);
  ASSERT_TRUE(held.ok());
  LeaseKeeper keeper(a_.get(), &*held, &clock_, 3 * kSecond);
  ASSERT_TRUE(*b_->ForceRelease("k"));
  clock_.AdvanceSeconds(3);
  keeper.Tick();
  EXPECT_EQ(keeper.CheckHeld().reason(), StatusReason::kLockLost);
}

TEST_F(DbLockTest, KeeperThreadRenewsInRealTime) {
  LockOptions o;
  o.holder_id = "real";
  o.sqlite_path = path_;
  auto real = LockService::Open("db", o);
  ASSERT_TRUE(real.ok());
  auto held = (*real)->Acquire("real-key", 1 * kSecond, 0);
  ASSERT_TRUE(held.ok());
  int64_t first_expiry = held->expires_at_micros;
  LeaseKeeper keeper(real->get(), &*held, &RealClock(), 100000);
  keeper.Start();
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  EXPECT_TRUE(keeper.CheckHeld().ok());  // a 1 s lease still held after 1.5 s
  keeper.Stop();
  EXPECT_GT(held->expires_at_micros, first_expiry);
}

TEST(NoneLockTest, AlwaysGrantsWithoutAToken) {
  auto none = LockService::Open("none", LockOptions{});
  ASSERT_TRUE(none.ok());
  auto a = (*none)->Acquire("k", kSecond, 0);
  auto b = (*none)->Acquire("k", kSecond, 0);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_FALSE(a->token.has_value());
  EXPECT_EQ((*none)->fence_namespace(), "none");
}

TEST(LockServiceTest, RejectsUnknownUrls) {
  EXPECT_EQ(LockService::Open("zookeeper://x", LockOptions{}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(LockService::Open("db", LockOptions{}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(LockKey("grading", "2026-01-16"), "grading/2026-01-16");
}

}  // namespace
}  // namespace propgrade

namespace propgrade {
namespace {

TEST_F(DbLockTest, SweepWarnsThenForceReleasesStuckLocks) {
  LockPolicy policy;
  policy.stuck_alert_after_seconds = 600;
  policy.stuck_release_after_seconds = 900;
  auto held = a_->Acquire("grading/2026-01-16", 300 * kSecond, 0);
  ASSERT_TRUE(held.ok());
  LeaseKeeper keeper(a_.get(), &*held, &clock_, 100 * kSecond);
  auto renew_for = [&](int seconds) {
    for (int s = 0; s < seconds; s += 100) {
      clock_.AdvanceSeconds(100);
      keeper.Tick();
    }
  };
  renew_for(500);
  EXPECT_TRUE(SweepStuckLocks(a_.get(), &clock_, policy)->empty());
  renew_for(200);  // held 700 s: warned, not released
  auto warned = SweepStuckLocks(a_.get(), &clock_, policy);
  ASSERT_EQ(warned->size(), 1u);
  EXPECT_FALSE((*warned)[0].released);
  EXPECT_NEAR((*warned)[0].held_seconds, 700, 1);
  renew_for(300);  // held 1000 s: force-released
  auto released = SweepStuckLocks(a_.get(), &clock_, policy);
  ASSERT_EQ(released->size(), 1u);
  EXPECT_TRUE((*released)[0].released);
  keeper.Tick();
  clock_.AdvanceSeconds(100);
  keeper.Tick();
  EXPECT_TRUE(keeper.lost());
  policy.stuck_release_after_seconds = 0;  // never release
  auto again = b_->Acquire("grading/2026-01-16", 3000 * kSecond, 0);
  ASSERT_TRUE(again.ok());
  clock_.AdvanceSeconds(2000);
  EXPECT_FALSE((*SweepStuckLocks(a_.get(), &clock_, policy))[0].released);
}

}  // namespace
}  // namespace propgrade

#include "lock/lock_service.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

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
  std::unique_ptr<LockService> Open(const std::string& holder, int busy_timeout_ms = 60000) {
    LockOptions o;
    o.clock = &clock_;
    o.holder_id = holder;
    o.store_url = "sqlite:" + path_;
    o.busy_timeout_ms = busy_timeout_ms;
    auto s = LockService::Open("db", o);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return std::move(s).value();
  }

  testing::TempDir dir_;
  testing::FakeClock clock_;
  std::string path_;
  std::unique_ptr<LockService> a_, b_;
};

TEST_F(DbLockTest, TokensStrictlyIncrease) {
  auto l1 = a_->Acquire("grading/2026-01-16", 10 * kSecond, 0);
  ASSERT_TRUE(l1.ok()) << l1.status().ToString();
  EXPECT_EQ(l1->token, 1);
  EXPECT_EQ(l1->holder_id, "host-a:1:aaaa");
  ASSERT_TRUE(a_->Release(*l1).ok());
  auto l2 = b_->Acquire("grading/2026-01-16", 10 * kSecond, 0);
  ASSERT_TRUE(l2.ok());
  EXPECT_EQ(l2->token, 2);
  auto other = a_->Acquire("grading/2026-01-17", 10 * kSecond, 0);
  EXPECT_EQ(other->token, 3);  // one counter for the whole database
  EXPECT_EQ(a_->fence_namespace(), "db");
}

// A drawn token comes from the same counter as the holders' tokens: above the holder's, below
// the next holder's, for every key of the database.
TEST_F(DbLockTest, DrawnTokensShareTheCounterWithAcquisitions) {
  auto held = a_->Acquire("grading/2026-01-16", 10 * kSecond, 0);
  ASSERT_TRUE(held.ok());
  EXPECT_EQ(*b_->DrawToken("grading/2026-01-16"), 2);
  EXPECT_EQ(*b_->DrawToken("summary/2026-01-16"), 3);
  ASSERT_TRUE(a_->Renew(&*held).ok());
  ASSERT_TRUE(a_->Release(*held).ok());
  EXPECT_EQ(b_->Acquire("grading/2026-01-16", 10 * kSecond, 0)->token, 4);
}

// A database from before the counter (schema version 5, per-key tokens): the migration starts
// the counter at the greatest token handed out, so every key's tokens keep increasing.
TEST_F(DbLockTest, TheCounterStartsAboveTheTokensOfAnOlderDatabase) {
  a_.reset();
  b_.reset();
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db,
                         "DROP TABLE lock_tokens; PRAGMA user_version = 5; INSERT INTO locks (key, "
                         "token) VALUES ('grading/2026-01-15', 7), ('grading/2026-01-16', 3)",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  StoreOptions so;
  so.clock = &clock_;
  ASSERT_TRUE(Store::Open("sqlite:" + path_, so).ok());  // migrates to the counter
  auto locks = Open("host-a:1:aaaa");
  EXPECT_EQ(locks->Acquire("grading/2026-01-16", 10 * kSecond, 0)->token, 8);
  EXPECT_EQ(*locks->DrawToken("grading/2026-01-17"), 9);
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
  EXPECT_FALSE(*b_->ForceRelease("grading/2026-01-16", 2));  // not the listed token
  EXPECT_TRUE(*b_->ForceRelease("grading/2026-01-16", 1));
  EXPECT_FALSE(*b_->ForceRelease("grading/2026-01-16", 1));
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

// The wall clock may jump (an NTP step, a VM resumed); the keeper judges its lease by the
// steady clock: valid for the TTL from the renewal's (here: the acquisition's) request.
TEST_F(DbLockTest, KeeperJudgesExpiryOnTheSteadyClock) {
  auto held = a_->Acquire("k", 9 * kSecond, 0);
  ASSERT_TRUE(held.ok());
  LeaseKeeper keeper(a_.get(), &*held, &clock_, 3 * kSecond);
  const int64_t wall = clock_.NowMicros();
  clock_.SetNow(wall + 3600 * kSecond);  // the wall clock jumps an hour ahead
  EXPECT_TRUE(keeper.CheckHeld().ok());
  clock_.AdvanceSeconds(9);  // the TTL passes on the steady clock without a renewal ...
  clock_.SetNow(wall);       // ... while the wall clock is stepped back
  EXPECT_EQ(keeper.CheckHeld().reason(), StatusReason::kLockLost);
}

// Forwards to a real service and tells when a renewal starts and when it has finished.
class ObservedRenewals final : public LockService {
 public:
  explicit ObservedRenewals(LockService* inner) : inner_(inner) {}
  std::string_view backend() const override { return inner_->backend(); }
  std::string fence_namespace() const override { return inner_->fence_namespace(); }
  StatusOr<Lease> Acquire(const std::string& key, int64_t ttl, int64_t wait) override {
    return inner_->Acquire(key, ttl, wait);
  }
  Status Renew(Lease* lease) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      started_ = true;
    }
    cv_.notify_all();
    Status s = inner_->Renew(lease);
    finished_ = true;
    return s;
  }
  Status Release(const Lease& lease) override { return inner_->Release(lease); }
  StatusOr<bool> ForceRelease(const std::string& key, int64_t token) override {
    return inner_->ForceRelease(key, token);
  }
  StatusOr<int64_t> DrawToken(const std::string& key) override { return inner_->DrawToken(key); }
  StatusOr<std::vector<LockInfo>> List() override { return inner_->List(); }

  void WaitUntilStarted() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return started_; });
  }
  bool finished() const { return finished_.load(); }

 private:
  LockService* inner_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool started_ = false;
  std::atomic<bool> finished_{false};
};

// The store's write transaction holds the database's write lock while it asks the keeper
// whether the lease is still held, just before COMMIT. A renewal that falls due then waits for
// that lock; the keeper must answer from what it knows instead of waiting for the renewal.
TEST_F(DbLockTest, CheckHeldAnswersWhileARenewalWaitsForTheDatabase) {
  auto locks = Open("host-a:1:aaaa", /*busy_timeout_ms=*/5000);
  auto held = locks->Acquire("k", 9 * kSecond, 0);
  ASSERT_TRUE(held.ok());
  ObservedRenewals observed(locks.get());
  LeaseKeeper keeper(&observed, &*held, &clock_, 3 * kSecond);
  sqlite3* writer = nullptr;  // the store's write transaction, on its own connection
  ASSERT_EQ(sqlite3_open(path_.c_str(), &writer), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(writer, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);
  clock_.AdvanceSeconds(3);  // a renewal is due
  std::thread renewer([&] { keeper.Tick(); });
  observed.WaitUntilStarted();
  Status answer = keeper.CheckHeld();
  const bool renewal_finished_first = observed.finished();
  sqlite3_exec(writer, "ROLLBACK", nullptr, nullptr, nullptr);
  sqlite3_close(writer);
  renewer.join();
  EXPECT_FALSE(renewal_finished_first) << "CheckHeld() waited for the renewal";
  EXPECT_TRUE(answer.ok()) << answer.ToString();
  EXPECT_FALSE(keeper.lost());  // the renewal went through once the writer was done
  EXPECT_TRUE(keeper.CheckHeld().ok());
}

// The wait for the database's write lock (a busy store writer) must not come out of a lease:
// a lease granted after a 5 s wait is valid for its whole TTL from the grant, and so is its
// renewal (R8 with staging lost 2 s leases after waits of 1.9 s).
TEST_F(DbLockTest, AWaitForTheDatabaseDoesNotShortenTheLease) {
  sqlite3* writer = nullptr;  // a store write transaction, on its own connection
  ASSERT_EQ(sqlite3_open(path_.c_str(), &writer), SQLITE_OK);
  auto busy_for_five_seconds = [&](auto&& call) {
    ASSERT_EQ(sqlite3_exec(writer, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);
    std::thread caller(call);
    std::this_thread::sleep_for(std::chrono::milliseconds(200));  // the call waits for the writer
    clock_.AdvanceSeconds(5);
    sqlite3_exec(writer, "ROLLBACK", nullptr, nullptr, nullptr);
    caller.join();
  };
  StatusOr<Lease> held = InternalError("not acquired");
  busy_for_five_seconds([&] { held = a_->Acquire("k", 9 * kSecond, 0); });
  ASSERT_TRUE(held.ok()) << held.status().ToString();
  EXPECT_EQ(held->valid_until_steady_micros, clock_.SteadyMicros() + 9 * kSecond);
  clock_.AdvanceSeconds(3);
  Status renewed = InternalError("not renewed");
  busy_for_five_seconds([&] { renewed = a_->Renew(&*held); });
  ASSERT_TRUE(renewed.ok()) << renewed.ToString();
  EXPECT_EQ(held->valid_until_steady_micros, clock_.SteadyMicros() + 9 * kSecond);
  sqlite3_close(writer);
}

TEST_F(DbLockTest, KeeperSeesAForceRelease) {
  auto held = a_->Acquire("k", 9 * kSecond, 0);
  ASSERT_TRUE(held.ok());
  LeaseKeeper keeper(a_.get(), &*held, &clock_, 3 * kSecond);
  ASSERT_TRUE(*b_->ForceRelease("k", *held->token));
  clock_.AdvanceSeconds(3);
  keeper.Tick();
  EXPECT_EQ(keeper.CheckHeld().reason(), StatusReason::kLockLost);
}

TEST_F(DbLockTest, KeeperThreadRenewsInRealTime) {
  LockOptions o;
  o.holder_id = "real";
  o.store_url = "sqlite:" + path_;
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
  EXPECT_EQ((*none)->DrawToken("k").status().code(), StatusCode::kFailedPrecondition);
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
  EXPECT_TRUE(SweepStuckLocks(a_.get(), policy)->empty());
  renew_for(200);  // held 700 s: warned, not released
  auto warned = SweepStuckLocks(a_.get(), policy);
  ASSERT_EQ(warned->size(), 1u);
  EXPECT_FALSE((*warned)[0].released);
  EXPECT_NEAR((*warned)[0].held_seconds, 700, 1);
  renew_for(300);  // held 1000 s: force-released
  auto released = SweepStuckLocks(a_.get(), policy);
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
  EXPECT_FALSE((*SweepStuckLocks(a_.get(), policy))[0].released);
}

}  // namespace
}  // namespace propgrade

// The LockService contract against every real backend with real time and short TTLs:
// db on SQLite, db on PostgreSQL (PROPGRADE_TEST_PG_URL) and etcd (PROPGRADE_TEST_ETCD).
// The FakeClock cases of the SQLite backend are in lock_service_test.cc. The 3-node cluster
// case needs PROPGRADE_TEST_ETCD_CLUSTER and PROPGRADE_TEST_ETCD_CLUSTER_FOLLOWER_PID.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <functional>
#include <optional>
#include <thread>

#include "lock/lease_keeper.h"
#include "lock/lock_service.h"
#include "lock/sweeper.h"
#include "db/pg_conn.h"
#include "store/store.h"
#include "testing/fake_clock.h"
#include "testing/pg.h"
#include "testing/temp_dir.h"
#include "testing/skip.h"

namespace propgrade {
namespace {

constexpr int64_t kSecond = 1000000;

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

class LockContractTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    LockOptions options;
    std::string url = "db";
    if (GetParam() == "sqlite") {
      options.store_url = "sqlite:" + dir_.path() + "/l.db";
      auto created = Store::Open(options.store_url, StoreOptions{});
      ASSERT_TRUE(created.ok()) << created.status().ToString();
    } else if (GetParam() == "postgres") {
      if (Env("PROPGRADE_TEST_PG_URL").empty()) PROPGRADE_SKIP_WITHOUT("PROPGRADE_TEST_PG_URL is not set");
      schema_ = "l_" + testing::RandomSchemaSuffix();
      options.store_url = Env("PROPGRADE_TEST_PG_URL") + "?schema=" + schema_;
      auto store = Store::Open(options.store_url, StoreOptions{});
      ASSERT_TRUE(store.ok()) << store.status().ToString();
    } else {
      if (Env("PROPGRADE_TEST_ETCD").empty()) PROPGRADE_SKIP_WITHOUT("PROPGRADE_TEST_ETCD is not set");
      url = "etcd://" + Env("PROPGRADE_TEST_ETCD");
    }
    key_ = "test/" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()) +
           "-" + std::to_string(getpid());
    for (auto [holder, out] : {std::pair{"host-a:1:aaaa", &a_}, std::pair{"host-b:2:bbbb", &b_}}) {
      options.holder_id = holder;
      auto s = LockService::Open(url, options);
      ASSERT_TRUE(s.ok()) << s.status().ToString();
      *out = std::move(s).value();
    }
    url_ = url;
    options_ = options;
  }
  void TearDown() override {
    a_.reset();
    b_.reset();
    if (!schema_.empty()) testing::DropPgSchema(std::getenv("PROPGRADE_TEST_PG_URL"), schema_);
  }

  testing::TempDir dir_;
  std::string schema_, key_, url_;
  LockOptions options_;
  std::unique_ptr<LockService> a_, b_;
};

TEST_P(LockContractTest, TokensIncreaseAndTryOnceFailsWhileHeld) {
  auto l1 = a_->Acquire(key_, 5 * kSecond, 0);
  ASSERT_TRUE(l1.ok()) << l1.status().ToString();
  ASSERT_TRUE(l1->token.has_value());
  auto refused = b_->Acquire(key_, 5 * kSecond, 0);
  EXPECT_EQ(refused.status().reason(), StatusReason::kLockTimeout);
  EXPECT_NE(refused.status().message().find("host-a:1:aaaa"), std::string::npos)
      << refused.status().message();
  ASSERT_TRUE(a_->Release(*l1).ok());
  auto l2 = b_->Acquire(key_, 5 * kSecond, 0);
  ASSERT_TRUE(l2.ok()) << l2.status().ToString();
  EXPECT_GT(*l2->token, *l1->token);
  ASSERT_TRUE(b_->Release(*l2).ok());
}

// PostgreSQL: a lease row naming this holder that the service holds no lease on (its
// acquisition committed while the answer was lost to a server restart) is taken over at once
// with a new token, not waited out for its TTL; a key the service does hold still waits.
TEST_P(LockContractTest, AnOrphanOfThisHolderIsTakenOverAtOnce) {
  if (GetParam() != "postgres") GTEST_SKIP() << "commit outcomes can be lost only over a network";
  auto held = a_->Acquire(key_, 60 * kSecond, 0);
  ASSERT_TRUE(held.ok()) << held.status().ToString();
  auto again = a_->Acquire(key_, 60 * kSecond, 0);  // the same service: still held
  EXPECT_EQ(again.status().reason(), StatusReason::kLockTimeout);
  options_.holder_id = "host-a:1:aaaa";  // a service that lost the answer: same holder
  auto restarted = LockService::Open(url_, options_);
  ASSERT_TRUE(restarted.ok());
  auto taken = (*restarted)->Acquire(key_, 60 * kSecond, 0);
  ASSERT_TRUE(taken.ok()) << taken.status().ToString();
  EXPECT_GT(*taken->token, *held->token);
  EXPECT_EQ(b_->Acquire(key_, 60 * kSecond, 0).status().reason(), StatusReason::kLockTimeout);
  Lease stale = *held;
  EXPECT_EQ(a_->Renew(&stale).reason(), StatusReason::kLockLost);
  ASSERT_TRUE((*restarted)->Release(*taken).ok());
}

// PostgreSQL: an acquisition that waited for the lease row while another holder took the key
// and gave it back draws its token after the wait, so tokens still increase in the order the
// key was held (drawn before the wait, the P6 benchmark saw two inversions in 1,600).
TEST_P(LockContractTest, ATokenIsDrawnAfterWaitingForTheRow) {
  if (GetParam() != "postgres") GTEST_SKIP() << "waits on a row lock are PostgreSQL's";
  auto first = a_->Acquire(key_, 5 * kSecond, 0);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  ASSERT_TRUE(a_->Release(*first).ok());
  auto url = ParsePgUrl(options_.store_url);
  ASSERT_TRUE(url.ok());
  auto other = PgConn::Connect(*url);
  auto observer = PgConn::Connect(*url);
  ASSERT_TRUE(other.ok() && observer.ok());
  // Another session holds the released row while b_ asks for the key.
  ASSERT_TRUE((*other)->Exec("BEGIN").ok());
  auto pid = (*other)->Exec("SELECT pg_backend_pid()::text");
  ASSERT_TRUE(pid.ok());
  ASSERT_TRUE((*other)->Exec("SELECT token FROM locks WHERE key = $1 FOR UPDATE", {key_}).ok());
  std::optional<StatusOr<Lease>> got;
  std::thread waiter([&] { got = b_->Acquire(key_, 5 * kSecond, 0); });
  bool waiting = false;
  for (int i = 0; i < 200 && !waiting; ++i) {
    auto n = (*observer)->Exec(
        "SELECT count(*) FROM pg_stat_activity WHERE $1::int = ANY(pg_blocking_pids(pid))",
        {std::string(pid->text(0, 0))});
    waiting = n.ok() && n->text(0, 0) == "1";
    if (!waiting) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  // Meanwhile a holder came and went: the row carries a newer token, released again.
  auto newer = (*other)->Exec(
      "UPDATE locks SET token = nextval('propgrade_lock_token') WHERE key = $1 RETURNING token",
      {key_});
  ASSERT_TRUE((*other)->Exec("COMMIT").ok());
  waiter.join();
  ASSERT_TRUE(waiting) << "the acquisition never waited for the row";
  ASSERT_TRUE(newer.ok() && newer->rows() == 1);
  ASSERT_TRUE(got.has_value() && got->ok()) << (got ? got->status().ToString() : "no result");
  EXPECT_GT(*(*got)->token, std::stoll(std::string(newer->text(0, 0))));
  b_->Release(**got).IgnoreError();
}

TEST_P(LockContractTest, AWaiterGetsTheLockWhenTheHolderReleases) {
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

TEST_P(LockContractTest, AnExpiredLeaseIsTakenOverAndTheOldHolderHasLostIt) {
  auto l1 = a_->Acquire(key_, 2 * kSecond, 0);  // never renewed
  ASSERT_TRUE(l1.ok());
  auto l2 = b_->Acquire(key_, 5 * kSecond, 10 * kSecond);
  ASSERT_TRUE(l2.ok()) << l2.status().ToString();
  EXPECT_GE(l2->wait_seconds, 1.0);
  EXPECT_GT(*l2->token, *l1->token);
  Lease stale = *l1;
  EXPECT_EQ(a_->Renew(&stale).reason(), StatusReason::kLockLost);
  // Releasing the old lease must not free the new holder's key.
  Status released = a_->Release(*l1);
  ASSERT_TRUE(released.ok()) << released.ToString();
  EXPECT_EQ(a_->Acquire(key_, 5 * kSecond, 0).status().reason(), StatusReason::kLockTimeout);
  b_->Release(*l2).IgnoreError();
}

TEST_P(LockContractTest, ATimeoutGivesUpCleanly) {
  auto l1 = a_->Acquire(key_, 5 * kSecond, 0);
  ASSERT_TRUE(l1.ok());
  auto t0 = std::chrono::steady_clock::now();
  auto timed_out = b_->Acquire(key_, 5 * kSecond, 1 * kSecond);
  double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_EQ(timed_out.status().reason(), StatusReason::kLockTimeout);
  EXPECT_GE(waited, 0.9);
  auto list = a_->List();
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  bool found = false;
  for (const LockInfo& info : *list) {
    if (info.key != key_) continue;
    found = true;
    EXPECT_EQ(info.holder_id, "host-a:1:aaaa");
    EXPECT_EQ(info.token, l1->token);
    EXPECT_EQ(info.waiters, 0);  // etcd: the waiter revoked its queue key
  }
  EXPECT_TRUE(found);
  a_->Release(*l1).IgnoreError();
}

TEST_P(LockContractTest, TheKeeperRenewsPastTheTtlAndNoticesAForceRelease) {
  auto held = a_->Acquire(key_, 2 * kSecond, 0);
  ASSERT_TRUE(held.ok());
  LeaseKeeper keeper(a_.get(), &*held, &RealClock(), 500000);
  keeper.Start();
  std::this_thread::sleep_for(std::chrono::milliseconds(3000));
  EXPECT_TRUE(keeper.CheckHeld().ok());
  EXPECT_EQ(b_->Acquire(key_, 5 * kSecond, 0).status().reason(), StatusReason::kLockTimeout);
  EXPECT_TRUE(*b_->ForceRelease(key_, *held->token));
  std::this_thread::sleep_for(std::chrono::milliseconds(1200));
  EXPECT_EQ(keeper.CheckHeld().reason(), StatusReason::kLockLost);
  keeper.Stop();
  EXPECT_FALSE(*b_->ForceRelease(key_, *held->token));
}

// Every renewal extends the lease by the TTL the service granted, counted from when the renewal
// was sent: the local estimate of the expiry never runs ahead of the service's.
TEST_P(LockContractTest, RenewalsNeverStretchTheLease) {
  const int64_t ttl = 2 * kSecond;
  auto held = a_->Acquire(key_, ttl, 0);
  ASSERT_TRUE(held.ok()) << held.status().ToString();
  for (int i = 0; i < 6; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    ASSERT_TRUE(a_->Renew(&*held).ok()) << i;
    const int64_t after = RealClock().NowMicros();
    const int64_t after_steady = RealClock().SteadyMicros();
    EXPECT_LE(held->expires_at_micros, after + ttl) << "renewal " << i;
    EXPECT_LE(held->valid_until_steady_micros, after_steady + ttl) << "renewal " << i;
    EXPECT_GT(held->valid_until_steady_micros, after_steady) << "renewal " << i;
  }
  a_->Release(*held).IgnoreError();
}

// Forwards to a real service; after the first List() it runs `between` (another holder takes
// the key before the sweep acts on what it listed).
class ListThenRun final : public LockService {
 public:
  ListThenRun(LockService* inner, std::function<void()> between)
      : inner_(inner), between_(std::move(between)) {}
  std::string_view backend() const override { return inner_->backend(); }
  std::string fence_namespace() const override { return inner_->fence_namespace(); }
  StatusOr<Lease> Acquire(const std::string& key, int64_t ttl, int64_t wait) override {
    return inner_->Acquire(key, ttl, wait);
  }
  Status Renew(Lease* lease) override { return inner_->Renew(lease); }
  Status Release(const Lease& lease) override { return inner_->Release(lease); }
  StatusOr<bool> ForceRelease(const std::string& key, int64_t token) override {
    return inner_->ForceRelease(key, token);
  }
  StatusOr<int64_t> DrawToken(const std::string& key) override { return inner_->DrawToken(key); }
  StatusOr<std::vector<LockInfo>> List() override {
    auto listed = inner_->List();
    if (between_) std::exchange(between_, nullptr)();
    return listed;
  }

 private:
  LockService* inner_;
  std::function<void()> between_;
};

// A sweep that listed holder A as stuck must not release holder B, who took the key after the
// listing (B's token is greater): the force release names the token it saw.
TEST_P(LockContractTest, ASweepReleasesOnlyTheHolderItListed) {
  auto first = a_->Acquire(key_, 30 * kSecond, 0);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));  // etcd: 1 s resolution
  LockPolicy policy;
  policy.stuck_alert_after_seconds = 0.5;
  policy.stuck_release_after_seconds = 1;
  std::optional<StatusOr<Lease>> second;
  ListThenRun view(b_.get(), [&] {
    a_->Release(*first).IgnoreError();
    second = b_->Acquire(key_, 30 * kSecond, 0);
  });
  auto swept = SweepStuckLocks(&view, policy);
  ASSERT_TRUE(swept.ok()) << swept.status().ToString();
  ASSERT_TRUE(second.has_value() && second->ok());
  bool listed = false;
  for (const StuckLock& s : *swept) {
    if (s.lock.key != key_) continue;
    listed = true;
    EXPECT_EQ(s.lock.token, first->token);
    EXPECT_FALSE(s.released) << "released the holder that came after the listing";
  }
  EXPECT_TRUE(listed);
  Lease b = **second;
  EXPECT_TRUE(b_->Renew(&b).ok()) << "the new holder lost its lease to the sweep";
  b_->Release(b).IgnoreError();
}

// How long a lock has been held is judged by the lock service's clock: a sweeping host whose
// clock runs a day ahead does not see a fresh lock as stuck (SQLite: the injected Clock is the
// service's clock, so there is no other clock to disagree with).
TEST_P(LockContractTest, AHostClockFarAheadDoesNotMakeALockLookStuck) {
  if (GetParam() == "sqlite") GTEST_SKIP() << "one machine's clock is the service's clock";
  auto held = a_->Acquire(key_, 30 * kSecond, 0);
  ASSERT_TRUE(held.ok()) << held.status().ToString();
  testing::FakeClock ahead(RealClock().NowMicros() + 86400 * kSecond);
  LockOptions options = options_;
  options.clock = &ahead;
  options.holder_id = "host-c:3:cccc";
  auto sweeper = LockService::Open(url_, options);
  ASSERT_TRUE(sweeper.ok()) << sweeper.status().ToString();
  LockPolicy policy;  // alert after 600 s, release after 900 s
  auto swept = SweepStuckLocks(sweeper->get(), policy);
  ASSERT_TRUE(swept.ok()) << swept.status().ToString();
  for (const StuckLock& s : *swept) EXPECT_NE(s.lock.key, key_) << s.held_seconds;
  EXPECT_TRUE(a_->Renew(&*held).ok());
  a_->Release(*held).IgnoreError();
}

// A token drawn for a write made without the lease (on_lock_timeout = "proceed") lies above the
// current holder's and below the next holder's, and the holder keeps its lease: it can renew
// and release it.
TEST_P(LockContractTest, ADrawnTokenLiesBetweenTheHolderAndTheNextAcquisition) {
  auto held = a_->Acquire(key_, 5 * kSecond, 0);
  ASSERT_TRUE(held.ok()) << held.status().ToString();
  auto drawn = b_->DrawToken(key_);
  ASSERT_TRUE(drawn.ok()) << drawn.status().ToString();
  EXPECT_GT(*drawn, *held->token);
  auto again = b_->DrawToken(key_);
  ASSERT_TRUE(again.ok());
  EXPECT_GT(*again, *drawn);
  ASSERT_TRUE(a_->Renew(&*held).ok()) << "the draw disturbed the holder";
  EXPECT_EQ(b_->Acquire(key_, 5 * kSecond, 0).status().reason(), StatusReason::kLockTimeout);
  ASSERT_TRUE(a_->Release(*held).ok());
  auto next = b_->Acquire(key_, 5 * kSecond, 0);  // the release freed the key
  ASSERT_TRUE(next.ok()) << next.status().ToString();
  EXPECT_GT(*next->token, *again);
  b_->Release(*next).IgnoreError();
}

// A run that was already waiting when the token was drawn, and gets the lock afterwards, still
// gets a greater token (etcd: a waiter's queue key was created before the draw).
TEST_P(LockContractTest, AWaiterQueuedBeforeADrawGetsAGreaterToken) {
  auto held = a_->Acquire(key_, 5 * kSecond, 0);
  ASSERT_TRUE(held.ok()) << held.status().ToString();
  std::optional<StatusOr<Lease>> waiter;
  std::thread waiting([&] { waiter = b_->Acquire(key_, 5 * kSecond, 20 * kSecond); });
  bool queued = GetParam() != "etcd";  // the db backends keep no queue
  for (int i = 0; i < 200 && !queued; ++i) {
    auto list = a_->List();
    for (const LockInfo& info : list.ok() ? *list : std::vector<LockInfo>{}) {
      queued = queued || (info.key == key_ && info.waiters == 1);
    }
    if (!queued) std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  if (!queued) ADD_FAILURE() << "the waiter never joined the queue";
  auto drawn = a_->DrawToken(key_);
  ASSERT_TRUE(a_->Release(*held).ok());
  waiting.join();
  ASSERT_TRUE(drawn.ok()) << drawn.status().ToString();
  ASSERT_TRUE(waiter.has_value() && waiter->ok())
      << (waiter ? waiter->status().ToString() : "no result");
  EXPECT_GT(*(*waiter)->token, *drawn);
  Lease b = **waiter;
  EXPECT_TRUE(b_->Renew(&b).ok());
  b_->Release(b).IgnoreError();
}

INSTANTIATE_TEST_SUITE_P(Backends, LockContractTest,
                         ::testing::Values("sqlite", "postgres", "etcd"),
                         [](const auto& info) { return info.param; });

TEST(EtcdClusterTest, LockKeepsWorkingWithAFollowerStopped) {
  std::string endpoints = Env("PROPGRADE_TEST_ETCD_CLUSTER");
  std::string follower_pid = Env("PROPGRADE_TEST_ETCD_CLUSTER_FOLLOWER_PID");
  if (endpoints.empty() || follower_pid.empty()) {
    PROPGRADE_SKIP_WITHOUT("PROPGRADE_TEST_ETCD_CLUSTER(_FOLLOWER_PID) not set");
  }
  pid_t follower = static_cast<pid_t>(std::stol(follower_pid));
  LockOptions o;
  o.holder_id = "cluster-a";
  auto a = LockService::Open("etcd://" + endpoints, o);
  o.holder_id = "cluster-b";
  auto b = LockService::Open("etcd://" + endpoints, o);
  ASSERT_TRUE(a.ok() && b.ok());
  std::string key = "test/cluster-" + std::to_string(getpid());
  ASSERT_EQ(kill(follower, SIGSTOP), 0);
  int64_t last_token = 0;
  for (int i = 0; i < 5; ++i) {
    LockService* s = (i % 2 ? *a : *b).get();
    auto l = s->Acquire(key, 3 * kSecond, 5 * kSecond);
    ASSERT_TRUE(l.ok()) << i << ": " << l.status().ToString();
    EXPECT_GT(*l->token, last_token);
    last_token = *l->token;
    ASSERT_TRUE(s->Release(*l).ok());
  }
  kill(follower, SIGCONT);
}

}  // namespace
}  // namespace propgrade

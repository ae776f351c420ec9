#include "safety/upkeep.h"

#include <gtest/gtest.h>

#include <sstream>

#include "schema/schema.h"
#include "testing/fake_clock.h"
#include "testing/queries.h"
#include "testing/temp_dir.h"

namespace propgrade {
namespace {

constexpr int64_t kSecond = 1000000;

class UpkeepTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = dir_.path() + "/u.db";
    StoreOptions so;
    so.clock = &clock_;
    store_ = std::move(Store::Open("sqlite:" + path_, so)).value();
    LockOptions lo;
    lo.clock = &clock_;
    lo.store_url = "sqlite:" + path_;
    lo.holder_id = "stuck-worker";
    locks_ = std::move(LockService::Open("db", lo)).value();
    alerter_ = std::make_unique<Alerter>(store_.get(), std::vector<std::unique_ptr<AlertSink>>{},
                                         &metrics_, &log_, &clock_, AlerterOptions{});
    policy_.stuck_alert_after_seconds = 600;
    policy_.stuck_release_after_seconds = 900;
  }

  UpkeepDeps Deps() {
    UpkeepDeps d;
    d.locks = locks_.get();
    d.store = store_.get();
    d.clock = &clock_;
    d.policy = &policy_;
    d.breaker = &breaker_;
    d.alerts = alerter_.get();
    d.metrics = &metrics_;
    d.log = &log_;
    return d;
  }

  testing::TempDir dir_;
  testing::FakeClock clock_;
  std::string path_;
  std::ostringstream out_;
  Logger log_{&out_, LogFormat::kJson, &clock_};
  Metrics metrics_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<LockService> locks_;
  std::unique_ptr<Alerter> alerter_;
  LockPolicy policy_;
  CircuitBreaker breaker_{dir_.path() + "/breakers.json", 2, 60, &clock_};
};

TEST_F(UpkeepTest, SweepRecordsAlertsAndCountsStuckLocks) {
  ASSERT_TRUE(locks_->Acquire("grading/2026-01-16", 5000 * kSecond, 0).ok());
  auto none = SweepAndReport(Deps());
  ASSERT_TRUE(none.ok()) << none.status().ToString();
  EXPECT_TRUE(none->empty());
  EXPECT_EQ(metrics_.Value("locks_stuck"), 0);

  clock_.AdvanceSeconds(700);
  auto warned = SweepAndReport(Deps());
  ASSERT_EQ(warned->size(), 1u);
  EXPECT_EQ(metrics_.Value("locks_stuck"), 1);
  clock_.AdvanceSeconds(300);
  auto released = SweepAndReport(Deps());
  ASSERT_EQ(released->size(), 1u);
  EXPECT_TRUE(released->at(0).released);
  EXPECT_EQ(metrics_.Value("lock_force_released_total"), 1);
  EXPECT_TRUE(locks_->List()->empty());
  alerter_->Flush(10 * kSecond);

  EXPECT_EQ(testing::SqliteQuery(path_, "SELECT event FROM lock_events ORDER BY id"),
            (std::multiset<std::string>{"stuck", "force_released"}));
  EXPECT_EQ(testing::SqliteQuery(path_, "SELECT subject FROM alerts WHERE type = 'stuck_lock'")
                .count("grading/2026-01-16"),
            2u)  // the warning, then the release
      << out_.str();
  EXPECT_NE(out_.str().find("lock_force_released"), std::string::npos);
}

TEST_F(UpkeepTest, TickBreakersHalfOpensAndMirrorsEveryBreaker) {
  ASSERT_TRUE(breaker_.Record("grading", RunStatus::kUnavailable).ok());
  ASSERT_TRUE(breaker_.Record("grading", RunStatus::kUnavailable).ok());  // opens
  ASSERT_TRUE(breaker_.Record("daily_performance", RunStatus::kSuccess).ok());
  auto early = TickBreakers(Deps());
  ASSERT_TRUE(early.ok()) << early.status().ToString();
  EXPECT_TRUE(early->empty());
  EXPECT_EQ(metrics_.Value("breaker_state", {"grading"}), 2);
  EXPECT_EQ(testing::SqliteQuery(path_, "SELECT name || '=' || state FROM circuit_breakers"),
            (std::multiset<std::string>{"grading=open", "daily_performance=closed"}));

  clock_.AdvanceSeconds(60);
  auto moved = TickBreakers(Deps());
  ASSERT_EQ(moved->size(), 1u);
  EXPECT_EQ(moved->at(0).status.name, "grading");
  EXPECT_EQ(metrics_.Value("breaker_state", {"grading"}), 1);
  EXPECT_EQ(testing::SqliteQuery(path_, "SELECT state FROM circuit_breakers WHERE name = 'grading'"),
            (std::multiset<std::string>{"half_open"}));
}

}  // namespace
}  // namespace propgrade

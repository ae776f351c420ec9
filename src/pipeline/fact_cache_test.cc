#include "pipeline/fact_cache.h"

#include <gtest/gtest.h>

#include "schema/schema.h"
#include "testing/temp_dir.h"

namespace propgrade {
namespace {

constexpr int kRowsPerDay = 3;

// A store holding kRowsPerDay accuracy rows on each of 2026-01-01 .. 2026-01-10.
class FactCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = Store::Open("sqlite:" + dir_.path() + "/c.db", StoreOptions{});
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
    for (int d = 1; d <= 10; ++d) {
      std::string date = Day(d).ToString();
      std::vector<Row> rows;
      for (int i = 0; i < kRowsPerDay; ++i) {
        Row r(acc::kNumColumns);
        r[acc::prediction_id] = Value::Text(date + "-" + std::to_string(i));
        r[acc::player_lookup] = Value::Text("player" + std::to_string(i));
        r[acc::game_id] = Value::Text("20260101_LAL_BOS");
        r[acc::game_date] = Value::Text(date);
        r[acc::system_id] = Value::Text("ensemble_v1");
        r[acc::line_value] = Value::Real(20.5);
        r[acc::is_voided] = Value::Bool(false);
        rows.push_back(r);
      }
      ASSERT_TRUE(store_->ReplacePartition(tables::Accuracy(), date, rows, WriteSpec{}).ok());
    }
  }
  static CivilDay Day(int d) { return CivilDay::Parse("2026-01-01")->AddDays(d - 1); }

  testing::TempDir dir_;
  std::unique_ptr<Store> store_;
};

// The pattern of a multi-date run: summary window [1, D], then the daily step of D + 1, then
// the window [1, D + 1]. Each stored row is read once.
TEST_F(FactCacheTest, TheDailyStepKeepsTheSummaryWindow) {
  FactCache cache;
  ASSERT_TRUE(cache.Refresh(store_.get(), Day(1), Day(5)).ok());
  EXPECT_EQ(cache.rows_read(), 5 * kRowsPerDay);
  ASSERT_TRUE(cache.Refresh(store_.get(), Day(6), Day(6), /*keep_earlier=*/true).ok());
  EXPECT_EQ(cache.rows_read(), 6 * kRowsPerDay);
  ASSERT_TRUE(cache.Refresh(store_.get(), Day(8), Day(8), /*keep_earlier=*/true).ok());  // a gap
  EXPECT_EQ(cache.rows_read(), 8 * kRowsPerDay);
  ASSERT_TRUE(cache.Refresh(store_.get(), Day(1), Day(8)).ok());
  EXPECT_EQ(cache.rows_read(), 8 * kRowsPerDay);
  EXPECT_EQ(cache.table().facts.size(), 8u * kRowsPerDay);
}

// Without keep_earlier the window moves: earlier days are dropped and read again when asked.
TEST_F(FactCacheTest, AMovingWindowForgetsEarlierDays) {
  FactCache cache;
  ASSERT_TRUE(cache.Refresh(store_.get(), Day(1), Day(5)).ok());
  ASSERT_TRUE(cache.Refresh(store_.get(), Day(6), Day(6)).ok());
  EXPECT_EQ(cache.table().facts.size(), 1u * kRowsPerDay);
  ASSERT_TRUE(cache.Refresh(store_.get(), Day(1), Day(6)).ok());
  EXPECT_EQ(cache.rows_read(), 11 * kRowsPerDay);  // days 1-5 twice
}

// A day rewritten after it was cached is read again.
TEST_F(FactCacheTest, ARewrittenDayIsReadAgain) {
  FactCache cache;
  ASSERT_TRUE(cache.Refresh(store_.get(), Day(1), Day(3)).ok());
  std::vector<Row> one;
  ASSERT_TRUE(store_->Scan(tables::Accuracy(), ScanSpec{Day(2).ToString()}, [&](Row&& r) {
                       if (one.empty()) one.push_back(std::move(r));
                       return OkStatus();
                     }).ok());
  ASSERT_TRUE(store_->ReplacePartition(tables::Accuracy(), Day(2).ToString(), one, WriteSpec{})
                  .ok());
  ASSERT_TRUE(cache.Refresh(store_.get(), Day(4), Day(4), /*keep_earlier=*/true).ok());
  EXPECT_EQ(cache.table().facts.size(), 3u * kRowsPerDay + 1);
}

}  // namespace
}  // namespace propgrade

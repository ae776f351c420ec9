// The shrink guard and partition history of a replace, against every backend available
// (SQLite always; PostgreSQL when PROPGRADE_TEST_PG_URL names a server): a replace that would
// drop more than the ratio of the stored keys writes nothing, one at or under it writes; every
// replace keeps the rows it replaced, exactly, in the newest history_keep_runs entries.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>

#include "common/value_text.h"
#include "schema/schema.h"
#include "store/row_codec.h"
#include "store/store.h"
#include "testing/fake_clock.h"
#include "testing/pg.h"
#include "testing/skip.h"
#include "testing/temp_dir.h"

namespace propgrade {
namespace {

constexpr const char* kDay = "2026-01-16";

class HistoryTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "sqlite") {
      url_ = "sqlite:" + dir_.path() + "/history.db";
    } else {
      const char* pg = std::getenv("PROPGRADE_TEST_PG_URL");
      if (!pg || !*pg) PROPGRADE_SKIP_WITHOUT("PROPGRADE_TEST_PG_URL is not set");
      schema_ = "h_" + testing::RandomSchemaSuffix();
      url_ = std::string(pg) + "?schema=" + schema_;
    }
    StoreOptions options;
    options.clock = &clock_;
    auto store = Store::Open(url_, options);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
  }
  void TearDown() override {
    store_.reset();
    if (!schema_.empty()) testing::DropPgSchema(std::getenv("PROPGRADE_TEST_PG_URL"), schema_);
  }

  // `n` daily rows of systems s0..s(n-1), their mae `mae`.
  static std::vector<Row> Daily(int n, double mae, const std::string& run) {
    std::vector<Row> rows;
    for (int i = 0; i < n; ++i) {
      Row r(daily::kNumColumns);
      r[daily::game_date] = Value::Text(kDay);
      r[daily::system_id] = Value::Text("s" + std::to_string(i));
      r[daily::mae] = Value::Real(mae);
      r[daily::run_id] = Value::Text(run);
      rows.push_back(std::move(r));
    }
    return rows;
  }

  StatusOr<WriteResult> Write(std::vector<Row> rows, const std::string& run,
                              std::optional<double> ratio, int keep = 5,
                              WriteResult* counts = nullptr) {
    WriteSpec spec;
    spec.run_id = run;
    spec.max_shrink_ratio = ratio;
    spec.history_keep_runs = keep;
    spec.counts = counts;
    clock_.AdvanceSeconds(1);
    return store_->ReplacePartition(tables::DailyPerformance(), kDay, std::move(rows), spec);
  }

  std::vector<Row> Entries() {
    std::vector<Row> out;
    EXPECT_TRUE(store_
                    ->Scan(tables::History(), ScanSpec{},
                           [&](Row&& r) {
                             out.push_back(std::move(r));
                             return OkStatus();
                           })
                    .ok());
    std::sort(out.begin(), out.end(), [](const Row& a, const Row& b) {
      return a[hist::id].as_int() < b[hist::id].as_int();
    });
    return out;
  }

  testing::TempDir dir_;
  testing::FakeClock clock_;
  std::string url_, schema_;
  std::unique_ptr<Store> store_;
};

TEST_P(HistoryTest, AShrinkAboveTheRatioIsRefusedAndOneAtItPasses) {
  ASSERT_TRUE(Write(Daily(10, 5, "r1"), "r1", 0.2).ok());
  // 7 of 10 keys would go: refused, nothing written, the counts still reported.
  WriteResult counts;
  auto refused = Write(Daily(3, 6, "r2"), "r2", 0.2, 5, &counts);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().reason(), StatusReason::kShrinkRefused);
  EXPECT_NE(refused.status().message().find("would lose 7 of its 10 keys"), std::string::npos)
      << refused.status().message();
  EXPECT_EQ(counts.rows_before, 10);
  EXPECT_EQ(counts.keys_removed, 7);
  EXPECT_EQ(counts.keys_changed, 3);
  EXPECT_EQ(store_->CountPartitionRows(tables::DailyPerformance(), kDay).value(), 10);
  // 2 of 10 (the ratio itself) pass; so does any shrink without a guard.
  auto at_ratio = Write(Daily(8, 5, "r3"), "r3", 0.2);
  ASSERT_TRUE(at_ratio.ok()) << at_ratio.status().ToString();
  EXPECT_EQ(at_ratio->rows_before, 10);
  EXPECT_EQ(at_ratio->keys_removed, 2);
  EXPECT_EQ(at_ratio->keys_changed, 0);  // only run_id differs: a stamp column
  EXPECT_TRUE(Write(Daily(3, 5, "r4"), "r4", std::nullopt).ok());
  EXPECT_EQ(store_->CountPartitionRows(tables::DailyPerformance(), kDay).value(), 3);
}

TEST_P(HistoryTest, EachReplaceKeepsTheRowsItReplacedInTheNewestEntries) {
  std::vector<std::vector<Row>> versions;
  for (int i = 1; i <= 7; ++i) {
    versions.push_back(store_->ReadPartition(tables::DailyPerformance(), kDay).value());
    ASSERT_TRUE(Write(Daily(2 + i, i, "r" + std::to_string(i)), "r" + std::to_string(i),
                      std::nullopt, /*keep=*/3)
                    .ok());
  }
  std::vector<Row> entries = Entries();
  ASSERT_EQ(entries.size(), 3u);  // exactly history_keep_runs
  for (size_t n = 0; n < entries.size(); ++n) {
    const Row& e = entries[n];
    const int i = 5 + static_cast<int>(n);  // runs r5, r6, r7
    EXPECT_EQ(e[hist::run_id].as_text(), "r" + std::to_string(i));
    EXPECT_EQ(e[hist::subject].as_text(), std::string("system_daily_performance/") + kDay);
    EXPECT_EQ(e[hist::kind].as_text(), "replace");
    EXPECT_EQ(e[hist::rows_before].as_int(), 1 + i);
    EXPECT_EQ(e[hist::rows_after].as_int(), 2 + i);
    EXPECT_EQ(e[hist::keys_added].as_int(), 1);
    EXPECT_EQ(e[hist::keys_changed].as_int(), 1 + i);  // every mae moved
    auto replaced = DecodeRows(tables::DailyPerformance(), e[hist::replaced_rows].as_text());
    ASSERT_TRUE(replaced.ok()) << replaced.status().ToString();
    std::vector<Row> expected = versions[i - 1];
    SortRowsByKey(tables::DailyPerformance(), &expected);
    SortRowsByKey(tables::DailyPerformance(), &*replaced);
    EXPECT_EQ(*replaced, expected) << "entry of r" << i;
  }
  // No history: nothing kept.
  ASSERT_TRUE(Write(Daily(2, 1, "r8"), "r8", std::nullopt, /*keep=*/0).ok());
  EXPECT_EQ(Entries().size(), 3u);
}

TEST_P(HistoryTest, AReplaceThatChangesNothingButStampsLeavesTheRows) {
  ASSERT_TRUE(Write(Daily(4, 5, "r1"), "r1", 0.2).ok());
  const std::vector<Row> first = store_->ReadPartition(tables::DailyPerformance(), kDay).value();
  // The same figures, new stamps (run_id): the rows of r1 stay, stamps and all.
  auto same = Write(Daily(4, 5, "r2"), "r2", 0.2);
  ASSERT_TRUE(same.ok()) << same.status().ToString();
  EXPECT_TRUE(same->rows_kept);
  EXPECT_EQ(same->rows_written, 4);
  EXPECT_EQ(same->rows_after, 4);
  EXPECT_EQ(store_->ReadPartition(tables::DailyPerformance(), kDay).value(), first);
  // A change then replaces the partition; every version is still there to read back.
  ASSERT_TRUE(Write(Daily(4, 6, "r3"), "r3", 0.2).ok());
  auto history = store_->ReadHistory(tables::DailyPerformance(), kDay).value();
  ASSERT_EQ(history.size(), 3u);
  EXPECT_FALSE(history[0].rows_kept);
  EXPECT_TRUE(history[1].rows_kept);
  std::vector<Row> sorted = first;
  SortRowsByKey(tables::DailyPerformance(), &sorted);
  EXPECT_EQ(store_->RowsWrittenBy(tables::DailyPerformance(), kDay, "r1").value(), sorted);
  EXPECT_EQ(store_->RowsWrittenBy(tables::DailyPerformance(), kDay, "r2").value(), sorted);
  EXPECT_EQ(store_->RowsFoundBy(tables::DailyPerformance(), kDay, "r2").value(), sorted);
  EXPECT_EQ(store_->RowsFoundBy(tables::DailyPerformance(), kDay, "r3").value(), sorted);
  auto now = store_->RowsWrittenBy(tables::DailyPerformance(), kDay, "r3").value();
  ASSERT_EQ(now.size(), 4u);
  EXPECT_EQ(now[0][daily::mae], Value::Real(6));
  EXPECT_TRUE(store_->RowsFoundBy(tables::DailyPerformance(), kDay, "r1").value().empty());
  EXPECT_EQ(store_->RowsWrittenBy(tables::DailyPerformance(), kDay, "r9").status().code(),
            StatusCode::kNotFound);
}

INSTANTIATE_TEST_SUITE_P(Backends, HistoryTest,
                         ::testing::Values(std::string("sqlite"), std::string("postgres")),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace propgrade

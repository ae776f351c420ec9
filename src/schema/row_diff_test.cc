#include "schema/row_diff.h"

#include <gtest/gtest.h>

namespace propgrade {
namespace {

Row Daily(const std::string& system, double mae, const std::string& run) {
  Row r(daily::kNumColumns);
  r[daily::game_date] = Value::Text("2026-01-16");
  r[daily::system_id] = Value::Text(system);
  r[daily::mae] = Value::Real(mae);
  r[daily::computed_at] = Value::Text("2026-01-17T0" + run + ":00:00.000000Z");
  r[daily::run_id] = Value::Text("run-" + run);
  return r;
}

TEST(RowDiffTest, CountsAddedRemovedAndChangedKeysIgnoringStamps) {
  const TableDef& t = tables::DailyPerformance();
  std::vector<Row> before = {Daily("a", 5.1, "1"), Daily("b", 6.0, "1"), Daily("c", 4.0, "1")};
  // a: same values, new stamps (unchanged); b: its mae moved; c: gone; d: new.
  std::vector<Row> after = {Daily("d", 3.0, "2"), Daily("b", 6.5, "2"), Daily("a", 5.1, "2")};
  PartitionDiff d = DiffRows(t, before, after, /*detail=*/true);
  EXPECT_EQ(d.rows_before, 3);
  EXPECT_EQ(d.rows_after, 3);
  EXPECT_EQ(d.keys_added, 1);
  EXPECT_EQ(d.keys_removed, 1);
  EXPECT_EQ(d.keys_changed, 1);
  ASSERT_EQ(d.added.size(), 1u);
  EXPECT_EQ(d.added[0].key, "2026-01-16|d");
  ASSERT_EQ(d.removed.size(), 1u);
  EXPECT_EQ(d.removed[0].key, "2026-01-16|c");
  ASSERT_EQ(d.changed.size(), 1u);
  EXPECT_EQ(d.changed[0].key, "2026-01-16|b");
  ASSERT_EQ(d.changed[0].cells.size(), 1u);
  EXPECT_EQ(d.changed[0].cells[0].column, "mae");
  EXPECT_EQ(d.changed[0].cells[0].before, Value::Real(6.0));
  EXPECT_EQ(d.changed[0].cells[0].after, Value::Real(6.5));
  // Counts only: the same figures, no lists.
  PartitionDiff counts = DiffRows(t, before, after, /*detail=*/false);
  EXPECT_EQ(counts.keys_changed, 1);
  EXPECT_TRUE(counts.changed.empty());
}

TEST(RowDiffTest, NumericKeyCellsKeepKeysApart) {
  // prediction_accuracy's key ends in the line: two lines of one pick are two keys.
  const TableDef& t = tables::Accuracy();
  auto row = [&](double line) {
    Row r(acc::kNumColumns);
    r[acc::game_date] = Value::Text("2026-01-16");
    r[acc::player_lookup] = Value::Text("a");
    r[acc::game_id] = Value::Text("g");
    r[acc::system_id] = Value::Text("s");
    r[acc::line_value] = Value::Real(line);
    return r;
  };
  PartitionDiff d = DiffRows(t, {row(20.5), row(21.5)}, {row(21.5), row(22.5)}, true);
  EXPECT_EQ(d.keys_before, 2);
  EXPECT_EQ(d.keys_added, 1);
  EXPECT_EQ(d.keys_removed, 1);
  ASSERT_EQ(d.added.size(), 1u);
  EXPECT_EQ(d.added[0].key, "2026-01-16|a|g|s|22.5");
}

TEST(RowDiffTest, TheShrinkRatioIsOfTheStoredKeys) {
  const TableDef& t = tables::DailyPerformance();
  std::vector<Row> five;
  for (const char* s : {"a", "b", "c", "d", "e"}) five.push_back(Daily(s, 1, "1"));
  std::vector<Row> four(five.begin(), five.begin() + 4);
  std::vector<Row> three(five.begin(), five.begin() + 3);
  EXPECT_FALSE(ShrinksBeyond(DiffRows(t, five, four, false), 0.2));  // 1 of 5: at the ratio
  EXPECT_TRUE(ShrinksBeyond(DiffRows(t, five, three, false), 0.2));  // 2 of 5
  EXPECT_FALSE(ShrinksBeyond(DiffRows(t, five, three, false), 0.4));
  EXPECT_FALSE(ShrinksBeyond(DiffRows(t, {}, three, false), 0));  // nothing stored
  EXPECT_TRUE(ShrinksBeyond(DiffRows(t, five, {}, false), 0.99));
  EXPECT_FALSE(ShrinksBeyond(DiffRows(t, five, {}, false), 1));
}

}  // namespace
}  // namespace propgrade

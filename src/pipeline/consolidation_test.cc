#include "pipeline/consolidation.h"

#include "safety/remediation.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "schema/schema.h"
#include "testing/fake_clock.h"
#include "testing/temp_dir.h"

namespace propgrade {
namespace {

Row Prediction(const std::string& id, const std::string& player, double line,
               const std::string& created) {
  Row r(pred::kNumColumns);
  r[pred::prediction_id] = Value::Text(id);
  r[pred::game_date] = Value::Text("2026-01-16");
  r[pred::game_id] = Value::Text("20260116_LAL_BOS");
  r[pred::player_lookup] = Value::Text(player);
  r[pred::system_id] = Value::Text("s");
  r[pred::line_value] = Value::Real(line);
  r[pred::created_at] = Value::Text(created);
  return r;
}

std::vector<std::string> Ids(const std::vector<Row>& rows) {
  std::vector<std::string> ids;
  for (const Row& r : rows) ids.push_back(r[pred::prediction_id].as_text());
  std::sort(ids.begin(), ids.end());
  return ids;
}

TEST(ConsolidationPlanTest, OneRowPerBusinessKeyTheNewestWins) {
  const char* t1 = "2026-01-16T10:00:00.000000Z";
  const char* t2 = "2026-01-16T11:00:00.000000Z";
  std::vector<Row> staged = {
      ToStagingRow("b1", 0, Prediction("a-b1", "a", 20.5, t1)),
      ToStagingRow("b2", 0, Prediction("a-b2", "a", 20.50, t2)),   // same key, newer
      ToStagingRow("b2", 0, Prediction("c-b2", "c", 10.5, t1)),
      ToStagingRow("b1", 0, Prediction("d-b1", "d", 5.5, t1)),
  };
  std::vector<Row> stored = {
      Prediction("a-old", "a", 20.5, t1),    // older than the staged winner: replaced
      Prediction("c-new", "c", 10.5, "2026-01-16T12:00:00.000000Z"),  // newer: stays
      Prediction("c-dup", "c", 10.5, t1),    // an imported duplicate of c: goes
      Prediction("untouched", "z", 1.5, t1),
  };
  ConsolidationPlan plan = PlanConsolidation(staged, stored, {});
  EXPECT_EQ(Ids(plan.insert), (std::vector<std::string>{"a-b2", "d-b1"}));
  std::sort(plan.delete_ids.begin(), plan.delete_ids.end());
  EXPECT_EQ(plan.delete_ids, (std::vector<std::string>{"a-old", "c-dup"}));
}

TEST(ConsolidationPlanTest, AStagedRowReplacesItsOwnIdUnderAnotherKey) {
  std::vector<Row> staged = {
      ToStagingRow("b", 0, Prediction("p1", "a", 21.5, "2026-01-16T11:00:00.000000Z"))};
  std::vector<Row> stored = {Prediction("p1", "a", 20.5, "2026-01-16T10:00:00.000000Z")};
  ConsolidationPlan plan = PlanConsolidation(staged, stored, {});
  EXPECT_EQ(plan.delete_ids, std::vector<std::string>{"p1"});
  EXPECT_EQ(Ids(plan.insert), std::vector<std::string>{"p1"});
}

TEST(ConsolidationPlanTest, RowsThatCannotBeMergedAreQuarantinedWithTheirReason) {
  const char* t1 = "2026-01-16T10:00:00.000000Z";
  const char* t2 = "2026-01-16T11:00:00.000000Z";
  std::vector<Row> staged = {
      ToStagingRow("b", 0, Prediction("moved", "a", 20.5, t1)),  // stored under 2026-01-15
      ToStagingRow("b", 0, Prediction("twice", "b", 10.5, t1)),  // staged under two keys:
      ToStagingRow("b", 0, Prediction("twice", "b", 11.5, t2)),  //   the newer one stays
      ToStagingRow("b", 0, Prediction("fine", "c", 5.5, t1)),
  };
  ConsolidationPlan plan = PlanConsolidation(staged, {}, {{"moved", "2026-01-15"}});
  EXPECT_EQ(Ids(plan.insert), (std::vector<std::string>{"fine", "twice"}));
  ASSERT_EQ(plan.quarantine.size(), 2u);
  std::sort(plan.quarantine.begin(), plan.quarantine.end());
  EXPECT_EQ(plan.quarantine[0].first, 0u);
  EXPECT_NE(plan.quarantine[0].second.find("already stored under game_date 2026-01-15"),
            std::string::npos);
  EXPECT_EQ(plan.quarantine[1].first, 1u);
  EXPECT_NE(plan.quarantine[1].second.find("staged twice"), std::string::npos);
}

// A staged row whose prediction_id is stored under another date used to fail its date on every
// retry (the insert broke the id's uniqueness), counting against the breaker: it is quarantined
// and the rest of the date consolidates.
TEST(ConsolidationStoreTest, APredictionIdStoredUnderAnotherDateIsQuarantined) {
  testing::TempDir dir;
  testing::FakeClock clock;
  StoreOptions o;
  o.clock = &clock;
  auto store = std::move(Store::Open("sqlite:" + dir.path() + "/c.db", o)).value();
  const char* t1 = "2026-01-16T10:00:00.000000Z";
  Row earlier = Prediction("p1", "a", 20.5, t1);
  earlier[pred::game_date] = Value::Text("2026-01-15");
  ASSERT_TRUE(store->Import(tables::Predictions(), {earlier}, {}, "p.csv", ImportMode::kUpsert).ok());
  ASSERT_TRUE(store->staging().StageBatch("b", {ToStagingRow("b", clock.NowMicros(), Prediction("p1", "a", 20.5, t1)),
                                      ToStagingRow("b", clock.NowMicros(), Prediction("p2", "b", 9.5, t1))},
                                false)
                  .ok());
  auto merged = store->staging().Consolidate("2026-01-16", PlanConsolidation, WriteSpec{});
  ASSERT_TRUE(merged.ok()) << merged.status().ToString();
  EXPECT_EQ(merged->inserted, 1);
  EXPECT_EQ(merged->quarantined, 1);
  EXPECT_EQ(merged->staged_rows, 2);
  EXPECT_EQ(Ids(*store->ReadPartition(tables::Predictions(), "2026-01-16")),
            std::vector<std::string>{"p2"});
  EXPECT_EQ(Ids(*store->ReadPartition(tables::Predictions(), "2026-01-15")),
            std::vector<std::string>{"p1"});
  std::vector<Row> quarantined;
  ASSERT_TRUE(store->Scan(tables::Quarantine(), ScanSpec{}, [&](Row&& r) {
    quarantined.push_back(std::move(r));
    return OkStatus();
  }).ok());
  ASSERT_EQ(quarantined.size(), 1u);
  EXPECT_EQ(quarantined[0][quar::table_name].as_text(), "prediction_staging");
  EXPECT_NE(quarantined[0][quar::reason].as_text().find("2026-01-15"), std::string::npos);
  EXPECT_NE(quarantined[0][quar::row_json].as_text().find("\"p1\""), std::string::npos);
}

TEST(ConsolidationStoreTest, StageConsolidateAndCleanUpOrphans) {
  testing::TempDir dir;
  testing::FakeClock clock;
  StoreOptions o;
  o.clock = &clock;
  auto store = std::move(Store::Open("sqlite:" + dir.path() + "/c.db", o)).value();
  auto rows = [&](const std::string& batch, std::vector<Row> preds) {
    std::vector<Row> out;
    for (const Row& p : preds) out.push_back(ToStagingRow(batch, clock.NowMicros(), p));
    return out;
  };
  const char* t1 = "2026-01-16T10:00:00.000000Z";
  ASSERT_TRUE(store->staging().StageBatch("b1", rows("b1", {Prediction("a1", "a", 20.5, t1)}), false).ok());
  auto again = store->staging().StageBatch("b1", rows("b1", {Prediction("a1", "a", 20.5, t1)}), false);
  EXPECT_EQ(again.status().code(), StatusCode::kAlreadyExists);
  ASSERT_TRUE(store->staging().StageBatch("b1", rows("b1", {Prediction("a1", "a", 20.5, t1),
                                                  Prediction("b1", "b", 9.5, t1)}), true).ok());
  auto merged = store->staging().Consolidate("2026-01-16", PlanConsolidation, WriteSpec{});
  ASSERT_TRUE(merged.ok()) << merged.status().ToString();
  EXPECT_EQ(merged->staged_rows, 2);
  EXPECT_EQ(merged->inserted, 2);
  EXPECT_EQ(Ids(*store->ReadPartition(tables::Predictions(), "2026-01-16")),
            (std::vector<std::string>{"a1", "b1"}));
  EXPECT_TRUE(store->ReadPartition(tables::Staging(), "2026-01-16")->empty());
  // A batch left for more than a day is an orphan, moved into quarantine on request.
  ASSERT_TRUE(store->staging().StageBatch("late", rows("late", {Prediction("x", "x", 1.5, t1)}), false).ok());
  clock.AdvanceSeconds(25 * 3600);
  ASSERT_TRUE(store->staging().StageBatch("fresh", rows("fresh", {Prediction("y", "y", 1.5, t1)}), false).ok());
  auto orphans = FindOrphanedBatches(store.get(), &clock, 24 * 3600 * 1000000LL);
  ASSERT_TRUE(orphans.ok()) << orphans.status().ToString();
  EXPECT_EQ(orphans->batches, std::vector<std::string>{"late"});
  auto cleaned = CleanupOrphanedBatches(store.get(), &clock, 24 * 3600 * 1000000LL, "r");
  ASSERT_TRUE(cleaned.ok());
  EXPECT_EQ(cleaned->rows, 1);
  EXPECT_TRUE(FindOrphanedBatches(store.get(), &clock, 24 * 3600 * 1000000LL)->batches.empty());
  EXPECT_EQ(store->ReadPartition(tables::Staging(), "2026-01-16")->size(), 1u);  // fresh stays
}

}  // namespace
}  // namespace propgrade

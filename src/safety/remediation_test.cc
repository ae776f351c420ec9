#include "safety/remediation.h"

#include <gtest/gtest.h>

#include <cstdlib>

#include "testing/fake_clock.h"
#include "testing/pg.h"
#include "testing/temp_dir.h"
#include "testing/skip.h"

namespace propgrade {
namespace {

class RemediationTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    std::string url = "sqlite:" + dir_.path() + "/r.db";
    if (GetParam() == "postgres") {
      const char* pg = std::getenv("PROPGRADE_TEST_PG_URL");
      if (!pg || !*pg) PROPGRADE_SKIP_WITHOUT("PROPGRADE_TEST_PG_URL is not set");
      schema_ = "q_" + testing::RandomSchemaSuffix();
      url = std::string(pg) + "?schema=" + schema_;
    }
    StoreOptions o;
    o.enforce_unique_keys = false;  // how legacy duplicates get in
    o.clock = &clock_;
    auto s = Store::Open(url, o);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(s).value();
  }
  void TearDown() override {
    store_.reset();
    if (!schema_.empty()) testing::DropPgSchema(std::getenv("PROPGRADE_TEST_PG_URL"), schema_);
  }
  static Row Graded(const std::string& id, const std::string& player, std::optional<double> line,
                    const std::string& graded_at) {
    Row r(acc::kNumColumns);
    r[acc::prediction_id] = Value::Text(id);
    r[acc::player_lookup] = Value::Text(player);
    r[acc::game_id] = Value::Text("20260116_LAL_BOS");
    r[acc::game_date] = Value::Text("2026-01-16");
    r[acc::system_id] = Value::Text("s");
    r[acc::line_value] = Value::OptReal(line);
    r[acc::graded_at] = Value::Text(graded_at);
    return r;
  }
  std::vector<std::string> Ids(const TableDef& t, int id_col) {
    std::vector<std::string> ids;
    EXPECT_TRUE(store_->Scan(t, ScanSpec{}, [&](Row&& r) {
      ids.push_back(r[id_col].as_text());
      return OkStatus();
    }).ok());
    std::sort(ids.begin(), ids.end());
    return ids;
  }

  testing::TempDir dir_;
  testing::FakeClock clock_;
  std::string schema_;
  std::unique_ptr<Store> store_;
};

TEST_P(RemediationTest, QuarantinesSurplusRowsAndKeepsTheEarliestGrade) {
  const TableDef& t = tables::Accuracy();
  ASSERT_TRUE(store_->ReplacePartition(
      t, "2026-01-16",
      {Graded("late", "a", 20.5, "2026-01-17T12:00:00.000000Z"),
       Graded("early", "a", 20.5, "2026-01-17T11:00:00.000000Z"),
       Graded("null1", "b", std::nullopt, "2026-01-17T11:00:00.000000Z"),
       Graded("null2", "b", std::nullopt, "2026-01-17T11:00:00.000000Z"),
       Graded("null3", "b", std::nullopt, "2026-01-17T13:00:00.000000Z"),
       Graded("alone", "c", 20.5, "2026-01-17T11:00:00.000000Z")},
      WriteSpec{}).ok());
  RemediationOptions dry;
  dry.dry_run = true;
  auto planned = RemoveDuplicates(store_.get(), t, std::string("2026-01-16"), dry);
  ASSERT_TRUE(planned.ok()) << planned.status().ToString();
  EXPECT_EQ(planned->duplicate_groups, 2);
  EXPECT_EQ(planned->moved, 3);
  EXPECT_EQ(Ids(t, acc::prediction_id).size(), 6u);  // a dry run changes nothing
  EXPECT_TRUE(Ids(tables::Quarantine(), quar::reason).empty());

  RemediationOptions real;
  real.run_id = "fix-1";
  auto done = RemoveDuplicates(store_.get(), t, std::string("2026-01-16"), real);
  ASSERT_TRUE(done.ok()) << done.status().ToString();
  EXPECT_EQ(done->moved, 3);
  EXPECT_EQ(done->remaining_duplicate_rows, 0);
  EXPECT_EQ(done->partitions, std::vector<std::string>{"2026-01-16"});
  // The earliest grade stays; of two equal times, the first stored one.
  EXPECT_EQ(Ids(t, acc::prediction_id), (std::vector<std::string>{"alone", "early", "null1"}));
  std::vector<Row> quarantined;
  Status scanned = store_->Scan(tables::Quarantine(), ScanSpec{}, [&](Row&& r) {
    quarantined.push_back(std::move(r));
    return OkStatus();
  });
  ASSERT_TRUE(scanned.ok()) << scanned.ToString();
  ASSERT_EQ(quarantined.size(), 3u);
  for (const Row& q : quarantined) {
    EXPECT_EQ(q[quar::table_name].as_text(), "prediction_accuracy");
    EXPECT_EQ(q[quar::partition].as_text(), "2026-01-16");
    EXPECT_EQ(q[quar::run_id].as_text(), "fix-1");
    EXPECT_NE(q[quar::row_json].as_text().find("\"graded_at\":\"2026-01-17T"), std::string::npos);
  }
  // Removed + remaining = what was there.
  EXPECT_EQ(quarantined.size() + Ids(t, acc::prediction_id).size(), 6u);
}

TEST_P(RemediationTest, KeepLatestAndPredictionsBusinessKey) {
  const TableDef& t = tables::Accuracy();
  ASSERT_TRUE(store_->ReplacePartition(
      t, "2026-01-16",
      {Graded("late", "a", 20.5, "2026-01-17T12:00:00.000000Z"),
       Graded("early", "a", 20.5, "2026-01-17T11:00:00.000000Z")},
      WriteSpec{}).ok());
  RemediationOptions latest;
  latest.keep = KeepPolicy::kLatest;
  ASSERT_TRUE(RemoveDuplicates(store_.get(), t, std::nullopt, latest).ok());
  EXPECT_EQ(Ids(t, acc::prediction_id), std::vector<std::string>{"late"});

  // Predictions: distinct prediction ids, one business key (20.5 = 20.50); the latest
  // created_at stays, then the greatest prediction_id.
  auto pred = [](const std::string& id, double line, const std::string& created) {
    Row r(pred::kNumColumns);
    r[pred::prediction_id] = Value::Text(id);
    r[pred::game_date] = Value::Text("2026-01-16");
    r[pred::game_id] = Value::Text("20260116_LAL_BOS");
    r[pred::player_lookup] = Value::Text("a");
    r[pred::system_id] = Value::Text("s");
    r[pred::line_value] = Value::Real(line);
    r[pred::created_at] = Value::Text(created);
    return r;
  };
  ASSERT_TRUE(store_->Import(tables::Predictions(),
                             {pred("p1", 20.5, "2026-01-16T10:00:00.000000Z"),
                              pred("p3", 20.50, "2026-01-16T12:00:00.000000Z"),
                              pred("p2", 20.5, "2026-01-16T12:00:00.000000Z"),
                              pred("other-line", 21.5, "2026-01-16T09:00:00.000000Z")},
                             {}, "t", ImportMode::kUpsert).ok());
  auto done = RemoveDuplicates(store_.get(), tables::Predictions(), std::string("2026-01-16"),
                               RemediationOptions{});
  ASSERT_TRUE(done.ok()) << done.status().ToString();
  EXPECT_EQ(done->moved, 2);
  EXPECT_EQ(Ids(tables::Predictions(), pred::prediction_id),
            (std::vector<std::string>{"other-line", "p3"}));
}

TEST_P(RemediationTest, RefusesTablesWithoutBusinessDuplicates) {
  auto r = RemoveDuplicates(store_.get(), tables::Actuals(), std::nullopt, RemediationOptions{});
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
}

INSTANTIATE_TEST_SUITE_P(Backends, RemediationTest, ::testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace propgrade

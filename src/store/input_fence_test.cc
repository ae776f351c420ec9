// Input fencing and consolidation's staged rows, against every backend available (SQLite always;
// PostgreSQL when PROPGRADE_TEST_PG_URL names a server): a write computed from inputs that
// changed before it committed is refused, and no write can slip in between the check and the
// commit; consolidation consumes exactly the staged rows it read, and quarantines a staged row
// it cannot merge instead of failing the date.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <thread>

#include "common/civil_date.h"
#include "schema/schema.h"
#include "common/value_text.h"
#include "store/ledgers.h"
#include "store/store.h"
#include "testing/fake_clock.h"
#include "testing/pg.h"
#include "testing/temp_dir.h"
#include "testing/skip.h"

namespace propgrade {
namespace {

constexpr const char* kDay = "2026-01-16";

class InputFenceTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "sqlite") {
      url_ = "sqlite:" + dir_.path() + "/fence.db";
      return;
    }
    const char* pg = std::getenv("PROPGRADE_TEST_PG_URL");
    if (!pg || !*pg) PROPGRADE_SKIP_WITHOUT("PROPGRADE_TEST_PG_URL is not set");
    schema_ = "f_" + testing::RandomSchemaSuffix();
    url_ = std::string(pg) + "?schema=" + schema_;
  }
  void TearDown() override {
    if (!schema_.empty()) testing::DropPgSchema(std::getenv("PROPGRADE_TEST_PG_URL"), schema_);
  }

  std::unique_ptr<Store> Open() {
    StoreOptions options;
    options.clock = &clock_;
    options.busy_timeout_ms = 10000;
    auto store = Store::Open(url_, options);
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    return store.ok() ? std::move(store).value() : nullptr;
  }

  static Row Actual(const std::string& player, int64_t points, const std::string& day = kDay) {
    Row r(act::kNumColumns);
    r[act::game_date] = Value::Text(day);
    r[act::game_id] = Value::Text("20260116_LAL_BOS");
    r[act::player_lookup] = Value::Text(player);
    r[act::points] = Value::Int(points);
    return r;
  }
  static Row Graded(const std::string& player, int64_t actual_points,
                    const std::string& day = kDay) {
    Row r(acc::kNumColumns);
    r[acc::prediction_id] = Value::Text(player + day);
    r[acc::player_lookup] = Value::Text(player);
    r[acc::game_id] = Value::Text("20260116_LAL_BOS");
    r[acc::game_date] = Value::Text(day);
    r[acc::system_id] = Value::Text("ensemble_v1");
    r[acc::line_value] = Value::Real(20.5);
    r[acc::actual_points] = Value::Int(actual_points);
    return r;
  }
  static Row Prediction(const std::string& id, const std::string& player,
                        const std::string& day = kDay) {
    Row p(pred::kNumColumns);
    p[pred::prediction_id] = Value::Text(id);
    p[pred::game_date] = Value::Text(day);
    p[pred::game_id] = Value::Text("20260116_LAL_BOS");
    p[pred::player_lookup] = Value::Text(player);
    p[pred::system_id] = Value::Text("ensemble_v1");
    p[pred::line_value] = Value::Real(20.5);
    p[pred::created_at] = Value::Text("2026-01-16T10:00:00.000000Z");
    return p;
  }
  static std::vector<Row> Staged(const std::string& batch, const std::vector<Row>& preds) {
    std::vector<Row> out;
    for (const Row& p : preds) {
      Row r = {Value::Text(batch), Value::Text("2026-01-16T10:00:00.000000Z")};
      r.insert(r.end(), p.begin(), p.end());
      out.push_back(std::move(r));
    }
    return out;
  }

  // The versions of one partition of `t`, as a reader notes them before reading it.
  InputVersions Versions(Store* store, const TableDef& t, const std::string& from,
                         const std::string& to) {
    auto v = store->PartitionVersions(t, from, to);
    EXPECT_TRUE(v.ok()) << v.status().ToString();
    return {&t, from, to, v.ok() ? *v : VersionMap()};
  }

  Status ImportActuals(Store* store, const std::vector<Row>& rows) {
    return store->Import(tables::Actuals(), rows, {}, "actuals.csv", ImportMode::kUpsert).status();
  }

  testing::TempDir dir_;
  testing::FakeClock clock_;
  std::string url_, schema_;
};

TEST_P(InputFenceTest, AWriteWhoseInputsChangedAfterTheyWereReadIsRefused) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(ImportActuals(store.get(), {Actual("a", 20)}).ok());
  InputVersions read = Versions(store.get(), tables::Actuals(), kDay, kDay);
  ASSERT_EQ(read.versions.count(kDay), 1u) << "an import records its partition's version";
  // The box score is corrected after the run read it.
  ASSERT_TRUE(ImportActuals(store.get(), {Actual("a", 31)}).ok());
  WriteSpec spec;
  spec.inputs = {read};
  auto stale = store->ReplacePartition(tables::Accuracy(), kDay, {Graded("a", 20)}, spec);
  ASSERT_FALSE(stale.ok());
  EXPECT_EQ(stale.status().reason(), StatusReason::kInputsChanged) << stale.status().ToString();
  EXPECT_TRUE(store->ReadPartition(tables::Accuracy(), kDay)->empty()) << "nothing was written";
  // Read again, the write goes through.
  spec.inputs = {Versions(store.get(), tables::Actuals(), kDay, kDay)};
  EXPECT_TRUE(store->ReplacePartition(tables::Accuracy(), kDay, {Graded("a", 31)}, spec).ok());
}

TEST_P(InputFenceTest, AWriteFencedOnARangeIsRefusedWhenAPartitionAppearsInIt) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->ReplacePartition(tables::Accuracy(), "2026-01-15",
                                      {Graded("a", 20, "2026-01-15")}, WriteSpec{})
                  .ok());
  InputVersions window = Versions(store.get(), tables::Accuracy(), "2026-01-01", kDay);
  ASSERT_EQ(window.versions.size(), 1u);
  ASSERT_TRUE(store->ReplacePartition(tables::Accuracy(), kDay, {Graded("b", 10)}, WriteSpec{})
                  .ok());
  Row summary(summ::kNumColumns);
  summary[summ::as_of_date] = Value::Text(kDay);
  summary[summ::summary_key] = Value::Text("k");
  summary[summ::system_id] = Value::Text("s");
  summary[summ::period_type] = Value::Text("season");
  summary[summ::period_value] = Value::Text("2025");
  WriteSpec spec;
  spec.inputs = {window};
  auto stale = store->ReplacePartition(tables::Summary(), kDay, {summary}, spec);
  EXPECT_EQ(stale.status().reason(), StatusReason::kInputsChanged) << stale.status().ToString();
}

TEST_P(InputFenceTest, EveryKindOfWriteAdvancesTheDatabaseWideVersion) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  int64_t last = 0;
  auto advanced = [&](const TableDef& t, const std::string& partition) {
    auto v = store->PartitionVersions(t, partition, partition);
    EXPECT_TRUE(v.ok() && v->count(partition)) << t.name << " " << partition;
    if (!v.ok() || !v->count(partition)) return;
    EXPECT_GT(v->at(partition), last) << t.name << " " << partition;
    last = v->at(partition);
  };
  ASSERT_TRUE(ImportActuals(store.get(), {Actual("a", 20)}).ok());
  advanced(tables::Actuals(), kDay);
  ASSERT_TRUE(store->Import(tables::Archetypes(), {{Value::Text("a"), Value::Text("star")}}, {},
                            "archetypes.csv", ImportMode::kUpsert)
                  .ok());
  advanced(tables::Archetypes(), "");
  ASSERT_TRUE(store->ReplacePartition(tables::Accuracy(), kDay, {Graded("a", 20)}, WriteSpec{})
                  .ok());
  advanced(tables::Accuracy(), kDay);
  ASSERT_TRUE(store->staging().StageBatch("b", Staged("b", {Prediction("p1", "a")}), false).ok());
  ASSERT_TRUE(store->staging().Consolidate(
                       kDay,
                       [](const std::vector<Row>& staged, const std::vector<Row>&,
                          const std::map<std::string, std::string>&) {
                         ConsolidationPlan plan;
                         for (const Row& s : staged) plan.insert.emplace_back(s.begin() + 2, s.end());
                         return plan;
                       },
                       WriteSpec{})
                  .ok());
  advanced(tables::Predictions(), kDay);
  DedupeRequest dedupe;
  dedupe.table = &tables::Accuracy();
  dedupe.partition = kDay;
  dedupe.reason = "test";
  dedupe.choose_surplus = [](const std::vector<Row>&) { return std::vector<size_t>{0}; };
  ASSERT_TRUE(store->quarantine().Dedupe(dedupe).ok());
  advanced(tables::Accuracy(), kDay);
}

// The window between the check and the commit: an input write that starts while a fenced write
// is inside its transaction must wait for it (SQLite: one writer at a time; PostgreSQL: the
// input's advisory locks), so the fenced write commits against the inputs it checked and the
// input change lands after it, with a greater version.
TEST_P(InputFenceTest, AnInputWriteCannotCommitBetweenTheCheckAndTheCommit) {
  auto store = Open();
  auto other = Open();
  ASSERT_TRUE(store && other);
  ASSERT_TRUE(ImportActuals(store.get(), {Actual("a", 20)}).ok());
  std::atomic<bool> imported{false};
  std::thread importer;
  WriteSpec spec;
  spec.inputs = {Versions(store.get(), tables::Actuals(), kDay, kDay)};
  spec.before_commit = [&] {
    importer = std::thread([&] {
      EXPECT_TRUE(ImportActuals(other.get(), {Actual("a", 31)}).ok());
      imported = true;
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(400));
    EXPECT_FALSE(imported) << "an input changed while a write fenced on it was committing";
    return OkStatus();
  };
  ASSERT_TRUE(store->ReplacePartition(tables::Accuracy(), kDay, {Graded("a", 20)}, spec).ok());
  importer.join();
  auto acc = store->PartitionVersions(tables::Accuracy(), kDay, kDay);
  auto actuals = store->PartitionVersions(tables::Actuals(), kDay, kDay);
  ASSERT_TRUE(acc.ok() && actuals.ok());
  EXPECT_LT(acc->at(kDay), actuals->at(kDay)) << "the later change has the greater version";
}

// The same for a write fenced on a range: a new partition in it waits.
TEST_P(InputFenceTest, ANewPartitionInAFencedRangeWaitsForTheFencedWrite) {
  auto store = Open();
  auto other = Open();
  ASSERT_TRUE(store && other);
  std::atomic<bool> written{false};
  std::thread writer;
  WriteSpec spec;
  spec.inputs = {Versions(store.get(), tables::Accuracy(), "2026-01-01", kDay)};
  spec.before_commit = [&] {
    writer = std::thread([&] {
      EXPECT_TRUE(other->ReplacePartition(tables::Accuracy(), "2026-01-10",
                                          {Graded("a", 1, "2026-01-10")}, WriteSpec{})
                      .ok());
      written = true;
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(400));
    EXPECT_FALSE(written) << "a partition appeared in the range while a write fenced on it committed";
    return OkStatus();
  };
  Row daily(daily::kNumColumns);
  daily[daily::game_date] = Value::Text(kDay);
  daily[daily::system_id] = Value::Text("s");
  ASSERT_TRUE(store->ReplacePartition(tables::DailyPerformance(), kDay, {daily}, spec).ok());
  writer.join();
}

// A batch staged while a consolidation of its date is inside its transaction is not consumed by
// it (the consolidation deletes only the rows it read; staging of the date waits for it), and
// the next consolidation merges it.
TEST_P(InputFenceTest, ABatchStagedDuringAConsolidationIsLeftForTheNextOne) {
  auto store = Open();
  auto other = Open();
  ASSERT_TRUE(store && other);
  ASSERT_TRUE(store->staging().StageBatch("first", Staged("first", {Prediction("p1", "a")}), false).ok());
  std::thread stager;
  bool started = false;
  auto planner = [&](const std::vector<Row>& staged, const std::vector<Row>&,
                     const std::map<std::string, std::string>&) {
    if (!started) {
      started = true;
      stager = std::thread([&] {
        EXPECT_TRUE(other->staging().StageBatch("during", Staged("during", {Prediction("p2", "b")}), false)
                        .ok());
      });
      std::this_thread::sleep_for(std::chrono::milliseconds(400));
    }
    ConsolidationPlan plan;
    for (const Row& s : staged) plan.insert.emplace_back(s.begin() + 2, s.end());
    return plan;
  };
  auto merged = store->staging().Consolidate(kDay, planner, WriteSpec{});
  ASSERT_TRUE(merged.ok()) << merged.status().ToString();
  stager.join();
  EXPECT_EQ(merged->staged_rows, 1);
  EXPECT_EQ(merged->inserted, 1);
  auto left = store->ReadPartition(tables::Staging(), kDay);
  ASSERT_TRUE(left.ok());
  ASSERT_EQ(left->size(), 1u) << "the batch staged meanwhile was consumed without being merged";
  EXPECT_EQ(FormatCell((*left)[0][stage::batch_id]), "during");
  auto next = store->staging().Consolidate(kDay, planner, WriteSpec{});
  ASSERT_TRUE(next.ok()) << next.status().ToString();
  EXPECT_EQ(store->ReadPartition(tables::Predictions(), kDay)->size(), 2u);
}

INSTANTIATE_TEST_SUITE_P(Backends, InputFenceTest,
                         ::testing::Values(std::string("sqlite"), std::string("postgres")),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace propgrade

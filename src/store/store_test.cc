// The Store contract, run against every backend available to the test run: SQLite always;
// PostgreSQL joins when PROPGRADE_TEST_PG_URL names a server.
#include "store/store.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <set>
#include <thread>

#include "schema/schema.h"
#include "store/ledgers.h"
#include "testing/fake_clock.h"
#include "testing/pg.h"
#include "testing/queries.h"
#include "testing/temp_dir.h"
#include "testing/skip.h"

namespace propgrade {
namespace {

// The parameter names the backend.
class StoreTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "sqlite") {
      url_ = "sqlite:" + dir_.path() + "/test.db";
      return;
    }
    const char* pg = std::getenv("PROPGRADE_TEST_PG_URL");
    if (!pg || !*pg) PROPGRADE_SKIP_WITHOUT("PROPGRADE_TEST_PG_URL is not set");
    schema_ = "t_" + testing::RandomSchemaSuffix();
    url_ = std::string(pg) + "?schema=" + schema_;
  }
  void TearDown() override {
    if (!schema_.empty()) testing::DropPgSchema(std::getenv("PROPGRADE_TEST_PG_URL"), schema_);
  }

  std::unique_ptr<Store> Open(bool enforce = true) {
    StoreOptions options;
    options.enforce_unique_keys = enforce;
    options.clock = &clock_;
    auto store = Store::Open(url_, options);
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    return store.ok() ? std::move(store).value() : nullptr;
  }

  static Row AccuracyRow(const std::string& date, const std::string& player,
                         std::optional<double> line, const std::string& id = "") {
    Row r(acc::kNumColumns);
    r[acc::prediction_id] = Value::Text(id.empty() ? player + date : id);
    r[acc::player_lookup] = Value::Text(player);
    r[acc::game_id] = Value::Text("20260116_LAL_BOS");
    r[acc::game_date] = Value::Text(date);
    r[acc::system_id] = Value::Text("ensemble_v1");
    r[acc::line_value] = Value::OptReal(line);
    r[acc::is_voided] = Value::Bool(false);
    r[acc::absolute_error] = Value::Real(2.68);
    return r;
  }

  int64_t Count(Store* store, const TableDef& t, const std::string& partition) {
    auto rows = store->ReadPartition(t, partition);
    EXPECT_TRUE(rows.ok()) << rows.status().ToString();
    return rows.ok() ? static_cast<int64_t>(rows->size()) : -1;
  }

  testing::TempDir dir_;
  testing::FakeClock clock_;
  std::string url_;
  std::string schema_;  // PostgreSQL: this test's own schema
};

TEST_P(StoreTest, OpenCreatesTheSchemaAndMigrationIsIdempotent) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  EXPECT_TRUE(store->Migrate().ok());
  EXPECT_TRUE(store->Ping().ok());
  store.reset();
  auto again = Open();
  ASSERT_NE(again, nullptr);
  EXPECT_EQ(Count(again.get(), tables::Accuracy(), "2026-01-16"), 0);
}

// A database that lacks a table the catalogue has (made before the table was added to the
// catalogue) gets it when it is opened, whatever its schema version says: adding a built-in
// table needs no migration step of its own.
TEST_P(StoreTest, OpenCreatesACatalogueTableTheDatabaseLacks) {
  ASSERT_NE(Open(), nullptr);
  const std::string drop = "DROP TABLE check_results";
  if (GetParam() == "sqlite") {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((dir_.path() + "/test.db").c_str(), &db), SQLITE_OK);
    EXPECT_EQ(sqlite3_exec(db, drop.c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(db);
  } else {
    testing::DbQuery(url_, drop);
  }
  auto rows = [&] { return testing::DbQuery(url_, "SELECT count(*) FROM check_results"); };
  ASSERT_NE(rows(), std::multiset<std::string>{"0"});  // the table is gone
  auto store = Open();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(rows(), std::multiset<std::string>{"0"});
}

// Without create_if_missing (and read-only) Open finds only a database that exists, and
// creates nothing; read-only it reads, refuses writes and migrates nothing.
TEST_P(StoreTest, OpenWithoutCreateFindsOnlyAnExistingDatabase) {
  // Whether this test's database (the SQLite file, the PostgreSQL schema) exists.
  auto exists = [&] {
    if (GetParam() == "sqlite") return std::filesystem::exists(dir_.path() + "/test.db");
    auto n = testing::DbQuery(std::getenv("PROPGRADE_TEST_PG_URL"),
                              "SELECT count(*) FROM information_schema.schemata WHERE "
                              "schema_name = '" + schema_ + "'");
    return n != std::multiset<std::string>{"0"};
  };
  auto open = [&](bool create, bool read_only) {
    StoreOptions options;
    options.clock = &clock_;
    options.create_if_missing = create;
    options.read_only = read_only;
    return Store::Open(url_, options);
  };
  for (bool read_only : {false, true}) {
    auto missing = open(/*create=*/false, read_only);
    ASSERT_FALSE(missing.ok());
    EXPECT_EQ(missing.status().code(), StatusCode::kNotFound) << missing.status().ToString();
    EXPECT_EQ(missing.status().message().rfind("no such database: ", 0), 0u)
        << missing.status().message();
    EXPECT_NE(missing.status().message().find("(run `propgrade init` or check --db)"),
              std::string::npos);
    EXPECT_FALSE(exists()) << "read_only=" << read_only;
  }
  auto writer = Open();
  ASSERT_NE(writer, nullptr);
  const TableDef& t = tables::Archetypes();
  ASSERT_TRUE(writer->Import(t, {{Value::Text("a"), Value::Text("star")}}, {}, "a.csv",
                             ImportMode::kUpsert)
                  .ok());
  auto existing = open(/*create=*/false, /*read_only=*/false);
  ASSERT_TRUE(existing.ok()) << existing.status().ToString();
  auto reader = open(/*create=*/true, /*read_only=*/true);
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  std::vector<std::string> read;
  ASSERT_TRUE((*reader)
                  ->Scan(t, {}, [&](Row&& r) {
                    read.push_back(r[0].as_text() + "=" + r[1].as_text());
                    return OkStatus();
                  })
                  .ok());
  EXPECT_EQ(read, std::vector<std::string>{"a=star"});
  auto write = (*reader)->Import(t, {{Value::Text("b"), Value::Text("role")}}, {}, "b.csv",
                                 ImportMode::kUpsert);
  EXPECT_FALSE(write.ok()) << "a read-only store wrote";
  int64_t rows = 0;
  ASSERT_TRUE(writer->Scan(t, {}, [&](Row&&) {
                      ++rows;
                      return OkStatus();
                    })
                  .ok());
  EXPECT_EQ(rows, 1);

  // An older schema: nothing read-only migrates it, so a read-only Open refuses it.
  if (GetParam() == "sqlite") {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((dir_.path() + "/test.db").c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, "PRAGMA user_version = 5", nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(db);
  } else {
    ASSERT_EQ(testing::DbQuery(url_, "UPDATE propgrade_schema SET version = version - 1 "
                                     "RETURNING 'ok'"),
              std::multiset<std::string>{"ok"});
  }
  auto older = open(/*create=*/true, /*read_only=*/true);
  ASSERT_FALSE(older.ok());
  EXPECT_EQ(older.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(older.status().message().find("older than this propgrade's"), std::string::npos)
      << older.status().message();
  EXPECT_NE(older.status().message().find("run `propgrade init` to migrate it"), std::string::npos);
}

// Schema version 5 indexes (partition, key) where the key does not start with the partition
// column, so a partition of predictions reads in key order without sorting it.
TEST(SqliteSchemaTest, VersionFourPartitionIndexIsReplaced) {
  testing::TempDir dir;
  const std::string path = dir.path() + "/v4.db";
  auto query = [&](const std::string& sql) {
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    std::string out;
    sqlite3_exec(
        db, sql.c_str(),
        [](void* o, int n, char** values, char**) {
          for (int i = 0; i < n; ++i) *static_cast<std::string*>(o) += values[i] ? values[i] : "";
          *static_cast<std::string*>(o) += "\n";
          return 0;
        },
        &out, nullptr);
    sqlite3_close(db);
    return out;
  };
  ASSERT_TRUE(Store::Open("sqlite:" + path, StoreOptions{}).ok());
  query(
      "DROP INDEX ix_player_prop_predictions_partition_key; CREATE INDEX "
      "ix_player_prop_predictions_partition ON player_prop_predictions (game_date); ALTER TABLE "
      "grading_runs DROP COLUMN keys_changed; PRAGMA user_version = 4");
  ASSERT_TRUE(Store::Open("sqlite:" + path, StoreOptions{}).ok());
  std::string indexes = query(
      "SELECT name FROM sqlite_master WHERE tbl_name = 'player_prop_predictions' AND type = "
      "'index' ORDER BY name");
  EXPECT_EQ(indexes, "ix_player_prop_predictions_partition_key\nux_player_prop_predictions_key\n");
  std::string plan = query(
      "EXPLAIN QUERY PLAN SELECT * FROM player_prop_predictions WHERE game_date = '2026-01-16' "
      "ORDER BY prediction_id");
  EXPECT_EQ(plan.find("TEMP B-TREE"), std::string::npos) << plan;
  EXPECT_EQ(query("PRAGMA user_version"), "8\n");
  EXPECT_EQ(query("SELECT count(*) FROM partition_versions"), "0\n");  // version 6's table
  // Version 7's column of a table that already existed (and version 8's).
  EXPECT_EQ(query("SELECT count(*) FROM pragma_table_info('grading_runs') WHERE name = "
                  "'keys_changed'"),
            "1\n");
  EXPECT_EQ(query("SELECT count(*) FROM pragma_table_info('prediction_accuracy') WHERE name = "
                  "'fence_token'"),
            "1\n");
}

TEST_P(StoreTest, ReplacePartitionReplacesExactlyThatPartition) {
  auto store = Open();
  const TableDef& t = tables::Accuracy();
  WriteSpec spec;
  spec.run_id = "r1";
  ASSERT_TRUE(
      store->ReplacePartition(t, "2026-01-15", {AccuracyRow("2026-01-15", "a", 20.5)}, spec).ok());
  auto w = store->ReplacePartition(
      t, "2026-01-16", {AccuracyRow("2026-01-16", "b", 20.5), AccuracyRow("2026-01-16", "a", 20.5)},
      spec);
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  EXPECT_EQ(w->rows_written, 2);
  EXPECT_EQ(w->rows_deleted, 0);
  w = store->ReplacePartition(t, "2026-01-16", {AccuracyRow("2026-01-16", "c", 20.5)}, spec);
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(w->rows_deleted, 2);
  EXPECT_EQ(Count(store.get(), t, "2026-01-16"), 1);
  EXPECT_EQ(Count(store.get(), t, "2026-01-15"), 1);
  auto rows = store->ReadPartition(t, "2026-01-16");
  EXPECT_EQ((*rows)[0][acc::player_lookup].as_text(), "c");
  EXPECT_EQ((*rows)[0][acc::absolute_error].as_real(), 2.68);
  EXPECT_FALSE((*rows)[0][acc::is_voided].as_bool());
}

TEST_P(StoreTest, RowsOfAnotherPartitionAreRefused) {
  auto store = Open();
  auto w = store->ReplacePartition(tables::Accuracy(), "2026-01-16",
                                   {AccuracyRow("2026-01-17", "a", 20.5)}, WriteSpec{});
  EXPECT_EQ(w.status().code(), StatusCode::kInvalidArgument);
}

TEST_P(StoreTest, StaleFenceTokenWritesNothing) {
  auto store = Open();
  const TableDef& t = tables::Accuracy();
  WriteSpec spec;
  spec.fence_token = 5;
  ASSERT_TRUE(
      store->ReplacePartition(t, "2026-01-16", {AccuracyRow("2026-01-16", "a", 20.5)}, spec).ok());
  spec.fence_token = 3;
  Row run(runs::kNumColumns);
  run[runs::run_id] = Value::Text("stale");
  run[runs::processor] = Value::Text("grading");
  run[runs::status] = Value::Text("success");
  spec.run_record = &run;
  auto stale =
      store->ReplacePartition(t, "2026-01-16", {AccuracyRow("2026-01-16", "z", 1.5)}, spec);
  EXPECT_EQ(stale.status().reason(), StatusReason::kFencedOut);
  auto rows = store->ReadPartition(t, "2026-01-16");
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0][acc::player_lookup].as_text(), "a");
  int64_t runs_recorded = 0;
  ASSERT_TRUE(store
                  ->Scan(tables::GradingRuns(), ScanSpec{},
                         [&](Row&&) {
                           ++runs_recorded;
                           return OkStatus();
                         })
                  .ok());
  EXPECT_EQ(runs_recorded, 0);  // the run record rolled back too
  EXPECT_EQ(*store->fences().FenceToken("db", t, "2026-01-16"), 5);

  spec.run_record = nullptr;
  spec.fence_token = 5;  // the same holder may write again
  EXPECT_TRUE(
      store->ReplacePartition(t, "2026-01-16", {AccuracyRow("2026-01-16", "b", 1.5)}, spec).ok());
  spec.fence_token = std::nullopt;  // no token: no comparison, stored token unchanged
  EXPECT_TRUE(
      store->ReplacePartition(t, "2026-01-16", {AccuracyRow("2026-01-16", "c", 1.5)}, spec).ok());
  EXPECT_EQ(*store->fences().FenceToken("db", t, "2026-01-16"), 5);
  spec.fence_token = 9;
  EXPECT_TRUE(
      store->ReplacePartition(t, "2026-01-16", {AccuracyRow("2026-01-16", "d", 1.5)}, spec).ok());
  EXPECT_EQ(*store->fences().FenceToken("db", t, "2026-01-16"), 9);
  // Another lock namespace keeps its own tokens.
  spec.lock_namespace = "etcd:abc";
  spec.fence_token = 1;
  EXPECT_TRUE(
      store->ReplacePartition(t, "2026-01-16", {AccuracyRow("2026-01-16", "e", 1.5)}, spec).ok());
}

TEST_P(StoreTest, NullLinesCollideUnderTheUniqueKey) {
  auto store = Open();
  const TableDef& t = tables::Accuracy();
  ASSERT_TRUE(
      store->ReplacePartition(t, "2026-01-16", {AccuracyRow("2026-01-16", "a", 20.5)}, WriteSpec{})
          .ok());
  auto w = store->ReplacePartition(t, "2026-01-16",
                                   {AccuracyRow("2026-01-16", "a", std::nullopt, "x"),
                                    AccuracyRow("2026-01-16", "a", std::nullopt, "y")},
                                   WriteSpec{});
  EXPECT_EQ(w.status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(Count(store.get(), t, "2026-01-16"), 1);  // the old partition stands
  // A NULL line and a real line are different keys.
  EXPECT_TRUE(store
                  ->ReplacePartition(t, "2026-01-16",
                                     {AccuracyRow("2026-01-16", "a", std::nullopt, "x"),
                                      AccuracyRow("2026-01-16", "a", 0.0, "y")},
                                     WriteSpec{})
                  .ok());
}

TEST_P(StoreTest, DuplicatesAreCountedWhenKeysAreNotEnforced) {
  auto store = Open(/*enforce=*/false);
  const TableDef& t = tables::Accuracy();
  auto w = store->ReplacePartition(
      t, "2026-01-16",
      {AccuracyRow("2026-01-16", "a", std::nullopt, "1"),
       AccuracyRow("2026-01-16", "a", std::nullopt, "2"),
       AccuracyRow("2026-01-16", "a", std::nullopt, "3"), AccuracyRow("2026-01-16", "b", 20.5, "4"),
       AccuracyRow("2026-01-16", "b", 20.5, "5"), AccuracyRow("2026-01-16", "c", 20.5, "6")},
      WriteSpec{});
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  auto d = store->CountDuplicates(t, "2026-01-16");
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->groups, 2);
  EXPECT_EQ(d->surplus_rows, 3);
  ASSERT_EQ(d->sample_keys.size(), 2u);
  EXPECT_NE(d->sample_keys[0].find("NULL"), std::string::npos);
  EXPECT_EQ(store->CountDuplicates(t, "2026-01-15")->groups, 0);
  store.reset();
  // Opening with enforcement on leaves the index alone; turning it back on (init) while
  // duplicates exist is refused with a way out.
  auto reopened = Open();
  ASSERT_NE(reopened, nullptr);
  auto strict = reopened->ApplyKeyUniqueness(true);
  EXPECT_EQ(strict.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(strict.status().message().find("dedupe"), std::string::npos);
}

// A process opened with enforce_unique_keys = false (say, a read-only report with a config
// meant for a legacy import) must not drop the unique index of the whole database: only
// ApplyKeyUniqueness (`propgrade init`) changes it, and says what it changed.
TEST_P(StoreTest, OpeningWithUniqueKeysOffLeavesAnExistingIndexAlone) {
  const TableDef& t = tables::Accuracy();
  const std::vector<Row> twice = {AccuracyRow("2026-01-16", "a", 20.5, "1"),
                                  AccuracyRow("2026-01-16", "a", 20.5, "2")};
  ASSERT_NE(Open(/*enforce=*/true), nullptr);
  auto loose = Open(/*enforce=*/false);
  ASSERT_NE(loose, nullptr);
  EXPECT_FALSE(loose->ReplacePartition(t, "2026-01-16", twice, WriteSpec{}).ok())
      << "opening with enforce_unique_keys = false dropped the unique index";
  auto relaxed = loose->ApplyKeyUniqueness(false);
  ASSERT_TRUE(relaxed.ok()) << relaxed.status().ToString();
  EXPECT_EQ(relaxed->size(), 3u);  // the three grading outputs
  EXPECT_NE(relaxed->front().find("non-unique"), std::string::npos);
  EXPECT_TRUE(loose->ReplacePartition(t, "2026-01-16", twice, WriteSpec{}).ok());
  loose.reset();
  auto strict = Open(/*enforce=*/true);  // and back: opening does not restore it either
  ASSERT_NE(strict, nullptr);
  EXPECT_EQ(strict->CountDuplicates(t, "2026-01-16")->surplus_rows, 1);
  EXPECT_TRUE(strict->ApplyKeyUniqueness(false)->empty()) << "nothing to change";
}

TEST_P(StoreTest, ImportUpsertsOnTheKeyAllOrNothing) {
  auto store = Open();
  const TableDef& t = tables::Actuals();
  auto actual = [](const std::string& player, int points) {
    Row r(act::kNumColumns);
    r[act::game_date] = Value::Text("2026-01-16");
    r[act::game_id] = Value::Text("20260116_LAL_BOS");
    r[act::player_lookup] = Value::Text(player);
    r[act::points] = Value::Int(points);
    return r;
  };
  auto c = store->Import(t, {actual("a", 10), actual("b", 12), actual("a", 11)}, {2, 3, 4}, "f.csv",
                         ImportMode::kUpsert);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->inserted, 2);
  EXPECT_EQ(c->replaced, 1);  // the later row of the file wins
  c = store->Import(t, {actual("a", 30), actual("b", 12)}, {2, 3}, "f.csv", ImportMode::kUpsert);
  EXPECT_EQ(c->replaced, 2);
  auto rows = store->ReadPartition(t, "2026-01-16");
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ((*rows)[0][act::points].as_int(), 30);
  // A row the database refuses (NULL in a NOT NULL column) rolls back the whole file.
  Row bad = actual("c", 5);
  bad[act::game_id] = Value();
  c = store->Import(t, {actual("d", 1), bad}, {2, 3}, "g.csv", ImportMode::kUpsert);
  EXPECT_FALSE(c.ok());
  EXPECT_EQ(store->ReadPartition(t, "2026-01-16")->size(), 2u);
}

// An upsert sets the columns the file has and nothing else: a stored row keeps its values in
// the others (a new row gets NULL there), while a column the file has sets NULL where the
// file's value is NULL.
TEST_P(StoreTest, ImportUpsertKeepsTheStoredValuesOfColumnsTheFileDoesNotHave) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  const TableDef& t = tables::Actuals();
  auto actual = [](const std::string& player, std::optional<int64_t> points,
                   std::optional<double> minutes, const std::string& team) {
    Row r(act::kNumColumns);
    r[act::game_date] = Value::Text("2026-01-16");
    r[act::game_id] = Value::Text("20260116_LAL_BOS");
    r[act::player_lookup] = Value::Text(player);
    r[act::points] = Value::OptInt(points);
    r[act::minutes_played] = Value::OptReal(minutes);
    if (!team.empty()) r[act::team_abbr] = Value::Text(team);
    return r;
  };
  auto stored = [&](const std::string& player) {
    auto rows = store->ReadPartition(t, "2026-01-16");
    EXPECT_TRUE(rows.ok()) << rows.status().ToString();
    for (const Row& r : rows.ok() ? *rows : std::vector<Row>{}) {
      if (r[act::player_lookup].as_text() == player) return r;
    }
    ADD_FAILURE() << "no row for " << player;
    return Row(act::kNumColumns);
  };
  const std::vector<int> key = {act::game_date, act::game_id, act::player_lookup};
  auto with = [&](std::vector<int> extra) {
    std::vector<int> columns = key;
    columns.insert(columns.end(), extra.begin(), extra.end());
    std::sort(columns.begin(), columns.end());
    return columns;
  };

  auto c = store->Import(t, {actual("a", 10, 30.5, "LAL"), actual("b", 12, 20.0, "BOS")}, {},
                         {}, "full.csv", ImportMode::kUpsert);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->inserted, 2);

  // A file of keys and points only: a's points change, its minutes and team stay; c is new.
  c = store->Import(t, {actual("a", 11, std::nullopt, ""), actual("c", 5, std::nullopt, "")},
                    with({act::points}), {2, 3}, "points.csv", ImportMode::kUpsert);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->inserted, 1);
  EXPECT_EQ(c->replaced, 1);
  Row a = stored("a");
  EXPECT_EQ(a[act::points].as_int(), 11);
  ASSERT_FALSE(a[act::minutes_played].is_null()) << "the file did not have minutes_played";
  EXPECT_EQ(a[act::minutes_played].as_real(), 30.5);
  ASSERT_FALSE(a[act::team_abbr].is_null());
  EXPECT_EQ(a[act::team_abbr].as_text(), "LAL");
  EXPECT_TRUE(stored("c")[act::minutes_played].is_null());
  EXPECT_EQ(stored("b")[act::points].as_int(), 12);

  // A file that has minutes_played sets it, to NULL where its value is NULL.
  c = store->Import(t, {actual("a", std::nullopt, std::nullopt, ""), actual("b", 13, 21.0, "")},
                    with({act::points, act::minutes_played}), {}, "minutes.csv",
                    ImportMode::kUpsert);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->replaced, 2);
  a = stored("a");
  EXPECT_TRUE(a[act::points].is_null());
  EXPECT_TRUE(a[act::minutes_played].is_null());
  EXPECT_EQ(a[act::team_abbr].as_text(), "LAL");
  EXPECT_EQ(stored("b")[act::minutes_played].as_real(), 21.0);
  EXPECT_EQ(stored("b")[act::team_abbr].as_text(), "BOS");

  // Keys alone change nothing stored, and still count as replaced.
  c = store->Import(t, {actual("b", std::nullopt, std::nullopt, "")}, key, {}, "keys.csv",
                    ImportMode::kUpsert);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->replaced, 1);
  EXPECT_EQ(stored("b")[act::points].as_int(), 13);

  // A column index the table does not have is refused, and nothing is written.
  c = store->Import(t, {actual("d", 1, 1.0, "")}, {0, act::kNumColumns}, {}, "bad.csv",
                    ImportMode::kUpsert);
  EXPECT_EQ(c.status().code(), StatusCode::kInvalidArgument) << c.status().ToString();
  EXPECT_EQ(Count(store.get(), t, "2026-01-16"), 3);
}

TEST_P(StoreTest, LegacyAccuracyImportRejectsDuplicateKeysNamingTheLine) {
  auto store = Open();
  auto c = store->Import(
      tables::Accuracy(),
      {AccuracyRow("2026-01-16", "a", 20.5, "1"), AccuracyRow("2026-01-16", "a", 20.5, "2")},
      {2, 3}, "legacy.csv", ImportMode::kInsert);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(c.status().message().find("legacy.csv:3"), std::string::npos) << c.status().message();
  EXPECT_EQ(Count(store.get(), tables::Accuracy(), "2026-01-16"), 0);
}

// The event tables (lock_events, check_results, duplicate_audit) take rows without an id and
// number them; on PostgreSQL the COPY stage once refused the missing id.
TEST_P(StoreTest, AppendToAnEventTableNumbersTheRows) {
  auto store = Open();
  std::vector<Row> rows;
  for (const char* key : {"grading/2026-01-16", "grading/2026-01-17"}) {
    Row r(lockev::kNumColumns);
    r[lockev::at] = Value::Text("2026-01-17T06:00:00.000000Z");
    r[lockev::key] = Value::Text(key);
    r[lockev::event] = Value::Text("fence_reset");
    r[lockev::detail] = Value::Text("db: it's \\N");
    rows.push_back(r);
  }
  Status appended = store->Append(tables::LockEvents(), rows);
  ASSERT_TRUE(appended.ok()) << appended.ToString();
  ASSERT_TRUE(store->Append(tables::LockEvents(), {rows[0]}).ok());
  std::vector<Row> stored;
  ASSERT_TRUE(store
                  ->Scan(tables::LockEvents(), ScanSpec{},
                         [&](Row&& r) {
                           stored.push_back(std::move(r));
                           return OkStatus();
                         })
                  .ok());
  ASSERT_EQ(stored.size(), 3u);
  std::set<int64_t> ids;
  for (const Row& r : stored) {
    ids.insert(r[lockev::id].as_int());
    EXPECT_EQ(r[lockev::detail].as_text(), "db: it's \\N");
  }
  EXPECT_EQ(ids.size(), 3u);
}

TEST_P(StoreTest, HostileTextIsStoredLiterally) {
  auto store = Open();
  const std::string evil = "2026-01-16'; DROP TABLE prediction_accuracy; --";
  Row r = AccuracyRow("2026-01-16", evil, 20.5);
  r[acc::model_version] = Value::Text("x\"); DELETE FROM grading_runs; --");
  ASSERT_TRUE(store->ReplacePartition(tables::Accuracy(), "2026-01-16", {r}, WriteSpec{}).ok());
  auto rows = store->ReadPartition(tables::Accuracy(), "2026-01-16");
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0][acc::player_lookup].as_text(), evil);
  // As a partition value it is bound: no rows match (SQLite), or it is refused as a date that
  // does not exist (PostgreSQL's date type).
  auto as_partition = store->ReadPartition(tables::Accuracy(), evil);
  if (as_partition.ok()) {
    EXPECT_TRUE(as_partition->empty());
  } else {
    EXPECT_EQ(as_partition.status().code(), StatusCode::kInvalidArgument);
  }
  EXPECT_EQ(Count(store.get(), tables::Accuracy(), "2026-01-16"), 1);  // the table survived
}

TEST_P(StoreTest, PartitionVersionsChangeOnEveryRewrite) {
  auto store = Open();
  const TableDef& t = tables::Accuracy();
  WriteSpec spec;
  spec.run_id = "r1";
  ASSERT_TRUE(
      store->ReplacePartition(t, "2026-01-16", {AccuracyRow("2026-01-16", "a", 1)}, spec).ok());
  auto v1 = store->PartitionVersions(t, "2026-01-01", "2026-01-31");
  ASSERT_TRUE(v1.ok());
  ASSERT_EQ(v1->count("2026-01-16"), 1u);
  clock_.AdvanceSeconds(1);
  spec.run_id = "r2";
  ASSERT_TRUE(
      store->ReplacePartition(t, "2026-01-16", {AccuracyRow("2026-01-16", "a", 1)}, spec).ok());
  auto v2 = store->PartitionVersions(t, "2026-01-01", "2026-01-31");
  EXPECT_NE(v1->at("2026-01-16"), v2->at("2026-01-16"));
  EXPECT_EQ(*store->ListPartitions(t), std::vector<std::string>{"2026-01-16"});
}

TEST_P(StoreTest, RunRecordsUpsertOnRunAndProcessor) {
  auto store = Open();
  Row run(runs::kNumColumns);
  run[runs::run_id] = Value::Text("r1");
  run[runs::processor] = Value::Text("grading");
  run[runs::game_date] = Value::Text("2026-01-16");
  run[runs::status] = Value::Text("success");
  run[runs::graded] = Value::Int(10);
  ASSERT_TRUE(store->UpsertRun(run).ok());
  run[runs::duplicate_groups] = Value::Int(0);
  ASSERT_TRUE(store->UpsertRun(run).ok());
  auto rows = store->ReadPartition(tables::GradingRuns(), "2026-01-16");
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0][runs::duplicate_groups].as_int(), 0);
  EXPECT_EQ((*rows)[0][runs::graded].as_int(), 10);
}

// READ COMMITTED makes DELETE + INSERT of one partition by two transactions a real race: the
// second DELETE waits for the first writer's row locks, then finds nothing more to delete (the
// first writer's new rows are not in its snapshot) and inserts a second copy. Shown without the
// unique index and with the advisory lock switched off; the shipped path (advisory lock first)
// leaves one copy.
TEST_P(StoreTest, PostgresAdvisoryLockPreventsTheReadCommittedRace) {
  if (GetParam() != "postgres") GTEST_SKIP() << "PostgreSQL only";
  for (bool skip_advisory_lock : {true, false}) {
    StoreOptions o;
    o.enforce_unique_keys = false;
    o.TEST_skip_advisory_lock = skip_advisory_lock;
    auto first = Store::Open(url_, o);
    auto second = Store::Open(url_, o);
    ASSERT_TRUE(first.ok() && second.ok());
    const TableDef& t = tables::Accuracy();
    std::vector<Row> rows = {AccuracyRow("2026-01-16", "a", 20.5),
                             AccuracyRow("2026-01-16", "b", 20.5)};
    ASSERT_TRUE((*first)->ReplacePartition(t, "2026-01-16", rows, WriteSpec{}).ok());
    // Both writers then write other figures (a write of the rows already there changes
    // nothing, and so could not race).
    for (Row& r : rows) r[acc::actual_points] = Value::Int(30);
    std::thread other;
    WriteSpec spec;
    // The first writer, having deleted and inserted, lets the second one start and waits a
    // moment before committing, so the second writer's DELETE runs against uncommitted work.
    spec.before_commit = [&] {
      other = std::thread([&] {
        EXPECT_TRUE((*second)->ReplacePartition(t, "2026-01-16", rows, WriteSpec{}).ok());
      });
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
      return OkStatus();
    };
    ASSERT_TRUE((*first)->ReplacePartition(t, "2026-01-16", rows, spec).ok());
    other.join();
    auto d = (*first)->CountDuplicates(t, "2026-01-16");
    ASSERT_TRUE(d.ok());
    if (skip_advisory_lock) {
      EXPECT_EQ(d->surplus_rows, 2) << "the race did not happen: the test proves nothing";
    } else {
      EXPECT_EQ(d->surplus_rows, 0);
      EXPECT_EQ(Count(first->get(), t, "2026-01-16"), 2);
    }
    first->reset();
    second->reset();
    testing::DropPgSchema(std::getenv("PROPGRADE_TEST_PG_URL"), schema_);
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, StoreTest,
                         ::testing::Values(std::string("sqlite"), std::string("postgres")),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace propgrade

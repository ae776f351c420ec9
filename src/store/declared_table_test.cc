// Declared tables ([tables.NAME]) in both backends: the store creates and migrates the ones it
// manages, checks the ones the user owns, and writes either through the same fenced replace.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <sstream>

#include "schema/schema.h"
#include "store/store.h"
#include "testing/declared_tables.h"
#include "testing/pg.h"
#include "testing/queries.h"
#include "testing/skip.h"
#include "testing/temp_dir.h"

namespace propgrade {
namespace {

TableDeclaration Form() { return testing::PlayerFormDaily(); }

Row FormRow(const std::string& day, const std::string& player, double form) {
  return {Value::Text(day), Value::Text(player), Value::Real(form)};
}

class DeclaredTableTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "sqlite") {
      path_ = dir_.path() + "/test.db";
      url_ = "sqlite:" + path_;
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

  StatusOr<std::unique_ptr<Store>> Open(std::vector<TableDeclaration> declared,
                                        bool read_only = false) {
    StoreOptions options;
    options.declared_tables = std::move(declared);
    options.read_only = read_only;
    return Store::Open(url_, options);
  }

  // Runs `sql` as a user's own connection would, beside propgrade (the database exists: a
  // store opened it): "ok", or the database's error. Closing the connection rolls back what
  // an error left open.
  std::string RunSql(const std::string& sql) { return testing::DbExec(url_, sql); }
  void UserSql(const std::string& sql) { EXPECT_EQ(RunSql(sql), "ok") << sql; }

  testing::TempDir dir_;
  std::string path_, url_, schema_;
};

TEST_P(DeclaredTableTest, AManagedTableIsCreatedKeyedWithinItsPartitionAndWritten) {
  auto store = Open({Form()});
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  const TableDef* t = (*store)->catalogue().Find("player_form_daily");
  ASSERT_NE(t, nullptr);
  EXPECT_EQ((*store)->catalogue().Find("prediction_accuracy"), &tables::Accuracy());
  auto written = (*store)->ReplacePartition(
      *t, "2026-01-16", {FormRow("2026-01-16", "b", 1.5), FormRow("2026-01-16", "a", 2)},
      WriteSpec{});
  ASSERT_TRUE(written.ok()) << written.status().ToString();
  EXPECT_EQ(written->rows_written, 2);
  // The same key in another partition is another row.
  ASSERT_TRUE((*store)
                  ->ReplacePartition(*t, "2026-01-17", {FormRow("2026-01-17", "a", 3)}, WriteSpec{})
                  .ok());
  auto rows = (*store)->ReadPartition(*t, "2026-01-16");
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ((*rows)[0][1], Value::Text("a"));
  // The key is unique: two rows of one key in one partition are refused, nothing written.
  auto twice = (*store)->ReplacePartition(
      *t, "2026-01-16", {FormRow("2026-01-16", "a", 1), FormRow("2026-01-16", "a", 2)},
      WriteSpec{});
  EXPECT_EQ(twice.status().code(), StatusCode::kAlreadyExists) << twice.status().ToString();
  EXPECT_EQ((*store)->ReadPartition(*t, "2026-01-16")->size(), 2u);
  // The fence is the same as for propgrade's tables.
  WriteSpec newer;
  newer.fence_token = 7;
  ASSERT_TRUE((*store)->ReplacePartition(*t, "2026-01-16", {}, newer).ok());
  WriteSpec stale;
  stale.fence_token = 6;
  auto fenced =
      (*store)->ReplacePartition(*t, "2026-01-16", {FormRow("2026-01-16", "c", 1)}, stale);
  EXPECT_EQ(fenced.status().reason(), StatusReason::kFencedOut);
  auto versions = (*store)->PartitionVersions(*t, "2026-01-16", "2026-01-17");
  ASSERT_TRUE(versions.ok());
  EXPECT_EQ(versions->size(), 2u);  // versioned, so a load can fence its own read
}

// A load from a user's query: the SELECT runs inside the fenced write transaction, its rows
// replace the partition; the same rows again are `unchanged`; a statement that writes, a row
// of another partition or a stale token leave the partition as it was.
TEST_P(DeclaredTableTest, APartitionIsReplacedByTheRowsOfAQueryInsideTheWrite) {
  auto store = Open({Form()});
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  const TableDef* t = (*store)->catalogue().Find("player_form_daily");
  UserSql(
      "CREATE TABLE form_source (d DATE, who TEXT, f DOUBLE PRECISION); INSERT INTO form_source "
      "VALUES ('2026-01-16', 'a', 2), ('2026-01-16', 'b', 1.5), ('2026-01-17', 'c', 3)");
  // The JSON lines as the store gives them, into rows (the pipeline uses the file parser).
  std::string seen;
  QueryRowsParser parse = [&](const std::string& jsonl) -> StatusOr<std::vector<Row>> {
    seen = jsonl;
    std::vector<Row> rows;
    std::istringstream in(jsonl);
    for (std::string line; std::getline(in, line);) {
      auto j = nlohmann::json::parse(line);
      rows.push_back(FormRow(j["as_of_date"], j["player_lookup"], j["form"]));
    }
    return rows;
  };
  const std::string select =
      "SELECT d AS as_of_date, who AS player_lookup, f AS form FROM form_source WHERE d = $1";
  WriteSpec spec;
  spec.fence_token = 5;
  auto written = (*store)->ReplacePartitionFromQuery(*t, "2026-01-16", select, parse, spec);
  ASSERT_TRUE(written.ok()) << written.status().ToString();
  EXPECT_EQ(written->rows_written, 2);
  EXPECT_FALSE(written->unchanged);
  EXPECT_EQ(std::count(seen.begin(), seen.end(), '\n'), 2) << seen;  // one object per row
  auto rows = (*store)->ReadPartition(*t, "2026-01-16");
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ(*rows,
            (std::vector<Row>{FormRow("2026-01-16", "a", 2), FormRow("2026-01-16", "b", 1.5)}));
  auto versions = (*store)->PartitionVersions(*t, "2026-01-16", "2026-01-16");

  auto again = (*store)->ReplacePartitionFromQuery(*t, "2026-01-16", select + ";", parse, spec);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_TRUE(again->unchanged);
  EXPECT_EQ(again->rows_written, 0);
  EXPECT_EQ(*(*store)->PartitionVersions(*t, "2026-01-16", "2026-01-16"), *versions);

  // Refused, nothing written: a statement that writes, a row of another partition, a stale token.
  auto writes = (*store)->ReplacePartitionFromQuery(
      *t, "2026-01-16", "DELETE FROM form_source WHERE d = $1", parse, spec);
  EXPECT_EQ(writes.status().code(), StatusCode::kInvalidArgument) << writes.status().ToString();
  auto elsewhere = (*store)->ReplacePartitionFromQuery(
      *t, "2026-01-16", "SELECT d AS as_of_date, who AS player_lookup, f AS form FROM form_source",
      parse, spec);
  EXPECT_FALSE(elsewhere.ok());
  WriteSpec stale;
  stale.fence_token = 4;
  UserSql("UPDATE form_source SET f = 9");
  auto fenced = (*store)->ReplacePartitionFromQuery(*t, "2026-01-16", select, parse, stale);
  EXPECT_EQ(fenced.status().reason(), StatusReason::kFencedOut);
  EXPECT_EQ(*(*store)->ReadPartition(*t, "2026-01-16"), *rows);
  EXPECT_EQ(testing::DbQuery(url_, "SELECT count(*) FROM form_source"),
            (std::multiset<std::string>{"3"}));  // the DELETE never ran
}

TEST_P(DeclaredTableTest, AManagedTableGainsTheColumnsItsDeclarationGains) {
  {
    auto store = Open({Form()});
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    const TableDef* t = (*store)->catalogue().Find("player_form_daily");
    ASSERT_TRUE(
        (*store)
            ->ReplacePartition(*t, "2026-01-16", {FormRow("2026-01-16", "a", 2)}, WriteSpec{})
            .ok());
  }
  TableDeclaration wider = Form();
  wider.columns.push_back({"minutes", ColumnType::kInteger, false});
  auto store = Open({wider});
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  const TableDef* t = (*store)->catalogue().Find("player_form_daily");
  auto rows = (*store)->ReadPartition(*t, "2026-01-16");
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].size(), 4u);
  EXPECT_TRUE((*rows)[0][3].is_null());

  // A column the database stores as another type is refused, not converted.
  TableDeclaration retyped = Form();
  retyped.columns[2].type = ColumnType::kText;
  auto refused = Open({retyped});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(refused.status().message().find("column form is"), std::string::npos)
      << refused.status().ToString();
}

TEST_P(DeclaredTableTest, ATableTheUserOwnsMustExistWithItsKeyColumns) {
  TableDeclaration owned = Form();
  owned.manage_schema = false;
  ASSERT_TRUE(Open({}).ok());  // the database, without the table
  auto missing = Open({owned});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(missing.status().message().find("player_form_daily ([tables.player_form_daily]) "
                                            "does not exist"),
            std::string::npos)
      << missing.status().ToString();

  UserSql("CREATE TABLE player_form_daily (as_of_date DATE NOT NULL, form REAL)");
  auto no_key = Open({owned});
  ASSERT_FALSE(no_key.ok());
  EXPECT_NE(no_key.status().message().find("has no column player_lookup (a key column)"),
            std::string::npos)
      << no_key.status().ToString();

  UserSql("ALTER TABLE player_form_daily ADD COLUMN player_lookup TEXT");
  auto store = Open({owned});
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  const TableDef* t = (*store)->catalogue().Find("player_form_daily");
  ASSERT_TRUE((*store)
                  ->ReplacePartition(*t, "2026-01-16", {FormRow("2026-01-16", "a", 2)}, WriteSpec{})
                  .ok());
  // propgrade added its unique key index to the user's table.
  auto twice = (*store)->ReplacePartition(
      *t, "2026-01-16", {FormRow("2026-01-16", "a", 1), FormRow("2026-01-16", "a", 2)},
      WriteSpec{});
  EXPECT_EQ(twice.status().code(), StatusCode::kAlreadyExists);

  // Introspection takes the columns as the database has them, in its order.
  TableDeclaration read = owned;
  read.columns.clear();
  read.introspect = true;
  auto introspected = Open({read});
  ASSERT_TRUE(introspected.ok()) << introspected.status().ToString();
  const TableDef* it = (*introspected)->catalogue().Find("player_form_daily");
  ASSERT_EQ(it->columns.size(), 3u);
  EXPECT_EQ(it->columns[0].name, "as_of_date");
  EXPECT_EQ(it->columns[1].name, "form");
  EXPECT_EQ(it->columns[1].type, ColumnType::kReal);
  EXPECT_EQ(it->columns[2].name, "player_lookup");
  auto rows = (*introspected)->ReadPartition(*it, "2026-01-16");
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0][2], Value::Text("a"));
}

// The users this is for arrive with a table the race already duplicated: it does not open
// with its keys enforced, opens with enforce_unique_keys = false (as the grading tables do) so
// that dedupe can clean it, and then gets its unique index from ApplyKeyUniqueness (`init`).
TEST_P(DeclaredTableTest, ATableAdoptedWithDuplicatesOpensUnenforcedUntilItIsClean) {
  TableDeclaration owned = Form();
  owned.manage_schema = false;
  {
    auto created = Open({});  // the database exists, the user's table beside propgrade's
    ASSERT_TRUE(created.ok()) << created.status().ToString();
  }
  UserSql(
      "CREATE TABLE player_form_daily (as_of_date DATE, player_lookup TEXT NOT NULL, form "
      "DOUBLE PRECISION); INSERT INTO player_form_daily VALUES ('2026-01-16', 'a', 1), "
      "('2026-01-16', 'a', 2), ('2026-01-16', 'b', 3)");
  auto enforced = Open({owned});
  ASSERT_FALSE(enforced.ok());
  EXPECT_NE(enforced.status().message().find("cannot enforce unique keys on player_form_daily"),
            std::string::npos)
      << enforced.status().ToString();

  StoreOptions relaxed;
  relaxed.declared_tables = {owned};
  relaxed.enforce_unique_keys = false;
  auto store = Store::Open(url_, relaxed);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  const TableDef* t = (*store)->catalogue().Find("player_form_daily");
  auto dups = (*store)->CountDuplicates(*t, "2026-01-16");
  ASSERT_TRUE(dups.ok()) << dups.status().ToString();
  EXPECT_EQ(dups->groups, 1);
  EXPECT_FALSE((*store)->ApplyKeyUniqueness(true).ok());  // refused while the duplicate stays

  UserSql("DELETE FROM player_form_daily WHERE form = 2");
  auto changed = (*store)->ApplyKeyUniqueness(true);
  ASSERT_TRUE(changed.ok()) << changed.status().ToString();
  EXPECT_NE(std::find(changed->begin(), changed->end(), "player_form_daily: key index made unique"),
            changed->end());
  store->reset();
  EXPECT_TRUE(Open({owned}).ok());
}

TEST_P(DeclaredTableTest, AReadOnlyStoreSeesDeclaredTablesAndChangesNothing) {
  ASSERT_TRUE(Open({}).ok());
  auto before = Open({Form()}, /*read_only=*/true);
  ASSERT_FALSE(before.ok());
  EXPECT_NE(before.status().message().find("propgrade init"), std::string::npos)
      << before.status().ToString();
  ASSERT_TRUE(Open({Form()}).ok());
  auto after = Open({Form()}, /*read_only=*/true);
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  EXPECT_NE((*after)->catalogue().Find("player_form_daily"), nullptr);
}

// A writer with its own SQL takes the fence first in its transaction (docs/own-tables.md); a
// stale token fails the whole transaction, and propgrade's own writes are ordered against it.
TEST_P(DeclaredTableTest, TheSqlFenceOrdersAWriterThatBringsItsOwnSql) {
  auto store = Open({Form()});
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  const TableDef* t = (*store)->catalogue().Find("player_form_daily");
  const bool sqlite = GetParam() == "sqlite";
  auto fenced_write = [&](int64_t token, const std::string& player) {
    const std::string fence =
        sqlite ? "INSERT INTO propgrade_fence (table_name, partition, token) VALUES "
                 "('player_form_daily', '2026-01-16', " +
                     std::to_string(token) + ");"
               : "SELECT propgrade_fence_advance('player_form_daily', '2026-01-16', " +
                     std::to_string(token) + ");";
    const std::string sql = std::string(sqlite ? "BEGIN IMMEDIATE;" : "BEGIN;") + fence +
                            "DELETE FROM player_form_daily WHERE as_of_date = '2026-01-16';"
                            "INSERT INTO player_form_daily (as_of_date, player_lookup, form) "
                            "VALUES ('2026-01-16', '" +
                            player +
                            "', 1);"
                            "COMMIT;";
    return RunSql(sql);
  };
  auto players = [&] {
    std::vector<std::string> out;
    for (const Row& r : *(*store)->ReadPartition(*t, "2026-01-16")) {
      out.push_back(r[1].as_text());
    }
    return out;
  };
  auto version = [&] {
    auto v = (*store)->PartitionVersions(*t, "2026-01-16", "2026-01-16");
    return v.ok() && !v->empty() ? v->begin()->second : int64_t{0};
  };

  ASSERT_EQ(fenced_write(5, "a"), "ok");
  EXPECT_EQ(players(), std::vector<std::string>{"a"});
  const int64_t v5 = version();
  EXPECT_GT(v5, 0);  // the write is a new version of the partition, as propgrade's are
  // propgrade's own write with an older token is fenced out...
  WriteSpec older;
  older.fence_token = 4;
  auto refused =
      (*store)->ReplacePartition(*t, "2026-01-16", {FormRow("2026-01-16", "x", 1)}, older);
  EXPECT_EQ(refused.status().reason(), StatusReason::kFencedOut) << refused.status().ToString();
  // ...and so is a SQL writer with an older token: its whole transaction rolls back.
  const std::string stale = fenced_write(3, "y");
  EXPECT_NE(stale.find("fenced out"), std::string::npos) << stale;
  EXPECT_EQ(players(), std::vector<std::string>{"a"});
  EXPECT_EQ(version(), v5);
  // A newer token writes, after propgrade's newer write.
  WriteSpec newer;
  newer.fence_token = 6;
  ASSERT_TRUE(
      (*store)->ReplacePartition(*t, "2026-01-16", {FormRow("2026-01-16", "b", 1)}, newer).ok());
  EXPECT_NE(fenced_write(5, "z").find("fenced out"), std::string::npos);
  ASSERT_EQ(fenced_write(7, "c"), "ok");
  EXPECT_EQ(players(), std::vector<std::string>{"c"});
  EXPECT_GT(version(), v5);
}

INSTANTIATE_TEST_SUITE_P(Backends, DeclaredTableTest,
                         ::testing::Values(std::string("sqlite"), std::string("postgres")),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace propgrade

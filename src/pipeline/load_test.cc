// Pipeline::LoadText: a declared table's partition through the step path (breaker, lease,
// fenced replace, post-write check, run record), on SQLite with the db lock.
#include <gtest/gtest.h>

#include "pipeline/pipeline.h"
#include "schema/schema.h"
#include "testing/declared_tables.h"
#include "testing/fake_clock.h"
#include "testing/queries.h"
#include "testing/temp_dir.h"

namespace propgrade {
namespace {

TableDeclaration Form() {
  TableDeclaration d = testing::PlayerFormDaily();
  d.columns.push_back({"note", ColumnType::kText, false});
  return d;
}

class LoadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    url_ = "sqlite:" + dir_.path() + "/p.db";
    StoreOptions so;
    so.declared_tables = {Form()};
    store_ = std::move(Store::Open(url_, so)).value();
    LockOptions lo;
    lo.store_url = url_;
    lo.clock = &clock_;
    locks_ = std::move(LockService::Open("db", lo)).value();
    PipelineDeps d;
    d.store = store_.get();
    d.locks = locks_.get();
    d.clock = &clock_;
    d.log = &NullLogger();
    d.cancel = &cancel_;
    pipeline_ = std::make_unique<Pipeline>(d);
    table_ = store_->catalogue().Find("player_form_daily");
  }

  StatusOr<RunSummary> LoadCsv(const std::string& text, LoadMode mode = LoadMode::kReplace,
                               const std::string& table = "player_form_daily",
                               const std::string& partition = "2026-01-16",
                               bool allow_shrink = false) {
    LoadRequest r;
    r.table = table;
    r.partition = partition;
    r.text = text;
    r.source = "form.csv";
    r.mode = mode;
    RunOptions options;
    options.allow_shrink = allow_shrink;
    return pipeline_->LoadText(r, pipeline_->NewRunId(), options);
  }

  std::vector<Row> Partition(const std::string& p = "2026-01-16") {
    return std::move(store_->ReadPartition(*table_, p)).value();
  }

  testing::TempDir dir_;
  testing::FakeClock clock_;
  CancelToken cancel_;
  std::string url_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<LockService> locks_;
  std::unique_ptr<Pipeline> pipeline_;
  const TableDef* table_ = nullptr;
};

TEST_F(LoadTest, AReplaceWritesThePartitionUnderItsLeaseAndRecordsTheRun) {
  auto s = LoadCsv("as_of_date,player_lookup,form\n2026-01-16,b,1.5\n2026-01-16,a,2\n");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->status, RunStatus::kSuccess) << s->error;
  EXPECT_EQ(s->processor, "player_form_daily");
  EXPECT_EQ(s->partition(), "2026-01-16");
  EXPECT_EQ(s->rows_written, 2);
  EXPECT_EQ(s->duplicate_rows, 0);
  ASSERT_TRUE(s->fence_token.has_value());  // written under a lease of the db lock
  EXPECT_EQ(s->lock_backend, "db");
  EXPECT_EQ(Partition().size(), 2u);
  // The run record names the declared processor and partition.
  bool found = false;
  ASSERT_TRUE(store_
                  ->Scan(tables::GradingRuns(), ScanSpec{},
                         [&](Row&& r) {
                           found |= r[runs::run_id] == Value::Text(s->run_id) &&
                                    r[runs::processor] == Value::Text("player_form_daily") &&
                                    r[runs::partition] == Value::Text("2026-01-16") &&
                                    r[runs::status] == Value::Text("success");
                           return OkStatus();
                         })
                  .ok());
  EXPECT_TRUE(found);

  // Replace: the partition becomes exactly the file; here every stored key would go, which
  // the shrink guard refuses unless the run allows it.
  const std::string other = "as_of_date,player_lookup,form\n2026-01-16,c,4\n";
  auto refused = LoadCsv(other);
  ASSERT_TRUE(refused.ok());
  EXPECT_EQ(refused->status, RunStatus::kShrinkRefused) << refused->error;
  EXPECT_EQ(refused->keys_removed, 2);
  EXPECT_EQ(Partition().size(), 2u);
  auto again = LoadCsv(other, LoadMode::kReplace, "player_form_daily", "2026-01-16",
                       /*allow_shrink=*/true);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->status, RunStatus::kSuccess);
  ASSERT_EQ(Partition().size(), 1u);
  EXPECT_GT(again->fence_token.value_or(0), s->fence_token.value_or(0));
}

TEST_F(LoadTest, TheSameContentTwiceIsUnchangedAndWritesNothing) {
  const std::string csv = "as_of_date,player_lookup,form\n2026-01-16,a,2\n2026-01-16,b,1.5\n";
  ASSERT_EQ(LoadCsv(csv)->status, RunStatus::kSuccess);
  auto versions = store_->PartitionVersions(*table_, "2026-01-16", "2026-01-16");
  // Rows in another order are the same content.
  auto second = LoadCsv("as_of_date,player_lookup,form\n2026-01-16,b,1.5\n2026-01-16,a,2\n");
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->status, RunStatus::kUnchanged);
  EXPECT_EQ(second->exit_code(), ExitCode::kSuccess);
  EXPECT_EQ(*store_->PartitionVersions(*table_, "2026-01-16", "2026-01-16"), *versions);
  // A changed value is a write.
  auto third = LoadCsv("as_of_date,player_lookup,form\n2026-01-16,b,1.5\n2026-01-16,a,2.5\n");
  EXPECT_EQ(third->status, RunStatus::kSuccess);
}

TEST_F(LoadTest, AMergeUpsertsByKeyAndKeepsTheColumnsTheFileLacks) {
  ASSERT_EQ(LoadCsv("as_of_date,player_lookup,form,note\n2026-01-16,a,2,kept\n"
                    "2026-01-16,b,1,old\n")
                ->status,
            RunStatus::kSuccess);
  auto merged =
      LoadCsv("as_of_date,player_lookup,form\n2026-01-16,b,5\n2026-01-16,c,6\n", LoadMode::kMerge);
  ASSERT_TRUE(merged.ok()) << merged.status().ToString();
  EXPECT_EQ(merged->status, RunStatus::kSuccess) << merged->error;
  std::vector<Row> rows = Partition();
  ASSERT_EQ(rows.size(), 3u);  // a stays, b is updated, c is added
  EXPECT_EQ(rows[0][2], Value::Real(2));
  EXPECT_EQ(rows[0][3], Value::Text("kept"));
  EXPECT_EQ(rows[1][2], Value::Real(5));
  EXPECT_EQ(rows[1][3], Value::Text("old"));  // not in the file: the stored value stays
  EXPECT_EQ(rows[2][1], Value::Text("c"));
  EXPECT_EQ(LoadCsv("as_of_date,player_lookup,form\n2026-01-16,c,6\n", LoadMode::kMerge)->status,
            RunStatus::kUnchanged);
}

// --sql: the rows of a SELECT, checked as a file's are (the file's parser, rows numbered from
// 1), written by the step under its lease; again `unchanged`; merge is refused.
TEST_F(LoadTest, AQueryLoadsThePartitionInsideTheFencedWrite) {
  ASSERT_EQ(testing::DbExec(url_,
                            "CREATE TABLE src (d TEXT, who TEXT, f REAL); INSERT INTO src VALUES "
                            "('2026-01-16', 'a', 2), ('2026-01-16', 'b', 1.5), ('2026-01-17', 'x', "
                            "'not a number')"),
            "ok");
  auto by_sql = [&](const std::string& sql, const std::string& partition = "2026-01-16",
                    LoadMode mode = LoadMode::kReplace) {
    LoadRequest r;
    r.table = "player_form_daily";
    r.partition = partition;
    r.sql = sql;
    r.source = "query";
    r.mode = mode;
    return pipeline_->LoadText(r, pipeline_->NewRunId(), RunOptions{});
  };
  const std::string select =
      "SELECT d AS as_of_date, who AS player_lookup, f AS form FROM src WHERE d = $1";
  auto s = by_sql(select);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->status, RunStatus::kSuccess) << s->error;
  EXPECT_EQ(s->rows_written, 2);
  EXPECT_TRUE(s->fence_token.has_value());
  EXPECT_EQ(Partition().size(), 2u);
  s = by_sql(select);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->status, RunStatus::kUnchanged) << s->error;

  // A cell of the wrong type names its row of the result; nothing is written.
  s = by_sql(select, "2026-01-17");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->status, RunStatus::kInvalidInput);  // exit 2, HTTP 400; not a breaker failure
  EXPECT_EQ(s->exit_code(), ExitCode::kUsage);
  EXPECT_NE(s->error.find("query row:1: column 'form'"), std::string::npos) << s->error;
  EXPECT_TRUE(Partition("2026-01-17").empty());
  // A column the table lacks, and merge.
  s = by_sql("SELECT d AS as_of_date, who AS player, f AS form FROM src WHERE d = $1");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->status, RunStatus::kInvalidInput);
  EXPECT_NE(s->error.find("player"), std::string::npos) << s->error;
  s = by_sql("SELECT nonsense FROM nowhere");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->status, RunStatus::kInvalidInput) << s->error;
  EXPECT_NE(s->error.find("the query: no such table: nowhere"), std::string::npos) << s->error;
  EXPECT_EQ(Partition().size(), 2u);
  EXPECT_EQ(by_sql(select, "2026-01-16", LoadMode::kMerge).status().code(),
            StatusCode::kInvalidArgument);
}

TEST_F(LoadTest, BadInputIsRefusedWithItsLineAndNothingIsWritten) {
  ASSERT_EQ(LoadCsv("as_of_date,player_lookup,form\n2026-01-16,a,2\n")->status,
            RunStatus::kSuccess);
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"as_of_date,player_lookup,form\n2026-01-16,a,2\n2026-01-17,b,1\n",
       "form.csv:3: column 'as_of_date': '2026-01-17' is not the partition being loaded"},
      {"as_of_date,player_lookup,form\n2026-01-16,a,high\n", "form.csv:2: column 'form'"},
      {"as_of_date,player_lookup,form\n2026-01-16,,2\n", "form.csv:2: column 'player_lookup'"},
      {"as_of_date,form\n2026-01-16,2\n", "player_lookup"},
      {"as_of_date,player_lookup,form\n2026-01-16,a,2\n2026-01-16,a,3\n",
       "form.csv:3: key 2026-01-16|a repeats line 2"},
      {"as_of_date,player_lookup,form\n", "no data rows"},
  };
  for (const auto& [csv, message] : cases) {
    auto s = LoadCsv(csv);
    ASSERT_FALSE(s.ok()) << csv;
    EXPECT_EQ(s.status().code(), StatusCode::kInvalidArgument) << csv;
    EXPECT_NE(s.status().message().find(message), std::string::npos)
        << csv << " -> " << s.status().ToString();
  }
  auto unknown = LoadCsv("x\n1\n", LoadMode::kReplace, "player_form");
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("unknown table 'player_form'"), std::string::npos);
  EXPECT_NE(unknown.status().message().find("declared: player_form_daily"), std::string::npos);
  auto builtin = LoadCsv("x\n1\n", LoadMode::kReplace, "prediction_accuracy");
  ASSERT_FALSE(builtin.ok());
  EXPECT_NE(builtin.status().message().find("one of propgrade's own"), std::string::npos);
  std::vector<Row> rows = Partition();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0][2], Value::Real(2));
}

}  // namespace
}  // namespace propgrade

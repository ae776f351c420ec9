#include "checks/checks.h"

#include <gtest/gtest.h>

#include <map>

#include "lock/lock_service.h"
#include "pipeline/consolidation.h"
#include "pipeline/pipeline.h"
#include "safety/circuit_breaker.h"
#include "safety/lock_events.h"
#include "schema/schema.h"
#include "store/ledgers.h"
#include "testing/declared_tables.h"
#include "testing/fake_clock.h"
#include "testing/queries.h"
#include "testing/temp_dir.h"

namespace propgrade {
namespace {

// Now: 2026-01-17 15:00 UTC, so yesterday in New York is 2026-01-16.
constexpr int64_t kNow = 1768662000000000;

class ChecksTest : public ::testing::Test {
 protected:
  void SetUp() override {
    clock_.SetNow(kNow);
    Open(true);
    // A healthy database: 3 dates of 6 systems x 60 players, all graded.
    std::vector<Row> preds, actuals;
    for (const char* d : {"2026-01-14", "2026-01-15", "2026-01-16"}) {
      for (int p = 0; p < 60; ++p) {
        actuals.push_back(Actual(d, "p" + std::to_string(p)));
        for (int s = 0; s < 6; ++s) {
          preds.push_back(Prediction(d, "p" + std::to_string(p), "sys" + std::to_string(s)));
        }
      }
    }
    ASSERT_TRUE(store_->Import(tables::Predictions(), preds, {}, "t", ImportMode::kUpsert).ok());
    ASSERT_TRUE(store_->Import(tables::Actuals(), actuals, {}, "t", ImportMode::kUpsert).ok());
    auto none = std::move(LockService::Open("none", LockOptions{})).value();
    PipelineDeps deps;
    deps.store = store_.get();
    deps.locks = none.get();
    deps.clock = &clock_;
    deps.log = &NullLogger();
    Pipeline pipeline(deps);
    for (const char* d : {"2026-01-14", "2026-01-15", "2026-01-16"}) {
      ASSERT_EQ(pipeline.RunDate(*CivilDay::Parse(d), RunOptions{}).exit_code(), ExitCode::kSuccess);
    }
    options_.breaker = &breaker_;
  }

  void Open(bool unique) {
    StoreOptions o;
    o.enforce_unique_keys = unique;
    o.clock = &clock_;
    store_.reset();
    auto s = Store::Open("sqlite:" + dir_.path() + "/c.db", o);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(s).value();
    ASSERT_TRUE(store_->ApplyKeyUniqueness(unique).ok());  // as `propgrade init` would
  }

  static Row Prediction(const std::string& d, const std::string& player, const std::string& sys,
                        const std::string& id = "") {
    Row r(pred::kNumColumns);
    r[pred::prediction_id] = Value::Text(id.empty() ? d + player + sys : id);
    r[pred::game_date] = Value::Text(d);
    std::string compact = d.substr(0, 4) + d.substr(5, 2) + d.substr(8, 2);
    r[pred::game_id] = Value::Text(compact + "_LAL_BOS");
    r[pred::player_lookup] = Value::Text(player);
    r[pred::system_id] = Value::Text(sys);
    r[pred::predicted_points] = Value::Real(12);
    r[pred::confidence_score] = Value::Real(0.6);
    r[pred::recommendation] = Value::Text("OVER");
    r[pred::line_value] = Value::Real(10.5);
    r[pred::created_at] = Value::Text(d + "T12:00:00.000000Z");
    return r;
  }
  static Row Actual(const std::string& d, const std::string& player) {
    Row r(act::kNumColumns);
    r[act::game_date] = Value::Text(d);
    std::string compact = d.substr(0, 4) + d.substr(5, 2) + d.substr(8, 2);
    r[act::game_id] = Value::Text(compact + "_LAL_BOS");
    r[act::player_lookup] = Value::Text(player);
    r[act::team_abbr] = Value::Text("LAL");
    r[act::points] = Value::Int(14);
    r[act::minutes_played] = Value::Real(20);
    return r;
  }

  std::map<std::string, CheckResult> Run() {
    auto report = RunChecks(store_.get(), &clock_, options_);
    EXPECT_TRUE(report.ok()) << report.status().ToString();
    std::map<std::string, CheckResult> by_name;
    for (auto& c : report->checks) by_name[c.name] = c;
    EXPECT_EQ(by_name.size(), 13u);
    return by_name;
  }
  // `name` ends `status`, and every other check passes; a test that rewrites graded rows
  // behind the pipeline's back also leaves that date's aggregates stale (`stale`).
  void ExpectOnly(const std::string& name, CheckStatus status, bool stale = false) {
    auto results = Run();
    for (const auto& [n, c] : results) {
      const CheckStatus expected = n == name                          ? status
                                   : stale && n == "stale_aggregates" ? CheckStatus::kWarn
                                                                      : CheckStatus::kPass;
      EXPECT_EQ(c.status, expected) << n << ": " << c.summary << " " << c.details_json;
    }
  }

  testing::TempDir dir_;
  testing::FakeClock clock_;
  std::unique_ptr<Store> store_;
  CheckOptions options_;
  CircuitBreaker breaker_{dir_.path() + "/breakers.json", 3, 300, &clock_};
};

TEST_F(ChecksTest, AHealthyDatabasePassesEveryCheck) {
  auto results = Run();
  for (const auto& [name, c] : results) {
    EXPECT_EQ(c.status, CheckStatus::kPass) << name << ": " << c.summary << " " << c.details_json;
  }
  EXPECT_EQ(results["prediction_volume"].value, 360);
  EXPECT_EQ(results["system_coverage"].value, 6);
  EXPECT_EQ(results["freshness"].value, 27);
}

TEST_F(ChecksTest, AccuracyDuplicatesFail) {
  Open(false);
  auto rows = *store_->ReadPartition(tables::Accuracy(), "2026-01-16");
  rows.push_back(rows[0]);
  ASSERT_TRUE(store_->ReplacePartition(tables::Accuracy(), "2026-01-16", rows, WriteSpec{}).ok());
  ExpectOnly("accuracy_duplicates", CheckStatus::kFail, /*stale=*/true);
}

TEST_F(ChecksTest, AggregatesOlderThanTheirGradedRowsAreStale) {
  // The graded rows of 2026-01-16 are written again after its daily row and summary.
  auto rows = *store_->ReadPartition(tables::Accuracy(), "2026-01-16");
  ASSERT_TRUE(store_->ReplacePartition(tables::Accuracy(), "2026-01-16", rows, WriteSpec{}).ok());
  CheckResult stale = Run()["stale_aggregates"];
  EXPECT_EQ(stale.status, CheckStatus::kWarn);
  EXPECT_EQ(stale.value, 2);
  EXPECT_EQ(stale.details_json, R"({"daily":["2026-01-16"],"summary":["2026-01-16"]})");
}

TEST_F(ChecksTest, SourceDuplicatesWarn) {
  Row older = Prediction("2026-01-16", "p1", "sys1", "copy");  // loses to the graded row
  older[pred::created_at] = Value::Text("2026-01-16T11:00:00.000000Z");
  ASSERT_TRUE(store_->Import(tables::Predictions(), {older}, {}, "t", ImportMode::kUpsert).ok());
  ExpectOnly("source_duplicates", CheckStatus::kWarn);
}

TEST_F(ChecksTest, AggregateDuplicatesFail) {
  Open(false);
  auto rows = *store_->ReadPartition(tables::DailyPerformance(), "2026-01-15");
  rows.push_back(rows[0]);
  ASSERT_TRUE(store_->ReplacePartition(tables::DailyPerformance(), "2026-01-15", rows, WriteSpec{}).ok());
  ExpectOnly("aggregate_duplicates", CheckStatus::kFail);
}

TEST_F(ChecksTest, PredictionVolumeOutsideTheRangeWarns) {
  options_.thresholds.daily_predictions_min = 1000;
  ExpectOnly("prediction_volume", CheckStatus::kWarn);
}

TEST_F(ChecksTest, UngradedPredictionsWarnThenFailWithReasons) {
  // One late prediction for a player without a box-score row: under 5% of the date.
  ASSERT_TRUE(store_->Import(tables::Predictions(), {Prediction("2026-01-16", "benched", "sys1")},
                             {}, "t", ImportMode::kUpsert).ok());
  auto results = Run();
  EXPECT_EQ(results["ungraded_predictions"].status, CheckStatus::kWarn);
  EXPECT_NE(results["ungraded_predictions"].details_json.find("no actual row for the player"),
            std::string::npos);
  // Thirty more that did play but were never graded: over 5%.
  std::vector<Row> late;
  for (int p = 0; p < 30; ++p) late.push_back(Prediction("2026-01-16", "p" + std::to_string(p), "late"));
  ASSERT_TRUE(store_->Import(tables::Predictions(), late, {}, "t", ImportMode::kUpsert).ok());
  results = Run();
  EXPECT_EQ(results["ungraded_predictions"].status, CheckStatus::kFail);
  EXPECT_EQ(results["ungraded_predictions"].value, 31);
  EXPECT_NE(results["ungraded_predictions"].details_json.find("graded before this prediction arrived"),
            std::string::npos);
}

TEST_F(ChecksTest, ConfidenceOutsideTheUnitIntervalFails) {
  auto rows = *store_->ReadPartition(tables::Accuracy(), "2026-01-16");
  rows[0][acc::confidence_score] = Value::Real(72);
  ASSERT_TRUE(store_->ReplacePartition(tables::Accuracy(), "2026-01-16", rows, WriteSpec{}).ok());
  ExpectOnly("confidence_scale", CheckStatus::kFail, /*stale=*/true);
}

TEST_F(ChecksTest, FreshnessWarnsThenFails) {
  clock_.AdvanceSeconds(5 * 3600);  // 32 h after the newest prediction
  auto results = Run();
  EXPECT_EQ(results["freshness"].status, CheckStatus::kWarn);
  clock_.AdvanceSeconds(17 * 3600);  // 49 h
  EXPECT_EQ(Run()["freshness"].status, CheckStatus::kFail);
}

TEST_F(ChecksTest, TooFewSystemsWarn) {
  options_.thresholds.expected_systems = 7;
  ExpectOnly("system_coverage", CheckStatus::kWarn);
}

TEST_F(ChecksTest, DuplicateTrendWarnsWhenTheRateGrows) {
  Row run(runs::kNumColumns);
  run[runs::run_id] = Value::Text("dup");
  run[runs::processor] = Value::Text("grading");
  run[runs::game_date] = Value::Text("2026-01-16");
  run[runs::status] = Value::Text("success");
  run[runs::rows_written] = Value::Int(360);
  run[runs::duplicate_rows] = Value::Int(3);
  ASSERT_TRUE(store_->UpsertRun(run).ok());
  ExpectOnly("duplicate_trend", CheckStatus::kWarn);
}

TEST_F(ChecksTest, LockTroubleInTheLastDayWarns) {
  ASSERT_TRUE(RecordLockEvent(store_.get(), &clock_,
                              {"grading/2026-01-16", "acquire_timeout", "", std::nullopt,
                               std::nullopt, std::nullopt, ""}).ok());
  ExpectOnly("lock_health", CheckStatus::kWarn);
  clock_.AdvanceSeconds(25 * 3600);  // a day later it has aged out (freshness now fails too)
  EXPECT_EQ(Run()["lock_health"].status, CheckStatus::kPass);
}

TEST_F(ChecksTest, OrphanedStagingWarns) {
  ASSERT_TRUE(store_->staging().StageBatch("b", {ToStagingRow("b", clock_.NowMicros() - 25LL * 3600 * 1000000,
                                                      Prediction("2026-01-17", "x", "s"))},
                                 false).ok());
  ExpectOnly("orphaned_staging", CheckStatus::kWarn);
}

TEST_F(ChecksTest, AnOpenBreakerWarns) {
  for (int i = 0; i < 3; ++i) breaker_.Record("grading", RunStatus::kUnavailable).status().IgnoreError();
  ExpectOnly("breaker", CheckStatus::kWarn);
}

TEST_F(ChecksTest, ResultsAreRecorded) {
  auto report = RunChecks(store_.get(), &clock_, options_);
  ASSERT_TRUE(report.ok());
  ASSERT_TRUE(RecordCheckResults(store_.get(), *report).ok());
  int rows = 0;
  store_->Scan(tables::CheckResults(), ScanSpec{}, [&](Row&&) {
    ++rows;
    return OkStatus();
  }).IgnoreError();
  EXPECT_EQ(rows, 13);
}

// Declared tables: the three table_* checks, and the duplicate trend by the catalogue's
// processors. player_form_daily is partitioned by date, batch_export by a text batch name;
// idle_table is declared but never written.
class DeclaredChecksTest : public ::testing::Test {
 protected:
  void SetUp() override {
    clock_.SetNow(kNow);
    url_ = "sqlite:" + dir_.path() + "/d.db";
    TableDeclaration batches;
    batches.name = "batch_export";
    batches.partition_column = "batch";
    batches.key = {"id"};
    batches.columns = {{"batch", ColumnType::kText, false}, {"id", ColumnType::kInteger, true}};
    TableDeclaration idle = batches;
    idle.name = "idle_table";
    StoreOptions so;
    so.clock = &clock_;
    so.declared_tables = {testing::PlayerFormDaily(), batches, idle};
    store_ = std::move(Store::Open(url_, so)).value();
    none_ = std::move(LockService::Open("none", LockOptions{})).value();
    PipelineDeps deps;
    deps.store = store_.get();
    deps.locks = none_.get();
    deps.clock = &clock_;
    deps.log = &NullLogger();
    pipeline_ = std::make_unique<Pipeline>(deps);
    options_.days = 7;
  }

  void Load(const std::string& table, const std::string& partition, const std::string& csv) {
    LoadRequest r;
    r.table = table;
    r.partition = partition;
    r.text = csv;
    r.source = "in.csv";
    auto s = pipeline_->LoadText(r, pipeline_->NewRunId(), RunOptions{});
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    ASSERT_EQ(s->status, RunStatus::kSuccess) << s->error;
  }
  static std::string Form(const std::string& day, int players) {
    std::string csv = "as_of_date,player_lookup,form\n";
    for (int p = 0; p < players; ++p) csv += day + ",p" + std::to_string(p) + ",1.5\n";
    return csv;
  }

  std::map<std::string, CheckResult> Run() {
    auto report = RunChecks(store_.get(), &clock_, options_);
    EXPECT_TRUE(report.ok()) << report.status().ToString();
    std::map<std::string, CheckResult> by_name;
    for (auto& c : report->checks) by_name[c.name] = c;
    EXPECT_EQ(by_name.size(), 16u);
    return by_name;
  }

  testing::TempDir dir_;
  testing::FakeClock clock_;
  std::string url_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<LockService> none_;
  std::unique_ptr<Pipeline> pipeline_;
  CheckOptions options_;
};

TEST_F(DeclaredChecksTest, EachDeclaredTableIsCheckedForDuplicatesFreshnessAndVolume) {
  for (const char* d : {"2026-01-13", "2026-01-14", "2026-01-15"})
    Load("player_form_daily", d, Form(d, 10));
  Load("batch_export", "b-7", "batch,id\nb-7,1\nb-7,2\n");
  auto results = Run();
  EXPECT_EQ(results["table_duplicates"].status, CheckStatus::kPass)
      << results["table_duplicates"].summary;
  EXPECT_EQ(results["table_volume"].status, CheckStatus::kPass)
      << results["table_volume"].details_json;
  // Written just now, except idle_table: never written warns, naming it.
  EXPECT_EQ(results["table_freshness"].status, CheckStatus::kWarn);
  EXPECT_NE(results["table_freshness"].summary.find("never written: idle_table"), std::string::npos)
      << results["table_freshness"].summary;
  // The duplicate trend knows which table each declared processor writes, of either kind of
  // partition.
  EXPECT_NE(results["duplicate_trend"].details_json.find("\"player_form_daily\""),
            std::string::npos)
      << results["duplicate_trend"].details_json;
  EXPECT_NE(results["duplicate_trend"].details_json.find("\"batch_export\""), std::string::npos);

  // A load with a fraction of the rows before it is out of line.
  Load("player_form_daily", "2026-01-16", Form("2026-01-16", 4));
  results = Run();
  EXPECT_EQ(results["table_volume"].status, CheckStatus::kWarn);
  EXPECT_NE(results["table_volume"].summary.find("player_form_daily 2026-01-16"), std::string::npos)
      << results["table_volume"].summary;
  EXPECT_EQ(results["table_volume"].value, 0.4);

  // Rows that reach the table around propgrade (its key index dropped) are duplicates.
  ASSERT_EQ(testing::DbExec(url_,
                            "DROP INDEX ux_player_form_daily_key; INSERT INTO "
                            "player_form_daily (as_of_date, player_lookup, form) VALUES "
                            "('2026-01-15', 'p1', 2.5)"),
            "ok");
  results = Run();
  EXPECT_EQ(results["table_duplicates"].status, CheckStatus::kFail);
  EXPECT_NE(results["table_duplicates"].details_json.find("player_form_daily 2026-01-15"),
            std::string::npos)
      << results["table_duplicates"].details_json;
  EXPECT_EQ(results["accuracy_duplicates"].status, CheckStatus::kPass);

  // Two days without a write: stale past the fail threshold.
  clock_.AdvanceSeconds(49 * 3600);
  results = Run();
  EXPECT_EQ(results["table_freshness"].status, CheckStatus::kFail);
  EXPECT_EQ(results["table_freshness"].value, 49);
}

TEST_F(DeclaredChecksTest, TheSuiteStaysThirteenChecksWithoutDeclaredTables) {
  StoreOptions so;
  so.clock = &clock_;
  auto plain = std::move(Store::Open("sqlite:" + dir_.path() + "/plain.db", so)).value();
  auto report = RunChecks(plain.get(), &clock_, options_);
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->checks.size(), 13u);
}

}  // namespace
}  // namespace propgrade

#include "pipeline/pipeline.h"

#include <gtest/gtest.h>

#include <set>

#include "schema/schema.h"
#include "testing/fake_clock.h"
#include "testing/queries.h"
#include "testing/temp_dir.h"

namespace propgrade {
namespace {

Row Prediction(const std::string& id, const std::string& date, const std::string& player,
               const std::string& system, double line) {
  Row r(pred::kNumColumns);
  r[pred::prediction_id] = Value::Text(id);
  r[pred::game_date] = Value::Text(date);
  std::string compact = date.substr(0, 4) + date.substr(5, 2) + date.substr(8, 2);
  r[pred::game_id] = Value::Text(compact + "_LAL_BOS");
  r[pred::player_lookup] = Value::Text(player);
  r[pred::system_id] = Value::Text(system);
  r[pred::predicted_points] = Value::Real(line + 1.5);
  r[pred::confidence_score] = Value::Real(0.66);
  r[pred::recommendation] = Value::Text("OVER");
  r[pred::line_value] = Value::Real(line);
  r[pred::created_at] = Value::Text(date + "T12:00:00.000000Z");
  return r;
}

Row Actual(const std::string& date, const std::string& player, int points) {
  Row r(act::kNumColumns);
  r[act::game_date] = Value::Text(date);
  std::string compact = date.substr(0, 4) + date.substr(5, 2) + date.substr(8, 2);
  r[act::game_id] = Value::Text(compact + "_LAL_BOS");
  r[act::player_lookup] = Value::Text(player);
  r[act::team_abbr] = Value::Text("LAL");
  r[act::points] = Value::Int(points);
  r[act::minutes_played] = Value::Real(30);
  return r;
}

class PipelineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    url_ = "sqlite:" + dir_.path() + "/p.db";
    store_ = Open();
    LockOptions lo;
    lo.store_url = "sqlite:" + dir_.path() + "/p.db";
    lo.clock = &clock_;
    locks_ = std::move(LockService::Open("db", lo)).value();
    pipeline_ = std::make_unique<Pipeline>(Deps(store_.get()));
  }
  PipelineDeps Deps(Store* store) {
    PipelineDeps d;
    d.store = store;
    d.store_factory = [this] { return Store::Open(url_, StoreOptions{}); };
    d.locks = locks_.get();
    d.clock = &clock_;
    d.log = &NullLogger();
    d.cancel = &cancel_;
    return d;
  }
  std::unique_ptr<Store> Open() {
    auto s = Store::Open(url_, StoreOptions{});
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return std::move(s).value();
  }
  void Load(const TableDef& t, const std::vector<Row>& rows) {
    auto c = store_->Import(t, rows, {}, "test", ImportMode::kUpsert);
    ASSERT_TRUE(c.ok()) << c.status().ToString();
  }
  // Ten players p0..p9 on 2026-01-16, each with a prediction of s1 and a box score, graded.
  void GradeTenPlayers() {
    std::vector<Row> predictions, actuals;
    for (int i = 0; i < 10; ++i) {
      const std::string player = "p" + std::to_string(i);
      predictions.push_back(Prediction(std::to_string(i), "2026-01-16", player, "s1", 20.5));
      actuals.push_back(Actual("2026-01-16", player, 25));
    }
    Load(tables::Predictions(), predictions);
    Load(tables::Actuals(), actuals);
    ASSERT_EQ(pipeline_->RunDate(*CivilDay::Parse("2026-01-16"), RunOptions{}).exit_code(),
              ExitCode::kSuccess);
  }
  size_t Rows(const TableDef& t, const std::string& partition) {
    return store_->ReadPartition(t, partition)->size();
  }

  testing::TempDir dir_;
  testing::FakeClock clock_;
  CancelToken cancel_;
  std::string url_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<LockService> locks_;
  std::unique_ptr<Pipeline> pipeline_;
};

TEST_F(PipelineTest, GradesAggregatesAndSummarizesADate) {
  Load(tables::Predictions(), {Prediction("1", "2026-01-16", "a", "s1", 20.5),
                               Prediction("2", "2026-01-16", "b", "s1", 10.5),
                               Prediction("3", "2026-01-16", "a", "s2", 20.5)});
  Load(tables::Actuals(), {Actual("2026-01-16", "a", 25), Actual("2026-01-16", "b", 3)});
  DateRun run = pipeline_->RunDate(*CivilDay::Parse("2026-01-16"), RunOptions{});
  ASSERT_EQ(run.steps.size(), 3u);
  for (const RunSummary& s : run.steps) {
    EXPECT_EQ(s.status, RunStatus::kSuccess) << s.processor << " " << s.error;
    EXPECT_EQ(s.duplicate_rows, 0);
  }
  EXPECT_EQ(run.exit_code(), ExitCode::kSuccess);
  EXPECT_EQ(Rows(tables::Accuracy(), "2026-01-16"), 3u);
  EXPECT_EQ(Rows(tables::DailyPerformance(), "2026-01-16"), 2u);
  EXPECT_GT(Rows(tables::Summary(), "2026-01-16"), 0u);
  auto runs = store_->ReadPartition(tables::GradingRuns(), "2026-01-16");
  ASSERT_EQ(runs->size(), 3u);
  std::set<std::string> processors;
  for (const Row& r : *runs) {
    processors.insert(r[runs::processor].as_text());
    EXPECT_EQ(r[runs::run_id].as_text(), run.run_id);
    EXPECT_EQ(r[runs::status].as_text(), "success");
  }
  EXPECT_EQ(processors, (std::set<std::string>{"grading", "daily_performance",
                                               "performance_summary"}));
  // Every graded row carries the run id.
  auto graded = store_->ReadPartition(tables::Accuracy(), "2026-01-16");
  for (const Row& r : *graded) {
    EXPECT_EQ(r[acc::run_id].as_text(), run.run_id);
  }
}

TEST_F(PipelineTest, RegradingReplacesNeverDuplicates) {
  Load(tables::Predictions(), {Prediction("1", "2026-01-16", "a", "s1", 20.5)});
  Load(tables::Actuals(), {Actual("2026-01-16", "a", 25)});
  for (int i = 0; i < 3; ++i) {
    DateRun run = pipeline_->RunDate(*CivilDay::Parse("2026-01-16"), RunOptions{});
    EXPECT_EQ(run.exit_code(), ExitCode::kSuccess);
  }
  EXPECT_EQ(Rows(tables::Accuracy(), "2026-01-16"), 1u);
  EXPECT_EQ(Rows(tables::DailyPerformance(), "2026-01-16"), 1u);
  // The input changes and the regrade reflects it.
  Load(tables::Actuals(), {Actual("2026-01-16", "a", 10)});
  pipeline_->RunDate(*CivilDay::Parse("2026-01-16"), RunOptions{});
  auto rows = store_->ReadPartition(tables::Accuracy(), "2026-01-16");
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_FALSE((*rows)[0][acc::prediction_correct].as_bool());
}

TEST_F(PipelineTest, NoActualsLeavesTheGradedPartitionUntouched) {
  Load(tables::Predictions(), {Prediction("1", "2026-01-16", "a", "s1", 20.5)});
  Load(tables::Actuals(), {Actual("2026-01-16", "a", 25)});
  pipeline_->RunDate(*CivilDay::Parse("2026-01-16"), RunOptions{});
  // The box score disappears (re-imported elsewhere): the grade must not delete its rows.
  auto other = Open();
  ASSERT_TRUE(other->Import(tables::Actuals(), {Actual("2026-01-16", "zz", 1)}, {}, "t",
                            ImportMode::kUpsert).ok());
  Load(tables::Predictions(), {Prediction("1", "2026-01-16", "nobody", "s1", 20.5)});
  DateRun run = pipeline_->RunDate(*CivilDay::Parse("2026-01-16"), RunOptions{});
  ASSERT_EQ(run.steps.size(), 1u);  // no aggregation after a non-success grading
  EXPECT_EQ(run.steps[0].status, RunStatus::kNoActuals);
  EXPECT_EQ(run.exit_code(), ExitCode::kSuccess);
  EXPECT_EQ(Rows(tables::Accuracy(), "2026-01-16"), 1u);

  DateRun empty = pipeline_->RunDate(*CivilDay::Parse("2026-01-20"), RunOptions{});
  EXPECT_EQ(empty.steps[0].status, RunStatus::kNoPredictions);
}

TEST_F(PipelineTest, AHalfLoadedBoxScoreIsRefusedAndTheGradedPartitionStays) {
  GradeTenPlayers();
  auto graded = store_->ReadPartition(tables::Accuracy(), "2026-01-16");
  ASSERT_EQ(graded->size(), 10u);

  // The box scores are being re-loaded: 4 of the 10 players are in so far.
  ASSERT_EQ(testing::DbExec(url_, "DELETE FROM player_game_summary WHERE player_lookup >= 'p4'"),
            "ok");
  Metrics metrics;
  PipelineDeps deps = Deps(store_.get());
  deps.metrics = &metrics;
  Pipeline pipeline(deps);
  DateRun run = pipeline.RunDate(*CivilDay::Parse("2026-01-16"), RunOptions{});
  ASSERT_EQ(run.steps.size(), 1u);  // no aggregation either
  const RunSummary& step = run.steps[0];
  EXPECT_EQ(step.status, RunStatus::kInsufficientActuals);
  EXPECT_EQ(run.exit_code(), ExitCode::kRefused);
  EXPECT_NE(step.error.find("player coverage 0.4 (minimum 0.7)"), std::string::npos) << step.error;
  EXPECT_EQ(*store_->ReadPartition(tables::Accuracy(), "2026-01-16"), *graded);  // untouched
  EXPECT_EQ(metrics.Value("actuals_coverage_ratio", {"player"}), 0.4);
  EXPECT_EQ(metrics.Value("actuals_coverage_ratio", {"game"}), 1.0);
  bool recorded = false;
  for (const Row& r : *store_->ReadPartition(tables::GradingRuns(), "2026-01-16")) {
    if (r[runs::run_id].as_text() != run.run_id) continue;
    recorded = true;
    EXPECT_EQ(r[runs::status].as_text(), "insufficient_actuals");
    EXPECT_EQ(r[runs::player_coverage].as_real(), 0.4);
    EXPECT_EQ(r[runs::game_coverage].as_real(), 1.0);
  }
  EXPECT_TRUE(recorded);

  // With the gate lowered the grade would drop 6 of the 10 graded keys: the shrink guard,
  // the second line of defence, refuses that too unless the run allows it.
  deps.options.min_player_coverage = 0.4;
  Pipeline lowered(deps);
  EXPECT_EQ(lowered.RunDate(*CivilDay::Parse("2026-01-16"), RunOptions{}).steps[0].status,
            RunStatus::kShrinkRefused);
  RunOptions allow;
  allow.allow_shrink = true;
  EXPECT_EQ(lowered.RunDate(*CivilDay::Parse("2026-01-16"), allow).steps[0].status,
            RunStatus::kSuccess);
  EXPECT_EQ(Rows(tables::Accuracy(), "2026-01-16"), 4u);
}

TEST_F(PipelineTest, AReGradeThatWouldDropMostKeysIsRefusedUnlessAllowed) {
  GradeTenPlayers();
  const std::vector<Row> graded = *store_->ReadPartition(tables::Accuracy(), "2026-01-16");

  // 7 of the 10 predictions are invalidated upstream: the re-grade would remove 7 keys.
  ASSERT_EQ(testing::DbExec(url_,
                            "UPDATE player_prop_predictions SET is_active = 0 WHERE "
                            "player_lookup >= 'p3'"),
            "ok");
  DateRun refused = pipeline_->RunDate(*CivilDay::Parse("2026-01-16"), RunOptions{});
  ASSERT_EQ(refused.steps.size(), 1u);
  const RunSummary& step = refused.steps[0];
  EXPECT_EQ(step.status, RunStatus::kShrinkRefused) << step.error;
  EXPECT_EQ(refused.exit_code(), ExitCode::kRefused);
  EXPECT_EQ(step.rows_before, 10);
  EXPECT_EQ(step.rows_after, 10);
  EXPECT_EQ(step.keys_removed, 7);
  EXPECT_EQ(*store_->ReadPartition(tables::Accuracy(), "2026-01-16"), graded);

  RunOptions allow;
  allow.allow_shrink = true;
  DateRun written = pipeline_->RunDate(*CivilDay::Parse("2026-01-16"), allow);
  EXPECT_EQ(written.steps[0].status, RunStatus::kSuccess) << written.steps[0].error;
  EXPECT_EQ(written.steps[0].keys_removed, 7);
  EXPECT_EQ(written.steps[0].rows_after, 3);
  EXPECT_EQ(Rows(tables::Accuracy(), "2026-01-16"), 3u);
  // The run records keep the counts.
  for (const Row& r : *store_->ReadPartition(tables::GradingRuns(), "2026-01-16")) {
    if (r[runs::processor].as_text() != "grading" || r[runs::run_id].as_text() == written.run_id ||
        r[runs::status].as_text() != "shrink_refused") {
      continue;
    }
    EXPECT_EQ(r[runs::keys_removed].as_int(), 7);
    EXPECT_EQ(r[runs::rows_before].as_int(), 10);
  }
}

TEST_F(PipelineTest, ARollbackRestoresTheRowsOfARunAndTheAggregatesFollow) {
  Load(tables::Predictions(), {Prediction("1", "2026-01-16", "a", "s1", 20.5),
                               Prediction("2", "2026-01-16", "b", "s1", 10.5)});
  Load(tables::Actuals(), {Actual("2026-01-16", "a", 25), Actual("2026-01-16", "b", 3)});
  DateRun first = pipeline_->RunDate(*CivilDay::Parse("2026-01-16"), RunOptions{});
  ASSERT_EQ(first.exit_code(), ExitCode::kSuccess);
  const std::vector<Row> accuracy = *store_->ReadPartition(tables::Accuracy(), "2026-01-16");
  const std::vector<Row> daily = *store_->ReadPartition(tables::DailyPerformance(), "2026-01-16");
  // The box score is corrected and the date re-graded: b's OVER now wins.
  clock_.AdvanceSeconds(60);
  Load(tables::Actuals(), {Actual("2026-01-16", "b", 30)});
  DateRun second = pipeline_->RunDate(*CivilDay::Parse("2026-01-16"), RunOptions{});
  ASSERT_EQ(second.exit_code(), ExitCode::kSuccess);
  EXPECT_EQ(second.steps[0].keys_changed, 1);
  ASSERT_NE(*store_->ReadPartition(tables::Accuracy(), "2026-01-16"), accuracy);

  auto history = store_->ReadHistory(tables::Accuracy(), "2026-01-16");
  ASSERT_TRUE(history.ok());
  ASSERT_EQ(history->size(), 2u);
  EXPECT_EQ((*history)[0].run_id, first.run_id);
  EXPECT_EQ((*history)[1].run_id, second.run_id);

  clock_.AdvanceSeconds(60);
  auto back = pipeline_->Rollback(tables::Accuracy(), "2026-01-16", first.run_id,
                                  pipeline_->NewRunId(), RunOptions{});
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  ASSERT_EQ(back->steps.size(), 3u);  // the rollback, then daily performance and the summary
  for (const RunSummary& s : back->steps) EXPECT_EQ(s.status, RunStatus::kSuccess) << s.error;
  EXPECT_EQ(*store_->ReadPartition(tables::Accuracy(), "2026-01-16"), accuracy);  // exactly
  std::vector<Row> daily_now = *store_->ReadPartition(tables::DailyPerformance(), "2026-01-16");
  ASSERT_EQ(daily_now.size(), daily.size());
  EXPECT_EQ(daily_now[0][daily::win_rate], daily[0][daily::win_rate]);
  EXPECT_EQ(daily_now[0][daily::correct_count], daily[0][daily::correct_count]);
  EXPECT_EQ(store_->ReadHistory(tables::Accuracy(), "2026-01-16")->back().kind, "rollback");

  // A run whose rows are not kept is NotFound, and nothing runs.
  EXPECT_EQ(pipeline_
                ->Rollback(tables::Accuracy(), "2026-01-16", "no-such-run", pipeline_->NewRunId(),
                           RunOptions{})
                .status()
                .code(),
            StatusCode::kNotFound);
}

TEST_F(PipelineTest, APreviewComputesTheStepWithoutWriting) {
  Load(tables::Predictions(), {Prediction("1", "2026-01-16", "a", "s1", 20.5)});
  Load(tables::Actuals(), {Actual("2026-01-16", "a", 25)});
  auto preview = pipeline_->PreviewStep(tables::Accuracy(), "2026-01-16");
  ASSERT_TRUE(preview.ok()) << preview.status().ToString();
  EXPECT_EQ(preview->status, RunStatus::kSuccess);
  ASSERT_EQ(preview->rows.size(), 1u);
  EXPECT_EQ(Rows(tables::Accuracy(), "2026-01-16"), 0u);
  EXPECT_EQ(pipeline_->PreviewStep(tables::Predictions(), "2026-01-16").status().code(),
            StatusCode::kInvalidArgument);
}

TEST_F(PipelineTest, ParallelGradingGivesTheSameRowsAsSerial) {
  std::vector<Row> predictions, actuals;
  std::vector<CivilDay> dates;
  for (int d = 1; d <= 6; ++d) {
    std::string date = "2026-01-0" + std::to_string(d);
    dates.push_back(*CivilDay::Parse(date));
    for (int p = 0; p < 5; ++p) {
      std::string player = "p" + std::to_string(p);
      predictions.push_back(Prediction(date + player, date, player, "s1", 10.5 + p));
      actuals.push_back(Actual(date, player, 8 + 2 * p + d % 3));
    }
  }
  Load(tables::Predictions(), predictions);
  Load(tables::Actuals(), actuals);
  auto serial = pipeline_->RunDates(dates, RunOptions{}, 1, nullptr);
  auto serial_summary = store_->ReadPartition(tables::Summary(), "2026-01-06");
  size_t progress_calls = 0;
  auto parallel = pipeline_->RunDates(dates, RunOptions{}, 3,
                                      [&](const DateRun&, size_t done, size_t total) {
                                        ++progress_calls;
                                        EXPECT_LE(done, total);
                                      });
  ASSERT_EQ(parallel.size(), 6u);
  EXPECT_EQ(progress_calls, 6u);
  for (size_t i = 0; i < parallel.size(); ++i) {
    EXPECT_EQ(parallel[i].date, dates[i]);  // reported in date order
    EXPECT_EQ(parallel[i].steps.size(), 3u);
    EXPECT_EQ(parallel[i].exit_code(), ExitCode::kSuccess);
  }
  auto parallel_summary = store_->ReadPartition(tables::Summary(), "2026-01-06");
  ASSERT_EQ(serial_summary->size(), parallel_summary->size());
  for (size_t i = 0; i < serial_summary->size(); ++i) {
    EXPECT_EQ((*serial_summary)[i][summ::summary_key], (*parallel_summary)[i][summ::summary_key]);
    EXPECT_EQ((*serial_summary)[i][summ::hits], (*parallel_summary)[i][summ::hits]);
    EXPECT_EQ((*serial_summary)[i][summ::total_predictions],
              (*parallel_summary)[i][summ::total_predictions]);
  }
}

TEST_F(PipelineTest, SummarySeesRowsRewrittenByAnotherProcess) {
  Load(tables::Predictions(), {Prediction("1", "2026-01-15", "a", "s1", 20.5),
                               Prediction("2", "2026-01-16", "a", "s1", 20.5)});
  Load(tables::Actuals(), {Actual("2026-01-15", "a", 25), Actual("2026-01-16", "a", 25)});
  pipeline_->RunDate(*CivilDay::Parse("2026-01-15"), RunOptions{});
  pipeline_->RunDate(*CivilDay::Parse("2026-01-16"), RunOptions{});
  // Another process regrades the 15th after the actual changed to a miss.
  auto other_store = Open();
  ASSERT_TRUE(other_store->Import(tables::Actuals(), {Actual("2026-01-15", "a", 2)}, {}, "t",
                                  ImportMode::kUpsert).ok());
  clock_.AdvanceSeconds(5);
  Pipeline other(Deps(other_store.get()));
  RunOptions no_aggregation;
  no_aggregation.aggregate = false;
  other.RunDate(*CivilDay::Parse("2026-01-15"), no_aggregation);
  // This pipeline's cache must notice when summarizing the 16th again.
  RunSummary s = pipeline_->SummarizeAsOf(*CivilDay::Parse("2026-01-16"), "r", RunOptions{});
  ASSERT_EQ(s.status, RunStatus::kSuccess) << s.error;
  auto summary = store_->ReadPartition(tables::Summary(), "2026-01-16");
  bool found = false;
  for (const Row& r : *summary) {
    found |= r[summ::summary_key].as_text() == "s1|season|2025-26|NULL|NULL|NULL|NULL";
    if (r[summ::summary_key].as_text() == "s1|season|2025-26|NULL|NULL|NULL|NULL") {
      EXPECT_EQ(r[summ::hits].as_int(), 1);
      EXPECT_EQ(r[summ::misses].as_int(), 1);
    }
  }
  EXPECT_TRUE(found);
}

// The lost update of a lock-guarded read-modify-write: run A reads the box scores, then (before
// it asks for the lock) they are corrected and run B grades the corrected ones. A then gets a
// newer token than B, so the token fence lets A's stale rows overwrite B's. The input fence
// refuses A's write instead; A reads again and writes what the corrected inputs imply.
TEST_F(PipelineTest, ARunWhoseInputsWentStaleBeforeItsLockReadsThemAgain) {
  Load(tables::Predictions(), {Prediction("1", "2026-01-16", "a", "s1", 20.5)});
  Load(tables::Actuals(), {Actual("2026-01-16", "a", 25)});
  auto other_store = Open();
  Pipeline other(Deps(other_store.get()));
  bool interleaved = false;
  SafeWriterTestHooks hooks;
  hooks.TEST_before_acquire = [&] {
    if (interleaved) return;
    interleaved = true;
    Load(tables::Actuals(), {Actual("2026-01-16", "a", 12)});  // the corrected box score
    RunSummary b = other.GradeDate(*CivilDay::Parse("2026-01-16"), "run-b", RunOptions{});
    ASSERT_EQ(b.status, RunStatus::kSuccess) << b.error;
  };
  pipeline_->set_test_hooks(hooks);
  RunSummary a = pipeline_->GradeDate(*CivilDay::Parse("2026-01-16"), "run-a", RunOptions{});
  ASSERT_TRUE(interleaved);
  EXPECT_EQ(a.status, RunStatus::kSuccess) << a.error;
  auto graded = store_->ReadPartition(tables::Accuracy(), "2026-01-16");
  ASSERT_EQ(graded->size(), 1u);
  EXPECT_EQ((*graded)[0][acc::actual_points].as_int(), 12) << "stale rows overwrote fresh ones";
  EXPECT_EQ((*graded)[0][acc::prediction_correct].as_bool(), false);
  // A's write went through after reading again: it found B's rows to be what it computed, so
  // they stand as B wrote them, and A's write is in the history as one that kept them.
  EXPECT_EQ((*graded)[0][acc::run_id].as_text(), "run-b");
  auto history = store_->ReadHistory(tables::Accuracy(), "2026-01-16");
  ASSERT_TRUE(history.ok());
  ASSERT_EQ(history->size(), 2u);
  EXPECT_EQ(history->back().run_id, "run-a");
  EXPECT_TRUE(history->back().rows_kept);
}

// Inputs that keep changing under a step end it fenced_out after a few tries, nothing written.
TEST_F(PipelineTest, InputsThatKeepChangingEndTheStepFencedOut) {
  Load(tables::Predictions(), {Prediction("1", "2026-01-16", "a", "s1", 20.5)});
  Load(tables::Actuals(), {Actual("2026-01-16", "a", 25)});
  int changes = 0;
  SafeWriterTestHooks hooks;
  hooks.TEST_before_acquire = [&] {
    Load(tables::Actuals(), {Actual("2026-01-16", "a", 25 + ++changes)});
  };
  pipeline_->set_test_hooks(hooks);
  RunSummary a = pipeline_->GradeDate(*CivilDay::Parse("2026-01-16"), "run-a", RunOptions{});
  EXPECT_EQ(a.status, RunStatus::kFencedOut) << a.error;
  EXPECT_EQ(changes, 10);
  EXPECT_NE(a.error.find("inputs changed"), std::string::npos) << a.error;
  EXPECT_EQ(Rows(tables::Accuracy(), "2026-01-16"), 0u);
}

TEST_F(PipelineTest, CancelledRunsWriteNothing) {
  Load(tables::Predictions(), {Prediction("1", "2026-01-16", "a", "s1", 20.5)});
  Load(tables::Actuals(), {Actual("2026-01-16", "a", 25)});
  cancel_.Cancel();
  auto runs = pipeline_->RunDates({*CivilDay::Parse("2026-01-16")}, RunOptions{}, 1, nullptr);
  EXPECT_TRUE(runs.empty());
  EXPECT_EQ(Rows(tables::Accuracy(), "2026-01-16"), 0u);
}

}  // namespace
}  // namespace propgrade

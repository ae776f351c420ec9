#include "grading/grader.h"

#include <gtest/gtest.h>

#include "schema/schema.h"

namespace propgrade::grading {
namespace {

const char* kDay = "2026-01-16";

// A prediction row of kDay with sensible defaults; tests override columns.
Row Prediction(const std::string& id, const std::string& player, double pp, double line,
               const std::string& rec) {
  Row r(pred::kNumColumns);
  r[pred::prediction_id] = Value::Text(id);
  r[pred::game_date] = Value::Text(kDay);
  r[pred::game_id] = Value::Text("20260116_LAL_BOS");
  r[pred::player_lookup] = Value::Text(player);
  r[pred::system_id] = Value::Text("ensemble_v1");
  r[pred::predicted_points] = Value::Real(pp);
  r[pred::confidence_score] = Value::Real(0.72);
  r[pred::recommendation] = Value::Text(rec);
  r[pred::line_value] = Value::Real(line);
  r[pred::line_source] = Value::Text("ACTUAL_PROP");
  r[pred::created_at] = Value::Text("2026-01-16T15:00:00.000000Z");
  return r;
}

Row Actual(const std::string& player, std::optional<int64_t> points,
           std::optional<double> minutes, std::optional<bool> dnp = std::nullopt) {
  Row r(act::kNumColumns);
  r[act::game_date] = Value::Text(kDay);
  r[act::game_id] = Value::Text("20260116_LAL_BOS");
  r[act::player_lookup] = Value::Text(player);
  r[act::team_abbr] = Value::Text("LAL");
  r[act::opponent_team_abbr] = Value::Text("BOS");
  r[act::points] = Value::OptInt(points);
  r[act::minutes_played] = Value::OptReal(minutes);
  r[act::is_dnp] = Value::OptBool(dnp);
  return r;
}

Row Report(const std::string& player, std::optional<std::string> status, const std::string& at) {
  Row r(inj::kNumColumns);
  r[inj::game_date] = Value::Text(kDay);
  r[inj::player_lookup] = Value::Text(player);
  r[inj::injury_status] = Value::OptText(status);
  r[inj::reported_at] = Value::Text(at);
  return r;
}

GradeResult Grade(const std::vector<Row>& p, const std::vector<Row>& a,
                  const std::vector<Row>& i = {}) {
  GradeOptions options;
  options.graded_at = "2026-01-17T11:00:00.000000Z";
  options.run_id = "run-1";
  return GradeDate(*CivilDay::Parse(kDay), p, a, i, options);
}

const Row* FindRow(const GradeResult& r, const std::string& id) {
  for (const Row& row : r.rows) {
    if (row[acc::prediction_id].as_text() == id) return &row;
  }
  return nullptr;
}

TEST(GraderTest, GradesAPlayedRowWithEveryDerivedColumn) {
  Row p = Prediction("p1", "lebronjames", 27.345, 24.5, " over ");
  p[pred::confidence_score] = Value::Real(72.0);  // 0–100 scale
  p[pred::estimated_line_value] = Value::Real(24.25);
  p[pred::pace_adjustment] = Value::Real(1.01234);
  p[pred::similar_games_count] = Value::Int(13);
  auto r = Grade({p}, {Actual("lebronjames", 30, 35.5)});
  ASSERT_EQ(r.outcome, GradeOutcome::kGraded);
  ASSERT_EQ(r.rows.size(), 1u);
  const Row& row = r.rows[0];
  EXPECT_EQ(row[acc::recommendation].as_text(), "OVER");
  EXPECT_EQ(row[acc::predicted_points].as_real(), 27.35);  // 27.345 → 27.35 (half away)
  EXPECT_EQ(row[acc::confidence_score].as_real(), 0.72);
  EXPECT_EQ(row[acc::confidence_decile].as_int(), 8);
  EXPECT_EQ(row[acc::estimated_line_value].as_real(), 24.3);
  EXPECT_EQ(row[acc::pace_adjustment].as_real(), 1.0123);
  EXPECT_EQ(row[acc::similarity_sample_size].as_int(), 13);
  EXPECT_EQ(row[acc::absolute_error].as_real(), 2.66);  // |27.345 − 30| = 2.655 → 2.66
  EXPECT_EQ(row[acc::signed_error].as_real(), -2.66);
  EXPECT_TRUE(row[acc::prediction_correct].as_bool());
  // 27.345 − 24.5 is 2.8449999999999989 in IEEE double: its shortest text rounds to 2.84.
  EXPECT_EQ(row[acc::predicted_margin].as_real(), 2.84);
  EXPECT_EQ(row[acc::actual_margin].as_real(), 5.5);
  EXPECT_TRUE(row[acc::within_3_points].as_bool());
  EXPECT_TRUE(row[acc::within_5_points].as_bool());
  EXPECT_FALSE(row[acc::is_push].as_bool());
  EXPECT_FALSE(row[acc::is_voided].as_bool());
  EXPECT_TRUE(row[acc::void_reason].is_null());
  EXPECT_FALSE(row[acc::pre_game_injury_flag].as_bool());
  EXPECT_TRUE(row[acc::pre_game_injury_status].is_null());
  EXPECT_FALSE(row[acc::injury_confirmed_postgame].as_bool());
  EXPECT_TRUE(row[acc::has_prop_line].as_bool());   // NULL → true
  EXPECT_TRUE(row[acc::is_actionable].as_bool());   // NULL → true
  EXPECT_EQ(row[acc::team_abbr].as_text(), "LAL");
  EXPECT_EQ(row[acc::actual_points].as_int(), 30);
  EXPECT_EQ(row[acc::graded_at].as_text(), "2026-01-17T11:00:00.000000Z");
  EXPECT_EQ(row[acc::run_id].as_text(), "run-1");
  EXPECT_EQ(r.stats.mae, 2.66);
  EXPECT_EQ(r.stats.bias, -2.66);
  EXPECT_EQ(r.stats.recommendation_accuracy, 100.0);
}

TEST(GraderTest, WithinThresholdsUseTheUnroundedError) {
  // |23.004 − 20| = 3.004 rounds to 3.0 but is not within 3 points.
  auto r = Grade({Prediction("p1", "a", 23.004, 20.5, "UNDER")}, {Actual("a", 20, 30.0)});
  EXPECT_EQ(r.rows[0][acc::absolute_error].as_real(), 3.0);
  EXPECT_FALSE(r.rows[0][acc::within_3_points].as_bool());
  EXPECT_TRUE(r.rows[0][acc::within_5_points].as_bool());
}

TEST(GraderTest, PushesAndNonRealLines) {
  Row push = Prediction("push", "a", 25, 20.0, "OVER");
  Row estimated = Prediction("est", "b", 25, 20.5, "OVER");
  estimated[pred::line_source] = Value::Text("ESTIMATED_AVG");
  Row no_prop = Prediction("noprop", "c", 25, 20.0, "UNDER");
  no_prop[pred::has_prop_line] = Value::Bool(false);
  auto r = Grade({push, estimated, no_prop},
                 {Actual("a", 20, 30.0), Actual("b", 25, 30.0), Actual("c", 20, 30.0)});
  EXPECT_TRUE(FindRow(r, "push")->at(acc::is_push).as_bool());
  EXPECT_TRUE(FindRow(r, "push")->at(acc::prediction_correct).is_null());
  EXPECT_TRUE(FindRow(r, "est")->at(acc::prediction_correct).is_null());
  EXPECT_FALSE(FindRow(r, "noprop")->at(acc::is_push).as_bool());
  EXPECT_FALSE(FindRow(r, "noprop")->at(acc::has_prop_line).as_bool());
  EXPECT_EQ(r.stats.pushes, 1);
  EXPECT_FALSE(r.stats.recommendation_accuracy.has_value());
}

TEST(GraderTest, EachVoidBranch) {
  Row captured_out = Prediction("captured_out", "p_out", 20, 18.5, "OVER");
  captured_out[pred::injury_status_at_prediction] = Value::Text("out");
  captured_out[pred::injury_flag_at_prediction] = Value::Bool(false);
  Row report_q = Prediction("report_q", "p_q", 20, 18.5, "OVER");
  Row flag_only = Prediction("flag_only", "p_flag", 20, 18.5, "OVER");
  flag_only[pred::injury_flag_at_prediction] = Value::Bool(true);
  Row late_report = Prediction("late_report", "p_late", 20, 18.5, "OVER");
  Row null_status = Prediction("null_status", "p_null", 20, 18.5, "OVER");
  Row nothing = Prediction("nothing", "p_none", 20, 18.5, "OVRE");
  auto r = Grade(
      {captured_out, report_q, flag_only, late_report, null_status, nothing},
      {Actual("p_out", 0, 0.0), Actual("p_q", std::nullopt, std::nullopt),
       Actual("p_flag", 12, 20.0, true), Actual("p_late", 0, std::nullopt),
       Actual("p_null", 0, 0.0), Actual("p_none", 0, 0.0)},
      {Report("p_q", "questionable", "2026-01-16T17:30:00.000000Z"),
       Report("p_late", "OUT", "2026-01-17T00:00:00.000000Z"),  // after D ends: ignored
       Report("p_late", "available", "2026-01-16T10:00:00.000000Z"),
       Report("p_null", "OUT", "2026-01-16T10:00:00.000000Z"),
       Report("p_null", std::nullopt, "2026-01-16T18:00:00.000000Z")});  // latest wins
  ASSERT_EQ(r.rows.size(), 6u);
  auto reason = [&](const char* id) { return FindRow(r, id)->at(acc::void_reason).as_text(); };
  EXPECT_EQ(reason("captured_out"), "dnp_injury_confirmed");
  EXPECT_EQ(reason("report_q"), "dnp_late_scratch");
  EXPECT_EQ(FindRow(r, "report_q")->at(acc::pre_game_injury_status).as_text(), "QUESTIONABLE");
  EXPECT_EQ(reason("flag_only"), "dnp_unknown");
  EXPECT_TRUE(FindRow(r, "flag_only")->at(acc::pre_game_injury_flag).as_bool());
  EXPECT_EQ(FindRow(r, "flag_only")->at(acc::actual_points).as_int(), 12);
  EXPECT_EQ(reason("late_report"), "dnp_unknown");
  EXPECT_EQ(FindRow(r, "late_report")->at(acc::pre_game_injury_status).as_text(), "AVAILABLE");
  EXPECT_EQ(reason("null_status"), "dnp_unknown");
  EXPECT_TRUE(FindRow(r, "null_status")->at(acc::pre_game_injury_status).is_null());
  EXPECT_EQ(reason("nothing"), "dnp_unknown");
  for (const Row& row : r.rows) {
    EXPECT_TRUE(row[acc::is_voided].as_bool());
    EXPECT_TRUE(row[acc::prediction_correct].is_null());
    EXPECT_TRUE(row[acc::absolute_error].is_null());
    EXPECT_TRUE(row[acc::signed_error].is_null());
    EXPECT_TRUE(row[acc::within_3_points].is_null());
    EXPECT_TRUE(row[acc::actual_margin].is_null());
    EXPECT_FALSE(row[acc::is_push].as_bool());
    EXPECT_EQ(row[acc::predicted_margin].as_real(), 1.5);  // computed for voided rows too
  }
  EXPECT_EQ(r.stats.voided, 6);
  EXPECT_EQ(r.stats.voided_injury, 1);
  EXPECT_EQ(r.stats.voided_scratch, 1);
  EXPECT_EQ(r.stats.voided_unknown, 4);
  EXPECT_EQ(r.stats.invalid_recommendations, 0);  // voided rows never reach rule 3
  EXPECT_FALSE(r.stats.mae.has_value());
}

TEST(GraderTest, SecondsPlayedWithZeroPointsIsNotVoided) {
  auto r = Grade({Prediction("p", "a", 3, 1.5, "UNDER")}, {Actual("a", 0, 0.2)});
  EXPECT_FALSE(r.rows[0][acc::is_voided].as_bool());
  EXPECT_TRUE(r.rows[0][acc::prediction_correct].as_bool());
}

TEST(GraderTest, SelectionAndSourceDeduplication) {
  Row old_row = Prediction("a-old", "a", 20, 20.5, "OVER");
  old_row[pred::created_at] = Value::Text("2026-01-16T10:00:00.000000Z");
  Row new_row = Prediction("a-new", "a", 21, 20.50, "OVER");
  new_row[pred::created_at] = Value::Text("2026-01-16T12:00:00.000000Z");
  Row tie_lo = Prediction("b-1", "b", 20, 20.5, "OVER");
  Row tie_hi = Prediction("b-2", "b", 22, 20.5, "OVER");
  Row null_line_1 = Prediction("c-1", "c", 20, 0, "PASS");
  null_line_1[pred::line_value] = Value();
  Row null_line_2 = null_line_1;
  null_line_2[pred::prediction_id] = Value::Text("c-2");
  Row other_line = Prediction("a-other", "a", 21, 21.5, "OVER");
  Row inactive = Prediction("inactive", "d", 20, 20.5, "OVER");
  inactive[pred::is_active] = Value::Bool(false);
  Row postponed = Prediction("postponed", "d", 20, 20.5, "OVER");
  postponed[pred::invalidation_reason] = Value::Text("postponed");
  Row other_day = Prediction("other-day", "d", 20, 20.5, "OVER");
  other_day[pred::game_date] = Value::Text("2026-01-15");
  Row missing = Prediction("missing", "nobox", 20, 20.5, "OVER");
  auto r = Grade({old_row, new_row, tie_lo, tie_hi, null_line_1, null_line_2, other_line,
                  inactive, postponed, other_day, missing},
                 {Actual("a", 25, 30.0), Actual("b", 25, 30.0), Actual("c", 25, 30.0),
                  Actual("d", 25, 30.0)});
  EXPECT_EQ(r.stats.predictions_found, 8);  // inactive, postponed and other days not counted
  EXPECT_EQ(r.stats.source_duplicates, 3);
  EXPECT_EQ(r.stats.missing_actuals, 1);
  EXPECT_EQ(r.stats.graded, 4);
  EXPECT_EQ(r.stats.actuals_found, 4);
  EXPECT_NE(FindRow(r, "a-new"), nullptr);
  EXPECT_EQ(FindRow(r, "a-old"), nullptr);
  EXPECT_NE(FindRow(r, "b-2"), nullptr);  // same created_at: greatest prediction_id
  EXPECT_NE(FindRow(r, "c-2"), nullptr);  // NULL lines collide
  EXPECT_NE(FindRow(r, "a-other"), nullptr);
}

TEST(GraderTest, NoActualsAndNoPredictionsWriteNothing) {
  auto none = Grade({}, {Actual("a", 25, 30.0)});
  EXPECT_EQ(none.outcome, GradeOutcome::kNoPredictions);
  EXPECT_TRUE(none.rows.empty());
  auto no_actuals = Grade({Prediction("p", "a", 20, 20.5, "OVER")}, {});
  EXPECT_EQ(no_actuals.outcome, GradeOutcome::kNoActuals);
  EXPECT_EQ(no_actuals.stats.missing_actuals, 1);
  // The date has actual rows but none of its predictions matches one.
  auto unmatched = Grade({Prediction("p", "a", 20, 20.5, "OVER")}, {Actual("zz", 25, 30.0)});
  EXPECT_EQ(unmatched.outcome, GradeOutcome::kNoActuals);
  EXPECT_TRUE(unmatched.rows.empty());
}

TEST(GraderTest, TheCoverageGateRefusesHalfLoadedBoxScores) {
  // Ten players in two games; the box score of the second game is not loaded yet, and two
  // players of the first are missing from it.
  std::vector<Row> p, a;
  for (int i = 0; i < 10; ++i) {
    const std::string player = "p" + std::to_string(i);
    Row row = Prediction("id" + std::to_string(i), player, 20, 20.5, "OVER");
    if (i >= 6) row[pred::game_id] = Value::Text("20260116_MIA_NYK");
    p.push_back(row);
    if (i < 4) a.push_back(Actual(player, 25, 30.0));
  }
  GradeResult half = Grade(p, a);
  EXPECT_EQ(half.outcome, GradeOutcome::kInsufficientActuals);
  EXPECT_EQ(half.stats.player_coverage, 0.4);  // 4 of 10 predictions have an actual row
  EXPECT_EQ(half.stats.game_coverage, 0.5);    // 1 of 2 games has any
  EXPECT_EQ(half.stats.graded, 4);

  // Both gates are thresholds: at them the date is graded; either one below refuses.
  GradeOptions options;
  options.min_player_coverage = 0.4;
  options.min_game_coverage = 0.5;
  EXPECT_EQ(GradeDate(*CivilDay::Parse(kDay), p, a, {}, options).outcome, GradeOutcome::kGraded);
  options.min_game_coverage = 0.51;
  EXPECT_EQ(GradeDate(*CivilDay::Parse(kDay), p, a, {}, options).outcome,
            GradeOutcome::kInsufficientActuals);
  options.min_game_coverage = 0;
  options.min_player_coverage = 0.41;
  EXPECT_EQ(GradeDate(*CivilDay::Parse(kDay), p, a, {}, options).outcome,
            GradeOutcome::kInsufficientActuals);

  // Loaded in full: coverage 1 and graded under the defaults.
  for (int i = 4; i < 10; ++i) {
    Row row = Actual("p" + std::to_string(i), 25, 30.0);
    if (i >= 6) row[act::game_id] = Value::Text("20260116_MIA_NYK");
    a.push_back(row);
  }
  GradeResult full = Grade(p, a);
  EXPECT_EQ(full.outcome, GradeOutcome::kGraded);
  EXPECT_EQ(full.stats.player_coverage, 1.0);
  EXPECT_EQ(full.stats.game_coverage, 1.0);
}

TEST(GraderTest, JoinUsesGameIdNotPlayerAlone) {
  Row p = Prediction("p", "a", 20, 20.5, "OVER");
  Row other_game = Actual("a", 30, 30.0);
  other_game[act::game_id] = Value::Text("20260116_MIA_NYK");
  auto r = Grade({p}, {other_game});
  EXPECT_EQ(r.outcome, GradeOutcome::kNoActuals);
}

TEST(GraderTest, InvalidConfidenceCountsVoidedRowsToo) {
  Row p = Prediction("p", "a", 20, 20.5, "OVER");
  p[pred::confidence_score] = Value::Real(150.0);
  Row q = Prediction("q", "b", 20, 20.5, "OVER");
  q[pred::confidence_score] = Value::Real(-3.0);
  auto r = Grade({p, q}, {Actual("a", 25, 30.0), Actual("b", 0, 0.0)});
  EXPECT_EQ(r.stats.invalid_confidence, 2);
  EXPECT_TRUE(FindRow(r, "p")->at(acc::confidence_score).is_null());
  EXPECT_TRUE(FindRow(r, "p")->at(acc::confidence_decile).is_null());
}

}  // namespace
}  // namespace propgrade::grading

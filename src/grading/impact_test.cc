#include "grading/impact.h"

#include <gtest/gtest.h>

#include "schema/schema.h"

namespace propgrade::grading {
namespace {

Row Graded(const std::string& date, const std::string& system, const std::string& player,
           std::optional<bool> correct, std::optional<double> error, const std::string& at,
           bool voided = false) {
  Row r(acc::kNumColumns);
  r[acc::prediction_id] = Value::Text(player + at);
  r[acc::game_date] = Value::Text(date);
  r[acc::system_id] = Value::Text(system);
  r[acc::player_lookup] = Value::Text(player);
  r[acc::game_id] = Value::Text("g");
  r[acc::line_value] = Value::Real(20.5);
  r[acc::prediction_correct] = Value::OptBool(correct);
  if (error) {
    r[acc::absolute_error] = Value::Real(std::abs(*error));
    r[acc::signed_error] = Value::Real(*error);
  }
  r[acc::is_voided] = Value::Bool(voided);
  r[acc::graded_at] = Value::Text(at);
  return r;
}

const ImpactLine* Find(const std::vector<ImpactLine>& lines, const std::string& system,
                       const std::string& period) {
  for (const ImpactLine& l : lines) {
    if (l.system_id == system && l.period == period) return &l;
  }
  return nullptr;
}

// Figures worked out by hand (see each comment).
TEST(ImpactTest, TheDistortionOfSurplusRowsPerSystemAndPeriod) {
  const std::string day = "2026-01-16", early = "2026-01-05";
  const std::string t1 = "2026-01-17T11:00:00.000000Z", t2 = "2026-01-17T12:00:00.000000Z";
  std::vector<Row> rows = {
      Graded(day, "A", "k1", true, 2, t1),   Graded(day, "A", "k1", true, 2, t2),  // a copy
      Graded(day, "A", "k2", false, -6, t1), Graded(day, "A", "k3", std::nullopt, 5, t1, true),
      Graded(day, "B", "k1", true, -1, t1),  Graded(early, "A", "k4", true, 1, t1),
      Graded(early, "A", "k4", true, 1, t2),  // a copy
  };
  auto lines = DuplicateImpact(rows, *CivilDay::Parse("2026-01-01"), *CivilDay::Parse(day));

  // A, last 7 days: without the copy k1 + k2 decided (1 of 2 right, 0.5), errors 2 and -6
  // (MAE 4, bias -2); with it 2 of 3 right (0.667), errors 2, 2, -6 (MAE 3.33, bias -0.67).
  const ImpactLine* a7 = Find(lines, "A", "rolling_7d");
  ASSERT_NE(a7, nullptr);
  EXPECT_EQ(a7->with.rows, 4);
  EXPECT_EQ(a7->without.rows, 3);
  EXPECT_EQ(a7->surplus_rows(), 1);
  EXPECT_EQ(a7->win_rate_delta_points(), 16.7);
  EXPECT_EQ(a7->mae_delta(), -0.67);
  EXPECT_EQ(a7->bias_delta(), 1.33);
  EXPECT_EQ(DistortionText(*a7),
            "A rolling_7d win rate +16.7 points, MAE -0.67, bias +1.33 from 1 surplus rows");
  // A over the window: k4 and its copy too: 2 of 3 right without (0.667), 4 of 5 with (0.8).
  const ImpactLine* aw = Find(lines, "A", "window");
  ASSERT_NE(aw, nullptr);
  EXPECT_EQ(aw->surplus_rows(), 2);
  EXPECT_EQ(aw->win_rate_delta_points(), 13.3);
  // B has no copy: no distortion.
  const ImpactLine* b7 = Find(lines, "B", "rolling_7d");
  ASSERT_NE(b7, nullptr);
  EXPECT_EQ(b7->surplus_rows(), 0);
  EXPECT_EQ(b7->win_rate_delta_points(), 0);
  // Every system, last 7 days: 2 of 3 right (0.667) against 3 of 4 (0.75); errors 2, -6, -1
  // (MAE 3, bias -1.67) against 2, 2, -6, -1 (MAE 2.75, bias -0.75).
  const ImpactLine* all7 = Find(lines, "ALL", "rolling_7d");
  ASSERT_NE(all7, nullptr);
  EXPECT_EQ(all7->win_rate_delta_points(), 8.3);
  EXPECT_EQ(all7->mae_delta(), -0.25);
  EXPECT_EQ(all7->bias_delta(), 0.92);
  EXPECT_EQ(lines.back().system_id, "ALL");
  // The kept copy is the earliest graded: its removal leaves the row of t1.
  EXPECT_EQ(a7->without.correct, 1);
}

TEST(ImpactTest, RowsOutsideTheWindowAreLeftOut) {
  std::vector<Row> rows = {Graded("2025-12-01", "A", "k", true, 1, "t"),
                           Graded("2025-12-01", "A", "k", true, 1, "u")};
  EXPECT_TRUE(DuplicateImpact(rows, *CivilDay::Parse("2026-01-01"), *CivilDay::Parse("2026-01-16"))
                  .empty());
}

}  // namespace
}  // namespace propgrade::grading

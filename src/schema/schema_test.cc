#include "schema/schema.h"

#include <gtest/gtest.h>

#include "common/strings.h"

namespace propgrade {
namespace {

std::string ColumnList(const TableDef& t) {
  std::vector<std::string> names;
  for (const auto& c : t.columns) names.push_back(c.name);
  return Join(names, ",");
}

// The export order of spec/grading.md §3.5, copied from the spec text, then the row lineage
// every grading table adds after its run_id (docs/operations.md: fence_token).
TEST(SchemaTest, AccuracyColumnsInSpecOrder) {
  EXPECT_EQ(ColumnList(tables::Accuracy()),
            "prediction_id,player_lookup,game_id,game_date,system_id,team_abbr,"
            "opponent_team_abbr,predicted_points,confidence_score,confidence_decile,"
            "recommendation,line_value,line_source,has_prop_line,estimated_line_value,"
            "pace_adjustment,similarity_sample_size,model_version,is_actionable,filter_reason,"
            "actual_points,minutes_played,absolute_error,signed_error,prediction_correct,"
            "predicted_margin,actual_margin,within_3_points,within_5_points,is_push,is_voided,"
            "void_reason,pre_game_injury_flag,pre_game_injury_status,injury_confirmed_postgame,"
            "graded_at,run_id,fence_token");
  EXPECT_EQ(acc::kNumColumns, 38);
}

TEST(SchemaTest, SummaryColumnsInSpecOrder) {
  EXPECT_EQ(ColumnList(tables::Summary()),
            "as_of_date,summary_key,system_id,period_type,period_value,period_start_date,"
            "period_end_date,player_lookup,archetype,confidence_tier,situation,"
            "total_predictions,total_recommendations,over_recommendations,"
            "under_recommendations,pass_recommendations,hits,misses,hit_rate,over_hit_rate,"
            "under_hit_rate,mae,avg_bias,within_3_pct,within_5_pct,avg_confidence,"
            "unique_players,unique_games,data_hash,computed_at,run_id,fence_token");
}

TEST(SchemaTest, LookupByName) {
  ASSERT_NE(FindTable("prediction_accuracy"), nullptr);
  EXPECT_EQ(FindTable("nope"), nullptr);
  EXPECT_EQ(tables::Accuracy().PartitionIndex(), acc::game_date);
  EXPECT_EQ(tables::Accuracy().KeyIndexes(),
            (std::vector<int>{acc::game_date, acc::player_lookup, acc::game_id, acc::system_id,
                              acc::line_value}));
  EXPECT_EQ(tables::Predictions().import_aliases.at(0).first, "current_points_line");
}

Row Prediction(std::string id, std::string created_at, Value line) {
  Row p(pred::kNumColumns);
  p[pred::prediction_id] = Value::Text(std::move(id));
  p[pred::game_date] = Value::Text("2026-01-15");
  p[pred::game_id] = Value::Text("G1");
  p[pred::player_lookup] = Value::Text("lebron_james");
  p[pred::system_id] = Value::Text("ensemble_v1");
  p[pred::line_value] = std::move(line);
  p[pred::created_at] = Value::Text(std::move(created_at));
  return p;
}

// grading.md §2: the line is compared to 2 places and a missing line equals only itself.
TEST(SchemaTest, ThePredictionBusinessKeyRoundsTheLine) {
  const TableDef& t = tables::Predictions();
  const std::string k = BusinessKey(t).Of(Prediction("a", "t", Value::Real(25.5)));
  EXPECT_EQ(k, BusinessKey(t).Of(Prediction("b", "t", Value::Real(25.504))));
  EXPECT_NE(k, BusinessKey(t).Of(Prediction("c", "t", Value::Real(25.51))));
  const std::string null_key = BusinessKey(t).Of(Prediction("d", "t", Value::Null()));
  EXPECT_NE(k, null_key);
  EXPECT_EQ(null_key, BusinessKey(t).Of(Prediction("e", "t", Value::Null())));
  Row text_null = Prediction("f", "t", Value::Text("NULL"));
  EXPECT_NE(null_key, BusinessKey(t).Of(text_null));
  EXPECT_EQ(BusinessKey(t).TextOf(Prediction("g", "t", Value::Real(25.504))),
            "2026-01-15|lebron_james|G1|ensemble_v1|25.5");
  // The key encodes the rounded value, not its sign or type: -0.004 and 0.0 round alike, and
  // an integer line equals the real one.
  EXPECT_EQ(BusinessKey(t).Of(Prediction("h", "t", Value::Real(-0.004))),
            BusinessKey(t).Of(Prediction("i", "t", Value::Real(0.0))));
  EXPECT_EQ(BusinessKey(t).Of(Prediction("j", "t", Value::Int(25))),
            BusinessKey(t).Of(Prediction("k", "t", Value::Real(25.0))));
  EXPECT_FALSE(t.BusinessKeyIsStoredKey());
  EXPECT_TRUE(tables::Accuracy().BusinessKeyIsStoredKey());
}

TEST(SchemaTest, TheWinnerRuleOrdersByTimeThenTie) {
  const TableDef& t = tables::Predictions();
  Row older = Prediction("z", "2026-01-15T10:00:00Z", Value::Real(25.5));
  Row newer = Prediction("a", "2026-01-15T11:00:00Z", Value::Real(25.5));
  EXPECT_TRUE(Newer(t, newer, older));
  EXPECT_FALSE(Newer(t, older, newer));
  // Same time: the greater prediction_id wins; a full tie keeps the row kept so far.
  Row tie = Prediction("zz", "2026-01-15T10:00:00Z", Value::Real(25.5));
  EXPECT_TRUE(Newer(t, tie, older));
  EXPECT_FALSE(Newer(t, older, tie));
  EXPECT_FALSE(Newer(t, older, older));
  // An override of the direction ignores the tie column.
  EXPECT_TRUE(Newer(*t.winner, t, older, newer, /*latest=*/false));
  EXPECT_FALSE(Newer(*t.winner, t, tie, older, /*latest=*/true));
  // Accuracy keeps the first grading.
  EXPECT_FALSE(tables::Accuracy().winner->latest);
  EXPECT_FALSE(tables::Actuals().winner.has_value());
}

}  // namespace
}  // namespace propgrade

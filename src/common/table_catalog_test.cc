#include "common/table_catalog.h"

#include <gtest/gtest.h>

#include "common/strings.h"

namespace propgrade {
namespace {

std::string ColumnList(const TableDef& t) {
  std::vector<std::string> names;
  for (const auto& c : t.columns) names.push_back(c.name);
  return Join(names, ",");
}

// The export order of spec/grading.md §3.5, copied from the spec text.
TEST(TableCatalogTest, AccuracyColumnsInSpecOrder) {
  EXPECT_EQ(ColumnList(tables::Accuracy()),
            "prediction_id,player_lookup,game_id,game_date,system_id,team_abbr,"
            "opponent_team_abbr,predicted_points,confidence_score,confidence_decile,"
            "recommendation,line_value,line_source,has_prop_line,estimated_line_value,"
            "pace_adjustment,similarity_sample_size,model_version,is_actionable,filter_reason,"
            "actual_points,minutes_played,absolute_error,signed_error,prediction_correct,"
            "predicted_margin,actual_margin,within_3_points,within_5_points,is_push,is_voided,"
            "void_reason,pre_game_injury_flag,pre_game_injury_status,injury_confirmed_postgame,"
            "graded_at,run_id");
  EXPECT_EQ(acc::kNumColumns, 37);
}

TEST(TableCatalogTest, SummaryColumnsInSpecOrder) {
  EXPECT_EQ(ColumnList(tables::Summary()),
            "as_of_date,summary_key,system_id,period_type,period_value,period_start_date,"
            "period_end_date,player_lookup,archetype,confidence_tier,situation,"
            "total_predictions,total_recommendations,over_recommendations,"
            "under_recommendations,pass_recommendations,hits,misses,hit_rate,over_hit_rate,"
            "under_hit_rate,mae,avg_bias,within_3_pct,within_5_pct,avg_confidence,"
            "unique_players,unique_games,data_hash,computed_at,run_id");
}

TEST(TableCatalogTest, LookupByName) {
  ASSERT_NE(FindTable("prediction_accuracy"), nullptr);
  EXPECT_EQ(FindTable("nope"), nullptr);
  EXPECT_EQ(tables::Accuracy().PartitionIndex(), acc::game_date);
  EXPECT_EQ(tables::Accuracy().KeyIndexes(),
            (std::vector<int>{acc::game_date, acc::player_lookup, acc::game_id, acc::system_id,
                              acc::line_value}));
  EXPECT_EQ(tables::Predictions().import_aliases.at(0).first, "current_points_line");
}

}  // namespace
}  // namespace propgrade

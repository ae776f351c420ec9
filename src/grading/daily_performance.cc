#include "grading/daily_performance.h"

#include <algorithm>
#include <map>

#include "schema/schema.h"
#include "grading/rules.h"
#include "grading/slice_counts.h"

namespace propgrade::grading {

std::vector<Row> ComputeDailyPerformance(CivilDay date, const FactTable& table,
                                         const std::string& computed_at,
                                         const std::string& run_id) {
  std::map<std::string, SliceCounts> by_system;
  for (const AccuracyFact& f : table.facts) {
    if (f.day != date.days_since_epoch()) continue;
    by_system[table.systems.Get(f.system)].Add(f);
  }
  std::vector<Row> rows;
  const std::string day = date.ToString();
  for (const auto& [system, c] : by_system) {
    Row r(daily::kNumColumns);
    auto rate = [](int64_t a, int64_t b) { return Value::OptReal(RoundedRatio(a, b, 3)); };
    r[daily::game_date] = Value::Text(day);
    r[daily::system_id] = Value::Text(system);
    r[daily::predictions_count] = Value::Int(c.total);
    r[daily::voided_count] = Value::Int(c.voided);
    r[daily::recommendations_count] = Value::Int(c.over + c.under);
    r[daily::correct_count] = Value::Int(c.correct);
    r[daily::incorrect_count] = Value::Int(c.incorrect);
    r[daily::push_count] = Value::Int(c.pushes);
    r[daily::pass_count] = Value::Int(c.pass_like);
    r[daily::win_rate] = rate(c.correct, c.correct + c.incorrect);
    r[daily::mae] = Value::OptReal(RoundedMean(c.abs_sum_e2, c.err_count, 2, 2));
    r[daily::avg_bias] = Value::OptReal(RoundedMean(c.signed_sum_e2, c.err_count, 2, 2));
    r[daily::over_count] = Value::Int(c.over);
    r[daily::over_correct] = Value::Int(c.over_correct);
    r[daily::over_win_rate] = rate(c.over_correct, c.over_correct + c.over_incorrect);
    r[daily::under_count] = Value::Int(c.under);
    r[daily::under_correct] = Value::Int(c.under_correct);
    r[daily::under_win_rate] = rate(c.under_correct, c.under_correct + c.under_incorrect);
    r[daily::within_3_count] = Value::Int(c.within3);
    r[daily::within_3_pct] = rate(c.within3, c.err_count);
    r[daily::within_5_count] = Value::Int(c.within5);
    r[daily::within_5_pct] = rate(c.within5, c.err_count);
    r[daily::avg_confidence] = Value::OptReal(RoundedMean(c.conf_sum_e4, c.conf_count, 4, 3));
    r[daily::high_confidence_count] = Value::Int(c.high_conf);
    r[daily::high_confidence_correct] = Value::Int(c.high_conf_correct);
    r[daily::high_confidence_win_rate] =
        rate(c.high_conf_correct, c.high_conf_correct + c.high_conf_incorrect);
    r[daily::actionable_win_rate] =
        rate(c.actionable_correct, c.actionable_correct + c.actionable_incorrect);
    r[daily::computed_at] = Value::Text(computed_at);
    r[daily::run_id] = Value::Text(run_id);
    rows.push_back(std::move(r));
  }
  return rows;
}

}  // namespace propgrade::grading

// system_daily_performance (spec/grading.md §4): one row per system for a date, from the
// stored prediction_accuracy rows of that date. Pure computation; thread-safe.
#pragma once

#include <string>
#include <vector>

#include "common/civil_date.h"
#include "common/value.h"
#include "grading/facts.h"

namespace propgrade::grading {

// Rows (catalogue order, sorted by system_id) for the facts of `date` in `table`; facts of
// other dates are ignored. Empty when the date has no rows.
std::vector<Row> ComputeDailyPerformance(CivilDay date, const FactTable& table,
                                         const std::string& computed_at,
                                         const std::string& run_id);

}  // namespace propgrade::grading

// Staged ingestion (spec/operations.md §9): prediction workers stage batches; consolidation
// merges the staged rows of a date into player_prop_predictions keyed by the business key of
// grading.md §2 (latest created_at, then greatest prediction_id wins), never leaving a second
// row for a key it touched. Pure functions, plus the orphan clean-up; thread-safe.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "common/value.h"
#include "store/ledgers.h"
#include "store/store.h"

namespace propgrade {

// A prediction_staging row for a player_prop_predictions row.
Row ToStagingRow(const std::string& batch_id, int64_t staged_at_micros, const Row& prediction);

// What consolidating `staged` (prediction_staging rows of one date) into `stored` (the
// player_prop_predictions rows of that date) deletes, inserts and quarantines; see
// ConsolidationPlanner for `stored_elsewhere`.
ConsolidationPlan PlanConsolidation(const std::vector<Row>& staged, const std::vector<Row>& stored,
                                    const std::map<std::string, std::string>& stored_elsewhere);

}  // namespace propgrade

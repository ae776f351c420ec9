// The input-consistency checker of the reliability suites (R9): a partition written after the
// last change to any of its inputs must hold exactly the rows those inputs imply now (the rows
// grading, daily performance and the summary compute from them), apart from the run stamps
// (graded_at / computed_at, run_id, fence_token). Partitions whose inputs changed after their last
// write are legitimately stale and are only counted. Versions come from partition_versions, one
// database-wide counter, so "after" is the order of commits. Tests only.
#pragma once

#include <string>
#include <vector>

#include "common/civil_date.h"
#include "store/store.h"

namespace propgrade::testing {

struct ImpliedCheck {
  int checked = 0;  // partitions newer than their inputs, compared row by row
  int stale = 0;    // partitions whose inputs changed after their last write
  std::vector<std::string> mismatches;  // one line per partition that differs
};

// Checks prediction_accuracy, system_daily_performance and the summary of `day`.
ImpliedCheck CheckImpliedByInputs(Store* store, CivilDay day);

}  // namespace propgrade::testing

// RunSummary: the outcome of one processor step of a run (spec/grading.md §3.7), as printed,
// logged, returned by the HTTP API and stored in grading_runs. Plain value.
#pragma once

#include <optional>
#include <string>

#include "common/civil_date.h"
#include "common/exit_codes.h"
#include "common/value.h"
#include "grading/grader.h"

namespace propgrade {

struct RunSummary {
  std::string run_id;
  // grading, daily_performance, performance_summary, consolidation, or a declared table's
  std::string processor;
  CivilDay game_date;     // the partition's date (as_of_date for the summary)
  // A declared table's partition when it is not a date (game_date then stays unset); empty
  // for every partition that is a date.
  std::string other_partition;
  RunStatus status = RunStatus::kFailed;
  int64_t started_at_micros = 0;
  int64_t finished_at_micros = 0;
  // The grading counts (grading step only).
  std::optional<grading::GradeStats> stats;
  std::optional<int64_t> rows_written;
  // The replace's effect on the partition (WriteResult): rows before and after, and keys
  // added, removed and changed (rows of a key that differ beyond the table's stamp columns).
  std::optional<int64_t> rows_before, rows_after, keys_added, keys_removed, keys_changed;
  std::optional<int64_t> duplicate_groups;
  std::optional<int64_t> duplicate_rows;
  std::optional<int64_t> fence_token;
  std::string lock_backend;
  std::optional<double> lock_wait_seconds;
  std::string holder_id;
  std::string trigger_source;
  std::string correlation_id;
  std::string error;  // empty when none
  bool breaker_allowed = false;          // the breaker let this step run (its outcome counts)
  double retry_after_seconds = 0;        // circuit_open: when to try again (not stored)
  bool allow_shrink = false;             // RunOptions::allow_shrink (not stored)

  // The partition written, as text (grading_runs.partition).
  std::string partition() const {
    return other_partition.empty() ? game_date.ToString() : other_partition;
  }
  double duration_seconds() const { return (finished_at_micros - started_at_micros) / 1e6; }
  bool duplicates_detected() const { return duplicate_rows.value_or(0) > 0; }
  ExitCode exit_code() const { return PolicyFor(status, duplicates_detected()).exit_code; }

  // The grading_runs row (catalogue order).
  Row ToRow() const;
  // Back from a grading_runs row; counts absent from the row stay unset.
  static RunSummary FromRow(const Row& row);
  // One JSON object with the grading_runs column names; null for NULL.
  std::string ToJson() const;
  // One human line: "2026-01-16 grading success graded=1339 voided=168 ...".
  std::string ToText() const;
};

}  // namespace propgrade

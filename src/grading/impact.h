// Impact: how much duplicate graded rows distort the figures a system is judged by. Given
// prediction_accuracy rows that include surplus copies of a business key (a legacy import,
// rows remediation moved into quarantine), the figures of each system and period are computed
// twice: with every row, and with one row per key (the table's winner rule: the earliest
// graded). Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/civil_date.h"
#include "common/value.h"

namespace propgrade::grading {

// The counts of one slice of graded rows.
struct SliceFigures {
  int64_t rows = 0;
  int64_t correct = 0, incorrect = 0;  // decided, non-voided rows
  int64_t with_error = 0;              // non-voided rows with an absolute error
  double abs_error_sum = 0, signed_error_sum = 0;

  void Add(const Row& accuracy_row);
  std::optional<double> win_rate() const;  // correct ÷ decided, a fraction
  std::optional<double> mae() const;
  std::optional<double> bias() const;
};

struct ImpactLine {
  std::string system_id;  // "ALL" for every system together
  std::string period;     // "rolling_7d", "rolling_30d" or "window"
  SliceFigures with, without;
  int64_t surplus_rows() const { return with.rows - without.rows; }
  // with − without: win rate in percentage points, MAE and bias in points (nullopt when
  // either side has nothing to measure).
  std::optional<double> win_rate_delta_points() const;
  std::optional<double> mae_delta() const;
  std::optional<double> bias_delta() const;
};

// Per system (then "ALL") and period, for the rows of `rows` dated in [from, to]: the window
// itself, and the last 7 and 30 days of it ending `to`. `rows` are prediction_accuracy rows in
// catalogue order, duplicates included.
std::vector<ImpactLine> DuplicateImpact(const std::vector<Row>& rows, CivilDay from, CivilDay to);

// "catboost_v8 rolling_7d win rate +2.1 points, MAE -0.04, bias +0.12 from 312 surplus rows".
std::string DistortionText(const ImpactLine& line);

}  // namespace propgrade::grading

// Grades one date: selects and de-duplicates the date's predictions (spec/grading.md §2),
// joins the box score, applies §3 and returns the prediction_accuracy rows and the run
// summary counts of §3.7. Pure computation over rows the caller read; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/civil_date.h"
#include "common/value.h"

namespace propgrade::grading {

struct GradeOptions {
  // Line sources that count as real lines. Default: ACTUAL_PROP, ODDS_API, BETTINGPROS.
  std::vector<std::string> real_line_sources;
  std::string graded_at;  // canonical UTC timestamp stamped on every row
  std::string run_id;     // stamped on every row
  // The coverage gate: a date whose player or game coverage (GradeStats) is below these is
  // not graded (kInsufficientActuals). 0 turns a gate off. Default: 0.70 and 0.80
  double min_player_coverage = 0.70;
  double min_game_coverage = 0.80;
  GradeOptions();
};

// The §3.7 counts of a grading step.
struct GradeStats {
  int64_t predictions_found = 0;  // rows of D passing §2 step 1
  int64_t source_duplicates = 0;
  int64_t actuals_found = 0;      // actual rows of D
  int64_t missing_actuals = 0;
  int64_t graded = 0;             // rows produced, voided included
  int64_t voided = 0;
  int64_t voided_injury = 0;
  int64_t voided_scratch = 0;
  int64_t voided_unknown = 0;
  int64_t pushes = 0;
  int64_t invalid_recommendations = 0;
  int64_t invalid_confidence = 0;
  std::optional<double> mae;                      // 2 places
  std::optional<double> bias;                     // 2 places
  std::optional<double> recommendation_accuracy;  // percent, 1 place
  // Share of the kept predictions whose (game, player) has an actual row, and share of their
  // games with any actual row, rounded to 4 places; unset when nothing was kept.
  std::optional<double> player_coverage;
  std::optional<double> game_coverage;
  // Up to 5 prediction ids per warning kind, for the input_warnings alert.
  std::vector<std::string> invalid_recommendation_samples;
  std::vector<std::string> invalid_confidence_samples;
  std::vector<std::string> source_duplicate_samples;
};

enum class GradeOutcome {
  kGraded,         // rows to write
  kNoPredictions,  // nothing gradable on D: write nothing
  kNoActuals,      // no prediction found an actual row: write nothing
  // Some did, but coverage is below GradeOptions' gate (box scores half loaded): write nothing.
  kInsufficientActuals,
};

struct GradeResult {
  GradeOutcome outcome = GradeOutcome::kNoPredictions;
  GradeStats stats;
  std::vector<Row> rows;  // prediction_accuracy rows in catalogue column order
};

// §2 steps 1 and 2 alone: the predictions of D that are graded (active, not invalidated, one
// per business key: the latest created_at, then the greatest prediction_id), in key order.
// `found` and `source_duplicates` (may be null) receive §3.7's counts.
struct Selection {
  std::vector<const Row*> kept;
  int64_t predictions_found = 0;
  int64_t source_duplicates = 0;
  std::vector<std::string> duplicate_samples;  // up to 5 dropped prediction ids
};
Selection SelectPredictions(CivilDay date, const std::vector<Row>& predictions);

// `predictions`, `actuals`, `injuries` are rows of D in the catalogue column order (pred::,
// act::, inj::). Rows of other dates are ignored.
GradeResult GradeDate(CivilDay date, const std::vector<Row>& predictions,
                      const std::vector<Row>& actuals, const std::vector<Row>& injuries,
                      const GradeOptions& options);

}  // namespace propgrade::grading

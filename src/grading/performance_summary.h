// prediction_performance_summary (spec/grading.md §5): the snapshot as of a date, computed in
// one pass over the compact facts of its window (never one query per slice).
// Pure computation; thread-safe.
#pragma once

#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/civil_date.h"
#include "common/value.h"
#include "grading/facts.h"

namespace propgrade::grading {

struct Period {
  std::string type;   // rolling_7d, rolling_30d, month, season
  std::string value;  // A (ISO), A (ISO), YYYY-MM, YYYY-YY
  CivilDay start;
  CivilDay end;  // = A
};

// The four periods of §5.1 for as-of date A.
std::vector<Period> PeriodsFor(CivilDay as_of);
// The first day whose facts a snapshot as of A reads (the earlier of A − 90 and the season's
// start).
CivilDay SummaryWindowStart(CivilDay as_of);

struct SummaryOptions {
  CivilDay as_of;
  std::string computed_at;
  std::string run_id;
  // player_lookup → archetype (player_archetypes); empty disables archetype slices.
  const std::unordered_map<std::string, std::string>* archetypes = nullptr;
  int max_players = 200;        // per (system, period). Default: 200
  int min_player_rows = 5;      // Default: 5
  int min_archetype_rows = 10;  // Default: 10
};

struct SummaryResult {
  std::vector<Row> rows;                         // catalogue order
  int64_t unparseable_game_ids = 0;              // window rows left out of the situation slices
  std::vector<std::string> unparseable_samples;  // up to 5 game ids
};

// Facts outside [SummaryWindowStart(A), A] are ignored.
SummaryResult ComputePerformanceSummary(const FactTable& table, const SummaryOptions& options);

// Computes the same snapshots as ComputePerformanceSummary, keeping the month and season groups
// between calls: a snapshot as of a later date of the same month and season absorbs only the
// facts of the days after the previous one. Each absorbed day is fingerprinted, so a day whose
// facts changed (re-graded), another FactTable, a changed archetype or a game id spanning two
// days starts those groups over; the rolling periods are always recomputed. Not thread-safe.
class SummaryAccumulator {
 public:
  SummaryAccumulator();
  ~SummaryAccumulator();
  SummaryAccumulator(const SummaryAccumulator&) = delete;
  SummaryAccumulator& operator=(const SummaryAccumulator&) = delete;

  SummaryResult Compute(const FactTable& table, const SummaryOptions& options);
  // Facts the last Compute added to the month and season groups (for tests and benchmarks).
  int64_t last_absorbed() const { return last_absorbed_; }

 private:
  struct State;
  std::unique_ptr<State> state_;
  int64_t last_absorbed_ = 0;
};

// §5.5: the first 16 hex digits of SHA-256("hits|misses|total").
std::string DataHash(int64_t hits, int64_t misses, int64_t total);

}  // namespace propgrade::grading

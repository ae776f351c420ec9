// The demo season generator behind `propgrade demo` (spec/operations.md §8): a realistic,
// deterministic season of predictions, box scores, injury reports and archetypes for a seed and
// an anchor date. Pure computation; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/civil_date.h"
#include "common/value.h"

namespace propgrade {

struct DemoOptions {
  uint64_t seed = 42;  // Default: 42
  int scale = 1;       // multiplies the number of prediction systems (6 per unit). Default: 1
  CivilDay today;      // the season ends on the day before. Required.
};

struct DemoSeason {
  // Rows in the column order of the catalogue's tables (pred::, act::, inj::, arch::).
  std::vector<Row> predictions;  // player_prop_predictions
  std::vector<Row> actuals;      // player_game_summary
  std::vector<Row> injuries;     // injury_report
  std::vector<Row> archetypes;   // player_archetypes
  CivilDay first_date;           // first game date
  CivilDay last_date;            // last game date (= today - 1)
  std::vector<std::string> system_ids;
  // Scheduled games that were postponed: their predictions carry invalidation_reason
  // "postponed" and they have no box score (nor injury report) rows.
  std::vector<std::string> postponed_game_ids;
  int games = 0;  // scheduled games, postponed ones included
  int game_dates = 0;
  int teams = 0;
  int players = 0;
};

DemoSeason GenerateDemoSeason(const DemoOptions& options);

}  // namespace propgrade

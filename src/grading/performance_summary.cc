#include "grading/performance_summary.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <map>
#include <memory>
#include <set>

#include "common/hash.h"
#include "common/table_catalog.h"
#include "grading/rules.h"
#include "grading/slice_counts.h"

namespace propgrade::grading {

namespace {

CivilDay SeasonStart(CivilDay a) {
  int year = a.month() >= 10 ? a.year() : a.year() - 1;
  return *CivilDay::FromYmd(year, 10, 1);
}

// Counts plus what is needed for unique players and games among non-voided rows. Facts are fed
// grouped by game, so a game is new exactly when it differs from the previous one seen.
struct Slice {
  SliceCounts counts;
  int64_t unique_games = 0;
  int64_t unique_players = 0;
  int64_t last_game = -1;
  std::vector<uint64_t> players_seen;  // bitset; empty for per-player slices

  void Add(const AccuracyFact& f, bool track_players) {
    counts.Add(f);
    if (f.voided) return;
    if (last_game != f.game) {
      last_game = f.game;
      ++unique_games;
    }
    if (!track_players) {
      unique_players = 1;
      return;
    }
    uint64_t& word = players_seen[f.player >> 6];
    uint64_t bit = uint64_t{1} << (f.player & 63);
    if (!(word & bit)) {
      word |= bit;
      ++unique_players;
    }
  }
};

enum Tier { kHigh, kMedium, kLow, kNumTiers };
constexpr std::array<const char*, kNumTiers> kTierNames = {"high", "medium", "low"};

// Everything of one (system, period).
struct Group {
  Slice overall;
  std::vector<Slice> players;
  std::vector<Slice> archetypes;
  std::array<Slice, kNumTiers> tiers;
  std::array<Slice, 2> situations;  // home, away
};

std::optional<double> Ratio(int64_t a, int64_t b) {
  if (b == 0) return std::nullopt;
  return static_cast<double>(a) / static_cast<double>(b);
}

}  // namespace

std::vector<Period> PeriodsFor(CivilDay a) {
  char month[8];
  std::snprintf(month, sizeof month, "%04d-%02d", a.year(), a.month());
  CivilDay season = SeasonStart(a);
  char season_value[12];
  std::snprintf(season_value, sizeof season_value, "%04d-%02d", season.year(),
                (season.year() + 1) % 100);
  return {
      {"rolling_7d", a.ToString(), a.AddDays(-6), a},
      {"rolling_30d", a.ToString(), a.AddDays(-29), a},
      {"month", month, a.FirstOfMonth(), a},
      {"season", season_value, season, a},
  };
}

CivilDay SummaryWindowStart(CivilDay a) { return std::min(a.AddDays(-90), SeasonStart(a)); }

std::string DataHash(int64_t hits, int64_t misses, int64_t total) {
  return Sha256Hex(std::to_string(hits) + "|" + std::to_string(misses) + "|" +
                   std::to_string(total))
      .substr(0, 16);
}

SummaryResult ComputePerformanceSummary(const FactTable& table, const SummaryOptions& options) {
  SummaryResult result;
  const CivilDay a = options.as_of;
  const int32_t end = a.days_since_epoch();
  const int32_t window_start = SummaryWindowStart(a).days_since_epoch();
  const int32_t active_start = a.AddDays(-90).days_since_epoch();
  const std::vector<Period> periods = PeriodsFor(a);

  // Facts of the window, grouped by game.
  std::vector<uint32_t> order;
  std::vector<bool> active(table.systems.size(), false);
  for (uint32_t i = 0; i < table.facts.size(); ++i) {
    const AccuracyFact& f = table.facts[i];
    if (f.day < window_start || f.day > end) continue;
    order.push_back(i);
    if (f.day >= active_start) active[f.system] = true;
    if (f.situation == Situation::kUnparseable) {
      ++result.unparseable_game_ids;
      const std::string& g = table.games.Get(f.game);
      if (result.unparseable_samples.size() < 5 &&
          std::find(result.unparseable_samples.begin(), result.unparseable_samples.end(), g) ==
              result.unparseable_samples.end()) {
        result.unparseable_samples.push_back(g);
      }
    }
  }
  std::stable_sort(order.begin(), order.end(), [&](uint32_t x, uint32_t y) {
    return table.facts[x].game < table.facts[y].game;
  });

  // Archetype of each player id (-1: none).
  std::vector<std::string> archetype_names;
  std::vector<int32_t> archetype_of(table.players.size(), -1);
  if (options.archetypes && !options.archetypes->empty()) {
    std::map<std::string, int32_t> ids;
    for (size_t p = 0; p < table.players.size(); ++p) {
      auto it = options.archetypes->find(table.players.Get(p));
      if (it == options.archetypes->end()) continue;
      auto [aid, inserted] = ids.emplace(it->second, static_cast<int32_t>(ids.size()));
      if (inserted) archetype_names.push_back(it->second);
      archetype_of[p] = aid->second;
    }
  }

  const size_t player_words = (table.players.size() + 63) / 64;
  auto new_slice = [&]() {
    Slice s;
    s.players_seen.assign(player_words, 0);
    return s;
  };
  // groups[system * 4 + period], created for active systems only.
  std::vector<std::unique_ptr<Group>> groups(table.systems.size() * periods.size());
  for (size_t s = 0; s < table.systems.size(); ++s) {
    if (!active[s]) continue;
    for (size_t p = 0; p < periods.size(); ++p) {
      auto g = std::make_unique<Group>();
      g->overall = new_slice();
      g->players.resize(table.players.size());
      g->archetypes.assign(archetype_names.size(), new_slice());
      for (auto& t : g->tiers) t = new_slice();
      for (auto& t : g->situations) t = new_slice();
      groups[s * periods.size() + p] = std::move(g);
    }
  }

  for (uint32_t i : order) {
    const AccuracyFact& f = table.facts[i];
    if (!active[f.system]) continue;
    int tier = f.confidence_e4 < 0       ? -1
               : f.confidence_e4 >= 7000 ? kHigh
               : f.confidence_e4 >= 5500 ? kMedium
                                         : kLow;
    int situation = f.situation == Situation::kHome   ? 0
                    : f.situation == Situation::kAway ? 1
                                                      : -1;
    int archetype = archetype_of[f.player];
    for (size_t p = 0; p < periods.size(); ++p) {
      if (f.day < periods[p].start.days_since_epoch()) continue;
      Group& g = *groups[f.system * periods.size() + p];
      g.overall.Add(f, true);
      g.players[f.player].Add(f, false);
      if (archetype >= 0) g.archetypes[archetype].Add(f, true);
      if (tier >= 0) g.tiers[tier].Add(f, true);
      if (situation >= 0) g.situations[situation].Add(f, true);
    }
  }

  const std::string as_of = a.ToString();
  auto emit = [&](const std::string& system, const Period& period, const Slice& slice,
                  const std::string* player, const std::string* archetype, const char* tier,
                  const char* situation) {
    const SliceCounts& c = slice.counts;
    Row r(summ::kNumColumns);
    auto part = [](const char* s) { return s ? std::string(s) : std::string("NULL"); };
    r[summ::as_of_date] = Value::Text(as_of);
    r[summ::summary_key] = Value::Text(
        system + "|" + period.type + "|" + period.value + "|" + (player ? *player : "NULL") +
        "|" + (archetype ? *archetype : "NULL") + "|" + part(tier) + "|" + part(situation));
    r[summ::system_id] = Value::Text(system);
    r[summ::period_type] = Value::Text(period.type);
    r[summ::period_value] = Value::Text(period.value);
    r[summ::period_start_date] = Value::Text(period.start.ToString());
    r[summ::period_end_date] = Value::Text(period.end.ToString());
    if (player) r[summ::player_lookup] = Value::Text(*player);
    if (archetype) r[summ::archetype] = Value::Text(*archetype);
    if (tier) r[summ::confidence_tier] = Value::Text(tier);
    if (situation) r[summ::situation] = Value::Text(situation);
    r[summ::total_predictions] = Value::Int(c.total);
    r[summ::total_recommendations] = Value::Int(c.over + c.under);
    r[summ::over_recommendations] = Value::Int(c.over);
    r[summ::under_recommendations] = Value::Int(c.under);
    r[summ::pass_recommendations] = Value::Int(c.pass_like);
    r[summ::hits] = Value::Int(c.correct);
    r[summ::misses] = Value::Int(c.incorrect);
    r[summ::hit_rate] = Value::OptReal(Ratio(c.correct, c.correct + c.incorrect));
    r[summ::over_hit_rate] = Value::OptReal(Ratio(c.over_correct, c.over_correct + c.over_incorrect));
    r[summ::under_hit_rate] =
        Value::OptReal(Ratio(c.under_correct, c.under_correct + c.under_incorrect));
    r[summ::mae] = Value::OptReal(ExactMean(c.abs_sum_e2, c.err_count, 2));
    r[summ::avg_bias] = Value::OptReal(ExactMean(c.signed_sum_e2, c.err_count, 2));
    r[summ::within_3_pct] = Value::OptReal(Ratio(c.within3, c.err_count));
    r[summ::within_5_pct] = Value::OptReal(Ratio(c.within5, c.err_count));
    r[summ::avg_confidence] = Value::OptReal(ExactMean(c.conf_sum_e4, c.conf_count, 4));
    r[summ::unique_players] = Value::Int(slice.unique_players);
    r[summ::unique_games] = Value::Int(slice.unique_games);
    r[summ::data_hash] = Value::Text(DataHash(c.correct, c.incorrect, c.total));
    r[summ::computed_at] = Value::Text(options.computed_at);
    r[summ::run_id] = Value::Text(options.run_id);
    result.rows.push_back(std::move(r));
  };

  for (size_t s = 0; s < table.systems.size(); ++s) {
    if (!active[s]) continue;
    const std::string& system = table.systems.Get(s);
    for (size_t p = 0; p < periods.size(); ++p) {
      const Group& g = *groups[s * periods.size() + p];
      const Period& period = periods[p];
      if (g.overall.counts.total > 0) {
        emit(system, period, g.overall, nullptr, nullptr, nullptr, nullptr);
      }
      std::vector<uint32_t> players;
      for (uint32_t pl = 0; pl < g.players.size(); ++pl) {
        if (g.players[pl].counts.total >= options.min_player_rows) players.push_back(pl);
      }
      std::sort(players.begin(), players.end(), [&](uint32_t x, uint32_t y) {
        int64_t cx = g.players[x].counts.total, cy = g.players[y].counts.total;
        if (cx != cy) return cx > cy;
        return table.players.Get(x) < table.players.Get(y);
      });
      if (players.size() > static_cast<size_t>(options.max_players)) {
        players.resize(options.max_players);
      }
      for (uint32_t pl : players) {
        emit(system, period, g.players[pl], &table.players.Get(pl), nullptr, nullptr, nullptr);
      }
      for (size_t ar = 0; ar < archetype_names.size(); ++ar) {
        if (g.archetypes[ar].counts.total >= options.min_archetype_rows) {
          emit(system, period, g.archetypes[ar], nullptr, &archetype_names[ar], nullptr, nullptr);
        }
      }
      for (int t = 0; t < kNumTiers; ++t) {
        if (g.tiers[t].counts.total > 0) {
          emit(system, period, g.tiers[t], nullptr, nullptr, kTierNames[t], nullptr);
        }
      }
      static constexpr const char* kSituations[] = {"home", "away"};
      for (int si = 0; si < 2; ++si) {
        if (g.situations[si].counts.total > 0) {
          emit(system, period, g.situations[si], nullptr, nullptr, nullptr, kSituations[si]);
        }
      }
    }
  }
  return result;
}

}  // namespace propgrade::grading

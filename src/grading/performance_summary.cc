#include "grading/performance_summary.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <map>
#include <memory>
#include <set>
#include <unordered_map>

#include "common/hash.h"
#include "schema/schema.h"
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

namespace {

// One fact's contribution to a day's fingerprint (order-independent: days sum them).
uint64_t FactHash(const AccuracyFact& f) {
  uint64_t flags =
      static_cast<uint64_t>(f.rec) | static_cast<uint64_t>(f.situation) << 8 |
      static_cast<uint64_t>(static_cast<uint8_t>(f.correct)) << 16 | uint64_t{f.voided} << 24 |
      uint64_t{f.push} << 25 | uint64_t{f.actionable} << 26 | uint64_t{f.within3} << 27 |
      uint64_t{f.within5} << 28 | static_cast<uint64_t>(static_cast<uint32_t>(f.day)) << 32;
  // The fields weighted by odd constants, then the splitmix64 finaliser: the sum over a day's
  // facts changes when any fact does (it is not linear in the facts).
  uint64_t x =
      ((uint64_t{f.system} << 32) | f.player) * 0x9e3779b97f4a7c15ULL +
      ((uint64_t{f.game} << 32) | static_cast<uint32_t>(f.confidence_e4)) * 0xc2b2ae3d27d4eb4fULL +
      ((uint64_t{static_cast<uint32_t>(f.abs_error_e2)} << 32) |
       static_cast<uint32_t>(f.signed_error_e2)) *
          0x165667b19e3779f9ULL +
      flags * 0xd6e8feb86659fd93ULL;
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

struct DayPrint {
  int64_t count = 0;
  uint64_t sum = 0;
  bool operator==(const DayPrint& o) const { return count == o.count && sum == o.sum; }
};

// The slices of every system for one period.
struct PeriodGroups {
  std::vector<std::unique_ptr<Group>> by_system;

  // Makes room for `systems`, `players` and `archetypes` (existing tallies are kept).
  void Grow(size_t systems, size_t players, size_t archetypes) {
    while (by_system.size() < systems) by_system.push_back(std::make_unique<Group>());
    const size_t words = (players + 63) / 64;
    Slice blank;
    blank.players_seen.assign(words, 0);
    auto fit = [&](Slice& s) { s.players_seen.resize(words, 0); };
    for (auto& g : by_system) {
      fit(g->overall);
      g->players.resize(players);
      for (auto& a : g->archetypes) fit(a);
      g->archetypes.resize(archetypes, blank);
      for (auto& t : g->tiers) fit(t);
      for (auto& t : g->situations) fit(t);
    }
  }

  // Adds the facts `order` (grouped by game) that fall on or after `start`.
  void Absorb(const FactTable& table, const std::vector<uint32_t>& order, int32_t start,
              const std::vector<int32_t>& archetype_of) {
    for (uint32_t i : order) {
      const AccuracyFact& f = table.facts[i];
      if (f.day < start) continue;
      int tier = f.confidence_e4 < 0       ? -1
                 : f.confidence_e4 >= 7000 ? kHigh
                 : f.confidence_e4 >= 5500 ? kMedium
                                           : kLow;
      int situation = f.situation == Situation::kHome   ? 0
                      : f.situation == Situation::kAway ? 1
                                                        : -1;
      int archetype = archetype_of[f.player];
      Group& g = *by_system[f.system];
      g.overall.Add(f, true);
      g.players[f.player].Add(f, false);
      if (archetype >= 0) g.archetypes[archetype].Add(f, true);
      if (tier >= 0) g.tiers[tier].Add(f, true);
      if (situation >= 0) g.situations[situation].Add(f, true);
    }
  }
};

constexpr size_t kNumPeriods = 4;    // rolling_7d, rolling_30d, month, season (PeriodsFor order)
constexpr size_t kFirstRunning = 2;  // month and season start on a fixed day: kept running

}  // namespace

// DataHash of recent (hits, misses, total) triples: many slices share one.
class HashMemo {
 public:
  std::shared_ptr<const std::string> Get(int64_t hits, int64_t misses, int64_t total) {
    if (memo_.size() >= kMaxEntries) memo_.clear();
    auto [it, inserted] = memo_.try_emplace({hits, misses, total});
    if (inserted) it->second = std::make_shared<const std::string>(DataHash(hits, misses, total));
    return it->second;
  }

 private:
  static constexpr size_t kMaxEntries = 1 << 16;  // about 8 MB
  using Key = std::array<int64_t, 3>;
  struct KeyHash {
    size_t operator()(const Key& k) const {
      uint64_t h = static_cast<uint64_t>(k[0]) * 1000003u ^ static_cast<uint64_t>(k[1]) * 10007u ^
                   static_cast<uint64_t>(k[2]);
      return std::hash<uint64_t>()(h);
    }
  };
  std::unordered_map<Key, std::shared_ptr<const std::string>, KeyHash> memo_;
};

struct SummaryAccumulator::State {
  HashMemo hashes;
  const FactTable* table = nullptr;
  uint64_t generation = 0;
  std::vector<int32_t> archetype_of;
  std::vector<std::string> archetype_names;
  struct Running {
    bool valid = false;
    int32_t start = 0;
    int32_t through = 0;           // the last day absorbed
    std::vector<DayPrint> prints;  // of each day of [start, through]
    PeriodGroups groups;
  };
  std::array<Running, kNumPeriods - kFirstRunning> running;
};

SummaryAccumulator::SummaryAccumulator() : state_(std::make_unique<State>()) {}
SummaryAccumulator::~SummaryAccumulator() = default;

SummaryResult ComputePerformanceSummary(const FactTable& table, const SummaryOptions& options) {
  return SummaryAccumulator().Compute(table, options);
}

SummaryResult SummaryAccumulator::Compute(const FactTable& table, const SummaryOptions& options) {
  SummaryResult result;
  State& st = *state_;
  const CivilDay a = options.as_of;
  const int32_t end = a.days_since_epoch();
  const int32_t window_start = SummaryWindowStart(a).days_since_epoch();
  const int32_t active_start = a.AddDays(-90).days_since_epoch();
  const std::vector<Period> periods = PeriodsFor(a);
  last_absorbed_ = 0;

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
  // Running groups survive only for the same table, whose string ids keep their meaning, and
  // the same archetype assignment of every player they have seen.
  bool keep =
      st.table == &table && st.generation == table.generation &&
      st.archetype_of.size() <= archetype_of.size() &&
      std::equal(st.archetype_of.begin(), st.archetype_of.end(), archetype_of.begin()) &&
      st.archetype_names.size() <= archetype_names.size() &&
      std::equal(st.archetype_names.begin(), st.archetype_names.end(), archetype_names.begin());
  st.table = &table;
  st.generation = table.generation;
  st.archetype_of = archetype_of;
  st.archetype_names = archetype_names;

  // One pass over the window: active systems, unparseable ids, day fingerprints, and whether
  // any game id spans two days (then facts are grouped by game alone, and nothing is kept).
  std::vector<bool> active(table.systems.size(), false);
  std::vector<DayPrint> prints(static_cast<size_t>(end - window_start + 1));
  std::vector<int32_t> game_day(table.games.size(), INT32_MIN);
  bool games_span_days = false;
  for (const AccuracyFact& f : table.facts) {
    if (f.day < window_start || f.day > end) continue;
    if (f.day >= active_start) active[f.system] = true;
    DayPrint& dp = prints[f.day - window_start];
    ++dp.count;
    dp.sum += FactHash(f);
    int32_t& gd = game_day[f.game];
    if (gd == INT32_MIN) {
      gd = f.day;
    } else if (gd != f.day) {
      games_span_days = true;
    }
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

  // The first day each period must absorb: rolling periods start over; a running period goes
  // on from its last day when it has the same start and every day it absorbed is unchanged.
  std::array<int32_t, kNumPeriods> first{};
  for (size_t p = 0; p < kNumPeriods; ++p) first[p] = periods[p].start.days_since_epoch();
  for (size_t p = kFirstRunning; p < kNumPeriods; ++p) {
    State::Running& run = st.running[p - kFirstRunning];
    bool valid =
        keep && !games_span_days && run.valid && run.start == first[p] && run.through < end;
    for (int32_t d = first[p]; valid && d <= run.through; ++d) {
      valid = prints[d - window_start] == run.prints[d - run.start];
    }
    if (valid) {
      first[p] = run.through + 1;
    } else {
      run.groups = PeriodGroups();
      run.prints.clear();
    }
  }
  // The facts to absorb, grouped by game: by (day, game) when no game spans days.
  const int32_t need_from = *std::min_element(first.begin(), first.end());
  std::vector<uint32_t> order;
  for (uint32_t i = 0; i < table.facts.size(); ++i) {
    const AccuracyFact& f = table.facts[i];
    if (f.day >= need_from && f.day <= end) order.push_back(i);
  }
  std::stable_sort(order.begin(), order.end(), [&](uint32_t x, uint32_t y) {
    const AccuracyFact &fx = table.facts[x], &fy = table.facts[y];
    if (!games_span_days && fx.day != fy.day) return fx.day < fy.day;
    return fx.game < fy.game;
  });

  const size_t systems = table.systems.size(), players = table.players.size();
  std::array<const PeriodGroups*, kNumPeriods> groups{};
  std::array<PeriodGroups, kFirstRunning> rolling;
  for (size_t p = 0; p < kNumPeriods; ++p) {
    PeriodGroups* target = p < kFirstRunning ? &rolling[p] : &st.running[p - kFirstRunning].groups;
    if (p >= kFirstRunning) {
      State::Running& run = st.running[p - kFirstRunning];
      run.valid = !games_span_days;
      run.start = periods[p].start.days_since_epoch();
      run.through = end;
      run.prints.resize(static_cast<size_t>(end - run.start + 1));
      for (int32_t d = first[p]; d <= end; ++d) {
        run.prints[d - run.start] = prints[d - window_start];
        last_absorbed_ += prints[d - window_start].count;
      }
    }
    target->Grow(systems, players, archetype_names.size());
    target->Absorb(table, order, first[p], archetype_of);
    groups[p] = target;
  }
  // The texts every row of one (system, period) shares, built once per group.
  Row base(summ::kNumColumns);
  std::string key_prefix;
  base[summ::as_of_date] = Value::SharedText(a.ToString());
  base[summ::computed_at] = Value::SharedText(options.computed_at);
  base[summ::run_id] = Value::SharedText(options.run_id);
  auto emit = [&](const Slice& slice, const std::string* player, const std::string* archetype,
                  const char* tier, const char* situation) {
    const SliceCounts& c = slice.counts;
    Row r = base;
    std::string key = key_prefix;
    key.append(player ? *player : "NULL").append("|");
    key.append(archetype ? *archetype : "NULL").append("|");
    key.append(tier ? tier : "NULL").append("|");
    key.append(situation ? situation : "NULL");
    r[summ::summary_key] = Value::Text(std::move(key));
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
    r[summ::over_hit_rate] =
        Value::OptReal(Ratio(c.over_correct, c.over_correct + c.over_incorrect));
    r[summ::under_hit_rate] =
        Value::OptReal(Ratio(c.under_correct, c.under_correct + c.under_incorrect));
    r[summ::mae] = Value::OptReal(ExactMean(c.abs_sum_e2, c.err_count, 2));
    r[summ::avg_bias] = Value::OptReal(ExactMean(c.signed_sum_e2, c.err_count, 2));
    r[summ::within_3_pct] = Value::OptReal(Ratio(c.within3, c.err_count));
    r[summ::within_5_pct] = Value::OptReal(Ratio(c.within5, c.err_count));
    r[summ::avg_confidence] = Value::OptReal(ExactMean(c.conf_sum_e4, c.conf_count, 4));
    r[summ::unique_players] = Value::Int(slice.unique_players);
    r[summ::unique_games] = Value::Int(slice.unique_games);
    r[summ::data_hash] = Value::SharedText(st.hashes.Get(c.correct, c.incorrect, c.total));
    result.rows.push_back(std::move(r));
  };

  for (size_t s = 0; s < table.systems.size(); ++s) {
    if (!active[s]) continue;
    const std::string& system = table.systems.Get(s);
    base[summ::system_id] = Value::SharedText(system);
    for (size_t p = 0; p < periods.size(); ++p) {
      const Group& g = *groups[p]->by_system[s];
      const Period& period = periods[p];
      base[summ::period_type] = Value::SharedText(period.type);
      base[summ::period_value] = Value::SharedText(period.value);
      base[summ::period_start_date] = Value::SharedText(period.start.ToString());
      base[summ::period_end_date] = Value::SharedText(period.end.ToString());
      key_prefix = system + "|" + period.type + "|" + period.value + "|";
      if (g.overall.counts.total > 0) {
        emit(g.overall, nullptr, nullptr, nullptr, nullptr);
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
        emit(g.players[pl], &table.players.Get(pl), nullptr, nullptr, nullptr);
      }
      for (size_t ar = 0; ar < archetype_names.size(); ++ar) {
        if (g.archetypes[ar].counts.total >= options.min_archetype_rows) {
          emit(g.archetypes[ar], nullptr, &archetype_names[ar], nullptr, nullptr);
        }
      }
      for (int t = 0; t < kNumTiers; ++t) {
        if (g.tiers[t].counts.total > 0) {
          emit(g.tiers[t], nullptr, nullptr, kTierNames[t], nullptr);
        }
      }
      static constexpr const char* kSituations[] = {"home", "away"};
      for (int si = 0; si < 2; ++si) {
        if (g.situations[si].counts.total > 0) {
          emit(g.situations[si], nullptr, nullptr, nullptr, kSituations[si]);
        }
      }
    }
  }
  return result;
}

}  // namespace propgrade::grading

#include "demo/demo_season.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <optional>
#include <random>
#include <string_view>
#include <unordered_set>
#include <utility>

#include "schema/schema.h"

namespace propgrade {
namespace {

constexpr int64_t kMicrosPerSecond = 1'000'000;
constexpr int64_t kMicrosPerMinute = 60 * kMicrosPerSecond;
constexpr int64_t kMicrosPerHour = 60 * kMicrosPerMinute;

constexpr int kNumTeams = 30;
constexpr int kPlayersPerTeam = 15;
constexpr int kGamesPerRound = kNumTeams / 2;
// 2 full round robins plus 24 rounds of a third: 82 games per team, 1,230 in all.
constexpr int kRounds = 82;
constexpr int kGameDates = 2 * kRounds;  // each round is played over two consecutive dates
// No breaks among the last dates, so the week-over-week checks compare full weeks.
constexpr int kQuietTailDates = 21;
// Share of a date's prediction rows that get an exact source duplicate.
constexpr double kDuplicateRate = 0.007;
constexpr double kSupersededRate = 0.006;

// Stream ids for the independent random streams (the world, and each system) so that adding
// systems (scale) never changes the world or the rows of the existing systems.
constexpr uint64_t kWorldStream = 1;
constexpr uint64_t kSystemParamStream = 2;
constexpr uint64_t kSystemStream = 3;
constexpr uint64_t kDuplicateStream = 4;

uint64_t SplitMix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

uint64_t StreamSeed(uint64_t seed, uint64_t stream, uint64_t index) {
  return SplitMix64(SplitMix64(seed ^ SplitMix64(stream)) + index);
}

// All randomness goes through these helpers (not <random> distributions, whose results differ
// between standard libraries), so a seed gives the same season everywhere.
class Rng {
 public:
  explicit Rng(uint64_t seed) : gen_(seed) {}

  uint64_t Bits() { return gen_(); }
  double Uniform() { return static_cast<double>(gen_() >> 11) * 0x1.0p-53; }  // [0, 1)
  double Uniform(double lo, double hi) { return lo + (hi - lo) * Uniform(); }
  bool Chance(double p) { return Uniform() < p; }
  // Uniform integer in [lo, hi].
  int Int(int lo, int hi) {
    int v = lo + static_cast<int>(Uniform() * (hi - lo + 1));
    return std::min(v, hi);
  }
  // Uniform in [lo, hi).
  int64_t Micros(int64_t lo, int64_t hi) {
    return lo + static_cast<int64_t>(Uniform() * static_cast<double>(hi - lo));
  }
  // Standard normal (Box–Muller; the second value is kept for the next call).
  double Normal() {
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    double r = std::sqrt(-2.0 * std::log(1.0 - Uniform()));
    double theta = 2.0 * 3.14159265358979323846 * Uniform();
    spare_ = r * std::sin(theta);
    has_spare_ = true;
    return r * std::cos(theta);
  }
  template <typename Container>
  const auto& Pick(const Container& c) {
    return c[static_cast<size_t>(Int(0, static_cast<int>(std::size(c)) - 1))];
  }
  template <typename T>
  void Shuffle(std::vector<T>& v) {
    for (size_t i = v.size(); i > 1; --i) {
      std::swap(v[i - 1], v[static_cast<size_t>(Int(0, static_cast<int>(i) - 1))]);
    }
  }
  // A version-4-shaped UUID: 8-4-4-4-12 lower-case hex digits.
  std::string Uuid() {
    uint64_t a = gen_(), b = gen_();
    char buf[40];
    std::snprintf(buf, sizeof buf, "%08x-%04x-%04x-%04x-%012llx", static_cast<unsigned>(a >> 32),
                  static_cast<unsigned>((a >> 16) & 0xffff),
                  static_cast<unsigned>(0x4000 | (a & 0x0fff)),
                  static_cast<unsigned>(0x8000 | ((b >> 48) & 0x3fff)),
                  static_cast<unsigned long long>(b & 0xffffffffffffULL));
    return buf;
  }

 private:
  std::mt19937_64 gen_;
  bool has_spare_ = false;
  double spare_ = 0;
};

double Round(double v, double scale) { return std::round(v * scale) / scale; }

constexpr std::array<std::string_view, kNumTeams> kTeamAbbrs = {
    "ATL", "BOS", "BKN", "CHA", "CHI", "CLE", "DAL", "DEN", "DET", "GSW",
    "HOU", "IND", "LAC", "LAL", "MEM", "MIA", "MIL", "MIN", "NOP", "NYK",
    "OKC", "ORL", "PHI", "PHX", "POR", "SAC", "SAS", "TOR", "UTA", "WAS"};

constexpr std::array<std::string_view, 40> kSyllables = {
    "ka",  "ren", "dar", "mar", "ko", "lo",  "ti",  "sha", "bran", "quin", "vel", "ro", "ny", "ja",
    "mel", "tor", "vin", "ze",  "ly", "cor", "den", "ash", "ton",  "bel",  "ri",  "mo", "na", "el",
    "is",  "or",  "kel", "jo",  "ta", "da",  "ven", "nu",  "rak",  "sol",  "fa",  "lin"};

constexpr std::array<std::string_view, 6> kInjuries = {
    "Injury/Illness - Left Ankle; Sprain",     "Injury/Illness - Right Knee; Soreness",
    "Injury/Illness - Left Hamstring; Strain", "Injury/Illness - Illness",
    "Injury/Illness - Lower Back; Spasms",     "Injury/Illness - Right Calf; Strain"};

enum class Archetype { kStar, kScorer, kRotation, kRolePlayer, kBench };

std::string_view ArchetypeName(Archetype a) {
  switch (a) {
    case Archetype::kStar:
      return "star";
    case Archetype::kScorer:
      return "scorer";
    case Archetype::kRotation:
      return "rotation";
    case Archetype::kRolePlayer:
      return "role_player";
    case Archetype::kBench:
      return "bench";
  }
  return "bench";
}

struct Team {
  std::string abbr;
  double pace = 1;     // multiplies both teams' scoring
  double defense = 1;  // multiplies the opponents' scoring
};

struct Player {
  std::string lookup;
  int team = 0;
  Archetype archetype = Archetype::kBench;
  double mean_points = 0;
  double mean_minutes = 0;
  double drift = 1;  // slow form multiplier (AR(1) around 1)
  double form = 0;   // moving average of recent points: what lines are set from
  int injury_games_left = 0;
  bool injury_reported = false;
  bool returning = false;  // first game after an injury spell
  int injury = 0;          // index into kInjuries
};

struct Game {
  int date_index = 0;
  int away = 0;
  int home = 0;
  std::string id;
  int64_t tip_micros = 0;
  int64_t created_cap_micros = 0;  // predictions are made no later than this
  bool postponed = false;
};

struct Report {
  std::string status;
  std::string_view reason;
  int64_t at_micros = 0;
};

// One player's side of one game: what the world did and what the market offered.
struct PlayerGame {
  int player = 0;
  double expectation = 0;
  double sd = 0;
  double form_before = 0;
  bool predicted = false;
  std::optional<double> line;
  std::string_view line_source;  // empty = NULL
  std::optional<bool> has_prop_line;
  double estimated_line = 0;
  bool real_line = false;
  std::vector<Report> reports;  // in reported_at order
  // Status known from earlier days (an injury spell that began before this game).
  std::string_view known_status;
};

struct SystemSpec {
  std::string id;
  std::string model_version;
  double bias = 0;     // points added to the expectation
  double noise = 0;    // noise in units of the player's game-to-game spread
  double margin = 1;   // |predicted - line| above this gives OVER/UNDER
  double capture = 0;  // probability of capturing a known injury status
  bool hundred_scale = false;
  bool similar_games = false;
  bool estimated_line = false;
  bool uses_form = false;  // predicts from recent form instead of the expectation
};

struct BaseSystem {
  std::string_view id;
  std::string_view model_version;
  double bias, noise, margin, capture;
  bool hundred_scale, similar_games, estimated_line, uses_form;
};

constexpr std::array<BaseSystem, 6> kBaseSystems = {{
    {"ensemble_v1", "ensemble_v1.3", 0.2, 0.30, 0.5, 0.8, false, false, true, false},
    {"xgboost_v1", "xgb_2025_11", -0.5, 0.45, 0.5, 0.5, false, false, false, false},
    {"catboost_v8", "catboost_v8.1", 0.7, 0.40, 1.0, 0.7, true, false, false, false},
    {"moving_average_baseline_v1", "ma_v1", 0.0, 0.15, 0.3, 0.0, false, false, true, true},
    {"similarity_balanced_v1", "sim_v1.2", -1.0, 0.60, 0.5, 0.3, false, true, false, false},
    {"zone_matchup_v1", "zone_v1", 1.5, 0.80, 1.0, 0.6, false, true, false, false},
}};

std::vector<SystemSpec> MakeSystems(uint64_t seed, int scale) {
  std::vector<SystemSpec> out;
  for (int copy = 0; copy < scale; ++copy) {
    for (size_t b = 0; b < kBaseSystems.size(); ++b) {
      const BaseSystem& base = kBaseSystems[b];
      SystemSpec s;
      s.id = std::string(base.id);
      s.model_version = std::string(base.model_version);
      s.bias = base.bias;
      s.noise = base.noise;
      s.margin = base.margin;
      s.capture = base.capture;
      s.hundred_scale = base.hundred_scale;
      s.similar_games = base.similar_games;
      s.estimated_line = base.estimated_line;
      s.uses_form = base.uses_form;
      if (copy > 0) {
        Rng rng(StreamSeed(seed, kSystemParamStream, out.size()));
        std::string suffix = "_s" + std::to_string(copy + 1);
        s.id += suffix;
        s.model_version += suffix;
        s.bias += rng.Uniform(-1.5, 1.5);
        s.noise *= rng.Uniform(0.7, 1.6);
        s.margin *= rng.Uniform(0.7, 1.5);
      }
      out.push_back(std::move(s));
    }
  }
  return out;
}

std::string CasedStatus(Rng& rng, std::string_view upper) {
  std::string s(upper);
  double u = rng.Uniform();
  if (u < 0.70) return s;
  for (size_t i = 0; i < s.size(); ++i) {
    if (u < 0.95 || i > 0) s[i] = static_cast<char>(s[i] - 'A' + 'a');
  }
  return s;  // lower case, or Title case
}

std::vector<Player> MakePlayers(Rng& rng, std::vector<Team>& teams) {
  std::vector<Player> players;
  players.reserve(kNumTeams * kPlayersPerTeam);
  std::unordered_set<std::string> used;
  for (int t = 0; t < kNumTeams; ++t) {
    teams[t].pace = rng.Uniform(0.97, 1.03);
    teams[t].defense = rng.Uniform(0.95, 1.05);
    std::array<Archetype, kPlayersPerTeam> roster = {
        Archetype::kStar,       Archetype::kScorer,     Archetype::kScorer,
        Archetype::kRotation,   Archetype::kRotation,   Archetype::kRotation,
        Archetype::kRotation,   Archetype::kRolePlayer, Archetype::kRolePlayer,
        Archetype::kRolePlayer, Archetype::kRolePlayer, Archetype::kRolePlayer,
        Archetype::kRolePlayer, Archetype::kBench,      Archetype::kBench};
    if (rng.Chance(0.3)) roster[2] = Archetype::kStar;
    for (Archetype a : roster) {
      Player p;
      p.team = t;
      p.archetype = a;
      do {
        p.lookup.clear();
        int first = rng.Int(2, 3), last = rng.Int(2, 3);
        for (int i = 0; i < first + last; ++i) p.lookup += rng.Pick(kSyllables);
      } while (!used.insert(p.lookup).second);
      switch (a) {
        case Archetype::kStar:
          p.mean_points = rng.Uniform(24, 31);
          p.mean_minutes = rng.Uniform(33, 37);
          break;
        case Archetype::kScorer:
          p.mean_points = rng.Uniform(15, 22);
          p.mean_minutes = rng.Uniform(29, 34);
          break;
        case Archetype::kRotation:
          p.mean_points = rng.Uniform(9, 14);
          p.mean_minutes = rng.Uniform(23, 29);
          break;
        case Archetype::kRolePlayer:
          p.mean_points = rng.Uniform(3, 8);
          p.mean_minutes = rng.Uniform(12, 20);
          break;
        case Archetype::kBench:
          p.mean_points = rng.Uniform(1, 3);
          p.mean_minutes = rng.Uniform(4, 9);
          break;
      }
      p.form = p.mean_points;
      players.push_back(std::move(p));
    }
  }
  return players;
}

// The schedule: kRounds rounds (every team once per round, from three circle-method round
// robins over shuffled team orders), each split over two consecutive game dates.
std::vector<std::vector<Game>> MakeSchedule(Rng& rng) {
  std::vector<std::array<std::pair<int, int>, kGamesPerRound>> rounds;
  for (int rr = 0; rr < 3 && static_cast<int>(rounds.size()) < kRounds; ++rr) {
    std::vector<int> order(kNumTeams);
    for (int i = 0; i < kNumTeams; ++i) order[i] = i;
    rng.Shuffle(order);
    for (int r = 0; r < kNumTeams - 1 && static_cast<int>(rounds.size()) < kRounds; ++r) {
      std::array<std::pair<int, int>, kGamesPerRound> round;
      for (int i = 0; i < kGamesPerRound; ++i) {
        int a = order[i], b = order[kNumTeams - 1 - i];
        round[i] = rng.Chance(0.5) ? std::pair(a, b) : std::pair(b, a);
      }
      rounds.push_back(round);
      std::rotate(order.begin() + 1, order.end() - 1, order.end());
    }
  }
  std::vector<int> round_order(rounds.size());
  for (size_t i = 0; i < round_order.size(); ++i) round_order[i] = static_cast<int>(i);
  rng.Shuffle(round_order);

  std::vector<std::vector<Game>> dates(kGameDates);
  constexpr std::array<int, 6> kSplits = {6, 7, 7, 8, 8, 9};
  for (int r = 0; r < kRounds; ++r) {
    std::vector<std::pair<int, int>> games(rounds[round_order[r]].begin(),
                                           rounds[round_order[r]].end());
    rng.Shuffle(games);
    int split = rng.Pick(kSplits);
    for (int i = 0; i < kGamesPerRound; ++i) {
      Game g;
      g.date_index = 2 * r + (i < split ? 0 : 1);
      g.away = games[i].first;
      g.home = games[i].second;
      dates[g.date_index].push_back(std::move(g));
    }
  }
  return dates;
}

// Text cells from views; OptText gives NULL for an empty view.
Value Text(std::string_view s) { return Value::Text(std::string(s)); }
Value OptText(std::string_view s) { return s.empty() ? Value() : Text(s); }

class Generator {
 public:
  explicit Generator(const DemoOptions& options)
      : options_(options),
        scale_(std::max(1, options.scale)),
        world_(StreamSeed(options.seed, kWorldStream, 0)) {}

  DemoSeason Run();

 private:
  void SetUpCalendar();
  void SimulateSide(const Game& game, int team, int opponent, bool home);
  void EmitPredictions(size_t system_index, const Game& game, const PlayerGame& pg);
  Row PredictionRow(SystemSpec& s, Rng& rng, const Game& game, const PlayerGame& pg,
                    double predicted, int64_t created, std::optional<bool> is_active);
  void AddDuplicates(int date_index, size_t rows_of_date);

  const DemoOptions& options_;
  const int scale_;
  Rng world_;
  DemoSeason season_;
  std::vector<Team> teams_;
  std::vector<Player> players_;
  std::vector<std::vector<Game>> schedule_;  // by date index
  std::vector<CivilDay> days_;               // by date index
  std::vector<SystemSpec> systems_;
  std::vector<Rng> system_rngs_;
  std::vector<int64_t> batch_cursor_;  // per system: the running created_at of its batch

  // Per-date state.
  int date_index_ = 0;
  std::string date_text_;
  int64_t day_start_ = 0;
  double game_pace_ = 1;           // the current game's pace factor
  std::vector<PlayerGame> sides_;  // the current game's players, both teams
  struct Candidate {
    size_t row;
    int64_t created;
  };
  std::vector<Candidate> duplicate_candidates_;
};

void Generator::SetUpCalendar() {
  // Gaps (days without games) after date index j: an All-Star break and a few off days, none
  // among the last kQuietTailDates dates.
  std::vector<int> gaps(kGameDates, 0);
  gaps[static_cast<int>(0.62 * kGameDates)] += 5;
  for (int i = 0; i < 8; ++i) gaps[world_.Int(5, kGameDates - kQuietTailDates)] += 1;
  days_.resize(kGameDates);
  days_[kGameDates - 1] = options_.today.AddDays(-1);
  for (int j = kGameDates - 2; j >= 0; --j) days_[j] = days_[j + 1].AddDays(-1 - gaps[j]);
}

void Generator::SimulateSide(const Game& game, int team, int opponent, bool home) {
  // Report times on the game day (UTC) at least 30 minutes before tip-off.
  static constexpr std::array<int, 6> kReportMinutes = {13 * 60, 15 * 60,      17 * 60 + 30,
                                                        20 * 60, 21 * 60 + 30, 22 * 60 + 30};
  std::array<int64_t, kReportMinutes.size()> times{};
  int num_times = 0;
  for (int m : kReportMinutes) {
    int64_t t = day_start_ + m * kMicrosPerMinute;
    if (t <= game.tip_micros - 30 * kMicrosPerMinute) times[num_times++] = t;
  }
  auto one_time = [&] { return times[world_.Int(0, num_times - 1)]; };

  for (int k = 0; k < kPlayersPerTeam; ++k) {
    int index = team * kPlayersPerTeam + k;
    Player& p = players_[index];
    PlayerGame pg;
    pg.player = index;
    pg.form_before = p.form;
    pg.expectation =
        p.mean_points * p.drift * game_pace_ * teams_[opponent].defense * (home ? 1.015 : 0.985);
    pg.sd = 1.2 + 0.25 * pg.expectation;
    pg.estimated_line = std::max(0.5, Round(p.form, 10));
    bool bench = p.archetype == Archetype::kBench;
    pg.predicted = !bench || world_.Chance(0.25);

    if (pg.predicted) {
      double raw = 0.5 * p.form + 0.5 * pg.expectation + 0.7 * world_.Normal();
      double u = world_.Uniform();
      pg.real_line = u < 0.94;
      if (pg.real_line) {
        pg.line_source = u < 0.58   ? "ACTUAL_PROP"
                         : u < 0.78 ? "ODDS_API"
                         : u < 0.90 ? "BETTINGPROS"
                                    : "";
        pg.line = world_.Chance(0.15) ? std::max(1.0, std::round(raw))
                                      : std::max(0.5, std::floor(raw) + 0.5);
        if (world_.Chance(0.8)) pg.has_prop_line = true;
      } else if (u < 0.98) {
        pg.line_source = "ESTIMATED_AVG";
        pg.line = pg.estimated_line;
        pg.has_prop_line = false;
      } else {
        pg.line_source = "NO_PROP_LINE";
        pg.has_prop_line = false;
      }
    }

    if (game.postponed) {
      sides_.push_back(std::move(pg));
      continue;
    }

    // What happened to the player today, and what the injury report said.
    bool dnp = false;
    std::string_view dnp_reason;
    auto report = [&](std::string_view status, std::string_view reason, int64_t at) {
      pg.reports.push_back(Report{CasedStatus(world_, status), reason, at});
    };
    if (p.injury_games_left > 0) {
      dnp = true;
      dnp_reason = kInjuries[p.injury];
      if (p.injury_reported) {
        pg.known_status = "OUT";
        report(world_.Chance(0.85) ? "OUT" : "DOUBTFUL", dnp_reason, one_time());
      }
      if (--p.injury_games_left == 0) p.returning = true;
    } else if (p.returning) {
      p.returning = false;
      if (world_.Chance(0.6)) {
        report(world_.Chance(0.6) ? "AVAILABLE" : "PROBABLE", kInjuries[p.injury], one_time());
      }
    } else if (world_.Chance(0.01)) {
      // A new injury spell, from today.
      int length = 1;
      while (length < 20 && world_.Chance(0.8)) ++length;
      p.injury = world_.Int(0, static_cast<int>(kInjuries.size()) - 1);
      p.injury_reported = world_.Chance(0.85);
      dnp = true;
      dnp_reason = kInjuries[p.injury];
      if (p.injury_reported) {
        double u = world_.Uniform();
        if (u < 0.25) {  // late scratch
          report(world_.Chance(0.7) ? "QUESTIONABLE" : "PROBABLE", dnp_reason, one_time());
        } else if (u < 0.45 && num_times >= 2) {  // downgraded during the day
          int i = world_.Int(0, num_times - 2), j = world_.Int(i + 1, num_times - 1);
          report("QUESTIONABLE", dnp_reason, times[i]);
          report("OUT", dnp_reason, times[j]);
        } else {
          report(world_.Chance(0.85) ? "OUT" : "DOUBTFUL", dnp_reason, one_time());
        }
      }
      p.injury_games_left = length - 1;
      p.returning = length == 1;
    } else if (!bench && world_.Chance(0.02)) {
      int injury = world_.Int(0, static_cast<int>(kInjuries.size()) - 1);
      report(world_.Chance(0.7) ? "QUESTIONABLE" : "PROBABLE", kInjuries[injury], one_time());
      if (world_.Chance(0.2)) {  // late scratch
        dnp = true;
        dnp_reason = kInjuries[injury];
      }
    } else if ((p.archetype == Archetype::kStar || p.archetype == Archetype::kScorer) &&
               world_.Chance(0.015)) {
      dnp = true;
      dnp_reason = "Rest";
      if (world_.Chance(0.5)) report("OUT", "Rest", one_time());
    } else if (world_.Chance(0.003)) {
      dnp = true;
      dnp_reason = "Personal Reasons";
      if (world_.Chance(0.5)) report("OUT", "Personal Reasons", one_time());
    } else if (bench && world_.Chance(0.35)) {
      dnp = true;
      dnp_reason = "Coach's Decision";
    } else if (bench && world_.Chance(0.04)) {
      dnp = true;
      dnp_reason = "G League - On Assignment";
    } else if (p.archetype == Archetype::kRolePlayer && world_.Chance(0.04)) {
      dnp = true;
      dnp_reason = "Coach's Decision";
    }

    // The box score row (a few unpredicted bench players are missing from it entirely).
    bool in_box = pg.predicted || !bench || !world_.Chance(0.03);
    Value is_dnp, reason, points, minutes;
    if (dnp) {
      double u = world_.Uniform();
      if (u < 0.55) {
        is_dnp = Value::Bool(true);
        reason = Text(dnp_reason);
      } else if (u < 0.70) {
        is_dnp = Value::Bool(true);
        reason = Text(dnp_reason);
        points = Value::Int(0);
        minutes = Value::Real(0.0);
      } else if (u < 0.82) {
        points = Value::Int(0);
        minutes = Value::Real(0.0);
      } else if (u < 0.92) {
        points = Value::Int(0);
      }  // else: no stat line at all
    } else {
      if (world_.Chance(0.6)) is_dnp = Value::Bool(false);
      double garbage = bench ? 0.015 : p.archetype == Archetype::kRolePlayer ? 0.004 : 0.0;
      if (garbage > 0 && world_.Chance(garbage)) {  // on the floor for seconds
        points = Value::Int(0);
        minutes = Value::Real(world_.Int(2, 5) / 10.0);
      } else {
        double z = world_.Normal();
        int pts = static_cast<int>(std::max(0.0, std::round(pg.expectation + pg.sd * z)));
        double mins = p.mean_minutes * (1 + 0.08 * z) + 3.0 * world_.Normal();
        points = Value::Int(pts);
        minutes = Value::Real(Round(std::clamp(mins, 1.0, 48.0), 10));
        p.form = 0.8 * p.form + 0.2 * pts;
      }
    }
    p.drift = std::clamp(1 + 0.85 * (p.drift - 1) + 0.03 * world_.Normal(), 0.75, 1.25);

    if (in_box) {
      Row row(act::kNumColumns);
      row[act::game_date] = Value::Text(date_text_);
      row[act::game_id] = Value::Text(game.id);
      row[act::player_lookup] = Value::Text(p.lookup);
      row[act::team_abbr] = Value::Text(teams_[team].abbr);
      row[act::opponent_team_abbr] = Value::Text(teams_[opponent].abbr);
      row[act::points] = std::move(points);
      row[act::minutes_played] = std::move(minutes);
      row[act::is_dnp] = std::move(is_dnp);
      row[act::dnp_reason] = std::move(reason);
      season_.actuals.push_back(std::move(row));
    }
    for (const Report& r : pg.reports) {
      Row row(inj::kNumColumns);
      row[inj::game_date] = Value::Text(date_text_);
      if (world_.Chance(0.85)) row[inj::game_id] = Value::Text(game.id);
      row[inj::player_lookup] = Value::Text(p.lookup);
      row[inj::injury_status] = Value::Text(r.status);
      row[inj::reason] = OptText(r.reason);
      row[inj::reported_at] = Value::Text(FormatTimestampMicros(r.at_micros));
      season_.injuries.push_back(std::move(row));
    }
    sides_.push_back(std::move(pg));
  }
}

Row Generator::PredictionRow(SystemSpec& s, Rng& rng, const Game& game, const PlayerGame& pg,
                             double predicted, int64_t created, std::optional<bool> is_active) {
  const Player& p = players_[pg.player];
  Row row(pred::kNumColumns);
  row[pred::prediction_id] = Value::Text(rng.Uuid());
  row[pred::game_date] = Value::Text(date_text_);
  row[pred::game_id] = Value::Text(game.id);
  row[pred::player_lookup] = Value::Text(p.lookup);
  row[pred::system_id] = Value::Text(s.id);
  row[pred::predicted_points] = Value::Real(predicted);

  std::string_view recommendation = "NO_LINE";
  double edge = 0;
  if (pg.line) {
    edge = predicted - *pg.line;
    recommendation = edge > s.margin ? "OVER" : edge < -s.margin ? "UNDER" : "PASS";
    if (rng.Chance(0.01)) recommendation = "HOLD";
  }
  double confidence = 0.6 + 0.05 * std::min(std::fabs(edge), 6.0) + 0.07 * rng.Normal();
  if (recommendation != "OVER" && recommendation != "UNDER") confidence -= 0.05;
  confidence = Round(std::clamp(confidence, 0.3, 0.96), 100);
  row[pred::confidence_score] =
      Value::Real(s.hundred_scale ? Round(confidence * 100, 10) : confidence);
  row[pred::recommendation] = Text(recommendation);
  if (pg.line) row[pred::line_value] = Value::Real(*pg.line);
  row[pred::line_source] = OptText(pg.line_source);
  row[pred::has_prop_line] = Value::OptBool(pg.has_prop_line);
  if (s.estimated_line || !pg.real_line) {
    row[pred::estimated_line_value] = Value::Real(pg.estimated_line);
  }
  row[pred::pace_adjustment] = Value::Real(Round(game_pace_ * (1 + 0.004 * rng.Normal()), 1000));
  if (s.similar_games) row[pred::similar_games_count] = Value::Int(rng.Int(5, 40));
  row[pred::model_version] = Value::Text(s.model_version);
  row[pred::is_active] = Value::OptBool(is_active);

  if (confidence < 0.45 && rng.Chance(0.5)) {
    row[pred::is_actionable] = Value::Bool(false);
    row[pred::filter_reason] = Value::Text("low_confidence");
  } else if (rng.Chance(0.04)) {
    row[pred::is_actionable] = Value::Bool(false);
    row[pred::filter_reason] =
        Value::Text(rng.Chance(0.6) ? "confidence_tier_filter" : "edge < 1.0");
  } else if (rng.Chance(0.45)) {
    row[pred::is_actionable] = Value::Bool(true);
  }

  // The injury status the system knew when it predicted: the latest report made by then, or
  // an injury spell that began on an earlier day.
  std::string_view known = pg.known_status;
  for (const Report& r : pg.reports) {
    if (r.at_micros <= created) known = r.status;
  }
  if (!known.empty() && rng.Chance(s.capture)) {
    double u = rng.Uniform();
    bool available = known == "AVAILABLE" || known == "available" || known == "Available";
    if (u < 0.9) {
      row[pred::injury_status_at_prediction] = Text(known);
      row[pred::injury_flag_at_prediction] = Value::Bool(!available);
    } else if (u < 0.95) {
      row[pred::injury_flag_at_prediction] = Value::Bool(true);
    } else {
      row[pred::injury_status_at_prediction] = Text(known);
      row[pred::injury_flag_at_prediction] = Value::Bool(false);
    }
  }
  if (game.postponed) row[pred::invalidation_reason] = Value::Text("postponed");
  row[pred::created_at] = Value::Text(FormatTimestampMicros(created));
  return row;
}

void Generator::EmitPredictions(size_t system_index, const Game& game, const PlayerGame& pg) {
  SystemSpec& s = systems_[system_index];
  Rng& rng = system_rngs_[system_index];
  int64_t& cursor = batch_cursor_[system_index];
  cursor += rng.Micros(50'000, 1'500'000);
  int64_t created = cursor;
  if (created > game.created_cap_micros) {
    created = game.created_cap_micros - rng.Micros(0, 40 * kMicrosPerMinute);
  }
  double base = s.uses_form ? pg.form_before : pg.expectation;
  double predicted = std::max(0.0, Round(base + s.bias + s.noise * pg.sd * rng.Normal(), 10));

  bool superseded = !game.postponed && rng.Chance(kSupersededRate);
  if (superseded) {
    bool last = date_index_ == kGameDates - 1;
    int64_t floor_micros = last ? day_start_ + kMicrosPerHour : day_start_ - 12 * kMicrosPerHour;
    int64_t older =
        std::max(floor_micros, created - rng.Micros(kMicrosPerHour, 10 * kMicrosPerHour));
    double older_points = std::max(0.0, Round(predicted + 1.2 * rng.Normal(), 10));
    season_.predictions.push_back(PredictionRow(s, rng, game, pg, older_points, older, false));
  }
  std::optional<bool> active;
  if (superseded || rng.Chance(0.5)) active = true;
  season_.predictions.push_back(PredictionRow(s, rng, game, pg, predicted, created, active));
  if (!game.postponed) {
    duplicate_candidates_.push_back(Candidate{season_.predictions.size() - 1, created});
  }
}

void Generator::AddDuplicates(int date_index, size_t rows_of_date) {
  // floor() in the last week and ceil() before it, so the final week's duplicate rate never
  // exceeds the week before's (keeps `duplicate_trend` quiet on a fresh demo database).
  double target = kDuplicateRate * static_cast<double>(rows_of_date);
  size_t n =
      static_cast<size_t>(date_index >= kGameDates - 7 ? std::floor(target) : std::ceil(target));
  n = std::min(n, duplicate_candidates_.size());
  Rng rng(StreamSeed(options_.seed, kDuplicateStream, static_cast<uint64_t>(date_index)));
  for (size_t i = 0; i < n; ++i) {
    size_t j =
        i + static_cast<size_t>(rng.Int(0, static_cast<int>(duplicate_candidates_.size() - i) - 1));
    std::swap(duplicate_candidates_[i], duplicate_candidates_[j]);
    const Candidate& c = duplicate_candidates_[i];
    Row copy = season_.predictions[c.row];
    copy[pred::prediction_id] = Value::Text(rng.Uuid());
    // Predictions stop 20 minutes before tip-off and 10 before midnight: still before both.
    copy[pred::created_at] = Value::Text(
        FormatTimestampMicros(c.created + rng.Micros(kMicrosPerSecond, 300 * kMicrosPerSecond)));
    season_.predictions.push_back(std::move(copy));
  }
}

DemoSeason Generator::Run() {
  teams_.resize(kNumTeams);
  for (int t = 0; t < kNumTeams; ++t) teams_[t].abbr = std::string(kTeamAbbrs[t]);
  players_ = MakePlayers(world_, teams_);
  schedule_ = MakeSchedule(world_);
  SetUpCalendar();

  // Game ids, tip-off times (UTC; most games start 7-10 pm Eastern, i.e. after midnight UTC),
  // and one postponed game in mid-season.
  static constexpr std::array<int, 4> kEarlyTipMinutes = {17 * 60, 18 * 60, 19 * 60 + 30,
                                                          20 * 60 + 30};
  static constexpr std::array<int, 8> kTipMinutes = {24 * 60,       24 * 60,      24 * 60 + 30,
                                                     24 * 60 + 60,  24 * 60 + 90, 24 * 60 + 120,
                                                     24 * 60 + 150, 24 * 60 + 180};
  for (int d = 0; d < kGameDates; ++d) {
    CivilDay day = days_[d];
    int64_t start = StartOfDayMicros(day);
    for (Game& g : schedule_[d]) {
      char buf[48];
      std::snprintf(buf, sizeof buf, "%04d%02d%02d_%s_%s", day.year(), day.month(), day.day(),
                    teams_[g.away].abbr.c_str(), teams_[g.home].abbr.c_str());
      g.id = buf;
      int minutes = world_.Chance(0.08) ? world_.Pick(kEarlyTipMinutes) : world_.Pick(kTipMinutes);
      g.tip_micros = start + minutes * kMicrosPerMinute;
      g.created_cap_micros =
          std::min(g.tip_micros - 20 * kMicrosPerMinute, start + (23 * 60 + 50) * kMicrosPerMinute);
    }
  }
  {
    auto& games = schedule_[world_.Int(kGameDates * 2 / 5, kGameDates / 2)];
    Game& g = games[world_.Int(0, static_cast<int>(games.size()) - 1)];
    g.postponed = true;
    season_.postponed_game_ids.push_back(g.id);
  }

  systems_ = MakeSystems(options_.seed, scale_);
  for (size_t i = 0; i < systems_.size(); ++i) {
    system_rngs_.emplace_back(StreamSeed(options_.seed, kSystemStream, i));
    season_.system_ids.push_back(systems_[i].id);
  }
  batch_cursor_.resize(systems_.size());

  season_.predictions.reserve(static_cast<size_t>(kRounds * kGamesPerRound) * 2 * 14 *
                              systems_.size());
  season_.actuals.reserve(static_cast<size_t>(kRounds * kGamesPerRound) * 2 * kPlayersPerTeam);

  for (int d = 0; d < kGameDates; ++d) {
    date_index_ = d;
    date_text_ = days_[d].ToString();
    day_start_ = StartOfDayMicros(days_[d]);
    // Each system runs one batch per date: the evening before or the morning of the game day;
    // the last date's batches run late that day (so the data looks fresh the next day).
    for (size_t s = 0; s < systems_.size(); ++s) {
      Rng& rng = system_rngs_[s];
      if (d == kGameDates - 1) {
        batch_cursor_[s] = day_start_ + rng.Micros(22 * kMicrosPerHour,
                                                   23 * kMicrosPerHour + 15 * kMicrosPerMinute);
      } else if (rng.Chance(0.6)) {
        batch_cursor_[s] =
            day_start_ - 24 * kMicrosPerHour + rng.Micros(18 * kMicrosPerHour, 23 * kMicrosPerHour);
      } else {
        batch_cursor_[s] = day_start_ + rng.Micros(12 * kMicrosPerHour, 16 * kMicrosPerHour);
      }
    }
    size_t rows_before = season_.predictions.size();
    duplicate_candidates_.clear();
    for (const Game& g : schedule_[d]) {
      sides_.clear();
      game_pace_ = 0.5 * (teams_[g.away].pace + teams_[g.home].pace) * (1 + 0.01 * world_.Normal());
      SimulateSide(g, g.away, g.home, false);
      SimulateSide(g, g.home, g.away, true);
      for (size_t s = 0; s < systems_.size(); ++s) {
        for (const PlayerGame& pg : sides_) {
          if (pg.predicted) EmitPredictions(s, g, pg);
        }
      }
    }
    AddDuplicates(d, season_.predictions.size() - rows_before);
  }

  for (const Player& p : players_) {
    Row row(arch::kNumColumns);
    row[arch::player_lookup] = Value::Text(p.lookup);
    row[arch::archetype] = Text(ArchetypeName(p.archetype));
    season_.archetypes.push_back(std::move(row));
  }
  season_.first_date = days_.front();
  season_.last_date = days_.back();
  season_.game_dates = kGameDates;
  season_.games = kRounds * kGamesPerRound;
  season_.teams = kNumTeams;
  season_.players = static_cast<int>(players_.size());
  return std::move(season_);
}

}  // namespace

DemoSeason GenerateDemoSeason(const DemoOptions& options) { return Generator(options).Run(); }

}  // namespace propgrade

#include "demo/demo_season.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <map>
#include <set>
#include <string>
#include <tuple>
#include <unordered_map>
#include <unordered_set>

#include "schema/schema.h"

namespace propgrade {
namespace {

constexpr char kToday[] = "2026-03-20";

DemoOptions Options(uint64_t seed = 42, int scale = 1) {
  DemoOptions o;
  o.seed = seed;
  o.scale = scale;
  o.today = *CivilDay::Parse(kToday);
  return o;
}

std::string Upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

bool IsFalse(const Value& v) { return v.is_bool() && !v.as_bool(); }
bool IsTrue(const Value& v) { return v.is_bool() && v.as_bool(); }

// grading.md §3.1: is_dnp, or no points, or 0 points with no (or zero) minutes.
bool IsDnp(const Row& a) {
  const Value& y = a[act::points];
  const Value& m = a[act::minutes_played];
  return IsTrue(a[act::is_dnp]) || y.is_null() ||
         (y.as_int() == 0 && (m.is_null() || m.as_real() == 0));
}

// A prediction that survives grading.md §2 step 1.
bool IsLive(const Row& p) {
  return !IsFalse(p[pred::is_active]) && p[pred::invalidation_reason].is_null();
}

std::string ActualKey(const Row& r, int date, int game, int player) {
  return r[date].as_text() + "|" + r[game].as_text() + "|" + r[player].as_text();
}

std::string PredictionKey(const Row& p) {
  std::string line = p[pred::line_value].is_null() ? std::string("null")
                                                   : std::to_string(p[pred::line_value].as_real());
  return ActualKey(p, pred::game_date, pred::game_id, pred::player_lookup) + "|" +
         p[pred::system_id].as_text() + "|" + line;
}

class DemoSeasonTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { season_ = new DemoSeason(GenerateDemoSeason(Options())); }
  static void TearDownTestSuite() {
    delete season_;
    season_ = nullptr;
  }
  static const DemoSeason& S() { return *season_; }

  // Latest injury report (by reported_at) per "date|player".
  static std::unordered_map<std::string, std::string> LatestReports() {
    std::unordered_map<std::string, std::pair<std::string, std::string>> latest;
    for (const Row& r : S().injuries) {
      std::string key = r[inj::game_date].as_text() + "|" + r[inj::player_lookup].as_text();
      auto& slot = latest[key];
      if (r[inj::reported_at].as_text() >= slot.first) {
        slot = {r[inj::reported_at].as_text(), Upper(r[inj::injury_status].as_text())};
      }
    }
    std::unordered_map<std::string, std::string> out;
    for (auto& [k, v] : latest) out[k] = v.second;
    return out;
  }

  static DemoSeason* season_;
};

DemoSeason* DemoSeasonTest::season_ = nullptr;

TEST_F(DemoSeasonTest, SameOptionsGiveIdenticalRows) {
  DemoSeason again = GenerateDemoSeason(Options());
  EXPECT_TRUE(again.predictions == S().predictions);
  EXPECT_TRUE(again.actuals == S().actuals);
  EXPECT_TRUE(again.injuries == S().injuries);
  EXPECT_TRUE(again.archetypes == S().archetypes);
  EXPECT_EQ(again.system_ids, S().system_ids);
  EXPECT_EQ(again.first_date, S().first_date);
}

TEST_F(DemoSeasonTest, DifferentSeedGivesDifferentSeason) {
  DemoSeason other = GenerateDemoSeason(Options(7));
  EXPECT_FALSE(other.predictions == S().predictions);
  EXPECT_FALSE(other.actuals == S().actuals);
  EXPECT_FALSE(other.archetypes == S().archetypes);
  EXPECT_EQ(other.last_date, S().last_date);  // the anchor does not depend on the seed
}

void ExpectCatalogueShape(const TableDef& table, const std::vector<Row>& rows) {
  ASSERT_FALSE(rows.empty()) << table.name;
  int failures = 0;
  for (const Row& row : rows) {
    ASSERT_EQ(row.size(), table.columns.size()) << table.name;
    for (size_t i = 0; i < row.size() && failures < 5; ++i) {
      const ColumnDef& col = table.columns[i];
      const Value& v = row[i];
      bool ok = true;
      if (v.is_null()) {
        ok = !col.required;
      } else {
        switch (col.type) {
          case ColumnType::kText:
            ok = v.is_text() && !v.as_text().empty();
            break;
          case ColumnType::kInteger:
            ok = v.is_int();
            break;
          case ColumnType::kReal:
            ok = v.is_real();
            break;
          case ColumnType::kBool:
            ok = v.is_bool();
            break;
          case ColumnType::kDate: {
            auto day = v.is_text() ? CivilDay::Parse(v.as_text()) : std::nullopt;
            ok = day && day->ToString() == v.as_text();
            break;
          }
          case ColumnType::kTimestamp: {
            auto micros = v.is_text() ? ParseTimestampMicros(v.as_text()) : std::nullopt;
            ok = micros && FormatTimestampMicros(*micros) == v.as_text();
            break;
          }
        }
      }
      if (!ok) {
        ++failures;
        ADD_FAILURE() << table.name << "." << col.name << " has a non-canonical value";
      }
    }
  }
}

TEST_F(DemoSeasonTest, RowsFollowTheCatalogue) {
  ExpectCatalogueShape(tables::Predictions(), S().predictions);
  ExpectCatalogueShape(tables::Actuals(), S().actuals);
  ExpectCatalogueShape(tables::Injuries(), S().injuries);
  ExpectCatalogueShape(tables::Archetypes(), S().archetypes);
}

TEST_F(DemoSeasonTest, SeasonEndsYesterdayWithGames) {
  CivilDay yesterday = CivilDay::Parse(kToday)->AddDays(-1);
  EXPECT_EQ(S().last_date, yesterday);
  std::set<std::string> dates;
  for (const Row& a : S().actuals) dates.insert(a[act::game_date].as_text());
  ASSERT_FALSE(dates.empty());
  EXPECT_EQ(*dates.rbegin(), yesterday.ToString());
  EXPECT_EQ(*dates.begin(), S().first_date.ToString());
  EXPECT_EQ(static_cast<int>(dates.size()), S().game_dates);
  EXPECT_GE(S().game_dates, 150);
  EXPECT_LE(S().game_dates, 170);
  int span = S().last_date.days_since_epoch() - S().first_date.days_since_epoch();
  EXPECT_GE(span, S().game_dates - 1);
  EXPECT_LE(span, 200);
}

TEST_F(DemoSeasonTest, SizesAreRealistic) {
  EXPECT_EQ(S().teams, 30);
  EXPECT_GE(S().players, 440);
  EXPECT_LE(S().players, 460);
  EXPECT_EQ(static_cast<int>(S().archetypes.size()), S().players);
  EXPECT_GE(S().games, 1200);
  EXPECT_LE(S().games, 1260);
  EXPECT_GE(S().predictions.size(), 150'000u);
  EXPECT_LE(S().predictions.size(), 220'000u);
  EXPECT_GE(S().actuals.size(), 33'000u);
  EXPECT_LE(S().actuals.size(), 41'000u);
  EXPECT_GE(S().injuries.size(), 500u);
  EXPECT_EQ(S().system_ids,
            (std::vector<std::string>{"ensemble_v1", "xgboost_v1", "catboost_v8",
                                      "moving_average_baseline_v1", "similarity_balanced_v1",
                                      "zone_matchup_v1"}));
  ASSERT_EQ(S().postponed_game_ids.size(), 1u);
}

TEST_F(DemoSeasonTest, TeamsPlayAtMostOncePerDateAndGameIdsMatch) {
  std::set<std::string> abbrs;
  std::map<std::string, std::set<std::string>> games_by_date;
  for (const Row& a : S().actuals) {
    const std::string& date = a[act::game_date].as_text();
    const std::string& id = a[act::game_id].as_text();
    ASSERT_EQ(id.size(), 16u) << id;
    std::string ymd = date.substr(0, 4) + date.substr(5, 2) + date.substr(8, 2);
    ASSERT_EQ(id.substr(0, 9), ymd + "_") << id;
    std::string away = id.substr(9, 3), home = id.substr(13, 3);
    ASSERT_EQ(id[12], '_');
    const std::string& team = a[act::team_abbr].as_text();
    const std::string& opp = a[act::opponent_team_abbr].as_text();
    ASSERT_TRUE((team == away && opp == home) || (team == home && opp == away)) << id;
    abbrs.insert(team);
    games_by_date[date].insert(id);
  }
  EXPECT_EQ(abbrs.size(), 30u);
  EXPECT_TRUE(abbrs.count("LAL") && abbrs.count("BOS") && abbrs.count("GSW"));
  std::map<std::string, int> games_per_team;
  size_t games = 0;
  for (const auto& [date, ids] : games_by_date) {
    std::set<std::string> playing;
    for (const std::string& id : ids) {
      for (std::string t : {id.substr(9, 3), id.substr(13, 3)}) {
        EXPECT_TRUE(playing.insert(t).second) << t << " plays twice on " << date;
        ++games_per_team[t];
      }
    }
    games += ids.size();
    EXPECT_GE(ids.size(), 4u) << date;
    EXPECT_LE(ids.size(), 11u) << date;
  }
  EXPECT_EQ(static_cast<int>(games) + 1, S().games);  // one postponed game has no box score
  for (const auto& [team, n] : games_per_team) {
    EXPECT_GE(n, 80) << team;
    EXPECT_LE(n, 82) << team;
  }
}

TEST_F(DemoSeasonTest, KeysAndIdsAreUnique) {
  std::unordered_set<std::string> keys;
  for (const Row& a : S().actuals) {
    EXPECT_TRUE(keys.insert(ActualKey(a, act::game_date, act::game_id, act::player_lookup)).second);
  }
  std::unordered_set<std::string> ids;
  for (const Row& p : S().predictions) {
    const std::string& id = p[pred::prediction_id].as_text();
    ASSERT_EQ(id.size(), 36u);
    EXPECT_TRUE(ids.insert(id).second) << id;
  }
  std::unordered_set<std::string> report_keys;
  for (const Row& r : S().injuries) {
    EXPECT_TRUE(
        report_keys.insert(ActualKey(r, inj::game_date, inj::player_lookup, inj::reported_at))
            .second);
  }
  std::unordered_set<std::string> lookups;
  std::set<std::string> archetypes;
  for (const Row& r : S().archetypes) {
    const std::string& lookup = r[arch::player_lookup].as_text();
    EXPECT_TRUE(std::all_of(lookup.begin(), lookup.end(), [](char c) {
      return c >= 'a' && c <= 'z';
    })) << lookup;
    EXPECT_TRUE(lookups.insert(lookup).second) << lookup;
    archetypes.insert(r[arch::archetype].as_text());
  }
  EXPECT_TRUE(archetypes.count("star") && archetypes.count("scorer") &&
              archetypes.count("rotation") && archetypes.count("role_player"));
}

TEST_F(DemoSeasonTest, PredictionsReferenceScheduledGames) {
  std::unordered_set<std::string> actual_keys, games;
  std::unordered_map<std::string, std::string> team_of;  // date|player -> team
  for (const Row& a : S().actuals) {
    actual_keys.insert(ActualKey(a, act::game_date, act::game_id, act::player_lookup));
    games.insert(a[act::game_date].as_text() + "|" + a[act::game_id].as_text());
  }
  const std::string& postponed = S().postponed_game_ids[0];
  std::set<std::string> archetype_players;
  for (const Row& r : S().archetypes) archetype_players.insert(r[arch::player_lookup].as_text());
  size_t postponed_rows = 0;
  for (const Row& p : S().predictions) {
    const std::string& date = p[pred::game_date].as_text();
    const std::string& id = p[pred::game_id].as_text();
    ASSERT_EQ(id.substr(0, 8), date.substr(0, 4) + date.substr(5, 2) + date.substr(8, 2));
    ASSERT_TRUE(archetype_players.count(p[pred::player_lookup].as_text()));
    if (id == postponed) {
      ++postponed_rows;
      EXPECT_EQ(p[pred::invalidation_reason], Value::Text("postponed"));
      continue;
    }
    ASSERT_TRUE(games.count(date + "|" + id)) << id;
    // Every gradable prediction finds its box score row (`ungraded_predictions` stays quiet).
    ASSERT_TRUE(
        actual_keys.count(ActualKey(p, pred::game_date, pred::game_id, pred::player_lookup)))
        << id << " " << p[pred::player_lookup].as_text();
  }
  EXPECT_GE(postponed_rows, 100u);
}

TEST_F(DemoSeasonTest, ScoringIsRealistic) {
  std::unordered_map<std::string, std::string> archetype;
  for (const Row& r : S().archetypes) {
    archetype[r[arch::player_lookup].as_text()] = r[arch::archetype].as_text();
  }
  std::map<std::string, std::pair<double, int>> sums;
  for (const Row& a : S().actuals) {
    if (IsDnp(a)) continue;
    EXPECT_GT(a[act::minutes_played].as_real(), 0);
    EXPECT_EQ(a[act::minutes_played].as_real() * 10,
              std::round(a[act::minutes_played].as_real() * 10));
    auto& s = sums[archetype[a[act::player_lookup].as_text()]];
    s.first += static_cast<double>(a[act::points].as_int());
    s.second += 1;
  }
  double star = sums["star"].first / sums["star"].second;
  double role = sums["role_player"].first / sums["role_player"].second;
  EXPECT_GE(star, 24);
  EXPECT_LE(star, 31);
  EXPECT_GE(role, 2);
  EXPECT_LE(role, 8);
}

TEST_F(DemoSeasonTest, LinesAreNearFormAndPushesHappen) {
  std::unordered_map<std::string, const Row*> actuals;
  for (const Row& a : S().actuals) {
    actuals[ActualKey(a, act::game_date, act::game_id, act::player_lookup)] = &a;
  }
  size_t half = 0, whole = 0, pushes = 0, not_real = 0, no_line = 0;
  std::map<std::string, size_t> sources, recommendations;
  for (const Row& p : S().predictions) {
    ++recommendations[p[pred::recommendation].as_text()];
    if (p[pred::line_source].is_text()) ++sources[p[pred::line_source].as_text()];
    if (IsFalse(p[pred::has_prop_line])) ++not_real;
    if (p[pred::line_value].is_null()) {
      ++no_line;
      EXPECT_EQ(p[pred::recommendation], Value::Text("NO_LINE"));
      continue;
    }
    double line = p[pred::line_value].as_real();
    EXPECT_GE(line, 0.5);
    if (IsFalse(p[pred::has_prop_line])) continue;
    if (line - std::floor(line) == 0.5) ++half;
    if (line == std::floor(line)) {
      ++whole;
      const Row* a = actuals[ActualKey(p, pred::game_date, pred::game_id, pred::player_lookup)];
      if (IsLive(p) && a && !IsDnp(*a) && a->at(act::points).as_int() == line) ++pushes;
    }
  }
  EXPECT_GT(half, 5 * whole);
  EXPECT_GT(whole, 1000u);
  EXPECT_GT(pushes, 100u);
  EXPECT_GT(not_real, 1000u);
  EXPECT_GT(no_line, 100u);
  for (const char* s :
       {"ACTUAL_PROP", "ODDS_API", "BETTINGPROS", "ESTIMATED_AVG", "NO_PROP_LINE"}) {
    EXPECT_GT(sources[s], 100u) << s;
  }
  EXPECT_GT(sources["ACTUAL_PROP"], sources["ESTIMATED_AVG"] + sources["NO_PROP_LINE"]);
  for (const char* r : {"OVER", "UNDER", "PASS", "HOLD", "NO_LINE"}) {
    EXPECT_GT(recommendations[r], 100u) << r;
  }
  EXPECT_EQ(recommendations.size(), 5u);
}

TEST_F(DemoSeasonTest, OnlyCatboostUsesTheHundredScale) {
  size_t unit = 0, mid = 0;
  for (const Row& p : S().predictions) {
    double c = p[pred::confidence_score].as_real();
    if (p[pred::system_id].as_text() == "catboost_v8") {
      EXPECT_GT(c, 1.0);
      EXPECT_LE(c, 100.0);
    } else {
      EXPECT_GE(c, 0.0);
      EXPECT_LE(c, 1.0);
      ++unit;
      if (c >= 0.5 && c <= 0.9) ++mid;
    }
  }
  EXPECT_GT(mid, unit * 3 / 4);  // mostly 0.5-0.9
}

TEST_F(DemoSeasonTest, SupersededAndInvalidatedRows) {
  std::unordered_map<std::string, std::string> newest_active;  // key -> latest created_at
  for (const Row& p : S().predictions) {
    if (!IsLive(p)) continue;
    std::string& t = newest_active[PredictionKey(p)];
    t = std::max(t, p[pred::created_at].as_text());
  }
  size_t superseded = 0, invalidated = 0;
  for (const Row& p : S().predictions) {
    if (!p[pred::invalidation_reason].is_null()) ++invalidated;
    if (!IsFalse(p[pred::is_active])) continue;
    ++superseded;
    auto it = newest_active.find(PredictionKey(p));
    ASSERT_NE(it, newest_active.end());
    EXPECT_GT(it->second, p[pred::created_at].as_text());
  }
  EXPECT_GT(superseded, S().predictions.size() / 400);
  EXPECT_LT(superseded, S().predictions.size() / 50);
  EXPECT_GT(invalidated, 0u);
  EXPECT_LT(invalidated, S().predictions.size() / 100);
  size_t injury_captured = 0;
  for (const Row& p : S().predictions) {
    if (!p[pred::injury_status_at_prediction].is_null()) ++injury_captured;
  }
  EXPECT_GT(injury_captured, 100u);
}

TEST_F(DemoSeasonTest, ExactSourceDuplicatesAreFewAndSteady) {
  std::unordered_map<std::string, std::vector<const Row*>> groups;
  for (const Row& p : S().predictions) {
    if (IsLive(p)) groups[PredictionKey(p)].push_back(&p);
  }
  std::map<std::string, size_t> surplus_by_date, rows_by_date;
  for (const Row& p : S().predictions) ++rows_by_date[p[pred::game_date].as_text()];
  size_t surplus = 0;
  for (const auto& [key, rows] : groups) {
    if (rows.size() < 2) continue;
    surplus += rows.size() - 1;
    surplus_by_date[rows[0]->at(pred::game_date).as_text()] += rows.size() - 1;
    const Row& a = *rows[0];
    const Row& b = *rows[1];
    EXPECT_NE(a[pred::prediction_id], b[pred::prediction_id]);
    EXPECT_NE(a[pred::created_at], b[pred::created_at]);
    for (int c : {pred::predicted_points, pred::confidence_score, pred::recommendation,
                  pred::line_source, pred::model_version}) {
      EXPECT_EQ(a[c], b[c]);
    }
  }
  double rate = static_cast<double>(surplus) / static_cast<double>(S().predictions.size());
  EXPECT_GE(rate, 0.005);
  EXPECT_LE(rate, 0.01);
  // The last week's mean duplicate rate does not exceed the week before's.
  double last_week = 0, week_before = 0;
  CivilDay day = S().last_date;
  for (int i = 0; i < 14; ++i, day = day.AddDays(-1)) {
    std::string d = day.ToString();
    ASSERT_GT(rows_by_date[d], 0u) << d;
    double r = static_cast<double>(surplus_by_date[d]) / static_cast<double>(rows_by_date[d]);
    (i < 7 ? last_week : week_before) += r;
  }
  EXPECT_GT(last_week, 0);
  EXPECT_LE(last_week, week_before);
}

TEST_F(DemoSeasonTest, DnpRowsOfEachKind) {
  size_t flagged = 0, zero_zero = 0, zero_null = 0, no_stat_line = 0, seconds = 0, played = 0;
  std::set<std::string> reasons;
  for (const Row& a : S().actuals) {
    const Value& y = a[act::points];
    const Value& m = a[act::minutes_played];
    if (IsTrue(a[act::is_dnp])) {
      ++flagged;
      ASSERT_TRUE(a[act::dnp_reason].is_text());
      reasons.insert(a[act::dnp_reason].as_text());
    } else if (y.is_null()) {
      ++no_stat_line;
    } else if (y.as_int() == 0 && m.is_null()) {
      ++zero_null;
    } else if (y.as_int() == 0 && m.as_real() == 0) {
      ++zero_zero;
    } else if (y.as_int() == 0 && m.as_real() < 1) {
      ++seconds;
      EXPECT_FALSE(IsDnp(a));
    } else {
      ++played;
    }
  }
  EXPECT_GT(flagged, 500u);
  EXPECT_GT(zero_zero, 100u);
  EXPECT_GT(zero_null, 50u);
  EXPECT_GT(no_stat_line, 50u);
  EXPECT_GT(seconds, 10u);
  EXPECT_GT(played, S().actuals.size() * 4 / 5);
  EXPECT_TRUE(reasons.count("Coach's Decision") && reasons.count("Rest"));
}

TEST_F(DemoSeasonTest, InjuryReportsAndLateScratches) {
  std::map<std::string, size_t> statuses;
  size_t lower_case = 0;
  for (const Row& r : S().injuries) {
    const std::string& s = r[inj::injury_status].as_text();
    ++statuses[Upper(s)];
    if (s != Upper(s)) ++lower_case;
    // Reported on the game day.
    int64_t at = *ParseTimestampMicros(r[inj::reported_at].as_text());
    EXPECT_EQ(DayOfTimestamp(at).ToString(), r[inj::game_date].as_text());
  }
  EXPECT_GT(lower_case, 50u);
  EXPECT_GT(statuses["OUT"] + statuses["DOUBTFUL"],
            statuses["QUESTIONABLE"] + statuses["PROBABLE"]);
  for (const char* s : {"OUT", "DOUBTFUL", "QUESTIONABLE", "PROBABLE", "AVAILABLE"}) {
    EXPECT_GT(statuses[s], 20u) << s;
  }

  auto latest = LatestReports();
  std::unordered_set<std::string> predicted;
  for (const Row& p : S().predictions) {
    predicted.insert(p[pred::game_date].as_text() + "|" + p[pred::player_lookup].as_text());
  }
  size_t confirmed = 0, late_scratch = 0, unreported = 0, played_after_report = 0;
  for (const Row& a : S().actuals) {
    std::string key = a[act::game_date].as_text() + "|" + a[act::player_lookup].as_text();
    auto it = latest.find(key);
    std::string status = it == latest.end() ? "" : it->second;
    if (IsDnp(a)) {
      if (!predicted.count(key)) continue;
      if (status == "OUT" || status == "DOUBTFUL") ++confirmed;
      if (status == "QUESTIONABLE" || status == "PROBABLE") ++late_scratch;
      if (status.empty()) ++unreported;
    } else if (status == "AVAILABLE" || status == "PROBABLE" || status == "QUESTIONABLE") {
      ++played_after_report;
    }
  }
  EXPECT_GT(confirmed, 200u);
  EXPECT_GT(late_scratch, 20u);
  EXPECT_LT(late_scratch, confirmed);
  EXPECT_GT(unreported, 50u);
  EXPECT_GT(played_after_report, 100u);
}

TEST_F(DemoSeasonTest, PredictionsAreMadeBeforeTheGameDayEnds) {
  const std::string last = S().last_date.ToString();
  int64_t newest = 0;
  for (const Row& p : S().predictions) {
    CivilDay day = *CivilDay::Parse(p[pred::game_date].as_text());
    int64_t created = *ParseTimestampMicros(p[pred::created_at].as_text());
    ASSERT_LT(created, StartOfDayMicros(day.AddDays(1))) << p[pred::created_at].as_text();
    ASSERT_GE(created, StartOfDayMicros(day.AddDays(-1)));
    if (p[pred::game_date].as_text() == last) {
      EXPECT_EQ(DayOfTimestamp(created), day);
    }
    newest = std::max(newest, created);
  }
  // `freshness` run during "today" sees data well under 30 hours old.
  EXPECT_GE(newest, StartOfDayMicros(S().last_date) + 20 * int64_t{3600} * 1'000'000);
}

TEST_F(DemoSeasonTest, LastDatesHaveVolumeAndEverySystem) {
  std::map<std::string, std::set<std::string>> systems;
  std::map<std::string, std::set<std::string>> ids;
  for (const Row& p : S().predictions) {
    systems[p[pred::game_date].as_text()].insert(p[pred::system_id].as_text());
    ids[p[pred::game_date].as_text()].insert(p[pred::prediction_id].as_text());
  }
  size_t last = ids[S().last_date.ToString()].size();
  EXPECT_GE(last, 300u);
  EXPECT_LE(last, 5000u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(systems[S().last_date.AddDays(-i).ToString()].size(), 6u) << i;
  }
  // About 12-14 predicted players per team and game.
  size_t ensemble = 0;
  for (const Row& p : S().predictions) {
    if (p[pred::system_id].as_text() == "ensemble_v1" && !IsFalse(p[pred::is_active])) ++ensemble;
  }
  double per_team_game = static_cast<double>(ensemble) / (2.0 * S().games);
  EXPECT_GE(per_team_game, 12);
  EXPECT_LE(per_team_game, 14.5);
}

TEST_F(DemoSeasonTest, ScaleTwoDoublesTheSystems) {
  DemoSeason two = GenerateDemoSeason(Options(42, 2));
  ASSERT_EQ(two.system_ids.size(), 12u);
  std::set<std::string> distinct(two.system_ids.begin(), two.system_ids.end());
  EXPECT_EQ(distinct.size(), 12u);
  for (const std::string& id : S().system_ids) EXPECT_TRUE(distinct.count(id)) << id;
  EXPECT_TRUE(distinct.count("ensemble_v1_s2"));
  // The same world: extra systems draw from their own random streams.
  EXPECT_TRUE(two.actuals == S().actuals);
  EXPECT_TRUE(two.injuries == S().injuries);
  double ratio =
      static_cast<double>(two.predictions.size()) / static_cast<double>(S().predictions.size());
  EXPECT_NEAR(ratio, 2.0, 0.05);
  std::set<std::string> seen;
  for (const Row& p : two.predictions) {
    seen.insert(p[pred::system_id].as_text());
    if (p[pred::system_id].as_text() == "catboost_v8_s2") {
      EXPECT_GT(p[pred::confidence_score].as_real(), 1.0);
    }
  }
  EXPECT_EQ(seen, distinct);
}

}  // namespace
}  // namespace propgrade

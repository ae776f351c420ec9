#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <map>
#include <random>

#include "schema/schema.h"
#include "grading/daily_performance.h"
#include "grading/facts.h"
#include "grading/performance_summary.h"

namespace propgrade::grading {
namespace {

struct FactSpec {
  std::string date = "2025-01-05";
  std::string system = "ensemble_v1";
  std::string player = "a";
  std::string game = "20250105_LAL_BOS";
  std::optional<std::string> team = "BOS";
  std::optional<double> conf = 0.72;
  std::optional<std::string> rec = "OVER";
  std::optional<bool> correct = true;
  bool voided = false;
  bool push = false;
  bool actionable = true;
  std::optional<double> abs_err = 1.5;
  std::optional<double> signed_err = 1.5;
};

void AddFact(FactTable* t, const FactSpec& s) {
  Row r = {Value::Text(s.date),
           Value::Text(s.system),
           Value::Text(s.player),
           Value::Text(s.game),
           Value::OptText(s.team),
           Value::OptReal(s.conf),
           Value::OptText(s.rec),
           Value::OptBool(s.correct),
           Value::Bool(s.voided),
           Value::Bool(s.push),
           Value::Bool(s.actionable),
           Value::OptReal(s.abs_err),
           Value::OptReal(s.signed_err),
           s.abs_err ? Value::Bool(*s.abs_err <= 3) : Value(),
           s.abs_err ? Value::Bool(*s.abs_err <= 5) : Value()};
  ASSERT_TRUE(t->Add(r).ok());
}

TEST(PeriodsTest, SpecExamples) {
  auto p = PeriodsFor(*CivilDay::Parse("2025-01-05"));
  ASSERT_EQ(p.size(), 4u);
  EXPECT_EQ(p[0].type, "rolling_7d");
  EXPECT_EQ(p[0].value, "2025-01-05");
  EXPECT_EQ(p[0].start.ToString(), "2024-12-30");
  EXPECT_EQ(p[1].start.ToString(), "2024-12-07");
  EXPECT_EQ(p[2].value, "2025-01");
  EXPECT_EQ(p[2].start.ToString(), "2025-01-01");
  EXPECT_EQ(p[3].value, "2024-25");
  EXPECT_EQ(p[3].start.ToString(), "2024-10-01");
  auto dec = PeriodsFor(*CivilDay::Parse("2024-12-15"));
  EXPECT_EQ(dec[3].value, "2024-25");
  EXPECT_EQ(dec[3].start.ToString(), "2024-10-01");
  auto mar = PeriodsFor(*CivilDay::Parse("2025-03-15"));
  EXPECT_EQ(mar[3].value, "2024-25");
  auto y2k = PeriodsFor(*CivilDay::Parse("2000-03-01"));
  EXPECT_EQ(y2k[3].value, "1999-00");
  EXPECT_EQ(SummaryWindowStart(*CivilDay::Parse("2025-06-30")).ToString(), "2024-10-01");
  EXPECT_EQ(SummaryWindowStart(*CivilDay::Parse("2024-10-15")).ToString(), "2024-07-17");
}

TEST(DataHashTest, SpecVectors) {
  EXPECT_EQ(DataHash(52, 28, 100), "595e753f9c90b35f");
  EXPECT_EQ(DataHash(60, 28, 100), "ba7f588404ca012b");
}

TEST(DailyPerformanceTest, CountsRatesAndNulls) {
  FactTable t;
  AddFact(&t, {});  // OVER hit, conf 0.72
  FactSpec miss;
  miss.correct = false;
  miss.conf = 0.5;
  miss.abs_err = 4.0;
  miss.signed_err = -4.0;
  AddFact(&t, miss);
  FactSpec under;
  under.rec = "UNDER";
  under.correct = true;
  under.actionable = false;
  under.abs_err = 0.99;
  under.signed_err = 0.99;
  AddFact(&t, under);
  FactSpec pass;
  pass.rec = "PASS";
  pass.correct = std::nullopt;
  pass.push = true;
  AddFact(&t, pass);
  FactSpec voided;
  voided.voided = true;
  voided.correct = std::nullopt;
  voided.abs_err = voided.signed_err = std::nullopt;
  voided.conf = 0.99;
  AddFact(&t, voided);
  FactSpec other_day;
  other_day.date = "2025-01-04";
  AddFact(&t, other_day);
  FactSpec other_system;
  other_system.system = "xgboost_v1";
  other_system.correct = false;
  AddFact(&t, other_system);

  auto rows = ComputeDailyPerformance(*CivilDay::Parse("2025-01-05"), t, "T", "R");
  ASSERT_EQ(rows.size(), 2u);
  const Row& e = rows[0];
  EXPECT_EQ(e[daily::system_id].as_text(), "ensemble_v1");
  EXPECT_EQ(e[daily::predictions_count].as_int(), 5);
  EXPECT_EQ(e[daily::voided_count].as_int(), 1);
  EXPECT_EQ(e[daily::recommendations_count].as_int(), 3);
  EXPECT_EQ(e[daily::correct_count].as_int(), 2);
  EXPECT_EQ(e[daily::incorrect_count].as_int(), 1);
  EXPECT_EQ(e[daily::push_count].as_int(), 1);
  EXPECT_EQ(e[daily::pass_count].as_int(), 1);
  EXPECT_EQ(e[daily::win_rate].as_real(), 0.667);
  // (1.5 + 4.0 + 0.99 + 1.5) / 4 = 1.9975 → 2.0; (1.5 − 4 + 0.99 + 1.5) / 4 = −0.0025 → −0.0 → 0
  EXPECT_EQ(e[daily::mae].as_real(), 2.0);
  EXPECT_EQ(e[daily::avg_bias].as_real(), 0.0);
  EXPECT_EQ(e[daily::over_count].as_int(), 2);
  EXPECT_EQ(e[daily::over_correct].as_int(), 1);
  EXPECT_EQ(e[daily::over_win_rate].as_real(), 0.5);
  EXPECT_EQ(e[daily::under_win_rate].as_real(), 1.0);
  EXPECT_EQ(e[daily::within_3_count].as_int(), 3);
  EXPECT_EQ(e[daily::within_3_pct].as_real(), 0.75);
  EXPECT_EQ(e[daily::within_5_pct].as_real(), 1.0);
  EXPECT_EQ(e[daily::avg_confidence].as_real(), 0.665);  // (0.72+0.5+0.72+0.72)/4, voided excluded
  EXPECT_EQ(e[daily::high_confidence_count].as_int(), 3);
  EXPECT_EQ(e[daily::high_confidence_correct].as_int(), 2);
  EXPECT_EQ(e[daily::high_confidence_win_rate].as_real(), 1.0);
  EXPECT_EQ(e[daily::actionable_win_rate].as_real(), 0.5);
  const Row& x = rows[1];
  EXPECT_EQ(x[daily::win_rate].as_real(), 0.0);     // a rate of 0 is 0, not NULL
  EXPECT_TRUE(x[daily::under_win_rate].is_null());  // empty denominator
}

TEST(SummaryTest, SlicesKeysAndThresholds) {
  FactTable t;
  // Player "star": 6 rows (≥ 5) with one voided; player "bench": 4 rows (< 5).
  for (int i = 0; i < 6; ++i) {
    FactSpec s;
    s.player = "star";
    s.date = "2025-01-0" + std::to_string(i + 1);
    s.game = "202501" + std::string("0") + std::to_string(i + 1) + "_LAL_BOS";
    s.team = i % 2 ? "LAL" : "BOS";
    s.voided = i == 5;
    if (s.voided) s.correct = std::nullopt, s.abs_err = s.signed_err = std::nullopt;
    s.correct = i < 5 ? std::optional<bool>(i % 3 != 0) : std::nullopt;
    AddFact(&t, s);
  }
  for (int i = 0; i < 4; ++i) {
    FactSpec s;
    s.player = "bench";
    s.conf = 0.6;
    s.game = "bad-game-id";
    AddFact(&t, s);
  }
  FactSpec old_system;  // last row more than 90 days before A: not an active system
  old_system.system = "retired_v0";
  old_system.date = "2024-09-01";
  AddFact(&t, old_system);

  std::unordered_map<std::string, std::string> archetypes = {{"star", "star"}, {"bench", "role"}};
  SummaryOptions options;
  options.as_of = *CivilDay::Parse("2025-01-06");
  options.computed_at = "T";
  options.run_id = "R";
  options.archetypes = &archetypes;
  options.min_archetype_rows = 5;
  auto result = ComputePerformanceSummary(t, options);
  std::map<std::string, Row> by_key;
  for (const Row& r : result.rows) by_key[r[summ::summary_key].as_text()] = r;
  for (const auto& [k, r] : by_key) EXPECT_EQ(k.rfind("ensemble_v1|", 0), 0u) << k;

  const Row& overall = by_key.at("ensemble_v1|season|2024-25|NULL|NULL|NULL|NULL");
  EXPECT_EQ(overall[summ::total_predictions].as_int(), 10);
  EXPECT_EQ(overall[summ::period_start_date].as_text(), "2024-10-01");
  EXPECT_EQ(overall[summ::unique_players].as_int(), 2);
  EXPECT_EQ(overall[summ::unique_games].as_int(), 6);  // 5 non-voided star games + bad id
  EXPECT_EQ(overall[summ::hits].as_int() + overall[summ::misses].as_int(), 9);

  const Row& star = by_key.at("ensemble_v1|season|2024-25|star|NULL|NULL|NULL");
  EXPECT_EQ(star[summ::total_predictions].as_int(), 6);
  EXPECT_EQ(star[summ::hits].as_int(), 3);    // i = 1, 2, 4
  EXPECT_EQ(star[summ::misses].as_int(), 2);  // i = 0, 3
  EXPECT_DOUBLE_EQ(star[summ::hit_rate].as_real(), 0.6);
  EXPECT_EQ(star[summ::unique_players].as_int(), 1);
  EXPECT_EQ(star[summ::unique_games].as_int(), 5);
  EXPECT_EQ(star[summ::data_hash].as_text(), DataHash(3, 2, 6));
  EXPECT_EQ(by_key.count("ensemble_v1|season|2024-25|bench|NULL|NULL|NULL"), 0u);
  // The 7-day window starts 2024-12-31: all rows are in it.
  EXPECT_EQ(
      by_key.at("ensemble_v1|rolling_7d|2025-01-06|NULL|NULL|NULL|NULL")[summ::total_predictions]
          .as_int(),
      10);

  EXPECT_EQ(by_key.count("ensemble_v1|month|2025-01|NULL|star|NULL|NULL"), 1u);
  EXPECT_EQ(by_key.count("ensemble_v1|month|2025-01|NULL|role|NULL|NULL"), 0u);  // 4 < 5
  EXPECT_EQ(
      by_key.at("ensemble_v1|month|2025-01|NULL|NULL|high|NULL")[summ::total_predictions].as_int(),
      6);
  EXPECT_EQ(by_key.at("ensemble_v1|month|2025-01|NULL|NULL|medium|NULL")[summ::total_predictions]
                .as_int(),
            4);
  EXPECT_EQ(by_key.count("ensemble_v1|month|2025-01|NULL|NULL|low|NULL"), 0u);
  EXPECT_EQ(
      by_key.at("ensemble_v1|month|2025-01|NULL|NULL|NULL|home")[summ::total_predictions].as_int(),
      3);
  EXPECT_EQ(
      by_key.at("ensemble_v1|month|2025-01|NULL|NULL|NULL|away")[summ::total_predictions].as_int(),
      3);
  EXPECT_EQ(result.unparseable_game_ids, 4);
  ASSERT_EQ(result.unparseable_samples.size(), 1u);
}

// The pipeline keeps one SummaryAccumulator between dates: every snapshot it computes must equal
// a fresh one, through month and season starts, skipped dates, a re-graded day, a game id on two
// days, changed archetypes and a rebuilt table.
TEST(SummaryAccumulatorTest, ConsecutiveSnapshotsEqualFreshOnes) {
  std::mt19937 rng(7);
  auto fact_of = [&](CivilDay d, int game, int player, int system) {
    FactSpec s;
    s.date = d.ToString();
    s.system = "sys" + std::to_string(system);
    s.player = "p" + std::to_string(player);
    std::string ymd = s.date.substr(0, 4) + s.date.substr(5, 2) + s.date.substr(8, 2);
    s.game = ymd + "_A" + std::to_string(game) + "_H" + std::to_string(game);
    s.team = (player % 2 ? "H" : "A") + std::to_string(game);
    s.conf = std::uniform_int_distribution<int>(0, 3)(rng) == 0
                 ? std::nullopt
                 : std::optional<double>(0.4 + 0.1 * (rng() % 6));
    s.rec = std::array<const char*, 3>{"OVER", "UNDER", "PASS"}[rng() % 3];
    s.voided = rng() % 10 == 0;
    s.correct = s.voided || rng() % 7 == 0 ? std::nullopt : std::optional<bool>(rng() % 2);
    s.push = !s.voided && rng() % 20 == 0;
    s.abs_err = s.voided ? std::nullopt : std::optional<double>((rng() % 900) / 100.0);
    s.signed_err = s.abs_err;
    return s;
  };
  auto add_day = [&](FactTable* t, CivilDay d) {
    for (int g = 0; g < 2; ++g) {
      for (int p = g * 6; p < g * 6 + 6; ++p) {
        for (int sys = 0; sys < 2 + (p % 2); ++sys) AddFact(t, fact_of(d, g, p, sys));
      }
    }
  };
  std::unordered_map<std::string, std::string> archetypes = {
      {"p1", "star"}, {"p2", "role"}, {"p3", "star"}};
  auto check = [&](SummaryAccumulator* acc, const FactTable& t, CivilDay as_of) {
    SummaryOptions options;
    options.as_of = as_of;
    options.computed_at = "T";
    options.run_id = "R";
    options.archetypes = &archetypes;
    options.min_player_rows = 2;
    options.min_archetype_rows = 3;
    SummaryResult fresh = ComputePerformanceSummary(t, options);
    SummaryResult kept = acc->Compute(t, options);
    ASSERT_FALSE(fresh.rows.empty()) << as_of.ToString();
    ASSERT_EQ(kept.rows.size(), fresh.rows.size()) << as_of.ToString();
    for (size_t i = 0; i < fresh.rows.size(); ++i) {
      ASSERT_EQ(kept.rows[i], fresh.rows[i])
          << as_of.ToString() << " row " << i << " " << fresh.rows[i][summ::summary_key].as_text();
    }
  };

  FactTable t;
  SummaryAccumulator acc;
  const CivilDay first = *CivilDay::Parse("2024-09-20");
  int64_t steady_absorbed = -1;
  for (int i = 0; i < 80; ++i) {
    CivilDay d = first.AddDays(i);
    add_day(&t, d);
    if (i % 9 == 4) continue;            // a date without a summary step
    if (d.ToString() == "2024-11-12") {  // re-grade an earlier day with other outcomes
      int32_t day = d.AddDays(-3).days_since_epoch();
      t.facts.erase(std::remove_if(t.facts.begin(), t.facts.end(),
                                   [&](const AccuracyFact& f) { return f.day == day; }),
                    t.facts.end());
      add_day(&t, d.AddDays(-3));
    }
    if (d.ToString() == "2024-11-20") archetypes["p4"] = "role";  // a new assignment
    if (d.ToString() == "2024-11-25") archetypes["p1"] = "role";  // a changed one
    if (d.ToString() == "2024-12-02") AddFact(&t, fact_of(d.AddDays(-1), 0, 3, 0));  // late row
    if (d.ToString() == "2024-12-05") {  // yesterday's game id again today
      FactSpec s = fact_of(d, 0, 5, 0);
      s.game = fact_of(d.AddDays(-1), 0, 5, 0).game;
      AddFact(&t, s);
    }
    check(&acc, t, d);
    if (d.ToString() == "2024-11-10") steady_absorbed = acc.last_absorbed();
  }
  // On an ordinary day the running month and season groups absorbed that day's facts only.
  EXPECT_EQ(steady_absorbed, 2 * 30);

  FactTable rebuilt;  // the same facts interned in another order
  for (auto it = t.facts.rbegin(); it != t.facts.rend(); ++it) {
    const AccuracyFact& f = *it;
    FactSpec s;
    s.date = CivilDay::FromDaysSinceEpoch(f.day).ToString();
    s.system = t.systems.Get(f.system);
    s.player = t.players.Get(f.player);
    s.game = t.games.Get(f.game);
    s.team = std::nullopt;
    AddFact(&rebuilt, s);
  }
  check(&acc, rebuilt, first.AddDays(80));
}

TEST(SummaryTest, PlayerSlicesKeepTheTwoHundredLargest) {
  FactTable t;
  for (int p = 0; p < 205; ++p) {
    for (int i = 0; i < 5 + (p % 3); ++i) {
      FactSpec s;
      char name[16];
      std::snprintf(name, sizeof name, "p%03d", p);
      s.player = name;
      AddFact(&t, s);
    }
  }
  SummaryOptions options;
  options.as_of = *CivilDay::Parse("2025-01-05");
  auto result = ComputePerformanceSummary(t, options);
  int players = 0;
  bool has_p000 = false, has_p204 = false;
  for (const Row& r : result.rows) {
    if (r[summ::period_type].as_text() != "season" || r[summ::player_lookup].is_null()) continue;
    ++players;
    has_p000 |= r[summ::player_lookup].as_text() == "p000";  // 5 rows, smallest name
    has_p204 |= r[summ::player_lookup].as_text() == "p204";  // 5 rows, dropped by name order
  }
  EXPECT_EQ(players, 200);
  EXPECT_TRUE(has_p000);
  EXPECT_FALSE(has_p204);
}

}  // namespace
}  // namespace propgrade::grading

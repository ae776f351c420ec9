#include "grading/rules.h"

#include <gtest/gtest.h>

#include <cmath>
#include <iomanip>
#include <random>
#include <string>

namespace propgrade::grading {
namespace {

TEST(RoundHalfAwayTest, RoundsTheShortestDecimalHalfAwayFromZero) {
  // 2.675 is 2.67499999999999982236431605997495353221893310546875 in binary; the spec rounds
  // its shortest decimal text "2.675" instead.
  EXPECT_EQ(RoundHalfAway(2.675, 2), 2.68);
  EXPECT_EQ(RoundHalfAway(-2.675, 2), -2.68);
  EXPECT_EQ(RoundHalfAway(0.125, 2), 0.13);
  EXPECT_EQ(RoundHalfAway(0.5625, 3), 0.563);
  EXPECT_EQ(RoundHalfAway(0.745, 2), 0.75);
  EXPECT_EQ(RoundHalfAway(1.005, 2), 1.01);
  EXPECT_EQ(RoundHalfAway(2.5, 0), 3.0);
  EXPECT_EQ(RoundHalfAway(-2.5, 0), -3.0);
  EXPECT_EQ(RoundHalfAway(9.995, 2), 10.0);
  EXPECT_EQ(RoundHalfAway(99.96, 1), 100.0);
  EXPECT_EQ(RoundHalfAway(0.1 + 0.2, 2), 0.3);
  EXPECT_EQ(RoundHalfAway(7.13, 2), 7.13);
  EXPECT_EQ(RoundHalfAway(13.8, 2), 13.8);
  EXPECT_EQ(RoundHalfAway(1e-7, 4), 0.0);
  EXPECT_EQ(RoundHalfAway(0.00005, 4), 0.0001);
  EXPECT_EQ(RoundShortestDecimal(2.675, 2), 2.68);
  EXPECT_EQ(RoundShortestDecimal(-9.995, 2), -10.0);
  EXPECT_EQ(RoundShortestDecimal(7.13, 2), 7.13);
}

TEST(RoundHalfAwayTest, AgreesWithRoundingTheDecimalText) {
  std::mt19937_64 rng(11);
  for (int i = 0; i < 200000; ++i) {
    int places = static_cast<int>(rng() % 5);
    double v;
    switch (i % 4) {
      case 0:  // a tie in decimal, e.g. 12.345 at 2 places
        v = static_cast<double>(rng() % 10000000) / std::pow(10.0, places + 1) +
            5 / std::pow(10.0, places + 1);
        break;
      case 1:  // arithmetic results with long expansions
        v = static_cast<double>(rng() % 100000) / 97.0 - 300;
        break;
      case 2:  // one ulp around a tie
        v = std::nextafter(static_cast<double>(rng() % 100000) / 1000.0 + 0.0005,
                           rng() % 2 ? 1e9 : -1e9);
        break;
      default:  // any magnitude
        v = std::ldexp(static_cast<double>(rng() % (1ull << 52)),
                       static_cast<int>(rng() % 80) - 60);
    }
    if (rng() % 2) v = -v;
    ASSERT_EQ(RoundHalfAway(v, places), RoundShortestDecimal(v, places))
        << std::setprecision(17) << v << " at " << places;
  }
}

TEST(RoundHalfAwayTest, NegativeZeroBecomesZero) {
  double r = RoundHalfAway(-0.001, 2);
  EXPECT_EQ(r, 0.0);
  EXPECT_FALSE(std::signbit(r));
  EXPECT_FALSE(std::signbit(RoundHalfAway(-0.0, 2)));
}

TEST(RoundHalfAwayTest, MeansAndRatios) {
  EXPECT_EQ(RoundedRatio(9, 16, 3), 0.563);   // 0.5625 exactly
  EXPECT_EQ(RoundedRatio(41, 80, 3), 0.513);  // 0.5125
  EXPECT_FALSE(RoundedRatio(1, 0, 3).has_value());
  EXPECT_EQ(RoundedRatio(0, 5, 3), 0.0);  // a rate of 0 is 0, not NULL
  // Mean of stored hundredths: (0.74 + 0.75) / 2 = 0.745 → 0.75.
  EXPECT_EQ(RoundedMean(74 + 75, 2, 2, 2), 0.75);
  EXPECT_EQ(ExactMean(1, 3, 2).value(), 1.0 / 300.0);
  EXPECT_EQ(ToScaledInt(2.68, 2), 268);
  EXPECT_EQ(ToScaledInt(0.5875, 4), 5875);
}

TEST(DnpTest, VoidingRules) {
  EXPECT_TRUE(IsDnp(true, 12, 30.0));                    // explicit flag wins
  EXPECT_TRUE(IsDnp(std::nullopt, std::nullopt, 20.0));  // no stat line
  EXPECT_TRUE(IsDnp(false, 0, 0.0));
  EXPECT_TRUE(IsDnp(false, 0, std::nullopt));
  EXPECT_FALSE(IsDnp(false, 0, 0.2));  // played 12 seconds: not voided
  EXPECT_FALSE(IsDnp(std::nullopt, 7, std::nullopt));
  EXPECT_FALSE(IsDnp(false, 25, 31.2));
}

TEST(VoidTableTest, CapturedEvidence) {
  auto d = DecideVoid("out", false, false, std::nullopt);  // (fix) a captured OUT with flag false
  EXPECT_EQ(d.reason, VoidReason::kInjuryConfirmed);
  EXPECT_TRUE(d.pre_game_injury_flag);
  EXPECT_TRUE(d.injury_confirmed_postgame);
  EXPECT_EQ(d.pre_game_injury_status, "OUT");

  d = DecideVoid("Doubtful", std::nullopt, true, "QUESTIONABLE");  // captured beats the report
  EXPECT_EQ(d.reason, VoidReason::kInjuryConfirmed);
  EXPECT_EQ(d.pre_game_injury_status, "DOUBTFUL");

  d = DecideVoid("questionable", true, false, std::nullopt);
  EXPECT_EQ(d.reason, VoidReason::kLateScratch);
  EXPECT_TRUE(d.pre_game_injury_flag && d.injury_confirmed_postgame);
  d = DecideVoid("PROBABLE", std::nullopt, false, std::nullopt);
  EXPECT_EQ(d.reason, VoidReason::kLateScratch);

  d = DecideVoid("GTD", true, false, std::nullopt);
  EXPECT_EQ(d.reason, VoidReason::kUnknown);
  EXPECT_TRUE(d.pre_game_injury_flag);
  EXPECT_FALSE(d.injury_confirmed_postgame);
  EXPECT_EQ(d.pre_game_injury_status, "GTD");

  d = DecideVoid(std::nullopt, true, true, "OUT");  // flag only: captured, report not consulted
  EXPECT_EQ(d.reason, VoidReason::kUnknown);
  EXPECT_TRUE(d.pre_game_injury_flag);
  EXPECT_FALSE(d.pre_game_injury_status.has_value());

  d = DecideVoid("AVAILABLE", false, false, std::nullopt);  // §7.5
  EXPECT_EQ(d.reason, VoidReason::kUnknown);
  EXPECT_FALSE(d.pre_game_injury_flag);
  EXPECT_EQ(d.pre_game_injury_status, "AVAILABLE");
}

TEST(VoidTableTest, LookedUpReport) {
  auto d = DecideVoid(std::nullopt, std::nullopt, true, "out");
  EXPECT_EQ(d.reason, VoidReason::kInjuryConfirmed);
  EXPECT_TRUE(d.pre_game_injury_flag && d.injury_confirmed_postgame);
  d = DecideVoid(std::nullopt, std::nullopt, true, "probable");
  EXPECT_EQ(d.reason, VoidReason::kLateScratch);
  EXPECT_EQ(d.pre_game_injury_status, "PROBABLE");
  d = DecideVoid(std::nullopt, std::nullopt, true, "available");
  EXPECT_EQ(d.reason, VoidReason::kUnknown);
  EXPECT_FALSE(d.pre_game_injury_flag || d.injury_confirmed_postgame);
  EXPECT_EQ(d.pre_game_injury_status, "AVAILABLE");
  d = DecideVoid(std::nullopt, std::nullopt, true, std::nullopt);  // (fix) NULL status: no crash
  EXPECT_EQ(d.reason, VoidReason::kUnknown);
  EXPECT_FALSE(d.pre_game_injury_status.has_value());
  d = DecideVoid(std::nullopt, std::nullopt, false, std::nullopt);
  EXPECT_EQ(d.reason, VoidReason::kUnknown);
  EXPECT_FALSE(d.pre_game_injury_flag);
}

struct CorrectnessVector {
  std::optional<std::string> rec;
  std::optional<double> line;
  int64_t points;
  std::optional<bool> expected;
  bool push;
  bool invalid;
};

TEST(CorrectnessTest, SpecVectors) {
  const std::vector<CorrectnessVector> vectors = {
      {"OVER", 20.5, 25, true, false, false},
      {"OVER", 20.5, 18, false, false, false},
      {"UNDER", 20.5, 18, true, false, false},
      {"UNDER", 20.5, 25, false, false, false},
      {"OVER", 20.0, 20, std::nullopt, true, false},
      {"PASS", 20.5, 25, std::nullopt, false, false},
      {"HOLD", 20.5, 25, std::nullopt, false, false},
      {std::nullopt, 20.5, 25, std::nullopt, false, false},
      {"OVER", std::nullopt, 25, std::nullopt, false, false},
      {"OVER", 20.5, 21, true, false, false},
      {"UNDER", 20.5, 20, true, false, false},
      {"over", 20.5, 25, true, false, false},
      {" Under ", 20.5, 18, true, false, false},
      {"OVRE", 20.5, 25, std::nullopt, false, true},
      {"   ", 20.5, 25, std::nullopt, false, true},   // blank after trimming is invalid (§7.8)
      {"PASS", 20.0, 20, std::nullopt, true, false},  // §7.7: a push whatever the call
  };
  for (const auto& v : vectors) {
    Recommendation rec = NormalizeRecommendation(v.rec);
    bool real =
        IsRealLine(v.line, std::nullopt, std::string("ACTUAL_PROP"), DefaultRealLineSources());
    Correctness c = DecideCorrectness(false, rec, real, v.line, v.points);
    std::string label = v.rec.value_or("NULL");
    EXPECT_EQ(c.correct, v.expected) << label << " " << v.points;
    EXPECT_EQ(c.is_push, v.push) << label;
    EXPECT_EQ(c.invalid_recommendation, v.invalid) << label;
  }
}

TEST(CorrectnessTest, VoidedRowsAreNeverDecidedNorCountedInvalid) {
  Correctness c = DecideCorrectness(true, NormalizeRecommendation("OVRE"), true, 20.5, 0);
  EXPECT_FALSE(c.correct.has_value());
  EXPECT_FALSE(c.invalid_recommendation);
  EXPECT_FALSE(c.is_push);
}

TEST(CorrectnessTest, InvalidIsCountedEvenWithoutARealLine) {
  Correctness c = DecideCorrectness(false, NormalizeRecommendation("BUY"), false, std::nullopt, 9);
  EXPECT_TRUE(c.invalid_recommendation);
}

TEST(RealLineTest, JudgedBySourceNotByValue) {
  auto sources = DefaultRealLineSources();
  // (fix) 20.0 is a real line when its source is real.
  EXPECT_TRUE(IsRealLine(20.0, true, std::string("ODDS_API"), sources));
  EXPECT_TRUE(IsRealLine(20.0, std::nullopt, std::nullopt, sources));
  EXPECT_FALSE(IsRealLine(20.0, false, std::string("ODDS_API"), sources));
  EXPECT_FALSE(IsRealLine(20.5, true, std::string("ESTIMATED_AVG"), sources));
  EXPECT_FALSE(IsRealLine(20.5, true, std::string("odds_api"), sources));  // case-sensitive
  EXPECT_FALSE(IsRealLine(std::nullopt, true, std::string("ODDS_API"), sources));
}

TEST(ConfidenceTest, NormalisationAndDeciles) {
  EXPECT_FALSE(NormalizeConfidence(std::nullopt).normalized.has_value());
  EXPECT_FALSE(NormalizeConfidence(std::nullopt).invalid);
  EXPECT_EQ(NormalizeConfidence(0.55).normalized, 0.55);
  EXPECT_EQ(NormalizeConfidence(1.0).normalized, 1.0);
  EXPECT_EQ(NormalizeConfidence(95.0).normalized, 0.95);
  EXPECT_EQ(NormalizeConfidence(100.0).normalized, 1.0);
  EXPECT_TRUE(NormalizeConfidence(-0.1).invalid);
  EXPECT_TRUE(NormalizeConfidence(100.5).invalid);
  EXPECT_FALSE(NormalizeConfidence(100.5).normalized.has_value());

  const std::pair<double, int> deciles[] = {{0.0, 1},  {0.09, 1}, {0.10, 2}, {0.55, 6}, {0.69, 7},
                                            {0.70, 8}, {0.85, 9}, {0.9, 10}, {1.0, 10}, {0.3, 4}};
  for (auto [c, d] : deciles) EXPECT_EQ(ConfidenceDecile(c), d) << c;
}

}  // namespace
}  // namespace propgrade::grading

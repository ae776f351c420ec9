// The pure grading rules of spec/grading.md §3: decimal rounding, did-not-play voiding,
// recommendation correctness, real lines, confidence normalisation and deciles.
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/decimal.h"

namespace propgrade::grading {

using propgrade::RoundHalfAway;
using propgrade::RoundShortestDecimal;
std::optional<double> RoundOpt(std::optional<double> v, int places);

// The exact ratio a ÷ b rounded to `places`; nullopt when b == 0.
std::optional<double> RoundedRatio(int64_t a, int64_t b, int places);
// The mean of `count` stored values given as an exact integer sum of units of 10^-scale
// (e.g. hundredths), divided once and rounded to `places`; nullopt when count == 0.
std::optional<double> RoundedMean(int64_t scaled_sum, int64_t count, int scale, int places);
// The same mean unrounded.
std::optional<double> ExactMean(int64_t scaled_sum, int64_t count, int scale);
// A stored value with at most `scale` decimals as an integer number of 10^-scale units.
int64_t ToScaledInt(double stored, int scale);

// §3.1: did the player not play?
bool IsDnp(std::optional<bool> is_dnp, std::optional<int64_t> points,
           std::optional<double> minutes_played);

enum class VoidReason { kInjuryConfirmed, kLateScratch, kUnknown };
std::string_view VoidReasonName(VoidReason r);  // "dnp_injury_confirmed", ...

struct VoidDecision {
  VoidReason reason = VoidReason::kUnknown;
  bool pre_game_injury_flag = false;
  bool injury_confirmed_postgame = false;
  std::optional<std::string> pre_game_injury_status;  // upper-cased
};

// §3.1 and §7.4–7.5 for a DNP row. `report_found` says whether an injury_report row was looked
// up (its status may still be NULL); it is consulted only when nothing was captured.
VoidDecision DecideVoid(const std::optional<std::string>& captured_status,
                        std::optional<bool> captured_flag, bool report_found,
                        const std::optional<std::string>& report_status);

// §3.2: a recommendation after trimming and upper-casing.
enum class RecommendationKind {
  kNone,  // NULL
  kOver,
  kUnder,
  kPassLike,  // PASS, HOLD, NO_LINE
  kInvalid,   // anything else, blank included
};
struct Recommendation {
  std::optional<std::string> normalized;  // trimmed, upper-cased; nullopt for NULL
  RecommendationKind kind = RecommendationKind::kNone;
};
Recommendation NormalizeRecommendation(const std::optional<std::string>& raw);

// The configured real line sources; Default: ACTUAL_PROP, ODDS_API, BETTINGPROS.
std::vector<std::string> DefaultRealLineSources();

// §3.2 rule 4: a line is real when present, has_prop_line is not false and line_source is
// NULL or one of `real_sources` (case-sensitive).
bool IsRealLine(std::optional<double> line, std::optional<bool> has_prop_line,
                const std::optional<std::string>& line_source,
                const std::vector<std::string>& real_sources);

struct Correctness {
  std::optional<bool> correct;          // prediction_correct
  bool is_push = false;                 // §7.7
  bool invalid_recommendation = false;  // counted in invalid_recommendations
};

// §3.2 for one row; `points` is y (non-NULL unless voided).
Correctness DecideCorrectness(bool voided, const Recommendation& rec, bool real_line,
                              std::optional<double> line, std::optional<int64_t> points);

// §3.4.
struct Confidence {
  std::optional<double> normalized;  // unrounded, in [0, 1]
  bool invalid = false;              // negative, above 100: counted in invalid_confidence
};
Confidence NormalizeConfidence(std::optional<double> raw);
// min(10, floor(c × 10) + 1) in IEEE double on the unrounded normalised value.
int ConfidenceDecile(double normalized);

}  // namespace propgrade::grading

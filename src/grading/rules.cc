#include "grading/rules.h"

#include <charconv>
#include <cmath>
#include <cstring>

#include "common/strings.h"

namespace propgrade::grading {

std::optional<double> RoundOpt(std::optional<double> v, int places) {
  if (!v) return std::nullopt;
  return RoundHalfAway(*v, places);
}

std::optional<double> RoundedRatio(int64_t a, int64_t b, int places) {
  if (b == 0) return std::nullopt;
  return RoundHalfAway(static_cast<double>(a) / static_cast<double>(b), places);
}

std::optional<double> ExactMean(int64_t scaled_sum, int64_t count, int scale) {
  if (count == 0) return std::nullopt;
  double unit = 1;
  for (int i = 0; i < scale; ++i) unit *= 10;
  return static_cast<double>(scaled_sum) / (unit * static_cast<double>(count));
}

std::optional<double> RoundedMean(int64_t scaled_sum, int64_t count, int scale, int places) {
  auto mean = ExactMean(scaled_sum, count, scale);
  if (!mean) return std::nullopt;
  return RoundHalfAway(*mean, places);
}

int64_t ToScaledInt(double stored, int scale) {
  double unit = 1;
  for (int i = 0; i < scale; ++i) unit *= 10;
  return std::llround(stored * unit);
}

bool IsDnp(std::optional<bool> is_dnp, std::optional<int64_t> points,
           std::optional<double> minutes_played) {
  if (is_dnp.value_or(false)) return true;
  if (!points) return true;
  return *points == 0 && (!minutes_played || *minutes_played == 0);
}

std::string_view VoidReasonName(VoidReason r) {
  switch (r) {
    case VoidReason::kInjuryConfirmed:
      return "dnp_injury_confirmed";
    case VoidReason::kLateScratch:
      return "dnp_late_scratch";
    case VoidReason::kUnknown:
      return "dnp_unknown";
  }
  return "dnp_unknown";
}

namespace {

bool IsOutOrDoubtful(const std::optional<std::string>& s) {
  return s && (*s == "OUT" || *s == "DOUBTFUL");
}
bool IsQuestionableOrProbable(const std::optional<std::string>& s) {
  return s && (*s == "QUESTIONABLE" || *s == "PROBABLE");
}
std::optional<std::string> Upper(const std::optional<std::string>& s) {
  if (!s) return std::nullopt;
  return ToUpper(*s);
}

}  // namespace

VoidDecision DecideVoid(const std::optional<std::string>& captured_status,
                        std::optional<bool> captured_flag, bool report_found,
                        const std::optional<std::string>& report_status) {
  VoidDecision d;
  bool captured = captured_status.has_value() || captured_flag.has_value();
  std::optional<std::string> status;
  if (captured) {
    status = Upper(captured_status);
  } else if (report_found) {
    status = Upper(report_status);
  }
  d.pre_game_injury_status = status;
  if (IsOutOrDoubtful(status)) {
    d.reason = VoidReason::kInjuryConfirmed;
    d.pre_game_injury_flag = d.injury_confirmed_postgame = true;
  } else if (IsQuestionableOrProbable(status)) {
    d.reason = VoidReason::kLateScratch;
    d.pre_game_injury_flag = d.injury_confirmed_postgame = true;
  } else {
    d.reason = VoidReason::kUnknown;
    d.pre_game_injury_flag = captured && captured_flag.value_or(false);
    d.injury_confirmed_postgame = false;
  }
  return d;
}

Recommendation NormalizeRecommendation(const std::optional<std::string>& raw) {
  Recommendation r;
  if (!raw) return r;
  r.normalized = ToUpper(Trim(*raw));
  const std::string& n = *r.normalized;
  if (n == "OVER") {
    r.kind = RecommendationKind::kOver;
  } else if (n == "UNDER") {
    r.kind = RecommendationKind::kUnder;
  } else if (n == "PASS" || n == "HOLD" || n == "NO_LINE") {
    r.kind = RecommendationKind::kPassLike;
  } else {
    r.kind = RecommendationKind::kInvalid;
  }
  return r;
}

std::vector<std::string> DefaultRealLineSources() {
  return {"ACTUAL_PROP", "ODDS_API", "BETTINGPROS"};
}

bool IsRealLine(std::optional<double> line, std::optional<bool> has_prop_line,
                const std::optional<std::string>& line_source,
                const std::vector<std::string>& real_sources) {
  if (!line || has_prop_line == false) return false;
  if (!line_source) return true;
  for (const std::string& s : real_sources) {
    if (s == *line_source) return true;
  }
  return false;
}

Correctness DecideCorrectness(bool voided, const Recommendation& rec, bool real_line,
                              std::optional<double> line, std::optional<int64_t> points) {
  Correctness c;
  if (voided) return c;
  c.is_push = real_line && points && static_cast<double>(*points) == *line;
  switch (rec.kind) {
    case RecommendationKind::kNone:
    case RecommendationKind::kPassLike:
      return c;
    case RecommendationKind::kInvalid:
      c.invalid_recommendation = true;
      return c;
    case RecommendationKind::kOver:
    case RecommendationKind::kUnder:
      break;
  }
  if (!real_line || !points || c.is_push) return c;
  bool went_over = static_cast<double>(*points) > *line;
  c.correct = went_over == (rec.kind == RecommendationKind::kOver);
  return c;
}

Confidence NormalizeConfidence(std::optional<double> raw) {
  Confidence c;
  if (!raw) return c;
  double v = *raw;
  if (v >= 0 && v <= 1) {
    c.normalized = v;
  } else if (v > 1 && v <= 100) {
    c.normalized = v / 100;
  } else {
    c.invalid = true;
  }
  return c;
}

int ConfidenceDecile(double normalized) {
  int d = static_cast<int>(std::floor(normalized * 10)) + 1;
  return d > 10 ? 10 : d;
}

}  // namespace propgrade::grading

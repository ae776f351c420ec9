#include "grading/grader.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <unordered_set>

#include "grading/rules.h"
#include "schema/schema.h"

namespace propgrade::grading {

GradeOptions::GradeOptions() : real_line_sources(DefaultRealLineSources()) {}

namespace {

std::optional<std::string> Text(const Row& r, int i) { return r[i].ToText(); }
std::optional<double> Real(const Row& r, int i) { return r[i].ToReal(); }
std::optional<int64_t> Int(const Row& r, int i) { return r[i].ToInt(); }
std::optional<bool> Bool(const Row& r, int i) { return r[i].ToBool(); }
const std::string& Str(const Row& r, int i) {
  static const std::string kEmpty;
  return r[i].is_text() ? r[i].as_text() : kEmpty;
}

// The order grading has always emitted its rows in: player, game, system, then the line
// rounded to 2 places (missing lines first). Computed once per kept row, not per comparison.
struct EmitOrder {
  std::string_view player, game, system;
  bool has_line;
  double line;  // rounded; 0 when missing
  const Row* row;

  explicit EmitOrder(const Row* r)
      : player(Str(*r, pred::player_lookup)),
        game(Str(*r, pred::game_id)),
        system(Str(*r, pred::system_id)),
        row(r) {
    auto l = Real(*r, pred::line_value);
    has_line = l.has_value();
    line = l ? RoundHalfAway(*l, 2) : 0;
  }
  bool operator<(const EmitOrder& o) const {
    return std::tie(player, game, system, has_line, line) <
           std::tie(o.player, o.game, o.system, o.has_line, o.line);
  }
};

struct ActualKey {
  std::string_view game, player;
  bool operator==(const ActualKey& o) const { return game == o.game && player == o.player; }
};
struct ActualKeyHash {
  size_t operator()(const ActualKey& k) const {
    return std::hash<std::string_view>()(k.game) * 31 + std::hash<std::string_view>()(k.player);
  }
};

void Sample(std::vector<std::string>* samples, const std::string& id) {
  if (samples->size() < 5) samples->push_back(id);
}

}  // namespace

Selection SelectPredictions(CivilDay date, const std::vector<Row>& predictions) {
  Selection sel;
  const std::string day = date.ToString();
  const TableDef& table = tables::Predictions();
  const BusinessKey business_key(table);
  std::unordered_map<std::string, const Row*> kept;
  kept.reserve(predictions.size());
  for (const Row& p : predictions) {
    if (Str(p, pred::game_date) != day) continue;
    if (Bool(p, pred::is_active) == false || !p[pred::invalidation_reason].is_null()) continue;
    ++sel.predictions_found;
    auto [it, inserted] = kept.emplace(business_key.Of(p), &p);
    if (!inserted) {
      ++sel.source_duplicates;
      const Row* loser = Newer(table, p, *it->second) ? it->second : &p;
      Sample(&sel.duplicate_samples, Str(*loser, pred::prediction_id));
      if (loser == it->second) it->second = &p;
    }
  }
  // In key order, as the grading has always emitted them.
  std::vector<EmitOrder> order;
  order.reserve(kept.size());
  for (const auto& [key, row] : kept) order.emplace_back(row);
  std::sort(order.begin(), order.end());
  sel.kept.reserve(order.size());
  for (const EmitOrder& o : order) sel.kept.push_back(o.row);
  return sel;
}

GradeResult GradeDate(CivilDay date, const std::vector<Row>& predictions,
                      const std::vector<Row>& actuals, const std::vector<Row>& injuries,
                      const GradeOptions& options) {
  GradeResult result;
  GradeStats& st = result.stats;
  const std::string day = date.ToString();

  // §2 step 1 and step 2: selection, then source de-duplication.
  Selection selection = SelectPredictions(date, predictions);
  st.predictions_found = selection.predictions_found;
  st.source_duplicates = selection.source_duplicates;
  st.source_duplicate_samples = selection.duplicate_samples;

  std::unordered_map<ActualKey, const Row*, ActualKeyHash> actual_by_key;
  std::unordered_set<std::string_view> games_with_actuals;
  for (const Row& a : actuals) {
    if (Str(a, act::game_date) != day) continue;
    ++st.actuals_found;
    actual_by_key[{Str(a, act::game_id), Str(a, act::player_lookup)}] = &a;
    games_with_actuals.insert(Str(a, act::game_id));
  }

  // §7.4: the latest report of (D, player) reported before 00:00 UTC of D + 1.
  const std::string cutoff = FormatTimestampMicros(StartOfDayMicros(date.AddDays(1)));
  std::unordered_map<std::string_view, const Row*> report_by_player;
  for (const Row& r : injuries) {
    if (Str(r, inj::game_date) != day) continue;
    const std::string& at = Str(r, inj::reported_at);
    if (at >= cutoff) continue;
    auto [it, inserted] = report_by_player.emplace(Str(r, inj::player_lookup), &r);
    if (!inserted && at > Str(*it->second, inj::reported_at)) it->second = &r;
  }

  if (selection.kept.empty()) {
    result.outcome = GradeOutcome::kNoPredictions;
    return result;
  }

  int64_t err_count = 0, abs_sum = 0, signed_sum = 0, correct = 0, incorrect = 0;
  result.rows.reserve(selection.kept.size());
  const Value graded_at = Value::SharedText(options.graded_at);
  const Value run_id = Value::SharedText(options.run_id);
  for (const Row* pp_row : selection.kept) {
    const Row& p = *pp_row;
    auto ait = actual_by_key.find({Str(p, pred::game_id), Str(p, pred::player_lookup)});
    if (ait == actual_by_key.end()) {
      ++st.missing_actuals;
      continue;
    }
    const Row& a = *ait->second;
    auto pp = Real(p, pred::predicted_points);
    auto line = Real(p, pred::line_value);
    auto y = Int(a, act::points);
    auto minutes = Real(a, act::minutes_played);
    bool voided = IsDnp(Bool(a, act::is_dnp), y, minutes);
    Recommendation rec = NormalizeRecommendation(Text(p, pred::recommendation));
    bool real_line = IsRealLine(line, Bool(p, pred::has_prop_line), Text(p, pred::line_source),
                                options.real_line_sources);
    Correctness c = DecideCorrectness(voided, rec, real_line, line, y);
    Confidence conf = NormalizeConfidence(Real(p, pred::confidence_score));
    const std::string& id = Str(p, pred::prediction_id);
    if (c.invalid_recommendation) {
      ++st.invalid_recommendations;
      Sample(&st.invalid_recommendation_samples, id);
    }
    if (conf.invalid) {
      ++st.invalid_confidence;
      Sample(&st.invalid_confidence_samples, id);
    }

    Row out(acc::kNumColumns);
    out[acc::prediction_id] = p[pred::prediction_id];
    out[acc::player_lookup] = p[pred::player_lookup];
    out[acc::game_id] = p[pred::game_id];
    out[acc::game_date] = p[pred::game_date];
    out[acc::system_id] = p[pred::system_id];
    out[acc::team_abbr] = a[act::team_abbr];
    out[acc::opponent_team_abbr] = a[act::opponent_team_abbr];
    out[acc::predicted_points] = Value::OptReal(RoundOpt(pp, 2));
    if (conf.normalized) {
      out[acc::confidence_score] = Value::Real(RoundHalfAway(*conf.normalized, 4));
      out[acc::confidence_decile] = Value::Int(ConfidenceDecile(*conf.normalized));
    }
    out[acc::recommendation] = Value::OptText(rec.normalized);
    out[acc::line_value] = Value::OptReal(RoundOpt(line, 2));
    out[acc::line_source] = p[pred::line_source];
    out[acc::has_prop_line] = Value::Bool(Bool(p, pred::has_prop_line).value_or(true));
    out[acc::estimated_line_value] =
        Value::OptReal(RoundOpt(Real(p, pred::estimated_line_value), 1));
    out[acc::pace_adjustment] = Value::OptReal(RoundOpt(Real(p, pred::pace_adjustment), 4));
    out[acc::similarity_sample_size] = p[pred::similar_games_count];
    out[acc::model_version] = p[pred::model_version];
    out[acc::is_actionable] = Value::Bool(Bool(p, pred::is_actionable).value_or(true));
    out[acc::filter_reason] = p[pred::filter_reason];
    out[acc::actual_points] = Value::OptInt(y);
    out[acc::minutes_played] = Value::OptReal(minutes);
    if (pp && line) out[acc::predicted_margin] = Value::Real(RoundHalfAway(*pp - *line, 2));
    if (!voided) {
      if (pp) {
        double diff = *pp - static_cast<double>(*y);
        double abs_err = RoundHalfAway(std::fabs(diff), 2);
        double signed_err = RoundHalfAway(diff, 2);
        out[acc::absolute_error] = Value::Real(abs_err);
        out[acc::signed_error] = Value::Real(signed_err);
        out[acc::within_3_points] = Value::Bool(std::fabs(diff) <= 3.0);
        out[acc::within_5_points] = Value::Bool(std::fabs(diff) <= 5.0);
        ++err_count;
        abs_sum += ToScaledInt(abs_err, 2);
        signed_sum += ToScaledInt(signed_err, 2);
      }
      if (line)
        out[acc::actual_margin] = Value::Real(RoundHalfAway(static_cast<double>(*y) - *line, 2));
      out[acc::prediction_correct] = Value::OptBool(c.correct);
      if (c.correct) ++(*c.correct ? correct : incorrect);
      out[acc::pre_game_injury_flag] = Value::Bool(false);
      out[acc::injury_confirmed_postgame] = Value::Bool(false);
    } else {
      auto rit = report_by_player.find(Str(p, pred::player_lookup));
      bool found = rit != report_by_player.end();
      VoidDecision v = DecideVoid(Text(p, pred::injury_status_at_prediction),
                                  Bool(p, pred::injury_flag_at_prediction), found,
                                  found ? Text(*rit->second, inj::injury_status) : std::nullopt);
      out[acc::void_reason] = Value::Text(std::string(VoidReasonName(v.reason)));
      out[acc::pre_game_injury_flag] = Value::Bool(v.pre_game_injury_flag);
      out[acc::pre_game_injury_status] = Value::OptText(v.pre_game_injury_status);
      out[acc::injury_confirmed_postgame] = Value::Bool(v.injury_confirmed_postgame);
      ++st.voided;
      ++(v.reason == VoidReason::kInjuryConfirmed ? st.voided_injury
         : v.reason == VoidReason::kLateScratch   ? st.voided_scratch
                                                  : st.voided_unknown);
    }
    out[acc::is_push] = Value::Bool(c.is_push);
    out[acc::is_voided] = Value::Bool(voided);
    out[acc::graded_at] = graded_at;
    out[acc::run_id] = run_id;
    if (c.is_push) ++st.pushes;
    result.rows.push_back(std::move(out));
  }

  st.graded = static_cast<int64_t>(result.rows.size());
  std::unordered_set<std::string_view> games, covered_games;
  for (const Row* p : selection.kept) {
    const std::string& game = Str(*p, pred::game_id);
    games.insert(game);
    if (games_with_actuals.count(game)) covered_games.insert(game);
  }
  const auto kept = static_cast<int64_t>(selection.kept.size());
  st.player_coverage = RoundedRatio(kept - st.missing_actuals, kept, 4);
  st.game_coverage = RoundedRatio(static_cast<int64_t>(covered_games.size()),
                                  static_cast<int64_t>(games.size()), 4);
  st.mae = RoundedMean(abs_sum, err_count, 2, 2);
  st.bias = RoundedMean(signed_sum, err_count, 2, 2);
  st.recommendation_accuracy = RoundedRatio(correct * 100, correct + incorrect, 1);
  if (result.rows.empty()) {
    result.outcome = GradeOutcome::kNoActuals;
  } else if (*st.player_coverage < options.min_player_coverage ||
             *st.game_coverage < options.min_game_coverage) {
    result.outcome = GradeOutcome::kInsufficientActuals;
  } else {
    result.outcome = GradeOutcome::kGraded;
  }
  return result;
}

}  // namespace propgrade::grading

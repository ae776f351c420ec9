#include "grading/impact.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <unordered_map>

#include "common/strings.h"
#include "grading/rules.h"
#include "schema/schema.h"

namespace propgrade::grading {

void SliceFigures::Add(const Row& r) {
  ++rows;
  if (r[acc::is_voided].is_bool() && r[acc::is_voided].as_bool()) return;
  if (r[acc::prediction_correct].is_bool()) {
    ++(r[acc::prediction_correct].as_bool() ? correct : incorrect);
  }
  if (auto e = r[acc::absolute_error].ToReal()) {
    ++with_error;
    abs_error_sum += *e;
    signed_error_sum += r[acc::signed_error].ToReal().value_or(0);
  }
}

std::optional<double> SliceFigures::win_rate() const {
  if (correct + incorrect == 0) return std::nullopt;
  return static_cast<double>(correct) / static_cast<double>(correct + incorrect);
}
std::optional<double> SliceFigures::mae() const {
  if (with_error == 0) return std::nullopt;
  return abs_error_sum / static_cast<double>(with_error);
}
std::optional<double> SliceFigures::bias() const {
  if (with_error == 0) return std::nullopt;
  return signed_error_sum / static_cast<double>(with_error);
}

namespace {

std::optional<double> Delta(std::optional<double> a, std::optional<double> b, double scale,
                            int places) {
  if (!a || !b) return std::nullopt;
  return RoundHalfAway((*a - *b) * scale, places);
}

std::string Signed(double v) { return (v > 0 ? "+" : "") + FormatDouble(v); }

}  // namespace

std::optional<double> ImpactLine::win_rate_delta_points() const {
  return Delta(with.win_rate(), without.win_rate(), 100, 1);
}
std::optional<double> ImpactLine::mae_delta() const {
  return Delta(with.mae(), without.mae(), 1, 2);
}
std::optional<double> ImpactLine::bias_delta() const {
  return Delta(with.bias(), without.bias(), 1, 2);
}

std::vector<ImpactLine> DuplicateImpact(const std::vector<Row>& rows, CivilDay from, CivilDay to) {
  const TableDef& t = tables::Accuracy();
  const BusinessKey key(t);
  const std::string first = from.ToString(), last = to.ToString();
  // The kept row of each key (the winner rule: the earliest graded, storage order on a tie).
  std::unordered_map<std::string, const Row*> kept;
  std::vector<const Row*> in_window;
  for (const Row& r : rows) {
    const std::string d = r[acc::game_date].ToText().value_or("");
    if (d < first || d > last) continue;
    in_window.push_back(&r);
    auto [it, inserted] = kept.try_emplace(key.Of(r), &r);
    if (!inserted && Newer(t, r, *it->second)) it->second = &r;
  }
  const std::vector<std::pair<std::string, std::string>> periods = {
      {"rolling_7d", std::max(first, to.AddDays(-6).ToString())},
      {"rolling_30d", std::max(first, to.AddDays(-29).ToString())},
      {"window", first}};
  std::map<std::pair<std::string, size_t>, ImpactLine> lines;  // (system, period index)
  for (const Row* r : in_window) {
    const std::string d = (*r)[acc::game_date].ToText().value_or("");
    const bool is_kept = kept[key.Of(*r)] == r;
    for (const std::string& system : {(*r)[acc::system_id].ToText().value_or(""), std::string()}) {
      for (size_t p = 0; p < periods.size(); ++p) {
        if (d < periods[p].second) continue;
        ImpactLine& line = lines[{system, p}];
        line.system_id = system.empty() ? "ALL" : system;
        line.period = periods[p].first;
        line.with.Add(*r);
        if (is_kept) line.without.Add(*r);
      }
    }
  }
  std::vector<ImpactLine> out;
  for (auto& [where, line] : lines) {
    if (!where.first.empty()) out.push_back(std::move(line));
  }
  for (auto& [where, line] : lines) {
    if (where.first.empty()) out.push_back(std::move(line));  // ALL last
  }
  return out;
}

std::string DistortionText(const ImpactLine& l) {
  std::string out = l.system_id + " " + l.period;
  std::vector<std::string> parts;
  if (auto d = l.win_rate_delta_points()) parts.push_back("win rate " + Signed(*d) + " points");
  if (auto d = l.mae_delta()) parts.push_back("MAE " + Signed(*d));
  if (auto d = l.bias_delta()) parts.push_back("bias " + Signed(*d));
  out += " " + (parts.empty() ? std::string("nothing decided") : Join(parts, ", "));
  return out + " from " + std::to_string(l.surplus_rows()) + " surplus rows";
}

}  // namespace propgrade::grading

#include "grading/facts.h"

#include <atomic>

#include "common/civil_date.h"
#include "grading/rules.h"

namespace propgrade::grading {

uint32_t StringPool::Intern(std::string_view s) {
  auto it = ids_.find(s);
  if (it != ids_.end()) return it->second;
  uint32_t id = static_cast<uint32_t>(strings_.size());
  strings_.emplace_back(s);
  ids_.emplace(strings_.back(), id);
  return id;
}

int64_t StringPool::Find(std::string_view s) const {
  auto it = ids_.find(s);
  return it == ids_.end() ? -1 : it->second;
}

const std::vector<std::string>& FactColumns() {
  static const auto* cols = new std::vector<std::string>{
      "game_date",    "system_id",        "player_lookup",  "game_id",
      "team_abbr",    "confidence_score", "recommendation", "prediction_correct",
      "is_voided",    "is_push",          "is_actionable",  "absolute_error",
      "signed_error", "within_3_points",  "within_5_points"};
  return *cols;
}

Situation SituationOf(std::string_view game_id, std::optional<std::string_view> team_abbr) {
  size_t first = game_id.find('_');
  size_t second = first == std::string_view::npos ? first : game_id.find('_', first + 1);
  if (second == std::string_view::npos || game_id.find('_', second + 1) != std::string_view::npos) {
    return Situation::kUnparseable;
  }
  std::string_view parts[3] = {game_id.substr(0, first),
                               game_id.substr(first + 1, second - first - 1),
                               game_id.substr(second + 1)};
  if (!team_abbr) return Situation::kNeither;
  if (*team_abbr == parts[2]) return Situation::kHome;
  if (*team_abbr == parts[1]) return Situation::kAway;
  return Situation::kNeither;
}

uint64_t FactTable::NextGeneration() {
  static std::atomic<uint64_t> next{1};
  return next.fetch_add(1);
}

namespace {
// The text of a text value, else empty (as ToText().value_or("") without the copy).
std::string_view TextOf(const Value& v) {
  return v.is_text() ? std::string_view(v.as_text()) : std::string_view();
}
}  // namespace

Status FactTable::Add(const Row& r) {
  if (r.size() != FactColumns().size()) return InternalError("fact row has the wrong width");
  AccuracyFact f{};
  if (!r[0].is_text()) return DataLossError("prediction_accuracy row without game_date");
  auto day = CivilDay::Parse(r[0].as_text());
  if (!day) return DataLossError("prediction_accuracy game_date '" + r[0].as_text() + "'");
  f.day = day->days_since_epoch();
  f.system = systems.Intern(TextOf(r[1]));
  f.player = players.Intern(TextOf(r[2]));
  std::string_view game_id = TextOf(r[3]);
  f.game = games.Intern(game_id);
  f.situation = SituationOf(
      game_id, r[4].is_text() ? std::optional<std::string_view>(r[4].as_text()) : std::nullopt);
  auto conf = r[5].ToReal();
  f.confidence_e4 = conf ? static_cast<int32_t>(ToScaledInt(*conf, 4)) : -1;
  std::optional<std::string_view> rec;
  if (r[6].is_text()) rec = r[6].as_text();
  if (!rec) {
    f.rec = RecClass::kNone;
  } else if (*rec == "OVER") {
    f.rec = RecClass::kOver;
  } else if (*rec == "UNDER") {
    f.rec = RecClass::kUnder;
  } else if (*rec == "PASS" || *rec == "HOLD" || *rec == "NO_LINE") {
    f.rec = RecClass::kPassLike;
  } else {
    f.rec = RecClass::kOther;
  }
  auto correct = r[7].ToBool();
  f.correct = correct ? (*correct ? 1 : 0) : -1;
  f.voided = r[8].ToBool().value_or(false);
  f.push = r[9].ToBool().value_or(false);
  f.actionable = r[10].ToBool().value_or(true);
  auto abs_err = r[11].ToReal();
  auto signed_err = r[12].ToReal();
  f.abs_error_e2 = abs_err ? static_cast<int32_t>(ToScaledInt(*abs_err, 2)) : kNullError;
  f.signed_error_e2 = signed_err ? static_cast<int32_t>(ToScaledInt(*signed_err, 2)) : kNullError;
  f.within3 = r[13].ToBool().value_or(false);
  f.within5 = r[14].ToBool().value_or(false);
  facts.push_back(f);
  return OkStatus();
}

}  // namespace propgrade::grading

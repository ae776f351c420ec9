#include "grading/facts.h"

#include <atomic>

#include "common/civil_date.h"
#include "common/strings.h"
#include "grading/rules.h"

namespace propgrade::grading {

uint32_t StringPool::Intern(std::string_view s) {
  auto it = ids_.find(std::string(s));
  if (it != ids_.end()) return it->second;
  uint32_t id = static_cast<uint32_t>(strings_.size());
  strings_.emplace_back(s);
  ids_.emplace(strings_.back(), id);
  return id;
}

int64_t StringPool::Find(std::string_view s) const {
  auto it = ids_.find(std::string(s));
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

Situation SituationOf(std::string_view game_id, const std::optional<std::string>& team_abbr) {
  auto parts = Split(game_id, '_');
  if (parts.size() != 3) return Situation::kUnparseable;
  if (!team_abbr) return Situation::kNeither;
  if (*team_abbr == parts[2]) return Situation::kHome;
  if (*team_abbr == parts[1]) return Situation::kAway;
  return Situation::kNeither;
}

uint64_t FactTable::NextGeneration() {
  static std::atomic<uint64_t> next{1};
  return next.fetch_add(1);
}

Status FactTable::Add(const Row& r) {
  if (r.size() != FactColumns().size()) return InternalError("fact row has the wrong width");
  AccuracyFact f{};
  if (!r[0].is_text()) return DataLossError("prediction_accuracy row without game_date");
  auto day = CivilDay::Parse(r[0].as_text());
  if (!day) return DataLossError("prediction_accuracy game_date '" + r[0].as_text() + "'");
  f.day = day->days_since_epoch();
  f.system = systems.Intern(r[1].ToText().value_or(""));
  f.player = players.Intern(r[2].ToText().value_or(""));
  std::string game_id = r[3].ToText().value_or("");
  f.game = games.Intern(game_id);
  f.situation = SituationOf(game_id, r[4].ToText());
  auto conf = r[5].ToReal();
  f.confidence_e4 = conf ? static_cast<int32_t>(ToScaledInt(*conf, 4)) : -1;
  auto rec = r[6].ToText();
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

// AccuracyFact: the compact projection of one stored prediction_accuracy row that the
// aggregates (daily performance, the summary, reports) read. Strings are interned in a
// StringPool so a season fits in a few MB. FactTable is not thread-safe; share it read-only.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/status.h"
#include "common/value.h"

namespace propgrade::grading {

// Interns strings to dense ids (0, 1, 2, ...).
class StringPool {
 public:
  uint32_t Intern(std::string_view s);
  const std::string& Get(uint32_t id) const { return strings_[id]; }
  size_t size() const { return strings_.size(); }
  // Returns -1 when `s` was never interned.
  int64_t Find(std::string_view s) const;

 private:
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
  };
  std::unordered_map<std::string, uint32_t, Hash, std::equal_to<>> ids_;
  std::vector<std::string> strings_;
};

enum class RecClass : uint8_t { kNone, kOver, kUnder, kPassLike, kOther };
enum class Situation : uint8_t { kNeither, kHome, kAway, kUnparseable };

struct AccuracyFact {
  int32_t day;      // game_date, days since the epoch
  uint32_t system;  // StringPool ids
  uint32_t player;
  uint32_t game;
  int32_t confidence_e4;  // stored confidence_score in ten-thousandths; -1 for NULL
  int32_t abs_error_e2;   // stored absolute_error in hundredths; kNullError for NULL
  int32_t signed_error_e2;
  RecClass rec;
  Situation situation;
  int8_t correct;  // 1, 0, or -1 for NULL
  bool voided;
  bool push;
  bool actionable;
  bool within3;  // false when NULL (counted only with an error)
  bool within5;
};
inline constexpr int32_t kNullError = INT32_MIN;

// The columns of prediction_accuracy a fact needs, in the order FactFromRow expects them.
const std::vector<std::string>& FactColumns();

struct FactTable {
  // Distinct for every constructed table (copies share it): string ids keep their meaning
  // within one generation.
  uint64_t generation = NextGeneration();
  StringPool systems;
  StringPool players;
  StringPool games;
  std::vector<AccuracyFact> facts;

  // Appends the fact of a row holding FactColumns() in order.
  Status Add(const Row& projected_row);

 private:
  static uint64_t NextGeneration();
};

// §5.3 situation of a row: home when team_abbr is the third `_` token of game_id, away when it
// is the second; unparseable when game_id does not split into exactly three tokens.
Situation SituationOf(std::string_view game_id, std::optional<std::string_view> team_abbr);

}  // namespace propgrade::grading

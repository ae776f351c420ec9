// Civil dates (YYYY-MM-DD, proleptic Gregorian) and UTC timestamps (microseconds since the
// Unix epoch) with strict parsing and the canonical text forms the store and exports use.
// Plain values and pure functions; thread-safe.
#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace propgrade {

class CivilDay {
 public:
  constexpr CivilDay() = default;
  static constexpr CivilDay FromDaysSinceEpoch(int32_t days) { return CivilDay(days); }
  // Returns nullopt unless y-m-d is a real date with 1 <= y <= 9999.
  static std::optional<CivilDay> FromYmd(int year, int month, int day);
  // Strict `YYYY-MM-DD` (exactly 10 characters, a real date): nullopt otherwise.
  static std::optional<CivilDay> Parse(std::string_view text);

  constexpr int32_t days_since_epoch() const { return days_; }
  int year() const;
  int month() const;  // 1..12
  int day() const;    // 1..31

  std::string ToString() const;  // YYYY-MM-DD
  CivilDay AddDays(int32_t n) const { return CivilDay(days_ + n); }
  CivilDay FirstOfMonth() const;

  friend constexpr auto operator<=>(CivilDay a, CivilDay b) = default;

 private:
  explicit constexpr CivilDay(int32_t days) : days_(days) {}
  int32_t days_ = 0;
};

// Parses an ISO-8601 timestamp: `YYYY-MM-DD[T ]HH:MM:SS[.fraction](Z|+HH:MM|-HH:MM)`; a value
// without a zone is taken as UTC. Fractions beyond microseconds are truncated.
std::optional<int64_t> ParseTimestampMicros(std::string_view text);
// `YYYY-MM-DDTHH:MM:SS.ffffffZ` (always six fraction digits).
std::string FormatTimestampMicros(int64_t micros);
// The UTC civil day that contains the instant.
CivilDay DayOfTimestamp(int64_t micros);
// Microseconds at 00:00:00 UTC of `day`.
int64_t StartOfDayMicros(CivilDay day);

// The civil date at instant `now_micros` in the IANA time zone `tz` (e.g. America/New_York).
StatusOr<CivilDay> TodayInZone(std::string_view tz, int64_t now_micros);
// Checks that `tz` names a zone of the system's time-zone database.
Status ValidateTimeZone(std::string_view tz);

}  // namespace propgrade

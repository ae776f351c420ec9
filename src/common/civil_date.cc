#include "common/civil_date.h"

#include <date/date.h>
#include <date/tz.h>

#include <charconv>
#include <cstdio>
#include <exception>

namespace propgrade {
namespace {

date::year_month_day Ymd(int32_t days) {
  return date::year_month_day{date::sys_days{date::days{days}}};
}

// Parses exactly `n` ASCII digits at text[pos..pos+n).
bool Digits(std::string_view text, size_t pos, size_t n, int* out) {
  if (pos + n > text.size()) return false;
  int v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    char c = text[i];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  *out = v;
  return true;
}

}  // namespace

std::optional<CivilDay> CivilDay::FromYmd(int year, int month, int day) {
  if (year < 1 || year > 9999 || month < 1 || month > 12 || day < 1 || day > 31) {
    return std::nullopt;
  }
  date::year_month_day ymd{date::year{year}, date::month{static_cast<unsigned>(month)},
                           date::day{static_cast<unsigned>(day)}};
  if (!ymd.ok()) return std::nullopt;
  return CivilDay(date::sys_days{ymd}.time_since_epoch().count());
}

std::optional<CivilDay> CivilDay::Parse(std::string_view text) {
  int y, m, d;
  if (text.size() != 10 || text[4] != '-' || text[7] != '-' || !Digits(text, 0, 4, &y) ||
      !Digits(text, 5, 2, &m) || !Digits(text, 8, 2, &d)) {
    return std::nullopt;
  }
  return FromYmd(y, m, d);
}

int CivilDay::year() const { return static_cast<int>(Ymd(days_).year()); }
int CivilDay::month() const { return static_cast<int>(static_cast<unsigned>(Ymd(days_).month())); }
int CivilDay::day() const { return static_cast<int>(static_cast<unsigned>(Ymd(days_).day())); }

std::string CivilDay::ToString() const {
  auto ymd = Ymd(days_);
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
  return buf;
}

CivilDay CivilDay::FirstOfMonth() const { return AddDays(1 - day()); }

std::optional<int64_t> ParseTimestampMicros(std::string_view t) {
  int y, mo, d, h, mi, s;
  if (t.size() < 19 || t[4] != '-' || t[7] != '-' || (t[10] != 'T' && t[10] != ' ') ||
      t[13] != ':' || t[16] != ':' || !Digits(t, 0, 4, &y) || !Digits(t, 5, 2, &mo) ||
      !Digits(t, 8, 2, &d) || !Digits(t, 11, 2, &h) || !Digits(t, 14, 2, &mi) ||
      !Digits(t, 17, 2, &s)) {
    return std::nullopt;
  }
  auto day = CivilDay::FromYmd(y, mo, d);
  if (!day || h > 23 || mi > 59 || s > 59) return std::nullopt;
  size_t pos = 19;
  int64_t frac_micros = 0;
  if (pos < t.size() && t[pos] == '.') {
    ++pos;
    size_t start = pos;
    int64_t scale = 100000;
    while (pos < t.size() && t[pos] >= '0' && t[pos] <= '9') {
      if (scale > 0) frac_micros += (t[pos] - '0') * scale;
      scale /= 10;
      ++pos;
    }
    if (pos == start) return std::nullopt;
  }
  int64_t offset_seconds = 0;
  if (pos < t.size()) {
    if (t[pos] == 'Z' || t[pos] == 'z') {
      ++pos;
    } else if (t[pos] == '+' || t[pos] == '-') {
      int oh, om;
      if (pos + 6 != t.size() || t[pos + 3] != ':' || !Digits(t, pos + 1, 2, &oh) ||
          !Digits(t, pos + 4, 2, &om) || oh > 23 || om > 59) {
        return std::nullopt;
      }
      offset_seconds = (oh * 3600 + om * 60) * (t[pos] == '-' ? -1 : 1);
      pos += 6;
    }
  }
  if (pos != t.size()) return std::nullopt;
  int64_t seconds = static_cast<int64_t>(day->days_since_epoch()) * 86400 + h * 3600 + mi * 60 +
                    s - offset_seconds;
  return seconds * 1000000 + frac_micros;
}

std::string FormatTimestampMicros(int64_t micros) {
  int64_t secs = micros >= 0 ? micros / 1000000 : -((-micros + 999999) / 1000000);
  int64_t frac = micros - secs * 1000000;
  int64_t days = secs >= 0 ? secs / 86400 : -((-secs + 86399) / 86400);
  int64_t sod = secs - days * 86400;
  auto ymd = Ymd(static_cast<int32_t>(days));
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d.%06dZ",
                static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                static_cast<unsigned>(ymd.day()), static_cast<int>(sod / 3600),
                static_cast<int>(sod % 3600 / 60), static_cast<int>(sod % 60),
                static_cast<int>(frac));
  return buf;
}

CivilDay DayOfTimestamp(int64_t micros) {
  int64_t secs = micros >= 0 ? micros / 1000000 : -((-micros + 999999) / 1000000);
  int64_t days = secs >= 0 ? secs / 86400 : -((-secs + 86399) / 86400);
  return CivilDay::FromDaysSinceEpoch(static_cast<int32_t>(days));
}

int64_t StartOfDayMicros(CivilDay day) {
  return static_cast<int64_t>(day.days_since_epoch()) * 86400 * 1000000;
}

StatusOr<CivilDay> TodayInZone(std::string_view tz, int64_t now_micros) {
  try {
    const date::time_zone* zone = date::locate_zone(std::string(tz));
    date::sys_time<std::chrono::microseconds> tp{std::chrono::microseconds{now_micros}};
    auto local = zone->to_local(tp);
    auto local_day = date::floor<date::days>(local);
    return CivilDay::FromDaysSinceEpoch(
        static_cast<int32_t>(local_day.time_since_epoch().count()));
  } catch (const std::exception& e) {
    return InvalidArgumentError("unknown time zone '" + std::string(tz) + "'");
  }
}

Status ValidateTimeZone(std::string_view tz) {
  auto today = TodayInZone(tz, 0);
  return today.ok() ? OkStatus() : today.status();
}

}  // namespace propgrade

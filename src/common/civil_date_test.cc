#include "common/civil_date.h"

#include <gtest/gtest.h>

namespace propgrade {
namespace {

TEST(CivilDayTest, ParsesAndFormatsRealDates) {
  auto d = CivilDay::Parse("2026-01-16");
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->year(), 2026);
  EXPECT_EQ(d->month(), 1);
  EXPECT_EQ(d->day(), 16);
  EXPECT_EQ(d->ToString(), "2026-01-16");
  EXPECT_EQ(CivilDay::Parse("1970-01-01")->days_since_epoch(), 0);
  EXPECT_EQ(CivilDay::Parse("2024-02-29")->ToString(), "2024-02-29");
}

TEST(CivilDayTest, RejectsImpossibleOrMalformedDates) {
  for (const char* bad : {"2026-02-30", "2025-02-29", "2026-13-01", "2026-00-10", "2026-1-16",
                          "2026/01/16", "20260116", "2026-01-16 ", "", "abcd-ef-gh",
                          "2026-01-16'; DROP TABLE prediction_accuracy; --"}) {
    EXPECT_FALSE(CivilDay::Parse(bad).has_value()) << bad;
  }
}

TEST(CivilDayTest, Arithmetic) {
  auto d = *CivilDay::Parse("2025-01-05");
  EXPECT_EQ(d.AddDays(-6).ToString(), "2024-12-30");
  EXPECT_EQ(d.AddDays(-29).ToString(), "2024-12-07");
  EXPECT_EQ(d.FirstOfMonth().ToString(), "2025-01-01");
  EXPECT_LT(d, d.AddDays(1));
}

TEST(TimestampTest, ParsesIsoFormsAndFormatsCanonically) {
  auto t = ParseTimestampMicros("2026-01-17T20:26:39.123456Z");
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(FormatTimestampMicros(*t), "2026-01-17T20:26:39.123456Z");
  EXPECT_EQ(FormatTimestampMicros(*ParseTimestampMicros("2026-01-17T20:26:39Z")),
            "2026-01-17T20:26:39.000000Z");
  EXPECT_EQ(FormatTimestampMicros(*ParseTimestampMicros("2026-01-17 20:26:39.5")),
            "2026-01-17T20:26:39.500000Z");
  EXPECT_EQ(FormatTimestampMicros(*ParseTimestampMicros("2026-01-17T15:26:39-05:00")),
            "2026-01-17T20:26:39.000000Z");
  EXPECT_EQ(FormatTimestampMicros(*ParseTimestampMicros("2026-01-17T20:26:39.1234567Z")),
            "2026-01-17T20:26:39.123456Z");
  EXPECT_EQ(FormatTimestampMicros(0), "1970-01-01T00:00:00.000000Z");
}

TEST(TimestampTest, RejectsMalformed) {
  for (const char* bad : {"2026-01-17", "2026-01-17T25:00:00Z", "2026-02-30T00:00:00Z",
                          "2026-01-17T20:26:39.Z", "2026-01-17T20:26:39Zjunk", "yesterday"}) {
    EXPECT_FALSE(ParseTimestampMicros(bad).has_value()) << bad;
  }
}

TEST(TimestampTest, DayBoundaries) {
  auto d = *CivilDay::Parse("2025-02-01");
  EXPECT_EQ(DayOfTimestamp(StartOfDayMicros(d)), d);
  EXPECT_EQ(DayOfTimestamp(StartOfDayMicros(d) - 1), d.AddDays(-1));
}

TEST(TimeZoneTest, TodayInLeagueTimeZone) {
  // 2026-01-17T03:00Z is still the 16th in New York (UTC-5).
  int64_t t = *ParseTimestampMicros("2026-01-17T03:00:00Z");
  auto ny = TodayInZone("America/New_York", t);
  ASSERT_TRUE(ny.ok()) << ny.status().ToString();
  EXPECT_EQ(ny->ToString(), "2026-01-16");
  EXPECT_EQ(TodayInZone("UTC", t)->ToString(), "2026-01-17");
  EXPECT_FALSE(TodayInZone("Mars/Olympus", t).ok());
}

}  // namespace
}  // namespace propgrade

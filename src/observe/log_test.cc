#include "observe/log.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <sstream>

#include "testing/fake_clock.h"

namespace propgrade {
namespace {

TEST(LoggerTest, JsonLinesKeepTypes) {
  std::ostringstream out;
  testing::FakeClock clock;
  Logger log(&out, LogFormat::kJson, &clock);
  log.Info("grade.done", {{"date", Value::Text("2026-01-16")}, {"graded", Value::Int(1339)},
                          {"mae", Value::Real(5.7)}, {"bias", Value()}});
  auto j = nlohmann::json::parse(out.str());
  EXPECT_EQ(j["event"], "grade.done");
  EXPECT_EQ(j["severity"], "INFO");
  EXPECT_EQ(j["message"], "grade.done date=2026-01-16 graded=1339 mae=5.7 bias=null");
  EXPECT_EQ(j["graded"], 1339);
  EXPECT_EQ(j["mae"], 5.7);
  EXPECT_TRUE(j["bias"].is_null());
  EXPECT_EQ(j["time"], "2026-01-16T11:00:00.000000Z");
}

TEST(LoggerTest, EscapesTextAndTakesAnExplicitMessage) {
  std::ostringstream out;
  testing::FakeClock clock;
  Logger log(&out, LogFormat::kJson, &clock);
  log.Warn("odd", {{"message", Value::Text("a \"quoted\"\nline")}, {"bad", Value::Text("\xff")}});
  auto j = nlohmann::json::parse(out.str());
  EXPECT_EQ(j["message"], "a \"quoted\"\nline");
  EXPECT_FALSE(j.contains("ts"));
  EXPECT_EQ(j["bad"], "\xef\xbf\xbd");  // invalid UTF-8 replaced, the line stays valid JSON
}

TEST(LoggerTest, TextAndSeverityFilter) {
  std::ostringstream out;
  testing::FakeClock clock;
  Logger log(&out, LogFormat::kText, &clock, Severity::kWarning);
  log.Info("hidden");
  log.Warn("lock.wait", {{"key", Value::Text("grading/2026-01-16")}, {"note", Value::Text("a b")}});
  EXPECT_EQ(out.str(), "2026-01-16T11:00:00Z WARNING lock.wait key=grading/2026-01-16 note=\"a b\"\n");
}

}  // namespace
}  // namespace propgrade

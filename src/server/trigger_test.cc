#include "server/trigger.h"

#include <gtest/gtest.h>

#include "common/strings.h"

namespace propgrade::server {
namespace {

std::string Envelope(const std::string& inner, const std::string& extra = "") {
  return R"({"message": {"data": ")" + Base64Encode(inner) +
         R"(", "messageId": "m-17")" + extra + R"(}, "subscription": "projects/p/subscriptions/s"})";
}

TEST(TriggerTest, PlainJsonWithDefaultsAndUnknownFieldsIgnored) {
  auto t = ParseTrigger(R"({"target_date": "2026-01-16", "extra": [1, 2]})");
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->target_date, "2026-01-16");
  EXPECT_TRUE(t->run_aggregation);
  EXPECT_EQ(t->trigger_source, "http");
  EXPECT_FALSE(t->envelope);

  auto full = ParseTrigger(
      R"({"target_date": "yesterday", "run_aggregation": false, "correlation_id": "c-1",)"
      R"( "trigger_source": "scheduler"})");
  ASSERT_TRUE(full.ok());
  EXPECT_EQ(full->target_date, "yesterday");
  EXPECT_FALSE(full->run_aggregation);
  EXPECT_EQ(full->correlation_id, "c-1");
  EXPECT_EQ(full->trigger_source, "scheduler");
}

TEST(TriggerTest, PubSubEnvelopeDecodesTheMessage) {
  auto t = ParseTrigger(Envelope(R"({"target_date": "today", "run_aggregation": false})"));
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_TRUE(t->envelope);
  EXPECT_EQ(t->target_date, "today");
  EXPECT_FALSE(t->run_aggregation);
  EXPECT_EQ(t->trigger_source, "pubsub");
  EXPECT_EQ(t->correlation_id, "m-17");
  auto own = ParseTrigger(Envelope(R"({"target_date": "2026-01-16", "correlation_id": "c-9"})"));
  EXPECT_EQ(own->correlation_id, "c-9");
}

TEST(TriggerTest, EveryMalformedTriggerIsRejectedWithAMessage) {
  struct Case {
    std::string body;
    std::string message_part;
  };
  std::vector<Case> cases = {
      {"", "not valid JSON"},
      {"{", "not valid JSON"},
      {"[\"2026-01-16\"]", "JSON object"},
      {"\"2026-01-16\"", "JSON object"},
      {"{}", "target_date is required"},
      {R"({"target_date": null})", "target_date is required"},
      {R"({"target_date": 20260116})", "target_date must be a string"},
      {R"({"target_date": "2026-02-30"})", "YYYY-MM-DD"},
      {R"({"target_date": "16/01/2026"})", "YYYY-MM-DD"},
      {R"({"target_date": "2026-01-16'; DROP TABLE grading_runs; --"})", "YYYY-MM-DD"},
      {R"({"target_date": "Yesterday"})", "YYYY-MM-DD"},
      {R"({"target_date": "2026-01-16", "run_aggregation": "yes"})", "run_aggregation"},
      {R"({"target_date": "2026-01-16", "run_aggregation": 1})", "run_aggregation"},
      {R"({"target_date": "2026-01-16", "correlation_id": 5})", "correlation_id must be a string"},
      {R"({"target_date": "2026-01-16", "trigger_source": {}})", "trigger_source must be"},
      {R"({"target_date": "2026-01-16", "correlation_id": ")" + std::string(201, 'x') + "\"}",
       "longer than 200"},
      {R"({"target_date": "2026-01-16", "correlation_id": "a\nb"})", "control character"},
      {"{\"target_date\": \"2026-01-16\", \"correlation_id\": \"\xff\"}", "UTF-8"},
      {R"({"message": "e30="})", "message must be an object"},
      {R"({"message": {}})", "message.data is required"},
      {R"({"message": {"data": 5}})", "message.data must be a string"},
      {R"({"message": {"data": "not base64!"}})", "base64"},
      {R"({"message": {"data": ")" + Base64Encode("{oops") + "\"}}", "message.data is not valid JSON"},
      {R"({"message": {"data": ")" + Base64Encode("[]") + "\"}}", "JSON object"},
      {R"({"message": {"data": ")" + Base64Encode("{}") + "\"}}", "target_date is required"},
      {R"({"message": {"data": ")" + Base64Encode("\xc3") + "\"}}", "UTF-8"},
      {Envelope(R"({"target_date": "2026-01-16"})", R"(, "messageId": 7)"), "messageId"},
  };
  for (const Case& c : cases) {
    auto t = ParseTrigger(c.body);
    ASSERT_FALSE(t.ok()) << c.body;
    EXPECT_EQ(t.status().code(), StatusCode::kInvalidArgument) << c.body;
    EXPECT_NE(t.status().message().find(c.message_part), std::string::npos)
        << c.body << " -> " << t.status().message();
  }
}

TEST(TriggerTest, YesterdayAndTodayResolveInTheLeagueTimeZone) {
  // 2026-01-17T03:30:00Z is still the evening of 2026-01-16 in New York.
  int64_t now = *ParseTimestampMicros("2026-01-17T03:30:00Z");
  EXPECT_EQ(ResolveTargetDate("today", "America/New_York", now)->ToString(), "2026-01-16");
  EXPECT_EQ(ResolveTargetDate("yesterday", "America/New_York", now)->ToString(), "2026-01-15");
  EXPECT_EQ(ResolveTargetDate("today", "UTC", now)->ToString(), "2026-01-17");
  EXPECT_EQ(ResolveTargetDate("2025-12-31", "UTC", now)->ToString(), "2025-12-31");
  EXPECT_FALSE(ResolveTargetDate("2025-13-01", "UTC", now).ok());
}

}  // namespace
}  // namespace propgrade::server

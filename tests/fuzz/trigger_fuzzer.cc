// Fuzzes the body parser of `POST /v1/runs` (server/trigger.h). Each input is parsed as the
// body, and again as the message.data of a Pub/Sub envelope built around it. Invariants: an
// accepted body is valid UTF-8 and names "today", "yesterday" or a real YYYY-MM-DD date that
// ResolveTargetDate resolves (in America/New_York at a fixed instant) to the day it names; its
// texts are short and free of control characters; and a plain JSON object without "message"
// is accepted alone exactly when it is accepted inside an envelope, with the same request.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/civil_date.h"
#include "common/strings.h"
#include "fuzz_check.h"
#include "server/trigger.h"

namespace propgrade::fuzz {
namespace {

using server::TriggerRequest;

constexpr std::string_view kZone = "America/New_York";
constexpr std::string_view kMessageId = "fuzz-message-1";

// 2025-02-01T03:30:00Z: still 2025-01-31 in New York, so "today" differs from the UTC date.
int64_t NowMicros() {
  static const int64_t now = *ParseTimestampMicros("2025-02-01T03:30:00Z");
  return now;
}

void CheckText(const std::string& text) {
  FUZZ_CHECK(text.size() <= server::kMaxTriggerTextBytes);
  for (unsigned char c : text) FUZZ_CHECK(c >= 0x20 && c != 0x7F);
}

void CheckAccepted(std::string_view body, const TriggerRequest& req) {
  FUZZ_CHECK(IsValidUtf8(body));
  CheckText(req.correlation_id);
  CheckText(req.trigger_source);
  StatusOr<CivilDay> day = server::ResolveTargetDate(req.target_date, kZone, NowMicros());
  FUZZ_CHECK(day.ok(), day.status().ToString());
  const CivilDay today = *CivilDay::FromYmd(2025, 1, 31);
  if (req.target_date == "today") {
    FUZZ_CHECK(*day == today);
  } else if (req.target_date == "yesterday") {
    FUZZ_CHECK(*day == today.AddDays(-1));
  } else {
    const std::optional<CivilDay> parsed = CivilDay::Parse(req.target_date);
    FUZZ_CHECK(parsed && *parsed == *day && day->ToString() == req.target_date, req.target_date);
  }
}

// {"message": {"data": base64(inner), "messageId": ...}, "subscription": ...}
std::string Envelope(std::string_view inner) {
  std::string body = R"({"message": {"data": ")";
  body += Base64Encode(inner);
  body += R"(", "messageId": ")";
  body += kMessageId;
  body += R"("}, "subscription": "projects/p/subscriptions/s"})";
  return body;
}

// True when `text` is a JSON object without a "message" member (a plain trigger body).
bool IsPlainObject(std::string_view text) {
  const nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  return j.is_object() && !j.contains("message");
}

void CheckOne(std::string_view body) {
  StatusOr<TriggerRequest> plain = server::ParseTrigger(body);
  if (plain.ok()) {
    CheckAccepted(body, *plain);
  } else {
    FUZZ_CHECK(plain.status().code() == StatusCode::kInvalidArgument);
  }

  const std::string envelope_body = Envelope(body);
  StatusOr<TriggerRequest> wrapped = server::ParseTrigger(envelope_body);
  if (!wrapped.ok()) {
    FUZZ_CHECK(wrapped.status().code() == StatusCode::kInvalidArgument);
  } else {
    CheckAccepted(envelope_body, *wrapped);
    FUZZ_CHECK(wrapped->envelope);
  }
  if (!IsValidUtf8(body) || !IsPlainObject(body)) return;

  // The same request alone or inside an envelope; the envelope supplies defaults only.
  FUZZ_CHECK(plain.ok() == wrapped.ok(),
             plain.ok() ? wrapped.status().ToString() : plain.status().ToString());
  if (!plain.ok()) return;
  FUZZ_CHECK(!plain->envelope);
  FUZZ_CHECK(wrapped->target_date == plain->target_date);
  FUZZ_CHECK(wrapped->run_aggregation == plain->run_aggregation);
  if (plain->correlation_id.empty()) {
    FUZZ_CHECK(wrapped->correlation_id.empty() || wrapped->correlation_id == kMessageId);
  } else {
    FUZZ_CHECK(wrapped->correlation_id == plain->correlation_id);
  }
  if (plain->trigger_source == "http") {
    FUZZ_CHECK(wrapped->trigger_source == "http" || wrapped->trigger_source == "pubsub");
  } else {
    FUZZ_CHECK(wrapped->trigger_source == plain->trigger_source);
  }
}

}  // namespace
}  // namespace propgrade::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  propgrade::fuzz::CheckOne(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}

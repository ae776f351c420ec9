// The body of `POST /v1/runs` (spec/operations.md §4): plain JSON, or a Pub/Sub push envelope
// whose message.data is the base64 of that JSON. Parsing is strict: malformed JSON, a field of
// the wrong type, bad base64 or a bad date is an InvalidArgument naming the problem (never a
// silent "yesterday"). Unknown fields are ignored. Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "common/civil_date.h"
#include "common/status.h"

namespace propgrade::server {

struct TriggerRequest {
  std::string target_date;  // YYYY-MM-DD, "yesterday" or "today" (as sent)
  bool run_aggregation = true;
  bool allow_shrink = false;   // past [writes] max_shrink_ratio
  std::string correlation_id;  // envelope: defaults to message.messageId
  std::string trigger_source;  // default "http", or "pubsub" for an envelope
  bool envelope = false;       // came as a Pub/Sub push
};

// Longest accepted correlation_id / trigger_source, in bytes.
inline constexpr size_t kMaxTriggerTextBytes = 200;

StatusOr<TriggerRequest> ParseTrigger(std::string_view body);

// The date a trigger names: "yesterday" and "today" in the IANA zone `tz` at `now_micros`.
StatusOr<CivilDay> ResolveTargetDate(std::string_view target_date, std::string_view tz,
                                     int64_t now_micros);

}  // namespace propgrade::server

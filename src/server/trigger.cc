#include "server/trigger.h"

#include <nlohmann/json.hpp>

#include "common/strings.h"

namespace propgrade::server {

namespace {

using json = nlohmann::json;

// Reads an optional string field: absent or null leaves `out` as is.
Status OptionalText(const json& obj, const char* field, std::string* out) {
  auto it = obj.find(field);
  if (it == obj.end() || it->is_null()) return OkStatus();
  if (!it->is_string()) return InvalidArgumentError(std::string(field) + " must be a string");
  std::string v = it->get<std::string>();
  if (v.size() > kMaxTriggerTextBytes) {
    return InvalidArgumentError(std::string(field) + " is longer than " +
                                std::to_string(kMaxTriggerTextBytes) + " bytes");
  }
  for (unsigned char c : v) {
    if (c < 0x20 || c == 0x7f) {
      return InvalidArgumentError(std::string(field) + " contains a control character");
    }
  }
  *out = std::move(v);
  return OkStatus();
}

StatusOr<json> ParseObject(std::string_view text, const char* what) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return InvalidArgumentError(std::string(what) + " is not valid JSON");
  if (!j.is_object()) return InvalidArgumentError(std::string(what) + " must be a JSON object");
  return j;
}

}  // namespace

StatusOr<TriggerRequest> ParseTrigger(std::string_view body) {
  if (!IsValidUtf8(body)) return InvalidArgumentError("the body is not valid UTF-8");
  ASSIGN_OR_RETURN(json j, ParseObject(body, "the body"));
  TriggerRequest req;
  req.trigger_source = "http";
  if (auto m = j.find("message"); m != j.end()) {
    // Pub/Sub push: {"message": {"data": base64, "messageId": ...}, "subscription": ...}
    if (!m->is_object()) return InvalidArgumentError("message must be an object");
    auto data = m->find("data");
    if (data == m->end() || data->is_null()) {
      return InvalidArgumentError("message.data is required");
    }
    if (!data->is_string()) return InvalidArgumentError("message.data must be a string");
    std::optional<std::string> decoded = Base64Decode(data->get<std::string>());
    if (!decoded) return InvalidArgumentError("message.data is not valid base64");
    if (!IsValidUtf8(*decoded)) return InvalidArgumentError("message.data is not valid UTF-8");
    std::string message_id;
    RETURN_IF_ERROR(OptionalText(*m, "messageId", &message_id));
    ASSIGN_OR_RETURN(j, ParseObject(*decoded, "message.data"));
    req.envelope = true;
    req.trigger_source = "pubsub";
    req.correlation_id = message_id;
  }
  auto date = j.find("target_date");
  if (date == j.end() || date->is_null()) return InvalidArgumentError("target_date is required");
  if (!date->is_string()) return InvalidArgumentError("target_date must be a string");
  req.target_date = date->get<std::string>();
  if (req.target_date != "yesterday" && req.target_date != "today" &&
      !CivilDay::Parse(req.target_date)) {
    return InvalidArgumentError("target_date must be YYYY-MM-DD (a real date), \"yesterday\" or "
                                "\"today\"");
  }
  if (auto agg = j.find("run_aggregation"); agg != j.end() && !agg->is_null()) {
    if (!agg->is_boolean()) return InvalidArgumentError("run_aggregation must be true or false");
    req.run_aggregation = agg->get<bool>();
  }
  if (auto shrink = j.find("allow_shrink"); shrink != j.end() && !shrink->is_null()) {
    if (!shrink->is_boolean()) return InvalidArgumentError("allow_shrink must be true or false");
    req.allow_shrink = shrink->get<bool>();
  }
  RETURN_IF_ERROR(OptionalText(j, "correlation_id", &req.correlation_id));
  RETURN_IF_ERROR(OptionalText(j, "trigger_source", &req.trigger_source));
  return req;
}

StatusOr<CivilDay> ResolveTargetDate(std::string_view target_date, std::string_view tz,
                                     int64_t now_micros) {
  if (target_date == "today" || target_date == "yesterday") {
    ASSIGN_OR_RETURN(CivilDay today, TodayInZone(tz, now_micros));
    return target_date == "today" ? today : today.AddDays(-1);
  }
  std::optional<CivilDay> day = CivilDay::Parse(target_date);
  if (!day) return InvalidArgumentError("bad target_date '" + std::string(target_date) + "'");
  return *day;
}

}  // namespace propgrade::server

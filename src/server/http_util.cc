#include "server/http_util.h"

#include "common/exit_codes.h"
#include "common/strings.h"

namespace propgrade::server {

std::string Dump(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

namespace {

// The error code names of spec/operations.md §4 by HTTP status.
const char* CodeFor(int http_status) {
  switch (http_status) {
    case 400:
      return "INVALID_ARGUMENT";
    case 401:
      return "UNAUTHENTICATED";
    case 404:
      return "NOT_FOUND";
    case 405:
      return "METHOD_NOT_ALLOWED";
    case 409:
      return "ABORTED";
    case 413:
      return "PAYLOAD_TOO_LARGE";
    case 503:
      return "UNAVAILABLE";
    default:
      return http_status >= 500 ? "INTERNAL" : "FAILED_PRECONDITION";
  }
}

}  // namespace

void SetError(httplib::Response& res, int http_status, const std::string& message) {
  res.status = http_status;
  res.set_content(
      Dump({{"error",
             {{"code", CodeFor(http_status)}, {"message", RedactUrlCredentials(message)}}}}),
      kJson);
}

void SetStatusError(httplib::Response& res, const Status& s) {
  SetError(res, HttpStatusFor(s), s.message());
}

StatusOr<int> IntParam(const httplib::Request& req, const char* name, int fallback, int max) {
  if (!req.has_param(name)) return fallback;
  std::optional<int64_t> v = ParseInt64(req.get_param_value(name));
  if (!v || *v < 1 || *v > max) {
    return InvalidArgumentError(std::string(name) + " must be an integer from 1 to " +
                                std::to_string(max));
  }
  return static_cast<int>(*v);
}

}  // namespace propgrade::server

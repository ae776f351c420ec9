// Helpers of the HTTP routes (module-internal: src/server only): JSON error bodies with the
// error code names of spec/operations.md §4, and the status of a Status from the one table
// in common/exit_codes.h. Thread-safe.
#pragma once

#include <httplib.h>

#include <nlohmann/json.hpp>
#include <string>

#include "common/status.h"

namespace propgrade::server {

inline constexpr const char* kJson = "application/json";

// Compact JSON; invalid UTF-8 replaced.
std::string Dump(const nlohmann::json& j);

// A JSON error body {"error":{"code","message"}} with `http_status`. A URL the user gave (the
// database's, the lock service's) may be part of a message: its password never is.
void SetError(httplib::Response& res, int http_status, const std::string& message);
// The same for a failed Status, with the HTTP status HttpStatusFor gives it.
void SetStatusError(httplib::Response& res, const Status& s);

// A positive integer query parameter within [1, max], or `fallback` when absent.
StatusOr<int> IntParam(const httplib::Request& req, const char* name, int fallback, int max);

}  // namespace propgrade::server

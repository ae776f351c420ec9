// Text forms of Values shared by exports, logs, reports and the run summaries: the CSV/display
// cell text and JSON. Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "common/value.h"

namespace propgrade {

// "" for NULL, "true"/"false", decimal integers, shortest round-trip reals, text as is.
std::string FormatCell(const Value& value);

// Appends `s` as a JSON string (escaped; invalid UTF-8 replaced by U+FFFD).
void AppendJsonString(std::string* out, std::string_view s);
// Appends the JSON of a value by its kind: null, true/false, numbers (non-finite reals as
// null), strings.
void AppendJsonValue(std::string* out, const Value& value);
// {"key":value,...} in the order given; `keys` and `values` have the same length.
std::string JsonObject(const std::vector<std::string>& keys, const Row& values);
}  // namespace propgrade

#include "common/value_text.h"

#include <cmath>
#include <cstdio>
#include <exception>
#include <nlohmann/json.hpp>

#include "common/strings.h"

namespace propgrade {

std::string FormatCell(const Value& value) {
  if (value.is_null()) return "";
  if (value.is_bool()) return value.as_bool() ? "true" : "false";
  if (value.is_int()) return std::to_string(value.as_int());
  if (value.is_real()) return FormatDouble(value.as_real());
  return value.as_text();
}

void AppendJsonString(std::string* out, std::string_view s) {
  if (!IsValidUtf8(s)) {
    try {
      out->append(nlohmann::json(std::string(s))
                      .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    } catch (const std::exception&) {
      out->append("null");
    }
    return;
  }
  out->push_back('"');
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        out->append("\\\"");
        break;
      case '\\':
        out->append("\\\\");
        break;
      case '\b':
        out->append("\\b");
        break;
      case '\f':
        out->append("\\f");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\r':
        out->append("\\r");
        break;
      case '\t':
        out->append("\\t");
        break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out->append(buf);
        } else {
          out->push_back(static_cast<char>(c));
        }
    }
  }
  out->push_back('"');
}

void AppendJsonValue(std::string* out, const Value& v) {
  if (v.is_bool()) {
    out->append(v.as_bool() ? "true" : "false");
  } else if (v.is_int()) {
    out->append(std::to_string(v.as_int()));
  } else if (v.is_real() && std::isfinite(v.as_real())) {
    out->append(FormatDouble(v.as_real()));
  } else if (v.is_text()) {
    AppendJsonString(out, v.as_text());
  } else {
    out->append("null");
  }
}

std::string JsonObject(const std::vector<std::string>& keys, const Row& values) {
  std::string out = "{";
  for (size_t i = 0; i < keys.size() && i < values.size(); ++i) {
    if (i) out += ',';
    AppendJsonString(&out, keys[i]);
    out += ':';
    AppendJsonValue(&out, values[i]);
  }
  out += '}';
  return out;
}

}  // namespace propgrade

#include "observe/log.h"

#include <nlohmann/json.hpp>

#include "common/civil_date.h"
#include "common/strings.h"

namespace propgrade {

namespace {

nlohmann::json ToJson(const Value& v) {
  if (v.is_null()) return nullptr;
  if (v.is_bool()) return v.as_bool();
  if (v.is_int()) return v.as_int();
  if (v.is_real()) return v.as_real();
  return v.as_text();
}

std::string ToText(const Value& v) {
  if (v.is_null()) return "null";
  if (v.is_bool()) return v.as_bool() ? "true" : "false";
  if (v.is_int()) return std::to_string(v.as_int());
  if (v.is_real()) return FormatDouble(v.as_real());
  const std::string& s = v.as_text();
  bool quote = s.empty() || s.find_first_of(" \"=") != std::string::npos;
  return quote ? nlohmann::json(s).dump() : s;
}

}  // namespace

void Logger::Log(Severity severity, std::string_view event, const std::vector<LogField>& fields) {
  if (severity < min_severity_ || out_ == nullptr) return;
  std::string ts = FormatTimestampMicros(clock_->NowMicros());
  std::string line;
  if (format_ == LogFormat::kJson) {
    nlohmann::ordered_json j;
    j["ts"] = ts;
    j["level"] = std::string(SeverityName(severity));
    j["event"] = std::string(event);
    for (const LogField& f : fields) j[f.key] = ToJson(f.value);
    line = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  } else {
    line = ts.substr(0, 19) + "Z " + std::string(SeverityName(severity)) + " " +
           std::string(event);
    for (const LogField& f : fields) line += " " + f.key + "=" + ToText(f.value);
  }
  line += '\n';
  std::lock_guard<std::mutex> lock(mu_);
  *out_ << line << std::flush;
}

Logger& NullLogger() {
  static Logger* logger = new Logger(nullptr, LogFormat::kJson, &RealClock());
  return *logger;
}

}  // namespace propgrade

#include "observe/log.h"

#include <nlohmann/json.hpp>

#include "common/civil_date.h"
#include "common/value_text.h"

namespace propgrade {

namespace {

// key=value text: NULL as null, text quoted (JSON-style) when it holds spaces, quotes or '='.
std::string ToText(const Value& v) {
  if (v.is_null()) return "null";
  if (!v.is_text()) return FormatCell(v);
  const std::string& s = v.as_text();
  if (!s.empty() && s.find_first_of(" \"=\n") == std::string::npos) return s;
  std::string quoted;
  AppendJsonString(&quoted, s);
  return quoted;
}

}  // namespace

void Logger::Log(Severity severity, std::string_view event, const std::vector<LogField>& fields) {
  if (severity < min_severity_ || out_ == nullptr) return;
  std::string ts = FormatTimestampMicros(clock_->NowMicros());
  std::string line;
  std::string message;
  for (const LogField& f : fields) {
    if (f.key == "message" && f.value.is_text()) message = f.value.as_text();
  }
  if (message.empty()) {
    message = std::string(event);
    for (const LogField& f : fields) message += " " + f.key + "=" + ToText(f.value);
  }
  if (format_ == LogFormat::kJson) {
    nlohmann::ordered_json j;
    j["time"] = ts;
    j["severity"] = std::string(SeverityName(severity));
    j["message"] = message;
    j["event"] = std::string(event);
    for (const LogField& f : fields) {
      if (f.key == "message") continue;
      const Value& v = f.value;
      if (v.is_null()) {
        j[f.key] = nullptr;
      } else if (v.is_bool()) {
        j[f.key] = v.as_bool();
      } else if (v.is_int()) {
        j[f.key] = v.as_int();
      } else if (v.is_real()) {
        j[f.key] = v.as_real();
      } else {
        j[f.key] = v.as_text();
      }
    }
    line = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  } else {
    line = ts.substr(0, 19) + "Z " + std::string(SeverityName(severity)) + " " +
           std::string(event);
    for (const LogField& f : fields) {
      if (f.key != "message") line += " " + f.key + "=" + ToText(f.value);
    }
  }
  line += '\n';
  if (clear_line_ && format_ == LogFormat::kText) line = "\r\033[K" + line;
  std::lock_guard<std::mutex> lock(mu_);
  *out_ << line << std::flush;
}

Logger& NullLogger() {
  static Logger* logger = new Logger(nullptr, LogFormat::kJson, &RealClock());
  return *logger;
}

}  // namespace propgrade

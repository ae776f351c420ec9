#include "observe/log.h"

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
  if (format_ == LogFormat::kJson) {
    std::vector<std::string> keys = {"ts", "level", "event"};
    Row values = {Value::Text(ts), Value::Text(std::string(SeverityName(severity))),
                  Value::Text(std::string(event))};
    for (const LogField& f : fields) {
      keys.push_back(f.key);
      values.push_back(f.value);
    }
    line = JsonObject(keys, values);
  } else {
    line = ts.substr(0, 19) + "Z " + std::string(SeverityName(severity)) + " " +
           std::string(event);
    for (const LogField& f : fields) line += " " + f.key + "=" + ToText(f.value);
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

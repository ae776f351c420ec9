// Logger: structured logs as JSON lines or as readable text, written to one stream (stderr in
// the CLI). A JSON line carries Cloud Logging's field names — `time`, `severity`, `message` —
// then `event` and the event's fields (run_id, processor, partition, lock fields, ...), numbers
// as JSON numbers. A field named "message" becomes the message; otherwise the message is the
// event and its fields in words. Never pass secrets as fields. Thread-safe.
#pragma once

#include <mutex>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "common/exit_codes.h"
#include "common/value.h"

namespace propgrade {

enum class LogFormat { kText, kJson };

struct LogField {
  std::string key;
  Value value;
};

class Logger {
 public:
  // `out` must outlive the logger. Events below `min_severity` are dropped.
  Logger(std::ostream* out, LogFormat format, Clock* clock,
         Severity min_severity = Severity::kInfo)
      : out_(out), format_(format), clock_(clock), min_severity_(min_severity) {}

  void Log(Severity severity, std::string_view event, const std::vector<LogField>& fields = {});
  void Info(std::string_view event, const std::vector<LogField>& fields = {}) {
    Log(Severity::kInfo, event, fields);
  }
  void Warn(std::string_view event, const std::vector<LogField>& fields = {}) {
    Log(Severity::kWarning, event, fields);
  }
  void Error(std::string_view event, const std::vector<LogField>& fields = {}) {
    Log(Severity::kError, event, fields);
  }

  LogFormat format() const { return format_; }
  // Text lines start by clearing the terminal line, so a progress line being redrawn there
  // does not run into them. Default: false
  void set_clear_line(bool clear) { clear_line_ = clear; }

 private:
  std::mutex mu_;
  std::ostream* out_;
  LogFormat format_;
  Clock* clock_;
  Severity min_severity_;
  bool clear_line_ = false;
};

// A logger that writes nothing (tests, library callers without logs).
Logger& NullLogger();

}  // namespace propgrade

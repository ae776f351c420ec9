// Alerts: the catalogue of spec/operations.md §6 and the sinks that deliver an alert — a Slack
// incoming webhook (`text` fallback plus `blocks`), a generic JSON webhook, and the log.
// Delivery policy (queueing, retries, repeat folding, the alerts table) is the Alerter's, in
// src/safety. Sinks are thread-compatible; payload functions are pure.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/exit_codes.h"
#include "common/http_client.h"
#include "common/status.h"
#include "common/value.h"
#include "observe/log.h"

namespace propgrade {

struct Alert {
  std::string type;  // a catalogue type, e.g. duplicates_detected
  Severity severity = Severity::kWarning;
  // What repeats are folded by: table/partition, lock key, or breaker name.
  std::string subject;
  std::string table;
  std::string partition;
  std::string summary;  // one line
  std::vector<std::pair<std::string, Value>> fields;
  std::string next_step;  // what to do about it (Slack's context line)
};

// A catalogue alert with its severity and next step filled in; `subject` defaults to
// table/partition.
Alert MakeAlert(std::string type, std::string table, std::string partition, std::string summary,
                std::vector<std::pair<std::string, Value>> fields = {});

// {"text": "CRITICAL duplicates_detected prediction_accuracy/2026-01-16: ...", "blocks": [...]}
std::string SlackPayload(const Alert& alert, int64_t folded_count, int64_t occurred_at_micros);
// {"type", "severity", "table", "partition", "summary", "fields", "occurred_at", "folded_count"}
std::string WebhookPayload(const Alert& alert, int64_t folded_count, int64_t occurred_at_micros);

class AlertSink {
 public:
  virtual ~AlertSink() = default;
  virtual std::string_view name() const = 0;  // "slack", "webhook", "log"
  // One delivery attempt; Unavailable (or the receiver's HTTP error) when it failed.
  virtual Status Deliver(const Alert& alert, int64_t folded_count, int64_t occurred_at_micros) = 0;
};

// `url` is a secret: it never appears in errors (they name the host only).
std::unique_ptr<AlertSink> NewSlackSink(std::string url, std::unique_ptr<HttpClient> http,
                                        HttpRequestOptions options);
std::unique_ptr<AlertSink> NewWebhookSink(std::string url, std::unique_ptr<HttpClient> http,
                                          HttpRequestOptions options);
std::unique_ptr<AlertSink> NewLogSink(Logger* log);

}  // namespace propgrade

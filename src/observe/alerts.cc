#include "observe/alerts.h"

#include <nlohmann/json.hpp>

#include "common/civil_date.h"
#include "common/value_text.h"

namespace propgrade {

namespace {

using json = nlohmann::ordered_json;

struct CatalogueEntry {
  const char* type;
  Severity severity;
  const char* next_step;
};

// spec/operations.md §6.
constexpr CatalogueEntry kCatalogue[] = {
    {"duplicates_detected", Severity::kCritical,
     "See duplicate_audit for the keys; `propgrade dedupe --table T --date D` quarantines the "
     "surplus."},
    {"lock_acquisition_failed", Severity::kCritical,
     "`propgrade locks list` shows the holder; re-run the date once it finished."},
    {"lock_lost", Severity::kCritical,
     "Nothing was written by this run; the newer holder's rows stand. Re-run only if needed."},
    {"lock_contention", Severity::kWarning, "Runs for the same date overlap: check the triggers."},
    {"stuck_lock", Severity::kWarning,
     "`propgrade locks list`; `propgrade locks release KEY --reason R` if the holder is gone."},
    {"circuit_open", Severity::kCritical,
     "Runs are refused until the breaker half-opens; fix the dependency, `propgrade breaker "
     "status`."},
    {"source_duplicates", Severity::kWarning,
     "The predictions table holds duplicate business keys; graded once each (latest kept)."},
    {"check_failed", Severity::kCritical, "`propgrade check --format json` for the figures."},
    {"duplicate_trend", Severity::kWarning,
     "Duplicate rate grew week over week: see `propgrade check`."},
    {"run_failed", Severity::kCritical, "See the run's error in grading_runs and the logs."},
    {"dependency_unavailable", Severity::kCritical,
     "The store or the lock service could not be reached; runs exit 3 until it is back."},
    {"insufficient_actuals", Severity::kWarning,
     "The date's box scores look half loaded; nothing was written. Grade again once they are "
     "complete (or lower [grading] min_player_coverage / min_game_coverage)."},
    {"partition_shrink", Severity::kCritical,
     "The write would have removed too many of the partition's keys; nothing was written. "
     "`propgrade diff` shows what would change; re-run with --allow-shrink if it is right."},
    {"input_warnings", Severity::kWarning,
     "Some inputs were invalid (recommendations, confidences or game ids); see the samples."},
};

json FieldValue(const Value& v) {
  if (v.is_null()) return nullptr;
  if (v.is_bool()) return v.as_bool();
  if (v.is_int()) return v.as_int();
  if (v.is_real()) return v.as_real();
  return v.as_text();
}

std::string Dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

class HttpSink : public AlertSink {
 public:
  HttpSink(bool slack, std::string url, std::unique_ptr<HttpClient> http, HttpRequestOptions o)
      : slack_(slack), url_(std::move(url)), http_(std::move(http)), options_(std::move(o)) {}
  std::string_view name() const override { return slack_ ? "slack" : "webhook"; }
  Status Deliver(const Alert& alert, int64_t folded, int64_t at) override {
    std::string body = slack_ ? SlackPayload(alert, folded, at) : WebhookPayload(alert, folded, at);
    ASSIGN_OR_RETURN(HttpResponse r, http_->Post(url_, body, "application/json", options_));
    if (r.status < 200 || r.status >= 300) {
      return UnavailableError(std::string(name()) + " answered HTTP " + std::to_string(r.status));
    }
    return OkStatus();
  }

 private:
  bool slack_;
  std::string url_;
  std::unique_ptr<HttpClient> http_;
  HttpRequestOptions options_;
};

class LogSink : public AlertSink {
 public:
  explicit LogSink(Logger* log) : log_(log) {}
  std::string_view name() const override { return "log"; }
  Status Deliver(const Alert& a, int64_t folded, int64_t) override {
    std::vector<LogField> fields = {{"message", Value::Text(a.summary)},
                                    {"alert_type", Value::Text(a.type)},
                                    {"subject", Value::Text(a.subject)},
                                    {"folded_count", Value::Int(folded)}};
    if (!a.table.empty()) fields.push_back({"table", Value::Text(a.table)});
    if (!a.partition.empty()) fields.push_back({"partition", Value::Text(a.partition)});
    for (const auto& [k, v] : a.fields) fields.push_back({k, v});
    log_->Log(a.severity, "alert", fields);
    return OkStatus();
  }

 private:
  Logger* log_;
};

}  // namespace

Alert MakeAlert(std::string type, std::string table, std::string partition, std::string summary,
                std::vector<std::pair<std::string, Value>> fields) {
  Alert a;
  for (const CatalogueEntry& e : kCatalogue) {
    if (type == e.type) {
      a.severity = e.severity;
      a.next_step = e.next_step;
    }
  }
  a.type = std::move(type);
  a.table = std::move(table);
  a.partition = std::move(partition);
  a.subject = a.partition.empty() ? a.table : a.table + "/" + a.partition;
  a.summary = std::move(summary);
  a.fields = std::move(fields);
  return a;
}

std::string SlackPayload(const Alert& a, int64_t folded, int64_t at) {
  std::string where = a.subject.empty() ? "" : " " + a.subject;
  std::string text = std::string(SeverityName(a.severity)) + " " + a.type + where + ": " + a.summary;
  if (folded > 0) text += " (+" + std::to_string(folded) + " similar folded)";
  json fields = json::array();
  auto field = [&](const std::string& k, const std::string& v) {
    if (fields.size() < 10) fields.push_back({{"type", "mrkdwn"}, {"text", "*" + k + "*\n" + v}});
  };
  if (!a.table.empty()) field("table", a.table);
  if (!a.partition.empty()) field("partition", a.partition);
  for (const auto& [k, v] : a.fields) field(k, v.is_null() ? "null" : FormatCell(v));
  if (folded > 0) field("folded repeats", std::to_string(folded));
  json blocks = json::array();
  blocks.push_back({{"type", "header"},
                    {"text", {{"type", "plain_text"},
                              {"text", std::string(SeverityName(a.severity)) + ": " + a.type}}}});
  json section = {{"type", "section"}, {"text", {{"type", "mrkdwn"}, {"text", a.summary}}}};
  if (!fields.empty()) section["fields"] = fields;
  blocks.push_back(section);
  blocks.push_back({{"type", "context"},
                    {"elements", json::array({{{"type", "mrkdwn"},
                                               {"text", "Next: " + a.next_step + " · " +
                                                            FormatTimestampMicros(at)}}})}});
  return Dump({{"text", text}, {"blocks", blocks}});
}

std::string WebhookPayload(const Alert& a, int64_t folded, int64_t at) {
  json fields = json::object();
  for (const auto& [k, v] : a.fields) fields[k] = FieldValue(v);
  return Dump({{"type", a.type},
               {"severity", std::string(SeverityName(a.severity))},
               {"table", a.table.empty() ? json(nullptr) : json(a.table)},
               {"partition", a.partition.empty() ? json(nullptr) : json(a.partition)},
               {"summary", a.summary},
               {"fields", fields},
               {"occurred_at", FormatTimestampMicros(at)},
               {"folded_count", folded}});
}

std::unique_ptr<AlertSink> NewSlackSink(std::string url, std::unique_ptr<HttpClient> http,
                                        HttpRequestOptions options) {
  return std::make_unique<HttpSink>(true, std::move(url), std::move(http), std::move(options));
}

std::unique_ptr<AlertSink> NewWebhookSink(std::string url, std::unique_ptr<HttpClient> http,
                                          HttpRequestOptions options) {
  return std::make_unique<HttpSink>(false, std::move(url), std::move(http), std::move(options));
}

std::unique_ptr<AlertSink> NewLogSink(Logger* log) { return std::make_unique<LogSink>(log); }

}  // namespace propgrade

#include "safety/alerter.h"

#include <chrono>
#include <nlohmann/json.hpp>

#include "common/civil_date.h"
#include "schema/schema.h"
#include "store/ledgers.h"

namespace propgrade {

Alerter::Alerter(Store* store, std::vector<std::unique_ptr<AlertSink>> sinks, Metrics* metrics,
                 Logger* log, Clock* clock, AlerterOptions options)
    : store_(store),
      sinks_(std::move(sinks)),
      metrics_(metrics),
      log_(log),
      clock_(clock),
      options_(options) {
  thread_ = std::thread([this] { Run(); });
}

Alerter::~Alerter() {
  Flush(10 * 1000000);
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void Alerter::Raise(Alert alert) {
  std::vector<LogField> fields = {{"message", Value::Text(alert.summary)},
                                  {"alert_type", Value::Text(alert.type)},
                                  {"subject", Value::Text(alert.subject)}};
  for (const auto& [k, v] : alert.fields) fields.push_back({k, v});
  log_->Log(alert.severity, "alert", fields);
  {
    std::lock_guard<std::mutex> lock(mu_);
    queue_.push_back({std::move(alert), clock_->NowMicros()});
  }
  cv_.notify_all();
}

void Alerter::Flush(int64_t timeout_micros) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_for(lock, std::chrono::microseconds(timeout_micros),
               [this] { return queue_.empty() && !busy_; });
}

void Alerter::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) {
      if (stopping_) return;
      continue;
    }
    Pending p = std::move(queue_.front());
    queue_.pop_front();
    busy_ = true;
    lock.unlock();
    Deliver(p);
    lock.lock();
    busy_ = false;
    cv_.notify_all();
  }
}

void Alerter::Deliver(const Pending& p) {
  const Alert& a = p.alert;
  const std::string key = a.type + "|" + a.subject;
  const int64_t interval = static_cast<int64_t>(options_.min_interval_seconds * 1e6);

  // Fold a repeat of the same type and subject sent within the interval.
  std::optional<int64_t> last_sent;
  int64_t folded_before = 0;
  bool ledger = store_ != nullptr;
  if (ledger) {
    auto fold = store_->alert_ledger().AlertFoldState(a.type, a.subject);
    if (fold.ok()) {
      last_sent = fold->last_sent_micros;
      folded_before = fold->folded_since;
    } else {
      ledger = false;  // the store may be what is down: decide from this process's memory
    }
  }
  if (!ledger) {
    if (last_sent_.count(key)) last_sent = last_sent_[key];
    folded_before = folded_[key];
  }
  bool fold = last_sent && p.at_micros - *last_sent < interval;

  Row row(alertcol::kNumColumns);
  row[alertcol::at] = Value::Text(FormatTimestampMicros(p.at_micros));
  row[alertcol::type] = Value::Text(a.type);
  row[alertcol::severity] = Value::Text(std::string(SeverityName(a.severity)));
  row[alertcol::subject] = Value::Text(a.subject);
  if (!a.table.empty()) row[alertcol::table_name] = Value::Text(a.table);
  if (!a.partition.empty()) row[alertcol::partition] = Value::Text(a.partition);
  row[alertcol::summary] = Value::Text(a.summary);
  nlohmann::ordered_json fields = nlohmann::ordered_json::object();
  for (const auto& [k, v] : a.fields) {
    if (v.is_null()) fields[k] = nullptr;
    else if (v.is_bool()) fields[k] = v.as_bool();
    else if (v.is_int()) fields[k] = v.as_int();
    else if (v.is_real()) fields[k] = v.as_real();
    else fields[k] = v.as_text();
  }
  row[alertcol::fields_json] =
      Value::Text(fields.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  row[alertcol::delivered] = Value::Bool(false);
  row[alertcol::attempts] = Value::Int(fold ? 0 : 1);  // 0 marks a folded repeat
  row[alertcol::folded_count] = Value::Int(fold ? 0 : folded_before);
  std::optional<int64_t> id;
  if (store_) {
    auto recorded = store_->alert_ledger().RecordAlert(row);
    if (recorded.ok()) id = *recorded;
  }
  if (fold) {
    ++folded_[key];
    if (metrics_) metrics_->Inc("alerts_sent_total", {a.type, "folded"});
    return;
  }

  // Deliver to every webhook sink, with retries.
  bool delivered = true;
  int64_t attempts = 0;
  for (auto& sink : sinks_) {
    if (sink->name() == "log") continue;
    bool sent = false;
    int64_t backoff = options_.first_backoff_micros;
    for (int attempt = 1; attempt <= options_.max_attempts && !sent; ++attempt) {
      ++attempts;
      Status s = sink->Deliver(a, folded_before, p.at_micros);
      sent = s.ok();
      if (!sent) {
        log_->Warn("alert_delivery_failed", {{"alert_type", Value::Text(a.type)},
                                             {"sink", Value::Text(std::string(sink->name()))},
                                             {"attempt", Value::Int(attempt)},
                                             {"error", Value::Text(s.message())}});
        if (attempt < options_.max_attempts) {
          clock_->SleepMicros(backoff);
          backoff *= 2;
        }
      }
    }
    if (metrics_) metrics_->Inc("alerts_sent_total", {a.type, sent ? "sent" : "failed"});
    delivered = delivered && sent;
  }
  int64_t sent_at = clock_->NowMicros();
  if (delivered) {
    last_sent_[key] = sent_at;
    folded_[key] = 0;
  }
  if (store_ && id) {
    store_->alert_ledger().UpdateAlert(*id, delivered, std::max<int64_t>(attempts, 1), folded_before,
                        delivered ? std::optional<int64_t>(sent_at) : std::nullopt)
        .IgnoreError();
  }
}

}  // namespace propgrade

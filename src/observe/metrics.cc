#include "observe/metrics.h"

#include <cstdio>
#include <fstream>

#include "common/strings.h"

namespace propgrade {

namespace {

std::string Escape(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

std::string Number(double v) {
  if (v == static_cast<double>(static_cast<int64_t>(v)) && v < 1e15 && v > -1e15) {
    return std::to_string(static_cast<int64_t>(v));
  }
  return FormatDouble(v);
}

}  // namespace

Metrics::Metrics() {
  const std::vector<double> duration = {0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300};
  const std::vector<double> lock = {0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300};
  defs_ = {
      {"runs_total",
       {Type::kCounter, "Processor steps by their final status.", {"processor", "status"}, {}}},
      {"run_duration_seconds",
       {Type::kHistogram, "Duration of processor steps.", {"processor"}, duration}},
      {"rows_written_total",
       {Type::kCounter, "Rows written by partition replaces.", {"table"}, {}}},
      {"lock_acquire_total",
       {Type::kCounter,
        "Lock acquisitions by result (acquired, timeout, error).",
        {"backend", "result"},
        {}}},
      {"lock_wait_seconds",
       {Type::kHistogram, "Time spent waiting for a lock.", {"backend"}, lock}},
      {"lock_hold_seconds", {Type::kHistogram, "Time a lock was held.", {"backend"}, lock}},
      {"lock_lost_total",
       {Type::kCounter, "Leases lost or writes fenced out before commit.", {}, {}}},
      {"fence_rejections_total",
       {Type::kCounter, "Writes rejected by a newer fence token.", {"table"}, {}}},
      {"input_changes_total",
       {Type::kCounter,
        "Writes refused because their inputs changed after they were read (the step reads them "
        "again).",
        {"table"},
        {}}},
      {"locks_held", {Type::kGauge, "Locks held now.", {"backend"}, {}}},
      {"locks_stuck",
       {Type::kGauge, "Locks held past stuck_alert_after_seconds at the last sweep.", {}, {}}},
      {"lock_force_released_total",
       {Type::kCounter, "Locks force-released (by hand or by the sweeper).", {}, {}}},
      {"duplicates_detected_total",
       {Type::kCounter, "Surplus duplicate-key rows found by post-write checks.", {"table"}, {}}},
      {"remediated_rows_total",
       {Type::kCounter, "Duplicate rows moved into remediation_quarantine.", {"table"}, {}}},
      {"breaker_state",
       {Type::kGauge, "Circuit breaker state: 0 closed, 1 half-open, 2 open.", {"name"}, {}}},
      {"alerts_sent_total",
       {Type::kCounter,
        "Alert deliveries by result (sent, failed, folded).",
        {"type", "result"},
        {}}},
      {"check_failures",
       {Type::kGauge,
        "Data-quality checks failing at the last run (1) or not (0).",
        {"check"},
        {}}},
      {"actuals_coverage_ratio",
       {Type::kGauge,
        "Coverage of the last graded date's box scores: share of kept predictions (player) and of "
        "their games (game) with an actual row.",
        {"kind"},
        {}}},
      {"shrink_refused_total",
       {Type::kCounter,
        "Writes refused by the shrink guard (they would have removed more of the partition's keys "
        "than max_shrink_ratio).",
        {"table"},
        {}}},
      {"last_success_timestamp_seconds",
       {Type::kGauge, "Unix time of the last successful step.", {"processor"}, {}}},
  };
}

Metrics::Series* Metrics::Find(std::string_view name, const MetricLabels& labels, Type type) {
  auto def = defs_.find(name);
  if (def == defs_.end() || def->second.type != type || def->second.labels.size() != labels.size()) {
    ++misuse_;
    return nullptr;
  }
  auto& family = series_[std::string(name)];
  auto [it, inserted] = family.try_emplace(labels);
  if (inserted && type == Type::kHistogram) it->second.counts.assign(def->second.buckets.size(), 0);
  return &it->second;
}

void Metrics::Inc(std::string_view name, const MetricLabels& labels, double by) {
  std::lock_guard<std::mutex> lock(mu_);
  if (Series* s = Find(name, labels, Type::kCounter)) s->value += by;
}

void Metrics::Set(std::string_view name, const MetricLabels& labels, double value) {
  std::lock_guard<std::mutex> lock(mu_);
  if (Series* s = Find(name, labels, Type::kGauge)) s->value = value;
}

void Metrics::Observe(std::string_view name, const MetricLabels& labels, double value) {
  std::lock_guard<std::mutex> lock(mu_);
  Series* s = Find(name, labels, Type::kHistogram);
  if (!s) return;
  const std::vector<double>& buckets = defs_.find(name)->second.buckets;
  for (size_t i = 0; i < buckets.size(); ++i) {
    if (value <= buckets[i]) {
      ++s->counts[i];
      break;
    }
  }
  ++s->count;
  s->sum += value;
}

double Metrics::Value(std::string_view name, const MetricLabels& labels) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto family = series_.find(name);
  if (family == series_.end()) return 0;
  auto it = family->second.find(labels);
  if (it == family->second.end()) return 0;
  return it->second.counts.empty() ? it->second.value : static_cast<double>(it->second.count);
}

std::string Metrics::PrometheusText() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::string out;
  auto labels_text = [](const Def& def, const MetricLabels& values, const std::string& extra) {
    std::vector<std::string> parts;
    for (size_t i = 0; i < values.size(); ++i) {
      parts.push_back(def.labels[i] + "=\"" + Escape(values[i]) + "\"");
    }
    if (!extra.empty()) parts.push_back(extra);
    return parts.empty() ? std::string() : "{" + Join(parts, ",") + "}";
  };
  for (const auto& [name, def] : defs_) {
    const std::string full = "propgrade_" + name;
    out += "# HELP " + full + " " + def.help + "\n";
    out += "# TYPE " + full + " " +
           (def.type == Type::kCounter ? "counter" : def.type == Type::kGauge ? "gauge" : "histogram") +
           "\n";
    auto family = series_.find(name);
    if (family == series_.end()) continue;
    for (const auto& [values, s] : family->second) {
      if (def.type != Type::kHistogram) {
        out += full + labels_text(def, values, "") + " " + Number(s.value) + "\n";
        continue;
      }
      uint64_t cumulative = 0;
      for (size_t i = 0; i < def.buckets.size(); ++i) {
        cumulative += s.counts[i];
        out += full + "_bucket" + labels_text(def, values, "le=\"" + FormatDouble(def.buckets[i]) + "\"") +
               " " + std::to_string(cumulative) + "\n";
      }
      out += full + "_bucket" + labels_text(def, values, "le=\"+Inf\"") + " " +
             std::to_string(s.count) + "\n";
      out += full + "_sum" + labels_text(def, values, "") + " " + FormatDouble(s.sum) + "\n";
      out += full + "_count" + labels_text(def, values, "") + " " + std::to_string(s.count) + "\n";
    }
  }
  out += "# HELP propgrade_metrics_misuse_total Metric updates with an unknown name or wrong labels.\n"
         "# TYPE propgrade_metrics_misuse_total counter\npropgrade_metrics_misuse_total " +
         Number(misuse_) + "\n";
  return out;
}

Status Metrics::WriteTextfile(const std::string& path) const {
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) return UnavailableError("cannot write metrics file " + tmp);
    out << PrometheusText();
    if (!out) return UnavailableError("cannot write metrics file " + tmp);
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    return UnavailableError("cannot rename " + tmp + " to " + path);
  }
  return OkStatus();
}

}  // namespace propgrade

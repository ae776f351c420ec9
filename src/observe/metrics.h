// Metrics: the registry of propgrade's Prometheus metrics (spec/operations.md §5), all named
// `propgrade_<name>`, with their help text, type, label names and histogram buckets declared
// once here. Rendered in the text exposition format 0.0.4 for GET /metrics, or written to a
// file atomically for node_exporter's textfile collector (--metrics-file). Unknown metric names
// or wrong label counts are ignored (and counted in `propgrade_metrics_misuse_total`): metrics
// never fail a run. Thread-safe.
#pragma once

#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace propgrade {

using MetricLabels = std::vector<std::string>;  // label values, in the metric's label order

class Metrics {
 public:
  Metrics();

  void Inc(std::string_view name, const MetricLabels& labels = {}, double by = 1);
  void Set(std::string_view name, const MetricLabels& labels, double value);
  void Observe(std::string_view name, const MetricLabels& labels, double value);

  // The current value of a counter or gauge series (0 when absent); histograms: the count.
  double Value(std::string_view name, const MetricLabels& labels = {}) const;

  std::string PrometheusText() const;
  // Writes PrometheusText() to `path` through a temporary file and a rename.
  Status WriteTextfile(const std::string& path) const;

 private:
  enum class Type { kCounter, kGauge, kHistogram };
  struct Def {
    Type type;
    std::string help;
    std::vector<std::string> labels;
    std::vector<double> buckets;
  };
  struct Series {
    double value = 0;                 // counter, gauge
    std::vector<uint64_t> counts;     // histogram: per bucket (not cumulative)
    uint64_t count = 0;
    double sum = 0;
  };
  Series* Find(std::string_view name, const MetricLabels& labels, Type type);

  mutable std::mutex mu_;
  std::map<std::string, Def, std::less<>> defs_;
  std::map<std::string, std::map<MetricLabels, Series>, std::less<>> series_;
  double misuse_ = 0;
};

}  // namespace propgrade

// Read-only reports (spec/operations.md §10): accuracy, calibration, players, systems, over
// the last N graded dates, rendered as an aligned table, JSON or CSV. Thread-safe when the
// Store is.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "common/value.h"
#include "store/store.h"

namespace propgrade {

struct ReportTable {
  std::string kind;  // accuracy, calibration, players, systems
  std::string from;  // first and last game date covered ("" when nothing is graded)
  std::string to;
  std::vector<std::string> columns;
  std::vector<Row> rows;
};

// `days` counts back from the latest graded date; nullopt = every graded date.
StatusOr<ReportTable> BuildReport(Store* store, std::string_view kind, std::optional<int> days);

enum class ReportFormat { kTable, kJson, kCsv };
StatusOr<ReportFormat> ParseReportFormat(std::string_view name);
std::string RenderReport(const ReportTable& report, ReportFormat format);

}  // namespace propgrade

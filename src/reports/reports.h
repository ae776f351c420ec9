// Read-only reports (spec/operations.md §10): accuracy, calibration, players, systems, over
// the last N graded dates, rendered as an aligned table, JSON or CSV. Thread-safe when the
// Store is.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/civil_date.h"
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

// The distortion duplicate graded rows bring to each system's figures in [from, to]
// (grading::DuplicateImpact): over the rows of prediction_accuracy and those of it that
// remediation moved into remediation_quarantine, with every row against one per key. One
// report row per system (then ALL) and period; `headlines` are the lines with surplus rows,
// the largest win-rate distortion first.
struct ImpactReport {
  ReportTable table;  // kind "impact"
  std::vector<std::string> headlines;
  int64_t quarantined_rows = 0;  // of them, taken back from remediation_quarantine
};
StatusOr<ImpactReport> BuildImpact(Store* store, CivilDay from, CivilDay to);

enum class ReportFormat { kTable, kJson, kCsv };
StatusOr<ReportFormat> ParseReportFormat(std::string_view name);
std::string RenderReport(const ReportTable& report, ReportFormat format);

}  // namespace propgrade

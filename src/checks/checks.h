// The data-quality suite (spec/operations.md §7): twelve checks over the recent window (three
// more when the catalogue has declared tables: table_duplicates, table_freshness, table_volume),
// each ending pass, warn or fail with its figure, threshold and details (JSON). Results are
// recorded in check_results; failing and warning checks raise check_failed alerts, a growing
// duplicate rate a duplicate_trend alert. Thread-safe when the Store is.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/civil_date.h"
#include "common/clock.h"
#include "common/status.h"
#include "store/store.h"

namespace propgrade {

class CircuitBreaker;

// [checks] of propgrade.toml.
struct ChecksConfig {
  int expected_systems = 6;                  // Default: 6
  int64_t daily_predictions_min = 300;       // Default: 300
  int64_t daily_predictions_max = 5000;      // Default: 5000
  double stale_hours_warn = 30;              // Default: 30
  double stale_hours_fail = 48;              // Default: 48
  double duplicate_trend_warn_ratio = 1.10;  // Default: 1.10
};

enum class CheckStatus { kPass, kWarn, kFail };
std::string_view CheckStatusName(CheckStatus s);  // "pass", "warn", "fail"

struct CheckResult {
  std::string name;
  CheckStatus status = CheckStatus::kPass;
  std::optional<double> value;
  std::string threshold;     // as text, e.g. "> 0" or "[300, 5000]"
  std::string summary;       // one line for people
  std::string details_json;  // a JSON object
};

struct CheckReport {
  int64_t checked_at_micros = 0;
  CivilDay yesterday;  // in the league time zone
  std::vector<CheckResult> checks;
  int count(CheckStatus s) const;
};

struct CheckOptions {
  int days = 7;  // the window: the last `days` dates up to yesterday. Default: 7
  ChecksConfig thresholds;
  std::string timezone = "America/New_York";
  CircuitBreaker* breaker = nullptr;  // the `breaker` check; skipped (pass) when null
};

// Runs the checks. A check whose queries fail ends `fail` with the error in details:
// a broken check never reads as a pass.
StatusOr<CheckReport> RunChecks(Store* store, Clock* clock, const CheckOptions& options);

// Appends the report to check_results.
Status RecordCheckResults(Store* store, const CheckReport& report);

}  // namespace propgrade

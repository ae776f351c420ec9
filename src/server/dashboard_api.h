// The JSON the dashboard draws from (`GET /api/...`, spec/operations.md §4). Windows of `days`
// count back from the latest graded date (performance, calibration, duplicates) or from now
// (lock waits). Rates are fractions (0.537), times ISO-8601 UTC text unless named `at` in a
// chart series (Unix seconds). Every function reads only; thread-safe when its sources are.
#pragma once

#include <string>

#include "common/clock.h"
#include "common/status.h"
#include "lock/lock_service.h"
#include "safety/circuit_breaker.h"
#include "store/store.h"

namespace propgrade::server {

// {"latest_date", "generated_at", "systems": [...], "dates": n, "store", "lock"}
StatusOr<std::string> SummaryJson(Store* store, std::string_view lock_backend, Clock* clock);
// {"dates": [...], "systems": [{"system_id", "win_rate": [...], "mae": [...]}]} (null gaps)
StatusOr<std::string> PerformanceJson(Store* store, int days);
// {"systems": [{"system_id", "deciles", "hit_rate", "decided", "mean_confidence"}]}
StatusOr<std::string> CalibrationJson(Store* store, int days);
// {"dates": [...], "duplicate_rows": [...], "audit_groups": [...]} from duplicate_audit
StatusOr<std::string> DuplicatesJson(Store* store, int days);
// {"points": [{"at", "wait_seconds", "processor"}]}: each run step's lock wait
StatusOr<std::string> LockWaitsJson(Store* store, Clock* clock, int days);
// {"locks": [{"key", "holder_id", "token", "held_seconds", "expires_in_seconds"}]}
StatusOr<std::string> LocksJson(LockService* locks, Clock* clock);
// {"runs": [...]}: the newest `limit` run steps of grading_runs
StatusOr<std::string> RunsJson(Store* store, int limit);
// {"alerts": [...]}: the newest `limit` alerts
StatusOr<std::string> AlertsJson(Store* store, int limit);
// {"tables": [{"name", "processor", "partition_column", "partitions", "newest_partition",
// "newest_rows", "last_written_at", "last_run": {"status", "partition", "finished_at"} | null,
// "duplicate_rows_7d"}]}: the declared tables ([tables.NAME]), by name
StatusOr<std::string> TablesJson(Store* store, Clock* clock);
// {"table": "prediction_accuracy", "partitions": [{"partition", "rows_now", "writes": [{"run_id",
// "kind", "written_at", "rows_before", "rows_after", "keys_added", "keys_removed",
// "keys_changed"}] (oldest first)}], "refused": [{"run_id", "partition", "status",
// "started_at", "error", "rows_before", "keys_removed", "player_coverage", "game_coverage"}]}:
// the kept writes of the newest `dates` graded partitions, and the runs a guard refused on
// them (newest first)
StatusOr<std::string> HistoryJson(Store* store, int dates);
// {"breakers": [{"name", "state", "consecutive_failures", "opened_at"}]}
StatusOr<std::string> BreakersJson(CircuitBreaker* breaker);

}  // namespace propgrade::server

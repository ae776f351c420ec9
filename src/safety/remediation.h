// Remediation: removes surplus duplicate-key rows by moving them, whole, into
// remediation_quarantine (never destroying them), in one transaction, then verifies that no
// duplicate is left. Which row of a key stays (spec/operations.md §2 `dedupe`):
// prediction_accuracy the earliest graded_at; player_prop_predictions the latest created_at,
// then the greatest prediction_id (grading.md §2); the aggregates the latest computed_at;
// --keep earliest|latest overrides the time column's direction; ties go to storage order.
// Thread-safe when the Store is.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "schema/schema.h"
#include "store/store.h"

namespace propgrade {

// When a post-write check finds duplicates, remediate automatically? (operations.md §3)
struct RemediationPolicy {
  bool auto_remediate = true;  // key `auto`. Default: true
  int64_t max_rows = 1000;     // only when 0 < surplus rows < max_rows. Default: 1000
};

enum class KeepPolicy { kDefault, kEarliest, kLatest };

struct RemediationOptions {
  KeepPolicy keep = KeepPolicy::kDefault;
  bool dry_run = false;
  std::string reason = "duplicate key";
  std::string run_id;
};

struct RemediationResult {
  int64_t rows_scanned = 0;
  int64_t duplicate_groups = 0;  // before
  int64_t moved = 0;             // rows quarantined (or that would be, on a dry run)
  int64_t remaining_duplicate_rows = 0;  // after; 0 when verified clean
  std::vector<std::string> partitions;
};

// Rows of `table` grouped by business key (schema BusinessKey): each group with more than one
// row, as indexes into `rows`.
std::vector<std::vector<size_t>> DuplicateGroups(const TableDef& table, const std::vector<Row>& rows);

// The tables `dedupe` works on: those with a winner rule.
bool DedupeSupported(const TableDef& table);
// InvalidArgument naming the supported tables of `catalogue` unless `table` (nullptr: unknown
// `name`) is one.
Status CheckDedupeSupported(const Catalogue& catalogue, const TableDef* table,
                            std::string_view name);

StatusOr<RemediationResult> RemoveDuplicates(Store* store, const TableDef& table,
                                             const std::optional<std::string>& partition,
                                             const RemediationOptions& options);

// Staging batches (prediction_staging) that no consolidation consumed.
// Batches staged more than `max_age_micros` ago and never consumed.
struct OrphanReport {
  int64_t rows = 0;
  std::vector<std::string> batches;
};
StatusOr<OrphanReport> FindOrphanedBatches(Store* store, Clock* clock, int64_t max_age_micros);
// Moves them into remediation_quarantine (one transaction).
StatusOr<OrphanReport> CleanupOrphanedBatches(Store* store, Clock* clock, int64_t max_age_micros,
                                              const std::string& run_id);

}  // namespace propgrade

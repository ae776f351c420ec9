#include "safety/remediation.h"

#include <map>
#include <set>

#include "common/civil_date.h"
#include "common/value_text.h"
#include "store/ledgers.h"

namespace propgrade {

namespace {

// Groups row indexes by business key, in scan order.
std::map<std::string, std::vector<size_t>> Groups(const TableDef& t, const std::vector<Row>& rows) {
  const BusinessKey key(t);
  std::map<std::string, std::vector<size_t>> groups;
  for (size_t i = 0; i < rows.size(); ++i) groups[key.Of(rows[i])].push_back(i);
  return groups;
}

}  // namespace

std::vector<std::vector<size_t>> DuplicateGroups(const TableDef& t, const std::vector<Row>& rows) {
  std::vector<std::vector<size_t>> out;
  for (auto& [key, members] : Groups(t, rows)) {
    if (members.size() > 1) out.push_back(std::move(members));
  }
  return out;
}

bool DedupeSupported(const TableDef& t) { return t.winner.has_value(); }

Status CheckDedupeSupported(const Catalogue& catalogue, const TableDef* table,
                            std::string_view name) {
  if (table && DedupeSupported(*table)) return OkStatus();
  std::string supported;
  for (const TableDef* t : catalogue.tables()) {
    if (!DedupeSupported(*t)) continue;
    supported += (supported.empty() ? "" : ", ") + t->name;
  }
  return InvalidArgumentError(
      "dedupe works on " + supported + ", not " + std::string(name) +
      " (a table whose duplicates have no rule for which row stays; a declared table "
      "needs keep = { column, wins })");
}

StatusOr<RemediationResult> RemoveDuplicates(Store* store, const TableDef& table,
                                             const std::optional<std::string>& partition,
                                             const RemediationOptions& options) {
  RETURN_IF_ERROR(CheckDedupeSupported(store->catalogue(), &table, table.name));
  RemediationResult result;
  DedupeRequest request;
  request.table = &table;
  request.partition = partition;
  request.reason = options.reason;
  request.run_id = options.run_id;
  request.dry_run = options.dry_run;
  request.choose_surplus = [&](const std::vector<Row>& rows) {
    std::vector<size_t> surplus;
    for (const auto& [key, members] : Groups(table, rows)) {
      if (members.size() < 2) continue;
      ++result.duplicate_groups;
      std::optional<bool> latest;
      if (options.keep != KeepPolicy::kDefault) latest = options.keep == KeepPolicy::kLatest;
      size_t keep = members[0];
      for (size_t i : members) {
        if (Newer(*table.winner, table, rows[i], rows[keep], latest)) keep = i;
      }
      for (size_t i : members) {
        if (i != keep) surplus.push_back(i);
      }
    }
    return surplus;
  };
  ASSIGN_OR_RETURN(DedupeResult done, store->quarantine().Dedupe(request));
  result.rows_scanned = done.rows_scanned;
  result.moved = done.moved;
  result.partitions = done.partitions;
  if (options.dry_run) {
    result.remaining_duplicate_rows = result.moved;
    return result;
  }
  // Verify: read again and count what is left.
  std::vector<Row> rows;
  ScanSpec spec;
  spec.partition = partition;
  RETURN_IF_ERROR(store->Scan(table, spec, [&](Row&& r) {
    rows.push_back(std::move(r));
    return OkStatus();
  }));
  for (const auto& [key, members] : Groups(table, rows)) {
    result.remaining_duplicate_rows += static_cast<int64_t>(members.size()) - 1;
  }
  return result;
}

StatusOr<OrphanReport> FindOrphanedBatches(Store* store, Clock* clock, int64_t max_age_micros) {
  OrphanReport report;
  ScanSpec spec;
  spec.range_column = "staged_at";
  spec.partition_to = FormatTimestampMicros(clock->NowMicros() - max_age_micros);
  spec.columns = {"batch_id"};
  std::set<std::string> batches;
  RETURN_IF_ERROR(store->Scan(tables::Staging(), spec, [&](Row&& r) {
    ++report.rows;
    batches.insert(r[0].as_text());
    return OkStatus();
  }));
  report.batches.assign(batches.begin(), batches.end());
  return report;
}

StatusOr<OrphanReport> CleanupOrphanedBatches(Store* store, Clock* clock, int64_t max_age_micros,
                                              const std::string& run_id) {
  OrphanReport report;
  const std::string cutoff = FormatTimestampMicros(clock->NowMicros() - max_age_micros);
  std::set<std::string> batches;
  DedupeRequest request;
  request.table = &tables::Staging();
  request.reason = "orphaned staging batch (staged before " + cutoff + ", never consolidated)";
  request.run_id = run_id;
  request.choose_surplus = [&](const std::vector<Row>& rows) {
    std::vector<size_t> old;
    for (size_t i = 0; i < rows.size(); ++i) {
      if (FormatCell(rows[i][stage::staged_at]) < cutoff) {
        old.push_back(i);
        batches.insert(FormatCell(rows[i][stage::batch_id]));
      }
    }
    return old;
  };
  ASSIGN_OR_RETURN(DedupeResult done, store->quarantine().Dedupe(request));
  report.rows = done.moved;
  report.batches.assign(batches.begin(), batches.end());
  return report;
}

}  // namespace propgrade

#include "safety/remediation.h"

#include <map>

#include "common/value_text.h"
#include "grading/rules.h"

namespace propgrade {

namespace {

// The duplicate key of a row: the table's key, or grading.md §2's business key for
// predictions (line rounded to 2 places, NULL lines equal).
std::string GroupKey(const TableDef& t, const Row& r) {
  std::string key;
  if (&t == &tables::Predictions()) {
    for (int c : {pred::game_date, pred::player_lookup, pred::game_id, pred::system_id}) {
      key += FormatCell(r[c]) + '\x1f';
    }
    auto line = r[pred::line_value].ToReal();
    key += line ? FormatCell(Value::Real(grading::RoundHalfAway(*line, 2))) : "\x1eNULL";
    return key;
  }
  for (int c : t.KeyIndexes()) key += (r[c].is_null() ? "\x1eNULL" : FormatCell(r[c])) + '\x1f';
  return key;
}

// Groups row indexes by key, in scan order.
std::map<std::string, std::vector<size_t>> Groups(const TableDef& t, const std::vector<Row>& rows) {
  std::map<std::string, std::vector<size_t>> groups;
  for (size_t i = 0; i < rows.size(); ++i) groups[GroupKey(t, rows[i])].push_back(i);
  return groups;
}

// Whether row a should stay rather than row b (b comes later in storage order).
bool Better(const TableDef& t, const Row& a, const Row& b, KeepPolicy keep) {
  int time_col = &t == &tables::Accuracy()           ? int{acc::graded_at}
                 : &t == &tables::Predictions()      ? int{pred::created_at}
                 : &t == &tables::DailyPerformance() ? int{daily::computed_at}
                                                     : int{summ::computed_at};
  bool latest = keep == KeepPolicy::kLatest ||
                (keep == KeepPolicy::kDefault && &t != &tables::Accuracy());
  std::string ta = FormatCell(a[time_col]), tb = FormatCell(b[time_col]);
  if (ta != tb) return latest ? ta > tb : ta < tb;
  if (&t == &tables::Predictions() && keep == KeepPolicy::kDefault) {
    return FormatCell(a[pred::prediction_id]) >= FormatCell(b[pred::prediction_id]);
  }
  return true;  // storage order: the earlier row stays
}

}  // namespace

std::vector<std::vector<size_t>> DuplicateGroups(const TableDef& t, const std::vector<Row>& rows) {
  std::vector<std::vector<size_t>> out;
  for (auto& [key, members] : Groups(t, rows)) {
    if (members.size() > 1) out.push_back(std::move(members));
  }
  return out;
}

bool DedupeSupported(const TableDef& t) {
  return &t == &tables::Accuracy() || &t == &tables::Predictions() ||
         &t == &tables::DailyPerformance() || &t == &tables::Summary();
}

StatusOr<RemediationResult> RemoveDuplicates(Store* store, const TableDef& table,
                                             const std::optional<std::string>& partition,
                                             const RemediationOptions& options) {
  if (!DedupeSupported(table)) {
    return InvalidArgumentError(
        "dedupe works on prediction_accuracy, system_daily_performance, "
        "prediction_performance_summary and player_prop_predictions, not " + table.name);
  }
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
      size_t keep = members[0];
      for (size_t i : members) {
        if (!Better(table, rows[keep], rows[i], options.keep)) keep = i;
      }
      for (size_t i : members) {
        if (i != keep) surplus.push_back(i);
      }
    }
    return surplus;
  };
  ASSIGN_OR_RETURN(DedupeResult done, store->Dedupe(request));
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

}  // namespace propgrade

#include "store/store.h"

#include <algorithm>

#include "common/civil_date.h"
#include "common/value_text.h"
#include "db/sqlite_conn.h"
#include "store/postgres/postgres_store.h"
#include "store/row_codec.h"
#include "store/sqlite/sqlite_store.h"

namespace propgrade {

Status NoSuchDatabaseError(std::string_view display_name) {
  return NotFoundError("no such database: " + std::string(display_name) +
                       " (run `propgrade init` or check --db)");
}

StatusOr<std::unique_ptr<Store>> Store::Open(const std::string& url, const StoreOptions& options) {
  if (url.rfind("sqlite:", 0) == 0) {
    ASSIGN_OR_RETURN(std::string path, SqlitePathOf(url));
    return OpenSqliteStore(path, options);
  }
  if (IsPostgresUrl(url)) {
    return OpenPostgresStore(url, options);
  }
  return InvalidArgumentError(
      "unknown database URL scheme (expected sqlite:PATH or postgresql://user:pass@host/db)");
}

StatusOr<int64_t> Store::CountPartitionRows(const TableDef& table, std::string_view partition) {
  ScanSpec spec;
  spec.partition = std::string(partition);
  spec.columns = {table.partition_column};
  int64_t n = 0;
  RETURN_IF_ERROR(Scan(table, spec, [&](Row&&) {
    ++n;
    return OkStatus();
  }));
  return n;
}

StatusOr<std::string> Store::LastChangedAt(const TableDef& table) {
  ScanSpec spec;
  spec.range_column = "table_name";
  spec.partition = table.name;
  spec.columns = {"changed_at"};
  std::string newest;
  RETURN_IF_ERROR(Scan(tables::PartitionVersions(), spec, [&](Row&& r) {
    newest = std::max(newest, r[0].ToText().value_or(""));
    return OkStatus();
  }));
  return newest;
}

StatusOr<std::vector<HistoryEntry>> Store::ReadHistory(const TableDef& table,
                                                       std::string_view partition) {
  ScanSpec spec;
  spec.partition = table.name + "/" + std::string(partition);
  std::vector<HistoryEntry> out;
  RETURN_IF_ERROR(Scan(tables::HistoryEntries(), spec, [&](Row&& r) {
    HistoryEntry e;
    e.id = r[hist::id].ToInt().value_or(0);
    e.run_id = FormatCell(r[hist::run_id]);
    e.kind = FormatCell(r[hist::kind]);
    e.written_at = FormatCell(r[hist::written_at]);
    e.lock_namespace = FormatCell(r[hist::lock_namespace]);
    e.fence_token = r[hist::fence_token].ToInt();
    e.rows_before = r[hist::rows_before].ToInt().value_or(0);
    e.rows_after = r[hist::rows_after].ToInt().value_or(0);
    e.keys_added = r[hist::keys_added].ToInt().value_or(0);
    e.keys_removed = r[hist::keys_removed].ToInt().value_or(0);
    e.keys_changed = r[hist::keys_changed].ToInt().value_or(0);
    e.rows_kept = FormatCell(r[hist::codec]) == kSameRowsCodec;
    out.push_back(std::move(e));
    return OkStatus();
  }));
  std::sort(out.begin(), out.end(),
            [](const HistoryEntry& a, const HistoryEntry& b) { return a.id < b.id; });
  return out;
}

StatusOr<std::vector<Row>> Store::ReadReplacedRows(const TableDef& table, int64_t entry_id) {
  ScanSpec spec;
  spec.range_column = "id";
  spec.partition = std::to_string(entry_id);
  std::optional<std::string> text;
  RETURN_IF_ERROR(Scan(tables::History(), spec, [&](Row&& r) {
    if (FormatCell(r[hist::table_name]) != table.name) {
      return InvalidArgumentError("history entry " + std::to_string(entry_id) + " is of " +
                                  FormatCell(r[hist::table_name]) + ", not " + table.name);
    }
    text = FormatCell(r[hist::replaced_rows]);
    return OkStatus();
  }));
  if (!text) return NotFoundError("no history entry " + std::to_string(entry_id));
  ASSIGN_OR_RETURN(std::vector<Row> rows, DecodeRows(table, *text));
  SortRowsByKey(table, &rows);
  return rows;
}

StatusOr<std::vector<Row>> Store::RowsAfterEntry(const TableDef& table, std::string_view partition,
                                                 const std::vector<HistoryEntry>& entries,
                                                 size_t index) {
  for (size_t next = index + 1; next < entries.size(); ++next) {
    if (!entries[next].rows_kept) return ReadReplacedRows(table, entries[next].id);
  }
  ASSIGN_OR_RETURN(std::vector<Row> rows, ReadPartition(table, partition));
  SortRowsByKey(table, &rows);
  return rows;
}

namespace {

// The index of the newest entry of `run_id`; NotFound naming the partition when none.
StatusOr<size_t> EntryOf(const std::vector<HistoryEntry>& entries, const TableDef& table,
                         std::string_view partition, const std::string& run_id) {
  for (size_t i = entries.size(); i-- > 0;) {
    if (entries[i].run_id == run_id) return i;
  }
  return NotFoundError("no kept write of run " + run_id + " in " + table.name + " partition " +
                       std::string(partition) + " (`propgrade history " + table.name +
                       " --partition " + std::string(partition) + "` lists the kept runs)");
}

}  // namespace

StatusOr<std::vector<Row>> Store::RowsWrittenBy(const TableDef& table, std::string_view partition,
                                                const std::string& run_id) {
  ASSIGN_OR_RETURN(std::vector<HistoryEntry> entries, ReadHistory(table, partition));
  ASSIGN_OR_RETURN(size_t i, EntryOf(entries, table, partition, run_id));
  return RowsAfterEntry(table, partition, entries, i);
}

StatusOr<std::vector<Row>> Store::RowsFoundBy(const TableDef& table, std::string_view partition,
                                              const std::string& run_id) {
  ASSIGN_OR_RETURN(std::vector<HistoryEntry> entries, ReadHistory(table, partition));
  ASSIGN_OR_RETURN(size_t i, EntryOf(entries, table, partition, run_id));
  // A write that kept the rows found those it left.
  if (entries[i].rows_kept) return RowsAfterEntry(table, partition, entries, i);
  return ReadReplacedRows(table, entries[i].id);
}

StatusOr<std::vector<Row>> Store::ReadPartition(const TableDef& table, std::string_view partition) {
  std::vector<Row> rows;
  ScanSpec spec;
  spec.partition = std::string(partition);
  RETURN_IF_ERROR(Scan(table, spec, [&](Row&& r) {
    rows.push_back(std::move(r));
    return OkStatus();
  }));
  return rows;
}

Status Store::PrepareRows(const TableDef& t, std::string_view partition, std::vector<Row>* rows) {
  int part = t.PartitionIndex();
  if (part < 0) return InvalidArgumentError("table " + t.name + " has no partitions");
  for (const Row& r : *rows) {
    if (r.size() != t.columns.size() || !r[part].is_text() || r[part].as_text() != partition) {
      return InvalidArgumentError("a row given for " + t.name + " partition " +
                                  std::string(partition) + " belongs elsewhere");
    }
  }
  SortRowsByKey(t, rows);
  return OkStatus();
}

StatusOr<std::vector<int>> Store::ScanColumns(const TableDef& t, const ScanSpec& spec) {
  if ((spec.partition || spec.partition_from || spec.partition_to) &&
      t.ColumnIndex(spec.RangeColumn(t)) < 0) {
    return InvalidArgumentError("table " + t.name + " has no partitions");
  }
  std::vector<int> cols;
  if (spec.columns.empty()) {
    for (size_t i = 0; i < t.columns.size(); ++i) cols.push_back(static_cast<int>(i));
    return cols;
  }
  for (const auto& name : spec.columns) {
    int i = t.ColumnIndex(name);
    if (i < 0) return InvalidArgumentError("table " + t.name + " has no column " + name);
    cols.push_back(i);
  }
  return cols;
}

Status Store::CannotEnforceUniqueKeys(const TableDef& t) {
  return FailedPreconditionError("cannot enforce unique keys on " + t.name +
                                 ": it holds duplicate keys; run `propgrade dedupe --table " +
                                 t.name + "` with enforce_unique_keys = false first");
}

Status Store::CheckImportColumns(const TableDef& t, const std::vector<int>& columns) {
  for (int c : columns) {
    if (c < 0 || static_cast<size_t>(c) >= t.columns.size()) {
      return InvalidArgumentError("import into " + t.name + ": no column at index " +
                                  std::to_string(c));
    }
  }
  return OkStatus();
}

Row Store::QuarantineRow(const TableDef& t, const Row& row, const std::string& reason,
                         const std::string& run_id, int64_t now_micros) {
  std::vector<std::string> names;
  for (const ColumnDef& c : t.columns) names.push_back(c.name);
  Row q(quar::kNumColumns);
  q[quar::quarantined_at] = Value::Text(FormatTimestampMicros(now_micros));
  q[quar::table_name] = Value::Text(t.name);
  int part = t.PartitionIndex();
  if (part >= 0) q[quar::partition] = row[part];
  q[quar::reason] = Value::Text(reason);
  if (!run_id.empty()) q[quar::run_id] = Value::Text(run_id);
  q[quar::row_json] = Value::Text(JsonObject(names, row));
  return q;
}

Status Store::Append(const TableDef& table, const std::vector<Row>& rows) {
  return Import(table, rows, {}, table.name, ImportMode::kInsert).status();
}

namespace {

// NULL < bool/int/real (numerically) < text.
int CompareValues(const Value& a, const Value& b) {
  auto rank = [](const Value& v) { return v.is_null() ? 0 : v.is_text() ? 2 : 1; };
  int ra = rank(a), rb = rank(b);
  if (ra != rb) return ra < rb ? -1 : 1;
  if (ra == 0) return 0;
  if (ra == 2) return a.as_text().compare(b.as_text());
  double x = *a.ToReal(), y = *b.ToReal();
  if (a.is_bool()) x = a.as_bool();
  if (b.is_bool()) y = b.as_bool();
  return x < y ? -1 : x > y ? 1 : 0;
}

}  // namespace

void SortRowsByKey(const TableDef& table, std::vector<Row>* rows) {
  std::vector<int> key = table.KeyIndexes();
  auto less = [&](const Row& a, const Row& b) {
    for (int k : key) {
      int c = CompareValues(a[k], b[k]);
      if (c) return c < 0;
    }
    return false;
  };
  if (std::is_sorted(rows->begin(), rows->end(), less)) return;  // graded rows come sorted
  std::stable_sort(rows->begin(), rows->end(), less);
}

}  // namespace propgrade

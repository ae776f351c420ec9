#include "store/fenced_store.h"

#include <algorithm>

#include "common/civil_date.h"
#include "common/decimal.h"
#include "common/strings.h"
#include "common/value_text.h"
#include "schema/row_diff.h"
#include "store/row_codec.h"

namespace propgrade {

namespace {

Status FencedOutError(const TableDef& t, std::string_view partition, int64_t stored,
                      int64_t incoming) {
  return AbortedError("fenced out: " + t.name + " partition " + std::string(partition) +
                          " already holds fence token " + std::to_string(stored) +
                          " > this writer's " + std::to_string(incoming),
                      StatusReason::kFencedOut);
}

// One input's versions read inside the write transaction (`now`) against those the writer read
// its rows under; InputsChanged naming the first partition that differs.
Status CompareInputVersions(const InputVersions& input, const VersionMap& now) {
  if (input.versions == now) return OkStatus();
  auto text = [](const VersionMap& m, const std::string& p) {
    auto it = m.find(p);
    return it == m.end() ? std::string("none") : std::to_string(it->second);
  };
  std::string partition;
  for (const auto* m : {&input.versions, &now}) {
    for (const auto& [p, v] : *m) {
      if (text(input.versions, p) != text(now, p) && (partition.empty() || p < partition)) {
        partition = p;
      }
    }
  }
  return AbortedError("inputs changed: " + input.table->name +
                          (partition.empty() ? "" : " partition " + partition) +
                          " was rewritten after this run read it (version " +
                          text(input.versions, partition) + " read, " + text(now, partition) +
                          " now); nothing was written",
                      StatusReason::kInputsChanged);
}

}  // namespace

FencedStore::FencedStore(StoreOptions options) : options_(std::move(options)) {
  if (!options_.clock) options_.clock = &RealClock();
}

Status FencedStore::CheckFence(const TableDef& t, std::string_view partition,
                               const WriteSpec& spec) {
  if (!spec.fence_token || options_.TEST_skip_fence_check) return OkStatus();
  ASSIGN_OR_RETURN(auto stored, ReadFenceToken(spec.lock_namespace, t.name, partition));
  if (stored && *stored > *spec.fence_token) {
    return FencedOutError(t, partition, *stored, *spec.fence_token);
  }
  return OkStatus();
}

Status FencedStore::CheckInputs(const WriteSpec& spec) {
  for (const InputVersions& input : spec.inputs) {
    ASSIGN_OR_RETURN(VersionMap now, ReadVersions(input.table->name, input.from, input.to));
    RETURN_IF_ERROR(CompareInputVersions(input, now));
  }
  return OkStatus();
}

Status FencedStore::FencedWrite(const TableDef& t, std::string_view partition,
                                const WriteSpec& spec, const std::vector<PartitionRef>& also,
                                const std::function<Status()>& body, bool finish) {
  RETURN_IF_ERROR(BeginWrite(t, partition, spec.inputs, also));
  Status s = [&]() -> Status {
    RETURN_IF_ERROR(CheckFence(t, partition, spec));
    RETURN_IF_ERROR(CheckInputs(spec));
    RETURN_IF_ERROR(body());
    RETURN_IF_ERROR(
        WriteFenceToken(spec.lock_namespace, t.name, partition, spec.fence_token, spec.run_id));
    RETURN_IF_ERROR(BumpVersion(t, partition, spec.run_id));
    if (!finish) return OkStatus();
    if (spec.run_record) RETURN_IF_ERROR(UpsertRunRow(*spec.run_record));
    if (spec.before_commit) RETURN_IF_ERROR(spec.before_commit());
    return OkStatus();
  }();
  if (s.ok()) s = CommitWrite();
  if (!s.ok()) RollbackWrite();
  return s;
}

namespace {

// Row lineage: the token of the write goes into a table's fence_token stamp column, except
// for a rollback, whose rows keep the lineage of the write that made them.
void StampFenceToken(const TableDef& t, const WriteSpec& spec, std::vector<Row>* rows) {
  if (spec.history_kind == "rollback" || std::find(t.stamp_columns.begin(), t.stamp_columns.end(),
                                                   "fence_token") == t.stamp_columns.end()) {
    return;
  }
  const int column = t.ColumnIndex("fence_token");
  if (column < 0) return;
  const Value token = Value::OptInt(spec.fence_token);
  for (Row& r : *rows) r[column] = token;
}

}  // namespace

Status FencedStore::Replace(const TableDef& t, std::string_view partition,
                            const std::vector<Row>& before, std::vector<Row>& rows,
                            const WriteSpec& spec, WriteResult* result) {
  StampFenceToken(t, spec, &rows);
  const PartitionDiff diff = DiffRows(t, before, rows, /*detail=*/false);
  result->rows_before = diff.rows_before;
  result->rows_after = diff.rows_before;
  result->keys_added = diff.keys_added;
  result->keys_removed = diff.keys_removed;
  result->keys_changed = diff.keys_changed;
  if (spec.counts) *spec.counts = *result;
  if (spec.max_shrink_ratio && ShrinksBeyond(diff, *spec.max_shrink_ratio)) {
    return AbortedError(
        "shrink refused: " + t.name + " partition " + std::string(partition) + " would lose " +
            std::to_string(diff.keys_removed) + " of its " + std::to_string(diff.keys_before) +
            " keys (" +
            FormatDouble(RoundHalfAway(100.0 * diff.keys_removed / diff.keys_before, 1)) +
            "%; max_shrink_ratio " + FormatDouble(*spec.max_shrink_ratio) +
            "); nothing was written. `propgrade diff` shows the keys; --allow-shrink writes anyway",
        StatusReason::kShrinkRefused);
  }
  result->rows_written = result->rows_after = static_cast<int64_t>(rows.size());
  // Nothing but stamps would change (a re-grade of unchanged inputs): the rows stay.
  result->rows_kept = diff.keys_added == 0 && diff.keys_removed == 0 && diff.keys_changed == 0 &&
                      diff.rows_before == diff.rows_after;
  if (!result->rows_kept) {
    ASSIGN_OR_RETURN(result->rows_deleted, DeletePartitionRows(t, partition));
    RETURN_IF_ERROR(InsertRows(t, rows));
  }
  if (spec.counts) *spec.counts = *result;
  return RecordHistory(t, partition, before, spec, *result);
}

Status FencedStore::RecordHistory(const TableDef& t, std::string_view partition,
                                  const std::vector<Row>& before, const WriteSpec& spec,
                                  const WriteResult& result) {
  if (spec.history_keep_runs <= 0) return OkStatus();
  const std::string subject = t.name + "/" + std::string(partition);
  const int64_t now = options_.clock->NowMicros();
  Row h(hist::kNumColumns);
  h[hist::subject] = Value::Text(subject);
  h[hist::table_name] = Value::Text(t.name);
  h[hist::partition] = Value::Text(std::string(partition));
  h[hist::run_id] = Value::Text(spec.run_id);
  h[hist::kind] = Value::Text(spec.history_kind);
  h[hist::fence_token] = Value::OptInt(spec.fence_token);
  h[hist::lock_namespace] = Value::Text(spec.lock_namespace);
  h[hist::written_at] = Value::Text(FormatTimestampMicros(now));
  h[hist::rows_before] = Value::Int(result.rows_before);
  h[hist::rows_after] = Value::Int(result.rows_written);
  h[hist::keys_added] = Value::Int(result.keys_added);
  h[hist::keys_removed] = Value::Int(result.keys_removed);
  h[hist::keys_changed] = Value::Int(result.keys_changed);
  if (result.rows_kept) {
    h[hist::codec] = Value::Text(kSameRowsCodec);  // the rows it left are those it found
  } else {
    h[hist::codec] = Value::Text(kRowCodecName);
    h[hist::replaced_rows] = Value::Text(EncodeRows(before));
  }
  RETURN_IF_ERROR(InsertRows(tables::History(), {h}));
  // Retention: the newest history_keep_runs entries of the partition, none older than
  // history_keep_days.
  ASSIGN_OR_RETURN(std::vector<Row> entries,
                   ReadRowsWhere(tables::HistoryEntries(), "subject", subject));
  std::sort(entries.begin(), entries.end(),
            [](const Row& a, const Row& b) { return a[hist::id].as_int() > b[hist::id].as_int(); });
  const std::string oldest =
      spec.history_keep_days > 0
          ? FormatTimestampMicros(now - static_cast<int64_t>(spec.history_keep_days * 86400e6))
          : std::string();
  std::vector<Row> drop;
  for (size_t i = 0; i < entries.size(); ++i) {
    if (i >= static_cast<size_t>(spec.history_keep_runs) ||
        (!oldest.empty() && FormatCell(entries[i][hist::written_at]) < oldest)) {
      drop.push_back({entries[i][hist::id]});
    }
  }
  if (drop.empty()) return OkStatus();
  return DeleteKeys(tables::History(), {hist::id}, drop).status();
}

StatusOr<WriteResult> FencedStore::ReplacePartition(const TableDef& t, std::string_view partition,
                                                    std::vector<Row> rows,
                                                    const WriteSpec& spec) {
  std::lock_guard<std::mutex> lock(mu_);
  RETURN_IF_ERROR(PrepareRows(t, partition, &rows));
  if (options_.TEST_lose_a_row && !rows.empty()) rows.pop_back();
  WriteResult result;
  auto remove = [&]() -> Status {
    ASSIGN_OR_RETURN(result.rows_deleted, DeletePartitionRows(t, partition));
    return OkStatus();
  };
  auto insert = [&]() -> Status {
    RETURN_IF_ERROR(InsertRows(t, rows));
    result.rows_written = static_cast<int64_t>(rows.size());
    return OkStatus();
  };
  if (!options_.TEST_non_atomic_replace) {
    RETURN_IF_ERROR(FencedWrite(t, partition, spec, {}, [&]() -> Status {
      ASSIGN_OR_RETURN(std::vector<Row> before, ReadRowsWhere(t, t.partition_column, partition));
      return Replace(t, partition, before, rows, spec, &result);
    }));
    return result;
  }
  // TEST_non_atomic_replace: the legacy job's delete and insert, as two transactions with a
  // gap between them (R4 shows the duplicates this lets in).
  RETURN_IF_ERROR(FencedWrite(t, partition, spec, {}, remove, /*finish=*/false));
  options_.clock->SleepMicros(options_.TEST_non_atomic_gap_micros);
  WriteSpec second = spec;
  second.inputs.clear();
  RETURN_IF_ERROR(FencedWrite(t, partition, second, {}, insert));
  return result;
}

StatusOr<WriteResult> FencedStore::ReplacePartitionFromQuery(const TableDef& t,
                                                             std::string_view partition,
                                                             const std::string& select_sql,
                                                             const QueryRowsParser& parse,
                                                             const WriteSpec& spec) {
  std::lock_guard<std::mutex> lock(mu_);
  WriteResult result;
  Status s = FencedWrite(t, partition, spec, {}, [&]() -> Status {
    ASSIGN_OR_RETURN(std::string jsonl, QueryAsJsonLines(select_sql, partition));
    ASSIGN_OR_RETURN(std::vector<Row> rows, parse(jsonl));
    RETURN_IF_ERROR(PrepareRows(t, partition, &rows));
    ASSIGN_OR_RETURN(std::vector<Row> current, ReadRowsWhere(t, t.partition_column, partition));
    SortRowsByKey(t, &current);
    if (rows == current) {
      result.unchanged = true;
      result.rows_before = static_cast<int64_t>(current.size());
      return AbortedError("unchanged");  // rolls the transaction back
    }
    return Replace(t, partition, current, rows, spec, &result);
  });
  if (result.unchanged) {
    WriteResult unchanged;
    unchanged.unchanged = true;
    unchanged.rows_before = result.rows_before;
    return unchanged;
  }
  if (s.code() == StatusCode::kInvalidArgument && s.reason() == StatusReason::kNone) {
    return Status(s.code(), s.message(), StatusReason::kBadInput);  // the query or its rows
  }
  RETURN_IF_ERROR(s);
  return result;
}

StatusOr<WriteResult> FencedStore::RestoreRows(const TableDef& t, std::string_view partition,
                                               std::vector<Row> rows,
                                               const std::vector<int64_t>& quarantine_ids,
                                               const WriteSpec& spec) {
  std::lock_guard<std::mutex> lock(mu_);
  RETURN_IF_ERROR(PrepareRows(t, partition, &rows));
  RETURN_IF_ERROR(FencedWrite(t, partition, spec, {}, [&]() -> Status {
    Status inserted = InsertRows(t, rows);
    if (inserted.code() == StatusCode::kAlreadyExists) {
      return AlreadyExistsError(t.name + " " + std::string(partition) +
                                ": a restored row's key is held by a stored row while unique "
                                "keys are enforced");
    }
    RETURN_IF_ERROR(inserted);
    std::vector<Row> ids;
    for (int64_t id : quarantine_ids) ids.push_back({Value::Int(id)});
    ASSIGN_OR_RETURN(int64_t released, DeleteKeys(tables::Quarantine(), {quar::id}, ids));
    if (released != static_cast<int64_t>(ids.size())) {
      return AbortedError("a quarantined row is no longer in remediation_quarantine "
                          "(restored already?)");
    }
    return OkStatus();
  }));
  WriteResult result;
  result.rows_written = static_cast<int64_t>(rows.size());
  return result;
}

StatusOr<ConsolidationResult> FencedStore::Consolidate(std::string_view date,
                                                       const ConsolidationPlanner& planner,
                                                       const WriteSpec& spec) {
  std::lock_guard<std::mutex> lock(mu_);
  const TableDef& preds = tables::Predictions();
  const TableDef& staging = tables::Staging();
  ConsolidationResult out;
  // Holding the date's staging keeps a batch staged meanwhile out of the rows read here.
  RETURN_IF_ERROR(FencedWrite(preds, date, spec, {{&staging, date}}, [&]() -> Status {
    ASSIGN_OR_RETURN(std::vector<Row> staged,
                     ReadRowsWhere(staging, staging.partition_column, date));
    ASSIGN_OR_RETURN(std::vector<Row> stored, ReadRowsWhere(preds, preds.partition_column, date));
    std::vector<std::string> ids;
    std::vector<Row> consumed;  // (batch_id, prediction_id) of every staged row read
    for (const Row& r : staged) {
      ids.push_back(FormatCell(r[stage::kPred + int{pred::prediction_id}]));
      consumed.push_back({r[stage::batch_id], r[stage::kPred + int{pred::prediction_id}]});
    }
    ASSIGN_OR_RETURN(auto elsewhere, PartitionsElsewhere(preds, pred::prediction_id, ids, date));
    ConsolidationPlan plan = planner(staged, stored, elsewhere);
    std::vector<Row> deleted;
    for (const std::string& id : plan.delete_ids) deleted.push_back({Value::Text(id)});
    ASSIGN_OR_RETURN(out.deleted, DeleteKeys(preds, {pred::prediction_id}, deleted));
    RETURN_IF_ERROR(InsertRows(preds, plan.insert));
    out.inserted = static_cast<int64_t>(plan.insert.size());
    std::vector<Row> quarantined;
    for (const auto& [i, reason] : plan.quarantine) {
      if (i >= staged.size()) return InternalError("consolidation quarantined an unknown row");
      quarantined.push_back(
          QuarantineRow(staging, staged[i], reason, spec.run_id, options_.clock->NowMicros()));
    }
    RETURN_IF_ERROR(InsertRows(tables::Quarantine(), quarantined));
    out.quarantined = static_cast<int64_t>(quarantined.size());
    // Exactly the staged rows read above.
    ASSIGN_OR_RETURN(out.staged_rows, DeleteKeys(staging,
                                                 {stage::batch_id, stage::kPred + int{pred::prediction_id}},
                                                 consumed));
    return OkStatus();
  }));
  return out;
}

Status FencedStore::AdoptDeclaredTables() {
  if (options_.declared_tables.empty()) return OkStatus();
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(
      catalogue_,
      Catalogue::Build(options_.declared_tables,
                       [&](const std::string& name) -> StatusOr<std::vector<ExistingColumn>> {
                         ASSIGN_OR_RETURN(std::vector<ExistingColumn> columns, ReadColumns(name));
                         if (columns.empty()) {
                           return NotFoundError("the database has no table " + name +
                                                " to read its columns from");
                         }
                         return columns;
                       }));
  for (const TableDef* t : catalogue_->declared()) {
    ASSIGN_OR_RETURN(std::vector<ExistingColumn> existing, ReadColumns(t->name));
    ASSIGN_OR_RETURN(std::vector<std::string> ddl, sql::DeclaredTableDdl(*t, dialect(), existing));
    if (options_.read_only) {
      if (!ddl.empty()) {
        return FailedPreconditionError("table " + t->name +
                                       " is not as declared yet (run `propgrade init`)");
      }
      continue;
    }
    RETURN_IF_ERROR(ApplyDeclaredSchema(*t, ddl));
  }
  return OkStatus();
}

}  // namespace propgrade

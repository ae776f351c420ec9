// The steps over partition history: a rollback (a processor whose rows are the ones a past
// run wrote) and the preview of a step (`propgrade diff --dry-run`).
#include "pipeline/pipeline.h"

namespace propgrade {

namespace {

// Writes back `rows` (those a past run left in a partition of `table`), as that table's writer.
class RollbackProcessor final : public Processor {
 public:
  RollbackProcessor(const TableDef& table, std::vector<Row> rows)
      : table_(table), rows_(std::move(rows)) {}
  const char* name() const override { return table_.writer.c_str(); }
  const TableDef& table() const override { return table_; }
  Prepared Prepare(const RunSummary&, Store*) override {
    Prepared out;
    out.history_kind = "rollback";
    out.rows = rows_;
    return out;
  }

 private:
  const TableDef& table_;
  const std::vector<Row> rows_;
};

}  // namespace

StatusOr<DateRun> Pipeline::Rollback(const TableDef& table, const std::string& partition,
                                     const std::string& to_run, const std::string& new_run_id,
                                     const RunOptions& options) {
  if (table.writer.empty() || table.PartitionIndex() < 0) {
    return InvalidArgumentError(table.name +
                                " is not written by a processor: nothing to roll "
                                "back (its history is that of the writes of grading, "
                                "daily_performance, performance_summary and declared tables)");
  }
  RETURN_IF_ERROR(EnsureReady());
  // Read before the step starts, so a run that is not kept is a usage error, not a failed run.
  ASSIGN_OR_RETURN(std::vector<Row> rows, store_->RowsWrittenBy(table, partition, to_run));
  RollbackProcessor rollback(table, std::move(rows));
  RunOptions past_guard = options;
  past_guard.allow_shrink = true;  // the rows are a version the partition had
  DateRun run;
  run.run_id = new_run_id;
  RunSummary step = StartStep(rollback.name(), CivilDay(), new_run_id, past_guard);
  if (auto day = CivilDay::Parse(partition); day && day->ToString() == partition) {
    step.game_date = run.date = *day;
  } else {
    step.other_partition = partition;
  }
  run.steps.push_back(RunStep(rollback, std::move(step), nullptr));
  if (table.name == tables::Accuracy().name) DoAggregations(&run, past_guard);
  return run;
}

StatusOr<Pipeline::Preview> Pipeline::PreviewStep(const TableDef& table,
                                                  const std::string& partition) {
  Processor* p = nullptr;
  for (auto& candidate : processors_) {
    if (candidate->table().name == table.name) p = candidate.get();
  }
  auto day = CivilDay::Parse(partition);
  if (!p || !day) {
    return InvalidArgumentError(
        "a dry run computes what grading, daily_performance or "
        "performance_summary would write into a date; " +
        table.name + " " + partition + " is none of them");
  }
  RETURN_IF_ERROR(EnsureReady());
  std::unique_lock<std::mutex> lock(aggregate_mu_, std::defer_lock);
  if (p->shares_fact_cache()) lock.lock();
  StepPrep prep = PrepareStep(*p, StartStep(p->name(), *day, NewRunId(), RunOptions{}), store_);
  RETURN_IF_ERROR(prep.prepared.read);
  Preview out;
  if (prep.prepared.nothing_to_write) {
    out.status = *prep.prepared.nothing_to_write;
    out.detail = prep.prepared.nothing_detail;
  }
  out.rows = std::move(prep.prepared.rows);
  SortRowsByKey(table, &out.rows);
  return out;
}

}  // namespace propgrade

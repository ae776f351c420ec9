#include "pipeline/pipeline.h"

#include <map>

#include "common/ids.h"
#include "common/strings.h"
#include "common/value_text.h"
#include "pipeline/consolidation.h"
#include "safety/safe_writer.h"
#include "safety/upkeep.h"
#include "store/ledgers.h"

namespace propgrade {

namespace {

const char* kConsolidation = "consolidation";

// Writes of one step, counting those refused because their inputs changed meanwhile (each
// another run's write of an input partition, e.g. N concurrent grades of one date rewriting
// the accuracy rows a daily step read: up to N - 1 refusals).
constexpr int kWriteAttempts = 10;

}  // namespace

// The processors, each defined in its own *_processor.cc; declared here, their one user.
// grading: prediction_accuracy of a date from its predictions, box scores and injuries, by
// `rules` (their graded_at and run_id are each step's).
std::unique_ptr<Processor> NewGradingProcessor(grading::GradeOptions rules);
// daily_performance: system_daily_performance of a date from its accuracy rows in `cache`.
std::unique_ptr<Processor> NewDailyProcessor(FactCache* cache);
// performance_summary: the summary as of a date from the accuracy rows of its window in
// `cache`, with the player archetypes; `summaries` keeps the month and season groups between
// consecutive dates.
std::unique_ptr<Processor> NewSummaryProcessor(FactCache* cache,
                                               grading::SummaryAccumulator* summaries);

ExitCode DateRun::exit_code() const {
  ExitCode code = ExitCode::kSuccess;
  for (const RunSummary& s : steps) code = WorseExitCode(code, s.exit_code());
  return code;
}

Pipeline::Pipeline(PipelineDeps deps)
    : d_(std::move(deps)),
      store_(d_.store),
      locks_(d_.locks),
      clock_(d_.clock),
      log_(d_.log),
      cancel_(d_.cancel),
      reporter_({d_.clock, d_.log, d_.metrics, d_.alerts, d_.breaker}) {
  // Grading first; each step after it runs once the date's grading succeeded, in this order.
  grading::GradeOptions rules;
  rules.real_line_sources = d_.options.real_line_sources;
  rules.min_player_coverage = d_.options.min_player_coverage;
  rules.min_game_coverage = d_.options.min_game_coverage;
  processors_.push_back(NewGradingProcessor(std::move(rules)));
  processors_.push_back(NewDailyProcessor(&cache_));
  processors_.push_back(NewSummaryProcessor(&cache_, &summaries_));
  grading_ = processors_.front().get();
  for (size_t i = 1; i < processors_.size(); ++i) after_grading_.push_back(processors_[i].get());
}

Processor& Pipeline::ByName(std::string_view name) {
  for (auto& p : processors_) {
    if (p->name() == name) return *p;
  }
  return *grading_;  // not reached: callers name a processor of this list
}

Status Pipeline::EnsureReady() {
  std::lock_guard<std::mutex> lock(ready_mu_);
  if (!store_) {
    if (!d_.store_factory) return UnavailableError("no store");
    ASSIGN_OR_RETURN(owned_store_, d_.store_factory());
    store_ = owned_store_.get();
  }
  if (!locks_) {
    if (!d_.lock_factory) return UnavailableError("no lock service");
    ASSIGN_OR_RETURN(owned_locks_, d_.lock_factory(store_));
    locks_ = owned_locks_.get();
  }
  return OkStatus();
}

StatusOr<LockService*> Pipeline::Locks() {
  RETURN_IF_ERROR(EnsureReady());
  return locks_;
}

bool Pipeline::Allowed(RunSummary* step) {
  if (!d_.breaker) {
    step->breaker_allowed = true;
    return true;
  }
  auto decision = d_.breaker->Allow(step->processor);
  if (!decision.ok()) {
    // The breaker's own file failed: run anyway, and say so.
    log_->Error("breaker_unavailable", {{"processor", Value::Text(step->processor)},
                                        {"error", Value::Text(decision.status().message())}});
    step->breaker_allowed = true;
    return true;
  }
  if (d_.metrics) {
    d_.metrics->Set("breaker_state", {step->processor}, BreakerStateNumber(decision->state));
  }
  if (decision->allowed) {
    step->breaker_allowed = true;
    return true;
  }
  step->status = RunStatus::kCircuitOpen;
  step->retry_after_seconds = decision->retry_after_seconds;
  step->error = "circuit breaker " + step->processor + " is open; retry after " +
                FormatDouble(std::max(0.0, decision->retry_after_seconds)) + " s";
  return false;
}

bool Pipeline::Ready(RunSummary* step, Store* store) {
  Status ready = OkStatus();
  if (Allowed(step)) ready = EnsureReady();
  if (step->status == RunStatus::kCircuitOpen || !ready.ok()) {
    reporter_.Finish(store ? store : store_, step, ready);
    return false;
  }
  return true;
}

std::string Pipeline::NewRunId() const { return propgrade::NewRunId(clock_->NowMicros()); }

RunSummary Pipeline::StartStep(const char* processor, CivilDay date, const std::string& run_id,
                               const RunOptions& options) const {
  RunSummary s;
  s.run_id = run_id;
  s.processor = processor;
  s.game_date = date;
  s.started_at_micros = clock_->NowMicros();
  s.trigger_source = options.trigger_source;
  s.correlation_id = options.correlation_id;
  s.allow_shrink = options.allow_shrink;
  return s;
}

SafeWriterDeps Pipeline::WriterDeps(Store* store) {
  SafeWriterDeps deps;
  deps.store = store;
  deps.locks = locks_;
  deps.policy = &d_.options.lock_policy;
  deps.remediation = d_.options.remediation;
  deps.writes = d_.options.writes;
  deps.log = log_;
  deps.metrics = d_.metrics;
  deps.alerts = d_.alerts;
  deps.clock = clock_;
  deps.hooks = &hooks_;
  return deps;
}

bool Pipeline::WriteStep(Store* store, const TableDef& table, Prepared prepared, bool may_retry,
                         RunSummary* step) {
  if (Cancelled()) {
    reporter_.Finish(store, step, CancelledError("interrupted before writing"));
    return true;
  }
  SafeWriter writer(WriterDeps(store));
  WriteRequest request;
  request.processor = step->processor;
  request.table = &table;
  request.partition = step->partition();
  request.rows = std::move(prepared.rows);
  request.select_sql = std::move(prepared.select_sql);
  request.parse_query = std::move(prepared.parse_query);
  request.run_id = step->run_id;
  request.inputs = std::move(prepared.inputs);
  request.allow_shrink = step->allow_shrink;
  request.history_kind = std::move(prepared.history_kind);
  WriteResult counts;
  request.counts = &counts;
  step->status = RunStatus::kSuccess;
  step->rows_written = static_cast<int64_t>(request.rows.size());
  step->finished_at_micros = clock_->NowMicros();
  request.run_record = step->ToRow();
  auto outcome = writer.Replace(std::move(request));
  // The replace's counts: of the write, or of the one the shrink guard refused.
  const WriteResult& effect = outcome.ok() ? outcome->write : counts;
  if (outcome.ok() || outcome.status().reason() == StatusReason::kShrinkRefused) {
    step->rows_before = effect.rows_before;
    step->rows_after = outcome.ok() && !effect.unchanged ? effect.rows_after : effect.rows_before;
    step->keys_added = effect.keys_added;
    step->keys_removed = effect.keys_removed;
    step->keys_changed = effect.keys_changed;
  }
  if (!outcome.ok()) {
    const bool inputs_changed = outcome.status().reason() == StatusReason::kInputsChanged;
    if (inputs_changed && may_retry) return false;
    step->rows_written = 0;
    step->lock_backend = std::string(locks_->backend());
    if (inputs_changed) {
      reporter_.Raise(MakeAlert("lock_lost", table.name, step->partition(),
                                step->processor + ": the inputs changed during each of " +
                                    std::to_string(kWriteAttempts) +
                                    " attempts; nothing was written",
                                {{"run_id", Value::Text(step->run_id)},
                                 {"error", Value::Text(outcome.status().message())}}));
    }
    reporter_.Finish(store, step, outcome.status());
    return true;
  }
  if (outcome->proceeded_without_lock) {
    step->error = "lock not acquired in time; wrote through the atomic replace under a drawn "
                  "token, without the lease";
  }
  step->fence_token = outcome->fence_token;
  step->lock_backend = outcome->lock_backend;
  step->lock_wait_seconds = outcome->lock_wait_seconds;
  step->holder_id = outcome->holder_id;
  step->rows_written = outcome->write.rows_written;
  if (outcome->write.unchanged) step->status = RunStatus::kUnchanged;
  if (outcome->duplicate_check.ok()) {
    step->duplicate_groups = outcome->duplicates.groups;
    step->duplicate_rows = outcome->duplicates.surplus_rows;
  }
  reporter_.Finish(store, step, outcome->duplicate_check);
  return true;
}

RunSummary Pipeline::GradeDate(CivilDay date, const std::string& run_id, const RunOptions& options,
                               Store* store) {
  return RunStep(*grading_, StartStep(grading_->name(), date, run_id, options), store);
}

RunSummary Pipeline::AggregateDate(CivilDay date, const std::string& run_id,
                                   const RunOptions& options) {
  Processor& daily = ByName("daily_performance");
  return RunStep(daily, StartStep(daily.name(), date, run_id, options), nullptr);
}

RunSummary Pipeline::SummarizeAsOf(CivilDay as_of, const std::string& run_id,
                                   const RunOptions& options) {
  Processor& summary = ByName("performance_summary");
  return RunStep(summary, StartStep(summary.name(), as_of, run_id, options), nullptr);
}

RunSummary Pipeline::RunStep(Processor& p, RunSummary step, Store* store) {
  if (!Ready(&step, store)) return step;
  if (!store) store = store_;
  std::unique_lock<std::mutex> lock(aggregate_mu_, std::defer_lock);
  if (p.shares_fact_cache()) lock.lock();
  StepPrep prep = PrepareStep(p, std::move(step), store);
  if (lock.owns_lock()) lock.unlock();
  return CommitStep(p, std::move(prep), store);
}

Pipeline::StepPrep Pipeline::PrepareStep(Processor& p, RunSummary step, Store* store) {
  StepPrep prep;
  prep.prepared = p.Prepare(step, store);
  prep.step = std::move(step);
  return prep;
}

RunSummary Pipeline::CommitStep(Processor& p, StepPrep prep, Store* store) {
  for (int attempt = 1;; ++attempt) {
    RunSummary step = std::move(prep.step);
    Prepared& d = prep.prepared;
    if (!d.read.ok()) {
      reporter_.Finish(store, &step, d.read);
      return step;
    }
    if (d.stats) step.stats = std::move(d.stats);
    if (!d.input_warnings.empty()) {
      std::vector<LogField> fields = {{"partition", Value::Text(step.partition())}};
      fields.insert(fields.end(), d.input_warnings.begin(), d.input_warnings.end());
      log_->Warn("input_warnings", fields);
    }
    if (d.nothing_to_write) {
      step.status = *d.nothing_to_write;
      if (!d.nothing_detail.empty()) step.error = d.nothing_detail;
      reporter_.Finish(store, &step, OkStatus());
      return step;
    }
    if (WriteStep(store, p.table(), std::move(d), attempt < kWriteAttempts, &step)) {
      return step;
    }
    // The inputs changed: read them again.
    std::unique_lock<std::mutex> lock(aggregate_mu_, std::defer_lock);
    if (p.shares_fact_cache()) lock.lock();
    prep = PrepareStep(p, std::move(step), store);
  }
}

RunSummary Pipeline::Consolidate(CivilDay date, const std::string& run_id,
                                 const RunOptions& options) {
  RunSummary step = StartStep(kConsolidation, date, run_id, options);
  if (!Ready(&step, store_)) return step;
  SafeWriter writer(WriterDeps(store_));
  WriteRequest request;
  request.processor = kConsolidation;
  request.table = &tables::Predictions();
  request.partition = date.ToString();
  request.run_id = run_id;
  step.status = RunStatus::kSuccess;
  step.finished_at_micros = clock_->NowMicros();
  request.run_record = step.ToRow();
  ConsolidationResult merged;
  auto outcome =
      writer.Write(std::move(request), [&](const WriteSpec& spec) -> StatusOr<WriteResult> {
        auto plan = [this](const std::vector<Row>& staged, const std::vector<Row>& stored,
                           const std::map<std::string, std::string>& elsewhere) {
          if (hooks_.TEST_pause_in_transaction_micros > 0) {
            clock_->SleepMicros(hooks_.TEST_pause_in_transaction_micros);
          }
          return PlanConsolidation(staged, stored, elsewhere);
        };
        ASSIGN_OR_RETURN(merged, store_->staging().Consolidate(date.ToString(), plan, spec));
        WriteResult r;
        r.rows_deleted = merged.deleted;
        r.rows_written = merged.inserted;
        return r;
      });
  if (!outcome.ok()) {
    step.lock_backend = std::string(locks_->backend());
    reporter_.Finish(store_, &step, outcome.status());
    return step;
  }
  step.rows_written = merged.inserted;
  step.fence_token = outcome->fence_token;
  step.lock_backend = outcome->lock_backend;
  step.lock_wait_seconds = outcome->lock_wait_seconds;
  step.holder_id = outcome->holder_id;
  if (outcome->duplicate_check.ok()) {
    step.duplicate_groups = outcome->duplicates.groups;
    step.duplicate_rows = outcome->duplicates.surplus_rows;
  }
  log_->Info("consolidated", {{"partition", Value::Text(date.ToString())},
                              {"run_id", Value::Text(run_id)},
                              {"staged_rows", Value::Int(merged.staged_rows)},
                              {"inserted", Value::Int(merged.inserted)},
                              {"replaced", Value::Int(merged.deleted)}});
  if (merged.staged_rows == 0) step.error = "nothing staged for " + date.ToString();
  reporter_.Finish(store_, &step, outcome->duplicate_check);
  return step;
}

StatusOr<std::vector<Pipeline::Restored>> Pipeline::RestoreQuarantined(
    const std::string& quarantine_run_id, const TableDef* only, bool dry_run) {
  RETURN_IF_ERROR(EnsureReady());
  struct Group {
    const TableDef* table;
    std::vector<Row> rows;
    std::vector<int64_t> ids;
  };
  std::map<std::pair<std::string, std::string>, Group> groups;  // (table, partition)
  Status bad = OkStatus();
  RETURN_IF_ERROR(store_->Scan(tables::Quarantine(), ScanSpec{}, [&](Row&& q) {
    if (FormatCell(q[quar::run_id]) != quarantine_run_id) return OkStatus();
    const TableDef* t = store_->catalogue().Find(FormatCell(q[quar::table_name]));
    if (only && t != only) return OkStatus();
    if (!t || t->writer.empty()) {
      return InvalidArgumentError("run " + quarantine_run_id + " quarantined rows of " +
                                  FormatCell(q[quar::table_name]) + ", which cannot be restored");
    }
    ASSIGN_OR_RETURN(Row row, RowFromJsonObject(*t, FormatCell(q[quar::row_json])));
    Group& g = groups[{t->name, FormatCell(q[quar::partition])}];
    g.table = t;
    g.rows.push_back(std::move(row));
    g.ids.push_back(q[quar::id].as_int());
    return OkStatus();
  }));
  if (groups.empty()) {
    return NotFoundError("no quarantined rows of run " + quarantine_run_id +
                         (only ? " in " + only->name : "") +
                         " (see remediation_quarantine.run_id; restored rows leave it)");
  }
  std::vector<Restored> out;
  const std::string run_id = NewRunId();
  for (auto& [where, group] : groups) {
    Restored r;
    r.table = where.first;
    r.partition = where.second;
    r.rows = static_cast<int64_t>(group.rows.size());
    if (!dry_run) {
      SafeWriterDeps deps = WriterDeps(store_);
      deps.remediation.auto_remediate = false;  // the rows are back on purpose
      SafeWriter writer(deps);
      WriteRequest request;
      request.processor = group.table->writer;
      request.table = group.table;
      request.partition = r.partition;
      request.run_id = run_id;
      std::vector<Row> rows = std::move(group.rows);
      const TableDef& table = *group.table;
      const auto& ids = group.ids;
      auto outcome = writer.Write(std::move(request), [&](const WriteSpec& spec) {
        return store_->quarantine().RestoreRows(table, r.partition, std::move(rows), ids, spec);
      });
      r.status = outcome.status();
      if (outcome.ok()) r.duplicates = outcome->duplicates;
      log_->Log(outcome.ok() ? Severity::kWarning : Severity::kError, "quarantine_restored",
                {{"table", Value::Text(r.table)},
                 {"partition", Value::Text(r.partition)},
                 {"quarantine_run_id", Value::Text(quarantine_run_id)},
                 {"run_id", Value::Text(run_id)},
                 {"rows", Value::Int(r.rows)},
                 {"duplicate_rows", Value::Int(r.duplicates.surplus_rows)},
                 {"error", Value::Text(outcome.ok() ? "" : r.status.message())}});
    }
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace propgrade

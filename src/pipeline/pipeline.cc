#include "pipeline/pipeline.h"

#include <malloc.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <future>
#include <optional>
#include <thread>
#include <unordered_map>

#include "common/ids.h"
#include "common/strings.h"
#include "common/value_text.h"
#include "grading/daily_performance.h"
#include "grading/grader.h"
#include "grading/performance_summary.h"
#include "pipeline/consolidation.h"
#include "safety/safe_writer.h"
#include "safety/upkeep.h"

namespace propgrade {

namespace {

const char* kGrading = "grading";
const char* kDaily = "daily_performance";
const char* kSummary = "performance_summary";
const char* kConsolidation = "consolidation";

// Writes of one step, counting those refused because their inputs changed meanwhile (each
// another run's write of an input partition, e.g. N concurrent grades of one date rewriting
// the accuracy rows a daily step read: up to N - 1 refusals).
constexpr int kWriteAttempts = 10;

std::vector<LogField> StepFields(const RunSummary& s) {
  std::vector<LogField> f = {{"run_id", Value::Text(s.run_id)},
                             {"processor", Value::Text(s.processor)},
                             {"partition", Value::Text(s.game_date.ToString())},
                             {"status", Value::Text(std::string(RunStatusName(s.status)))},
                             {"duration_seconds", Value::Real(s.duration_seconds())}};
  if (s.stats) {
    f.push_back({"predictions_found", Value::Int(s.stats->predictions_found)});
    f.push_back({"graded", Value::Int(s.stats->graded)});
    f.push_back({"voided", Value::Int(s.stats->voided)});
    f.push_back({"missing_actuals", Value::Int(s.stats->missing_actuals)});
  }
  if (s.rows_written) f.push_back({"rows_written", Value::Int(*s.rows_written)});
  if (s.duplicate_rows) f.push_back({"duplicate_rows", Value::Int(*s.duplicate_rows)});
  if (!s.error.empty()) f.push_back({"error", Value::Text(s.error)});
  return f;
}

}  // namespace

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
      cancel_(d_.cancel) {}

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

void Pipeline::Raise(Alert alert) {
  if (d_.alerts) d_.alerts->Raise(std::move(alert));
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
    Finish(store ? store : store_, step, ready);
    return false;
  }
  return true;
}

void Pipeline::RaiseStepAlerts(const RunSummary& step) {
  const std::string table = step.processor == kGrading   ? "prediction_accuracy"
                            : step.processor == kDaily   ? "system_daily_performance"
                            : step.processor == kSummary ? "prediction_performance_summary"
                                                         : "player_prop_predictions";
  const std::string partition = step.game_date.ToString();
  std::vector<std::pair<std::string, Value>> fields = {{"run_id", Value::Text(step.run_id)},
                                                       {"processor", Value::Text(step.processor)}};
  if (step.status == RunStatus::kFailed) {
    fields.push_back({"error", Value::Text(step.error)});
    Raise(MakeAlert("run_failed", table, partition, step.processor + " failed: " + step.error,
                    fields));
  } else if (step.status == RunStatus::kUnavailable) {
    fields.push_back({"error", Value::Text(step.error)});
    Raise(MakeAlert("dependency_unavailable", table, partition,
                    step.processor + " could not reach a dependency: " + step.error, fields));
  }
  if (step.stats && step.stats->source_duplicates > 0) {
    auto f = fields;
    f.push_back({"source_duplicates", Value::Int(step.stats->source_duplicates)});
    f.push_back({"sample", Value::Text(Join(step.stats->source_duplicate_samples, ", "))});
    Raise(MakeAlert("source_duplicates", "player_prop_predictions", partition,
                    std::to_string(step.stats->source_duplicates) +
                        " duplicate business keys among the predictions; each graded once",
                    f));
  }
  if (step.stats &&
      (step.stats->invalid_recommendations > 0 || step.stats->invalid_confidence > 0)) {
    auto f = fields;
    f.push_back({"invalid_recommendations", Value::Int(step.stats->invalid_recommendations)});
    f.push_back({"invalid_confidence", Value::Int(step.stats->invalid_confidence)});
    f.push_back({"sample", Value::Text(Join(step.stats->invalid_recommendation_samples, ", ") +
                                       "; " + Join(step.stats->invalid_confidence_samples, ", "))});
    Raise(MakeAlert("input_warnings", "player_prop_predictions", partition,
                    std::to_string(step.stats->invalid_recommendations) +
                        " invalid recommendations, " +
                        std::to_string(step.stats->invalid_confidence) + " invalid confidences",
                    f));
  }
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
  return s;
}

void Pipeline::Finish(Store* store, RunSummary* step, const Status& error) {
  if (!error.ok()) {
    step->status = RunStatusForError(error);
    step->error = error.message();
  }
  step->finished_at_micros = clock_->NowMicros();
  if (store) {
    Status recorded = store->UpsertRun(step->ToRow());
    if (!recorded.ok()) {
      log_->Error("run_record_failed", {{"run_id", Value::Text(step->run_id)},
                                        {"error", Value::Text(recorded.message())}});
      if (step->status == RunStatus::kSuccess) {
        step->status = RunStatusForError(recorded);
        step->error = "could not record the run: " + recorded.message();
      }
    }
  }
  const std::string status(RunStatusName(step->status));
  if (d_.metrics) {
    d_.metrics->Inc("runs_total", {step->processor, status});
    d_.metrics->Observe("run_duration_seconds", {step->processor}, step->duration_seconds());
    if (step->status == RunStatus::kSuccess) {
      d_.metrics->Set("last_success_timestamp_seconds", {step->processor},
                      static_cast<double>(step->finished_at_micros / 1000000));
    }
  }
  if (d_.breaker && step->breaker_allowed) {
    auto t = d_.breaker->Record(step->processor, step->status);
    if (t.ok()) {
      if (d_.metrics)
        d_.metrics->Set("breaker_state", {step->processor}, BreakerStateNumber(t->to));
      if (store && MirrorDue(t->status)) {
        // A mirror for the dashboard; the breaker's file is the truth.
        MirrorBreaker(store, t->status).IgnoreError();
      }
      if (t->opened()) {
        Alert open = MakeAlert(
            "circuit_open", "", "",
            "circuit breaker " + step->processor + " opened after " +
                std::to_string(t->status.consecutive_failures) +
                " consecutive failures; runs are refused for " +
                FormatDouble(d_.breaker->open_seconds()) + " s",
            {{"name", Value::Text(step->processor)}, {"last_error", Value::Text(step->error)}});
        open.subject = step->processor;
        Raise(std::move(open));
      }
    } else {
      log_->Error("breaker_unavailable", {{"processor", Value::Text(step->processor)},
                                          {"error", Value::Text(t.status().message())}});
    }
  }
  RaiseStepAlerts(*step);
  Severity sev = step->status == RunStatus::kSuccess || step->status == RunStatus::kNoActuals ||
                         step->status == RunStatus::kNoPredictions
                     ? (step->duplicates_detected() ? Severity::kCritical : Severity::kInfo)
                     : Severity::kError;
  log_->Log(sev, "step_finished", StepFields(*step));
}

namespace {

// Resident memory of this process in bytes (0 when /proc is unreadable).
size_t ResidentBytes() {
  std::FILE* f = std::fopen("/proc/self/statm", "r");
  if (!f) return 0;
  unsigned long pages = 0, resident = 0;
  int n = std::fscanf(f, "%lu %lu", &pages, &resident);
  std::fclose(f);
  return n == 2 ? resident * static_cast<size_t>(sysconf(_SC_PAGESIZE)) : 0;
}

// A multi-date run builds each date's rows on helper threads and frees them on the writer's:
// every thread's heap keeps its own high-water mark of free pages. Above 200 MB resident, hand
// the free pages back (malloc_trim costs page faults later, so not below).
void TrimHeapsAboveBudget() {
  constexpr size_t kBudgetBytes = size_t{200} << 20;
  if (ResidentBytes() > kBudgetBytes) malloc_trim(0);
}

}  // namespace

bool Pipeline::MirrorDue(const BreakerStatus& status) {
  constexpr int64_t kRefreshMicros = 60'000'000;
  const int64_t now = clock_->NowMicros();
  std::lock_guard<std::mutex> lock(mirror_mu_);
  auto [it, inserted] = mirrored_.try_emplace(status.name);
  Mirrored& last = it->second;
  if (!inserted && last.state == status.state &&
      last.consecutive_failures == status.consecutive_failures &&
      now - last.at_micros < kRefreshMicros) {
    return false;
  }
  last = {status.state, status.consecutive_failures, now};
  return true;
}

SafeWriterDeps Pipeline::WriterDeps(Store* store) {
  SafeWriterDeps deps;
  deps.store = store;
  deps.locks = locks_;
  deps.policy = &d_.options.lock_policy;
  deps.remediation = d_.options.remediation;
  deps.log = log_;
  deps.metrics = d_.metrics;
  deps.alerts = d_.alerts;
  deps.clock = clock_;
  deps.hooks = &hooks_;
  return deps;
}

bool Pipeline::WriteStep(Store* store, const TableDef& table, std::vector<Row> rows,
                         std::vector<InputVersions> inputs, bool may_retry, RunSummary* step) {
  if (Cancelled()) {
    Finish(store, step, CancelledError("interrupted before writing"));
    return true;
  }
  SafeWriter writer(WriterDeps(store));
  WriteRequest request;
  request.processor = step->processor;
  request.table = &table;
  request.partition = step->game_date.ToString();
  request.rows = std::move(rows);
  request.run_id = step->run_id;
  request.inputs = std::move(inputs);
  step->status = RunStatus::kSuccess;
  step->rows_written = static_cast<int64_t>(request.rows.size());
  step->finished_at_micros = clock_->NowMicros();
  request.run_record = step->ToRow();
  auto outcome = writer.Replace(std::move(request));
  if (!outcome.ok()) {
    const bool inputs_changed = outcome.status().reason() == StatusReason::kInputsChanged;
    if (inputs_changed && may_retry) return false;
    step->rows_written = 0;
    step->lock_backend = std::string(locks_->backend());
    if (inputs_changed) {
      Raise(MakeAlert("lock_lost", table.name, step->game_date.ToString(),
                      step->processor + ": the inputs changed during each of " +
                          std::to_string(kWriteAttempts) + " attempts; nothing was written",
                      {{"run_id", Value::Text(step->run_id)},
                       {"error", Value::Text(outcome.status().message())}}));
    }
    Finish(store, step, outcome.status());
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
  if (outcome->duplicate_check.ok()) {
    step->duplicate_groups = outcome->duplicates.groups;
    step->duplicate_rows = outcome->duplicates.surplus_rows;
  }
  Finish(store, step, outcome->duplicate_check);
  return true;
}

RunSummary Pipeline::GradeDate(CivilDay date, const std::string& run_id, const RunOptions& options,
                               Store* store) {
  RunSummary step = StartStep(kGrading, date, run_id, options);
  if (!Ready(&step, store)) return step;
  if (!store) store = store_;
  return CommitGrade(PrepareGrade(std::move(step), store), store);
}

Pipeline::GradePrep Pipeline::PrepareGrade(RunSummary step, Store* store) const {
  GradePrep prep;
  prep.step = std::move(step);
  const std::string day = prep.step.game_date.ToString();
  // The versions first: a write that lands while the rows are read then fails the input fence.
  for (const TableDef* t : {&tables::Predictions(), &tables::Actuals(), &tables::Injuries()}) {
    auto versions = store->PartitionVersions(*t, day, day);
    if (!versions.ok()) {
      prep.read = versions.status().WithContext("reading the input versions of " + day);
      return prep;
    }
    prep.inputs.push_back({t, day, day, std::move(*versions)});
  }
  auto predictions = store->ReadPartition(tables::Predictions(), day);
  auto actuals = predictions.ok() ? store->ReadPartition(tables::Actuals(), day)
                                  : StatusOr<std::vector<Row>>(predictions.status());
  auto injuries = actuals.ok() ? store->ReadPartition(tables::Injuries(), day)
                               : StatusOr<std::vector<Row>>(actuals.status());
  if (!injuries.ok()) {
    prep.read = injuries.status().WithContext("reading the inputs of " + day);
    return prep;
  }
  grading::GradeOptions gopts;
  gopts.real_line_sources = d_.options.real_line_sources;
  gopts.graded_at = FormatTimestampMicros(prep.step.started_at_micros);
  gopts.run_id = prep.step.run_id;
  prep.result = grading::GradeDate(prep.step.game_date, *predictions, *actuals, *injuries, gopts);
  return prep;
}

RunSummary Pipeline::CommitGrade(GradePrep prep, Store* store) {
  for (int attempt = 1;; ++attempt) {
    RunSummary step = std::move(prep.step);
    if (!prep.read.ok()) {
      Finish(store, &step, prep.read);
      return step;
    }
    grading::GradeResult& result = prep.result;
    step.stats = result.stats;
    if (result.outcome != grading::GradeOutcome::kGraded) {
      step.status = result.outcome == grading::GradeOutcome::kNoActuals ? RunStatus::kNoActuals
                                                                        : RunStatus::kNoPredictions;
      Finish(store, &step, OkStatus());
      return step;
    }
    if (WriteStep(store, tables::Accuracy(), std::move(result.rows), std::move(prep.inputs),
                  attempt < kWriteAttempts, &step)) {
      return step;
    }
    prep = PrepareGrade(std::move(step), store);  // the inputs changed: read them again
  }
}

RunSummary Pipeline::AggregateDate(CivilDay date, const std::string& run_id,
                                   const RunOptions& options) {
  return RunAggregate(StartStep(kDaily, date, run_id, options));
}

RunSummary Pipeline::SummarizeAsOf(CivilDay as_of, const std::string& run_id,
                                   const RunOptions& options) {
  return RunAggregate(StartStep(kSummary, as_of, run_id, options));
}

RunSummary Pipeline::RunAggregate(RunSummary step) {
  if (!Ready(&step, store_)) return step;
  std::unique_lock<std::mutex> lock(aggregate_mu_);
  AggregatePrep prep = PrepareAggregate(std::move(step), store_);
  lock.unlock();
  return CommitAggregate(std::move(prep));
}

Pipeline::AggregatePrep Pipeline::PrepareAggregate(RunSummary step, Store* store) {
  return step.processor == kDaily ? PrepareDaily(std::move(step), store)
                                  : PrepareSummary(std::move(step), store);
}

Pipeline::AggregatePrep Pipeline::PrepareDaily(RunSummary step, Store* store) {
  AggregatePrep prep;
  prep.step = std::move(step);
  const CivilDay date = prep.step.game_date;
  Status refreshed = cache_.Refresh(store, date, date, /*keep_earlier=*/true);
  if (!refreshed.ok()) {
    prep.read = refreshed.WithContext("reading prediction_accuracy");
    return prep;
  }
  prep.inputs.push_back({&tables::Accuracy(), date.ToString(), date.ToString(),
                         cache_.Versions(date, date)});
  prep.rows = grading::ComputeDailyPerformance(
      date, cache_.table(), FormatTimestampMicros(prep.step.started_at_micros), prep.step.run_id);
  return prep;
}

Pipeline::AggregatePrep Pipeline::PrepareSummary(RunSummary step, Store* store) {
  AggregatePrep prep;
  prep.step = std::move(step);
  const CivilDay as_of = prep.step.game_date;
  const CivilDay window_start = grading::SummaryWindowStart(as_of);
  std::unordered_map<std::string, std::string> archetypes;
  auto archetype_versions = store->PartitionVersions(tables::Archetypes(), "", "");
  Status s = archetype_versions.status();
  if (s.ok()) {
    s = store->Scan(tables::Archetypes(), ScanSpec{}, [&](Row&& r) {
      if (r[arch::archetype].is_text()) {
        archetypes[r[arch::player_lookup].as_text()] = r[arch::archetype].as_text();
      }
      return OkStatus();
    });
  }
  if (s.ok()) s = cache_.Refresh(store, window_start, as_of);
  if (!s.ok()) {
    prep.read = s.WithContext("reading the summary window");
    return prep;
  }
  prep.inputs.push_back({&tables::Archetypes(), "", "", std::move(*archetype_versions)});
  prep.inputs.push_back({&tables::Accuracy(), window_start.ToString(), as_of.ToString(),
                         cache_.Versions(window_start, as_of)});
  grading::SummaryOptions sopts;
  sopts.as_of = as_of;
  sopts.computed_at = FormatTimestampMicros(prep.step.started_at_micros);
  sopts.run_id = prep.step.run_id;
  sopts.archetypes = &archetypes;
  grading::SummaryResult result = summaries_.Compute(cache_.table(), sopts);
  prep.rows = std::move(result.rows);
  prep.unparseable_game_ids = result.unparseable_game_ids;
  prep.unparseable_samples = std::move(result.unparseable_samples);
  return prep;
}

RunSummary Pipeline::CommitAggregate(AggregatePrep prep) {
  for (int attempt = 1;; ++attempt) {
    RunSummary step = std::move(prep.step);
    const bool daily = step.processor == kDaily;
    if (!prep.read.ok()) {
      Finish(store_, &step, prep.read);
      return step;
    }
    const std::string date = step.game_date.ToString();
    if (prep.unparseable_game_ids > 0) {
      log_->Warn("input_warnings", {{"partition", Value::Text(date)},
                                    {"unparseable_game_ids", Value::Int(prep.unparseable_game_ids)},
                                    {"sample", Value::Text(Join(prep.unparseable_samples, ","))}});
    }
    if (prep.rows.empty()) {
      step.status = RunStatus::kNoPredictions;
      step.error = daily ? "no graded rows for " + date : "no graded rows in the window of " + date;
      Finish(store_, &step, OkStatus());
      return step;
    }
    if (WriteStep(store_, daily ? tables::DailyPerformance() : tables::Summary(),
                  std::move(prep.rows), std::move(prep.inputs), attempt < kWriteAttempts, &step)) {
      return step;
    }
    std::lock_guard<std::mutex> lock(aggregate_mu_);  // the inputs changed: read them again
    prep = PrepareAggregate(std::move(step), store_);
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
        ASSIGN_OR_RETURN(merged, store_->Consolidate(date.ToString(), plan, spec));
        WriteResult r;
        r.rows_deleted = merged.deleted;
        r.rows_written = merged.inserted;
        return r;
      });
  if (!outcome.ok()) {
    step.lock_backend = std::string(locks_->backend());
    Finish(store_, &step, outcome.status());
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
  Finish(store_, &step, outcome->duplicate_check);
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
    const TableDef* t = FindTable(FormatCell(q[quar::table_name]));
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
        return store_->RestoreRows(table, r.partition, std::move(rows), ids, spec);
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

void Pipeline::DoAggregations(DateRun* run, const RunOptions& options) {
  if (!options.aggregate || run->steps.empty() || run->steps[0].status != RunStatus::kSuccess) {
    return;
  }
  if (Cancelled()) return;
  run->steps.push_back(AggregateDate(run->date, run->run_id, options));
  if (Cancelled()) return;
  run->steps.push_back(SummarizeAsOf(run->date, run->run_id, options));
}

DateRun Pipeline::RunDate(CivilDay date, const RunOptions& options) {
  return RunDate(date, NewRunId(), options);
}

DateRun Pipeline::RunDate(CivilDay date, const std::string& run_id, const RunOptions& options) {
  DateRun run;
  run.date = date;
  run.run_id = run_id;
  run.steps.push_back(GradeDate(date, run.run_id, options));
  DoAggregations(&run, options);
  return run;
}

std::vector<DateRun> Pipeline::RunDatesInOrder(
    const std::vector<CivilDay>& dates, const RunOptions& options,
    const std::function<void(const DateRun&, size_t, size_t)>& progress) {
  std::vector<DateRun> runs(dates.size());
  // Helpers on connections of their own; without them every step runs here. A date whose
  // read-ahead failed is graded again the ordinary way, so the helpers only save time.
  auto open_helper = [&]() -> std::unique_ptr<Store> {
    if (dates.size() <= 1 || !d_.store_factory || !EnsureReady().ok()) return nullptr;
    auto opened = d_.store_factory();
    if (!opened.ok()) return nullptr;
    (*opened)->UseSmallCache();
    return std::move(*opened);
  };
  std::unique_ptr<Store> grade_reader = open_helper();
  std::unique_ptr<Store> aggregate_reader = grade_reader ? open_helper() : nullptr;
  std::future<GradePrep> grade_ahead;
  auto start_grade = [&](size_t i) {
    if (!grade_reader || i >= dates.size() || Cancelled()) return;
    RunSummary step = StartStep(kGrading, dates[i], NewRunId(), options);
    grade_ahead = std::async(std::launch::async, [this, step = std::move(step),
                                                  store = grade_reader.get()]() mutable {
      return PrepareGrade(std::move(step), store);
    });
  };
  // The aggregations being computed (a future per step, in step order) and their date's
  // index: written after the next grading, each as soon as it is ready.
  std::vector<std::future<AggregatePrep>> aggregates_ahead;
  std::future<void> aggregate_task;
  size_t aggregate_index = 0;
  auto finish_aggregates = [&] {
    if (aggregates_ahead.empty()) return;
    DateRun& run = runs[aggregate_index];
    for (auto& ahead : aggregates_ahead) {
      AggregatePrep prep = ahead.get();
      if (Cancelled() && prep.step.processor == kSummary) continue;  // as DoAggregations
      run.steps.push_back(CommitAggregate(std::move(prep)));
    }
    aggregates_ahead.clear();
    aggregate_task.get();
    if (progress) progress(run, aggregate_index + 1, dates.size());
    TrimHeapsAboveBudget();
  };

  start_grade(0);
  for (size_t i = 0; i < dates.size(); ++i) {
    if (Cancelled()) {
      finish_aggregates();
      runs.resize(i);
      break;
    }
    std::optional<GradePrep> prep;
    if (grade_ahead.valid()) prep = grade_ahead.get();
    start_grade(i + 1);
    DateRun& run = runs[i];
    run.date = dates[i];
    if (prep && prep->read.ok()) {
      run.run_id = prep->step.run_id;
      run.steps.push_back(Ready(&prep->step, store_) ? CommitGrade(std::move(*prep), store_)
                                                     : std::move(prep->step));
    } else {
      run.run_id = NewRunId();
      run.steps.push_back(GradeDate(dates[i], run.run_id, options));
    }
    finish_aggregates();
    if (!aggregate_reader) {
      DoAggregations(&run, options);
    } else if (options.aggregate && run.steps[0].status == RunStatus::kSuccess && !Cancelled()) {
      // Both steps pass their breakers here; a refused one ends now, in step order.
      std::vector<RunSummary> steps;
      for (const char* processor : {kDaily, kSummary}) {
        RunSummary step = StartStep(processor, run.date, run.run_id, options);
        if (!Ready(&step, store_)) {
          run.steps.push_back(std::move(step));
        } else {
          steps.push_back(std::move(step));
        }
      }
      if (!steps.empty()) {
        aggregate_index = i;
        std::vector<std::promise<AggregatePrep>> promises(steps.size());
        for (auto& promise : promises) aggregates_ahead.push_back(promise.get_future());
        aggregate_task = std::async(
            std::launch::async, [this, steps = std::move(steps), promises = std::move(promises),
                                 store = aggregate_reader.get()]() mutable {
              std::lock_guard<std::mutex> lock(aggregate_mu_);
              for (size_t k = 0; k < steps.size(); ++k) {
                promises[k].set_value(PrepareAggregate(std::move(steps[k]), store));
              }
            });
        continue;  // progress once they are written
      }
    }
    if (progress) progress(run, i + 1, dates.size());
  }
  finish_aggregates();
  return runs;
}

std::vector<DateRun> Pipeline::RunDates(
    const std::vector<CivilDay>& dates, const RunOptions& options, int jobs,
    const std::function<void(const DateRun&, size_t, size_t)>& progress) {
  if (jobs <= 1 || dates.size() <= 1) return RunDatesInOrder(dates, options, progress);
  std::vector<DateRun> runs(dates.size());
  // Phase 1: grade dates in parallel, one Store connection per worker.
  Status ready = EnsureReady();
  std::atomic<size_t> next{0};
  std::vector<std::thread> workers;
  std::mutex done_mu;
  std::vector<bool> graded(dates.size(), false);
  for (int w = 0; w < jobs; ++w) {
    workers.emplace_back([&] {
      auto store = ready.ok() && d_.store_factory
                       ? d_.store_factory()
                       : StatusOr<std::unique_ptr<Store>>(
                             ready.ok() ? UnavailableError("no store factory") : ready);
      while (true) {
        size_t i = next.fetch_add(1);
        if (i >= dates.size()) break;
        DateRun& run = runs[i];
        run.date = dates[i];
        run.run_id = NewRunId();
        if (Cancelled()) continue;
        if (!store.ok()) {
          RunSummary step = StartStep(kGrading, dates[i], run.run_id, options);
          Finish(nullptr, &step, Allowed(&step) ? store.status() : OkStatus());
          run.steps.push_back(step);
        } else {
          run.steps.push_back(GradeDate(dates[i], run.run_id, options, store->get()));
        }
        std::lock_guard<std::mutex> lock(done_mu);
        graded[i] = true;
      }
    });
  }
  for (auto& t : workers) t.join();
  // Phase 2: the aggregations in date order.
  size_t done = 0;
  std::vector<DateRun> finished;
  for (size_t i = 0; i < dates.size(); ++i) {
    if (!graded[i]) continue;
    DoAggregations(&runs[i], options);
    if (progress) progress(runs[i], ++done, dates.size());
    finished.push_back(std::move(runs[i]));
  }
  return finished;
}

}  // namespace propgrade

#include "pipeline/pipeline.h"

#include <atomic>
#include <thread>
#include <unordered_map>

#include "common/ids.h"
#include "common/strings.h"
#include "grading/daily_performance.h"
#include "grading/grader.h"
#include "grading/performance_summary.h"
#include "safety/safe_writer.h"

namespace propgrade {

namespace {

const char* kGrading = "grading";
const char* kDaily = "daily_performance";
const char* kSummary = "performance_summary";

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

Pipeline::Pipeline(Store* store, StoreFactory factory, LockService* locks, const Config* config,
                   Clock* clock, Logger* log, CancelToken* cancel)
    : store_(store),
      factory_(std::move(factory)),
      locks_(locks),
      config_(config),
      clock_(clock),
      log_(log),
      cancel_(cancel) {}

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
  Status recorded = store->UpsertRun(step->ToRow());
  if (!recorded.ok()) {
    log_->Error("run_record_failed", {{"run_id", Value::Text(step->run_id)},
                                      {"error", Value::Text(recorded.message())}});
    if (step->status == RunStatus::kSuccess) {
      step->status = RunStatusForError(recorded);
      step->error = "could not record the run: " + recorded.message();
    }
  }
  Severity sev = step->status == RunStatus::kSuccess || step->status == RunStatus::kNoActuals ||
                         step->status == RunStatus::kNoPredictions
                     ? (step->duplicates_detected() ? Severity::kCritical : Severity::kInfo)
                     : Severity::kError;
  log_->Log(sev, "step_finished", StepFields(*step));
}

void Pipeline::WriteStep(Store* store, const TableDef& table, std::vector<Row> rows,
                         RunSummary* step) {
  if (cancel_ && cancel_->cancelled()) {
    Finish(store, step, CancelledError("interrupted before writing"));
    return;
  }
  SafeWriter writer(store, locks_, &config_->lock_policy, log_, clock_, &hooks_);
  WriteRequest request;
  request.processor = step->processor;
  request.table = &table;
  request.partition = step->game_date.ToString();
  request.rows = std::move(rows);
  request.run_id = step->run_id;
  step->status = RunStatus::kSuccess;
  step->rows_written = static_cast<int64_t>(request.rows.size());
  step->finished_at_micros = clock_->NowMicros();
  request.run_record = step->ToRow();
  auto outcome = writer.Replace(std::move(request));
  if (!outcome.ok()) {
    step->rows_written = 0;
    step->lock_backend = std::string(locks_->backend());
    Finish(store, step, outcome.status());
    return;
  }
  if (outcome->proceeded_without_lock) {
    step->error = "lock not acquired in time; wrote through the atomic replace without a token";
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
}

RunSummary Pipeline::GradeDate(CivilDay date, const std::string& run_id,
                               const RunOptions& options, Store* store) {
  RunSummary step = StartStep(kGrading, date, run_id, options);
  const std::string day = date.ToString();
  auto predictions = store->ReadPartition(tables::Predictions(), day);
  auto actuals = predictions.ok() ? store->ReadPartition(tables::Actuals(), day)
                                  : StatusOr<std::vector<Row>>(predictions.status());
  auto injuries = actuals.ok() ? store->ReadPartition(tables::Injuries(), day)
                               : StatusOr<std::vector<Row>>(actuals.status());
  if (!injuries.ok()) {
    Finish(store, &step, injuries.status().WithContext("reading the inputs of " + day));
    return step;
  }
  grading::GradeOptions gopts;
  gopts.real_line_sources = config_->grading.real_line_sources;
  gopts.graded_at = FormatTimestampMicros(step.started_at_micros);
  gopts.run_id = run_id;
  grading::GradeResult result = grading::GradeDate(date, *predictions, *actuals, *injuries, gopts);
  step.stats = result.stats;
  const grading::GradeStats& st = result.stats;
  if (st.source_duplicates > 0) {
    log_->Warn("source_duplicates", {{"partition", Value::Text(day)},
                                     {"source_duplicates", Value::Int(st.source_duplicates)},
                                     {"sample", Value::Text(Join(st.source_duplicate_samples, ","))}});
  }
  if (st.invalid_recommendations > 0 || st.invalid_confidence > 0) {
    log_->Warn("input_warnings",
               {{"partition", Value::Text(day)},
                {"invalid_recommendations", Value::Int(st.invalid_recommendations)},
                {"invalid_confidence", Value::Int(st.invalid_confidence)},
                {"sample", Value::Text(Join(st.invalid_recommendation_samples, ",") + ";" +
                                       Join(st.invalid_confidence_samples, ","))}});
  }
  if (result.outcome != grading::GradeOutcome::kGraded) {
    step.status = result.outcome == grading::GradeOutcome::kNoActuals ? RunStatus::kNoActuals
                                                                      : RunStatus::kNoPredictions;
    Finish(store, &step, OkStatus());
    return step;
  }
  WriteStep(store, tables::Accuracy(), std::move(result.rows), &step);
  return step;
}

RunSummary Pipeline::AggregateDate(CivilDay date, const std::string& run_id,
                                   const RunOptions& options) {
  std::lock_guard<std::mutex> lock(aggregate_mu_);
  RunSummary step = StartStep(kDaily, date, run_id, options);
  Status refreshed = cache_.Refresh(store_, date, date);
  if (!refreshed.ok()) {
    Finish(store_, &step, refreshed.WithContext("reading prediction_accuracy"));
    return step;
  }
  std::vector<Row> rows = grading::ComputeDailyPerformance(
      date, cache_.table(), FormatTimestampMicros(step.started_at_micros), run_id);
  if (rows.empty()) {
    step.status = RunStatus::kNoPredictions;
    step.error = "no graded rows for " + date.ToString();
    Finish(store_, &step, OkStatus());
    return step;
  }
  WriteStep(store_, tables::DailyPerformance(), std::move(rows), &step);
  return step;
}

RunSummary Pipeline::SummarizeAsOf(CivilDay as_of, const std::string& run_id,
                                   const RunOptions& options) {
  std::lock_guard<std::mutex> lock(aggregate_mu_);
  RunSummary step = StartStep(kSummary, as_of, run_id, options);
  std::unordered_map<std::string, std::string> archetypes;
  Status s = store_->Scan(tables::Archetypes(), ScanSpec{}, [&](Row&& r) {
    if (r[arch::archetype].is_text()) {
      archetypes[r[arch::player_lookup].as_text()] = r[arch::archetype].as_text();
    }
    return OkStatus();
  });
  if (s.ok()) s = cache_.Refresh(store_, grading::SummaryWindowStart(as_of), as_of);
  if (!s.ok()) {
    Finish(store_, &step, s.WithContext("reading the summary window"));
    return step;
  }
  grading::SummaryOptions sopts;
  sopts.as_of = as_of;
  sopts.computed_at = FormatTimestampMicros(step.started_at_micros);
  sopts.run_id = run_id;
  sopts.archetypes = &archetypes;
  grading::SummaryResult result = grading::ComputePerformanceSummary(cache_.table(), sopts);
  if (result.unparseable_game_ids > 0) {
    log_->Warn("input_warnings", {{"partition", Value::Text(as_of.ToString())},
                                  {"unparseable_game_ids", Value::Int(result.unparseable_game_ids)},
                                  {"sample", Value::Text(Join(result.unparseable_samples, ","))}});
  }
  if (result.rows.empty()) {
    step.status = RunStatus::kNoPredictions;
    step.error = "no graded rows in the window of " + as_of.ToString();
    Finish(store_, &step, OkStatus());
    return step;
  }
  WriteStep(store_, tables::Summary(), std::move(result.rows), &step);
  return step;
}

void Pipeline::DoAggregations(DateRun* run, const RunOptions& options) {
  if (!options.aggregate || run->steps.empty() || run->steps[0].status != RunStatus::kSuccess) {
    return;
  }
  if (cancel_ && cancel_->cancelled()) return;
  run->steps.push_back(AggregateDate(run->date, run->run_id, options));
  if (cancel_ && cancel_->cancelled()) return;
  run->steps.push_back(SummarizeAsOf(run->date, run->run_id, options));
}

DateRun Pipeline::RunDate(CivilDay date, const RunOptions& options) {
  DateRun run;
  run.date = date;
  run.run_id = NewRunId();
  run.steps.push_back(GradeDate(date, run.run_id, options, store_));
  DoAggregations(&run, options);
  return run;
}

std::vector<DateRun> Pipeline::RunDates(
    const std::vector<CivilDay>& dates, const RunOptions& options, int jobs,
    const std::function<void(const DateRun&, size_t, size_t)>& progress) {
  std::vector<DateRun> runs(dates.size());
  if (jobs <= 1 || dates.size() <= 1) {
    for (size_t i = 0; i < dates.size(); ++i) {
      if (cancel_ && cancel_->cancelled()) {
        runs.resize(i);
        break;
      }
      runs[i] = RunDate(dates[i], options);
      if (progress) progress(runs[i], i + 1, dates.size());
    }
    return runs;
  }
  // Phase 1: grade dates in parallel, one Store connection per worker.
  std::atomic<size_t> next{0};
  std::vector<std::thread> workers;
  std::mutex done_mu;
  std::vector<bool> graded(dates.size(), false);
  for (int w = 0; w < jobs; ++w) {
    workers.emplace_back([&] {
      auto store = factory_();
      while (true) {
        size_t i = next.fetch_add(1);
        if (i >= dates.size()) break;
        DateRun& run = runs[i];
        run.date = dates[i];
        run.run_id = NewRunId();
        if (cancel_ && cancel_->cancelled()) continue;
        if (!store.ok()) {
          RunSummary step = StartStep(kGrading, dates[i], run.run_id, options);
          step.status = RunStatusForError(store.status());
          step.error = store.status().message();
          step.finished_at_micros = clock_->NowMicros();
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

#include "pipeline/step_reporter.h"

#include "common/strings.h"
#include "safety/upkeep.h"
#include "schema/schema.h"

namespace propgrade {

namespace {

std::vector<LogField> StepFields(const RunSummary& s) {
  std::vector<LogField> f = {{"run_id", Value::Text(s.run_id)},
                             {"processor", Value::Text(s.processor)},
                             {"partition", Value::Text(s.partition())},
                             {"status", Value::Text(std::string(RunStatusName(s.status)))},
                             {"duration_seconds", Value::Real(s.duration_seconds())}};
  if (s.stats) {
    f.push_back({"predictions_found", Value::Int(s.stats->predictions_found)});
    f.push_back({"graded", Value::Int(s.stats->graded)});
    f.push_back({"voided", Value::Int(s.stats->voided)});
    f.push_back({"missing_actuals", Value::Int(s.stats->missing_actuals)});
    if (s.stats->player_coverage) {
      f.push_back({"player_coverage", Value::Real(*s.stats->player_coverage)});
      f.push_back({"game_coverage", Value::Real(*s.stats->game_coverage)});
    }
  }
  for (const auto& [name, v] : {std::pair{"rows_before", s.rows_before},
                                {"keys_added", s.keys_added},
                                {"keys_removed", s.keys_removed},
                                {"keys_changed", s.keys_changed}}) {
    if (v) f.push_back({name, Value::Int(*v)});
  }
  if (s.rows_written) f.push_back({"rows_written", Value::Int(*s.rows_written)});
  if (s.duplicate_rows) f.push_back({"duplicate_rows", Value::Int(*s.duplicate_rows)});
  if (!s.error.empty()) f.push_back({"error", Value::Text(s.error)});
  return f;
}

}  // namespace

void StepReporter::Raise(Alert alert) {
  if (d_.alerts) d_.alerts->Raise(std::move(alert));
}

void StepReporter::RaiseStepAlerts(const RunSummary& step, const Store* store) {
  const TableDef* written =
      store ? store->catalogue().WrittenBy(step.processor) : TableWrittenBy(step.processor);
  const std::string table = written ? written->name : "";
  const std::string partition = step.partition();
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
  if (step.status == RunStatus::kInsufficientActuals && step.stats) {
    auto f = fields;
    f.push_back({"player_coverage", Value::OptReal(step.stats->player_coverage)});
    f.push_back({"game_coverage", Value::OptReal(step.stats->game_coverage)});
    f.push_back({"missing_actuals", Value::Int(step.stats->missing_actuals)});
    Raise(MakeAlert("insufficient_actuals", "player_game_summary", partition, step.error, f));
  } else if (step.status == RunStatus::kShrinkRefused) {
    auto f = fields;
    f.push_back({"rows_before", Value::OptInt(step.rows_before)});
    f.push_back({"keys_removed", Value::OptInt(step.keys_removed)});
    f.push_back({"error", Value::Text(step.error)});
    Raise(MakeAlert("partition_shrink", table, partition, step.error, f));
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

void StepReporter::Finish(Store* store, RunSummary* step, const Status& error) {
  if (!error.ok()) {
    step->status = RunStatusForError(error);
    step->error = error.message();
  }
  step->finished_at_micros = d_.clock->NowMicros();
  if (store) {
    Status recorded = store->UpsertRun(step->ToRow());
    if (!recorded.ok()) {
      d_.log->Error("run_record_failed", {{"run_id", Value::Text(step->run_id)},
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
    if (step->stats && step->stats->player_coverage) {
      d_.metrics->Set("actuals_coverage_ratio", {"player"}, *step->stats->player_coverage);
      d_.metrics->Set("actuals_coverage_ratio", {"game"}, *step->stats->game_coverage);
    }
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
      d_.log->Error("breaker_unavailable", {{"processor", Value::Text(step->processor)},
                                            {"error", Value::Text(t.status().message())}});
    }
  }
  RaiseStepAlerts(*step, store);
  Severity sev = step->status == RunStatus::kSuccess || step->status == RunStatus::kNoActuals ||
                         step->status == RunStatus::kUnchanged ||
                         step->status == RunStatus::kNoPredictions
                     ? (step->duplicates_detected() ? Severity::kCritical : Severity::kInfo)
                 : step->status == RunStatus::kInsufficientActuals ? Severity::kWarning
                                                                   : Severity::kError;
  d_.log->Log(sev, "step_finished", StepFields(*step));
}

bool StepReporter::MirrorDue(const BreakerStatus& status) {
  constexpr int64_t kRefreshMicros = 60'000'000;
  const int64_t now = d_.clock->NowMicros();
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

}  // namespace propgrade

#include "pipeline/run_summary.h"

#include "common/strings.h"
#include "schema/schema.h"
#include "common/value_text.h"

namespace propgrade {

Row RunSummary::ToRow() const {
  Row r(runs::kNumColumns);
  r[runs::run_id] = Value::Text(run_id);
  r[runs::processor] = Value::Text(processor);
  r[runs::partition] = Value::Text(partition());
  if (other_partition.empty()) r[runs::game_date] = Value::Text(game_date.ToString());
  r[runs::status] = Value::Text(std::string(RunStatusName(status)));
  if (started_at_micros) r[runs::started_at] = Value::Text(FormatTimestampMicros(started_at_micros));
  if (finished_at_micros) {
    r[runs::finished_at] = Value::Text(FormatTimestampMicros(finished_at_micros));
    r[runs::duration_seconds] = Value::Real(duration_seconds());
  }
  if (stats) {
    const grading::GradeStats& s = *stats;
    r[runs::predictions_found] = Value::Int(s.predictions_found);
    r[runs::source_duplicates] = Value::Int(s.source_duplicates);
    r[runs::actuals_found] = Value::Int(s.actuals_found);
    r[runs::missing_actuals] = Value::Int(s.missing_actuals);
    r[runs::graded] = Value::Int(s.graded);
    r[runs::voided] = Value::Int(s.voided);
    r[runs::voided_injury] = Value::Int(s.voided_injury);
    r[runs::voided_scratch] = Value::Int(s.voided_scratch);
    r[runs::voided_unknown] = Value::Int(s.voided_unknown);
    r[runs::pushes] = Value::Int(s.pushes);
    r[runs::invalid_recommendations] = Value::Int(s.invalid_recommendations);
    r[runs::invalid_confidence] = Value::Int(s.invalid_confidence);
    r[runs::mae] = Value::OptReal(s.mae);
    r[runs::bias] = Value::OptReal(s.bias);
    r[runs::recommendation_accuracy] = Value::OptReal(s.recommendation_accuracy);
    r[runs::player_coverage] = Value::OptReal(s.player_coverage);
    r[runs::game_coverage] = Value::OptReal(s.game_coverage);
  }
  r[runs::rows_written] = Value::OptInt(rows_written);
  r[runs::rows_before] = Value::OptInt(rows_before);
  r[runs::rows_after] = Value::OptInt(rows_after);
  r[runs::keys_added] = Value::OptInt(keys_added);
  r[runs::keys_removed] = Value::OptInt(keys_removed);
  r[runs::keys_changed] = Value::OptInt(keys_changed);
  r[runs::duplicate_groups] = Value::OptInt(duplicate_groups);
  r[runs::duplicate_rows] = Value::OptInt(duplicate_rows);
  r[runs::fence_token] = Value::OptInt(fence_token);
  if (!lock_backend.empty()) r[runs::lock_backend] = Value::Text(lock_backend);
  r[runs::lock_wait_seconds] = Value::OptReal(lock_wait_seconds);
  if (!holder_id.empty()) r[runs::holder_id] = Value::Text(holder_id);
  if (!trigger_source.empty()) r[runs::trigger_source] = Value::Text(trigger_source);
  if (!correlation_id.empty()) r[runs::correlation_id] = Value::Text(correlation_id);
  if (!error.empty()) r[runs::error] = Value::Text(error);
  return r;
}

RunSummary RunSummary::FromRow(const Row& r) {
  RunSummary s;
  s.run_id = r[runs::run_id].ToText().value_or("");
  s.processor = r[runs::processor].ToText().value_or("");
  if (auto d = CivilDay::Parse(r[runs::game_date].ToText().value_or(""))) {
    s.game_date = *d;
  } else {
    s.other_partition = r[runs::partition].ToText().value_or("");
  }
  s.status = ParseRunStatus(r[runs::status].ToText().value_or("")).value_or(RunStatus::kFailed);
  if (auto t = ParseTimestampMicros(r[runs::started_at].ToText().value_or(""))) {
    s.started_at_micros = *t;
  }
  if (auto t = ParseTimestampMicros(r[runs::finished_at].ToText().value_or(""))) {
    s.finished_at_micros = *t;
  }
  if (!r[runs::graded].is_null()) {
    grading::GradeStats st;
    auto i = [&](int c) { return r[c].ToInt().value_or(0); };
    st.predictions_found = i(runs::predictions_found);
    st.source_duplicates = i(runs::source_duplicates);
    st.actuals_found = i(runs::actuals_found);
    st.missing_actuals = i(runs::missing_actuals);
    st.graded = i(runs::graded);
    st.voided = i(runs::voided);
    st.voided_injury = i(runs::voided_injury);
    st.voided_scratch = i(runs::voided_scratch);
    st.voided_unknown = i(runs::voided_unknown);
    st.pushes = i(runs::pushes);
    st.invalid_recommendations = i(runs::invalid_recommendations);
    st.invalid_confidence = i(runs::invalid_confidence);
    st.mae = r[runs::mae].ToReal();
    st.bias = r[runs::bias].ToReal();
    st.recommendation_accuracy = r[runs::recommendation_accuracy].ToReal();
    st.player_coverage = r[runs::player_coverage].ToReal();
    st.game_coverage = r[runs::game_coverage].ToReal();
    s.stats = st;
  }
  s.rows_written = r[runs::rows_written].ToInt();
  s.rows_before = r[runs::rows_before].ToInt();
  s.rows_after = r[runs::rows_after].ToInt();
  s.keys_added = r[runs::keys_added].ToInt();
  s.keys_removed = r[runs::keys_removed].ToInt();
  s.keys_changed = r[runs::keys_changed].ToInt();
  s.duplicate_groups = r[runs::duplicate_groups].ToInt();
  s.duplicate_rows = r[runs::duplicate_rows].ToInt();
  s.fence_token = r[runs::fence_token].ToInt();
  s.lock_backend = r[runs::lock_backend].ToText().value_or("");
  s.lock_wait_seconds = r[runs::lock_wait_seconds].ToReal();
  s.holder_id = r[runs::holder_id].ToText().value_or("");
  s.trigger_source = r[runs::trigger_source].ToText().value_or("");
  s.correlation_id = r[runs::correlation_id].ToText().value_or("");
  s.error = r[runs::error].ToText().value_or("");
  return s;
}

std::string RunSummary::ToJson() const {
  static const auto* names = [] {
    auto* v = new std::vector<std::string>();
    for (const ColumnDef& c : tables::GradingRuns().columns) v->push_back(c.name);
    return v;
  }();
  return JsonObject(*names, ToRow());
}

std::string RunSummary::ToText() const {
  std::string out = partition() + " " + processor + " " + std::string(RunStatusName(status));
  if (stats) {
    const grading::GradeStats& s = *stats;
    out += " graded=" + std::to_string(s.graded) + " voided=" + std::to_string(s.voided) +
           " pushes=" + std::to_string(s.pushes);
    if (s.mae) out += " mae=" + FormatDouble(*s.mae);
    if (s.recommendation_accuracy) out += " hit=" + FormatDouble(*s.recommendation_accuracy) + "%";
    if (s.source_duplicates) out += " source_duplicates=" + std::to_string(s.source_duplicates);
    if (s.missing_actuals) out += " missing_actuals=" + std::to_string(s.missing_actuals);
    if (status == RunStatus::kInsufficientActuals && s.player_coverage && s.game_coverage) {
      out += " player_coverage=" + FormatDouble(*s.player_coverage) +
             " game_coverage=" + FormatDouble(*s.game_coverage);
    }
  } else if (rows_written) {
    out += " rows=" + std::to_string(*rows_written);
  }
  if (keys_removed.value_or(0) > 0) out += " keys_removed=" + std::to_string(*keys_removed);
  if (duplicate_rows.value_or(0) > 0) {
    out += " DUPLICATES=" + std::to_string(*duplicate_rows);
  }
  if (!error.empty()) out += " error=\"" + error + "\"";
  return out;
}

}  // namespace propgrade

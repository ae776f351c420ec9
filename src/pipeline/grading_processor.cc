// grading: prediction_accuracy of one date (spec/grading.md §3).
#include "common/civil_date.h"
#include "common/strings.h"
#include "grading/grader.h"
#include "pipeline/processor.h"

namespace propgrade {
namespace {

class GradingProcessor final : public Processor {
 public:
  explicit GradingProcessor(grading::GradeOptions rules) : rules_(std::move(rules)) {}

  const char* name() const override { return "grading"; }
  const TableDef& table() const override { return tables::Accuracy(); }

  Prepared Prepare(const RunSummary& step, Store* store) override {
    Prepared out;
    const std::string day = step.game_date.ToString();
    // The versions first: a write that lands while the rows are read then fails the input fence.
    for (const TableDef* t : {&tables::Predictions(), &tables::Actuals(), &tables::Injuries()}) {
      auto versions = store->PartitionVersions(*t, day, day);
      if (!versions.ok()) {
        out.read = versions.status().WithContext("reading the input versions of " + day);
        return out;
      }
      out.inputs.push_back({t, day, day, std::move(*versions)});
    }
    auto predictions = store->ReadPartition(tables::Predictions(), day);
    auto actuals = predictions.ok() ? store->ReadPartition(tables::Actuals(), day)
                                    : StatusOr<std::vector<Row>>(predictions.status());
    auto injuries = actuals.ok() ? store->ReadPartition(tables::Injuries(), day)
                                 : StatusOr<std::vector<Row>>(actuals.status());
    if (!injuries.ok()) {
      out.read = injuries.status().WithContext("reading the inputs of " + day);
      return out;
    }
    grading::GradeOptions options = rules_;
    options.graded_at = FormatTimestampMicros(step.started_at_micros);
    options.run_id = step.run_id;
    grading::GradeResult result =
        grading::GradeDate(step.game_date, *predictions, *actuals, *injuries, options);
    out.stats = result.stats;
    switch (result.outcome) {
      case grading::GradeOutcome::kGraded:
        break;
      case grading::GradeOutcome::kNoPredictions:
        out.nothing_to_write = RunStatus::kNoPredictions;
        break;
      case grading::GradeOutcome::kNoActuals:
        out.nothing_to_write = RunStatus::kNoActuals;
        break;
      case grading::GradeOutcome::kInsufficientActuals:
        out.nothing_to_write = RunStatus::kInsufficientActuals;
        out.nothing_detail = "the box scores of " + day + " look incomplete: player coverage " +
                             FormatDouble(*result.stats.player_coverage) + " (minimum " +
                             FormatDouble(rules_.min_player_coverage) + "), game coverage " +
                             FormatDouble(*result.stats.game_coverage) + " (minimum " +
                             FormatDouble(rules_.min_game_coverage) +
                             "); nothing was written. Grade again once the actuals are loaded";
        break;
    }
    out.rows = std::move(result.rows);
    return out;
  }

 private:
  const grading::GradeOptions rules_;  // the rules every date is graded by
};

}  // namespace

std::unique_ptr<Processor> NewGradingProcessor(grading::GradeOptions rules) {
  return std::make_unique<GradingProcessor>(std::move(rules));
}

}  // namespace propgrade

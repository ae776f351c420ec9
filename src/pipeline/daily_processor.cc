// daily_performance: system_daily_performance of one date (spec/grading.md §4).
#include "common/civil_date.h"
#include "grading/daily_performance.h"
#include "pipeline/processor.h"

namespace propgrade {
namespace {

class DailyProcessor final : public Processor {
 public:
  explicit DailyProcessor(FactCache* cache) : cache_(cache) {}

  const char* name() const override { return "daily_performance"; }
  const TableDef& table() const override { return tables::DailyPerformance(); }
  bool shares_fact_cache() const override { return true; }

  Prepared Prepare(const RunSummary& step, Store* store) override {
    Prepared out;
    const CivilDay date = step.game_date;
    Status refreshed = cache_->Refresh(store, date, date, /*keep_earlier=*/true);
    if (!refreshed.ok()) {
      out.read = refreshed.WithContext("reading prediction_accuracy");
      return out;
    }
    out.inputs.push_back(
        {&tables::Accuracy(), date.ToString(), date.ToString(), cache_->Versions(date, date)});
    out.rows = grading::ComputeDailyPerformance(
        date, cache_->table(), FormatTimestampMicros(step.started_at_micros), step.run_id);
    if (out.rows.empty()) {
      out.nothing_to_write = RunStatus::kNoPredictions;
      out.nothing_detail = "no graded rows for " + date.ToString();
    }
    return out;
  }

 private:
  FactCache* cache_;
};

}  // namespace

std::unique_ptr<Processor> NewDailyProcessor(FactCache* cache) {
  return std::make_unique<DailyProcessor>(cache);
}

}  // namespace propgrade

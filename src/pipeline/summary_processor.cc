// performance_summary: prediction_performance_summary as of one date (spec/grading.md §5).
#include <unordered_map>

#include "common/civil_date.h"
#include "common/strings.h"
#include "grading/performance_summary.h"
#include "pipeline/processor.h"

namespace propgrade {
namespace {

class SummaryProcessor final : public Processor {
 public:
  SummaryProcessor(FactCache* cache, grading::SummaryAccumulator* summaries)
      : cache_(cache), summaries_(summaries) {}

  const char* name() const override { return "performance_summary"; }
  const TableDef& table() const override { return tables::Summary(); }
  bool shares_fact_cache() const override { return true; }

  Prepared Prepare(const RunSummary& step, Store* store) override {
    Prepared out;
    const CivilDay as_of = step.game_date;
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
    if (s.ok()) s = cache_->Refresh(store, window_start, as_of);
    if (!s.ok()) {
      out.read = s.WithContext("reading the summary window");
      return out;
    }
    out.inputs.push_back({&tables::Archetypes(), "", "", std::move(*archetype_versions)});
    out.inputs.push_back({&tables::Accuracy(), window_start.ToString(), as_of.ToString(),
                          cache_->Versions(window_start, as_of)});
    grading::SummaryOptions options;
    options.as_of = as_of;
    options.computed_at = FormatTimestampMicros(step.started_at_micros);
    options.run_id = step.run_id;
    options.archetypes = &archetypes;
    grading::SummaryResult result = summaries_->Compute(cache_->table(), options);
    out.rows = std::move(result.rows);
    if (result.unparseable_game_ids > 0) {
      out.input_warnings = {{"unparseable_game_ids", Value::Int(result.unparseable_game_ids)},
                            {"sample", Value::Text(Join(result.unparseable_samples, ","))}};
    }
    if (out.rows.empty()) {
      out.nothing_to_write = RunStatus::kNoPredictions;
      out.nothing_detail = "no graded rows in the window of " + as_of.ToString();
    }
    return out;
  }

 private:
  FactCache* cache_;
  grading::SummaryAccumulator* summaries_;
};

}  // namespace

std::unique_ptr<Processor> NewSummaryProcessor(FactCache* cache,
                                               grading::SummaryAccumulator* summaries) {
  return std::make_unique<SummaryProcessor>(cache, summaries);
}

}  // namespace propgrade

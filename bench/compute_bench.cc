// P10's compute side (spec/performance.md): propgrade's computation alone, storage excluded,
// over the inputs of a database: grade every date, daily performance for every date and one
// summary snapshot as of the last date, in memory. The inputs are read first (not timed); the
// Python baseline's `compute_s` times the same work (bench/python_baseline/).
// Usage: propgrade_compute_bench --db URL [--repeats 3] [--summaries last|every]
// (`every`: a snapshot as of every graded date, P1's summary work; for profiling)
// Prints one JSON line (bench/README.md) with id "P10-compute": `ours` in ms; `theirs` 0 (the
// baseline is a separate program; bench/run.sh pairs them).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include "bench_json.h"
#include "common/civil_date.h"
#include "schema/schema.h"
#include "grading/daily_performance.h"
#include "grading/facts.h"
#include "grading/grader.h"
#include "grading/performance_summary.h"
#include "store/store.h"

namespace {

using namespace propgrade;

// Every row of `t`, grouped by its partition column (dates as text).
StatusOr<std::map<std::string, std::vector<Row>>> ReadByDate(Store* store, const TableDef& t) {
  std::map<std::string, std::vector<Row>> out;
  const int part = t.PartitionIndex();
  Status s = store->Scan(t, ScanSpec{}, [&](Row&& r) {
    std::string key = part >= 0 && r[part].is_text() ? r[part].as_text() : "";
    out[key].push_back(std::move(r));
    return OkStatus();
  });
  if (!s.ok()) return s;
  return out;
}

struct Work {
  int64_t graded = 0, daily = 0, summary = 0;
  double summary_ms = 0;
};

Work ComputeAll(const std::map<std::string, std::vector<Row>>& predictions,
                const std::map<std::string, std::vector<Row>>& actuals,
                const std::map<std::string, std::vector<Row>>& injuries,
                const std::unordered_map<std::string, std::string>& archetypes,
                bool every_summary) {
  static const std::vector<Row> kNone;
  auto of = [](const std::map<std::string, std::vector<Row>>& m,
               const std::string& d) -> const std::vector<Row>& {
    auto it = m.find(d);
    return it == m.end() ? kNone : it->second;
  };
  std::vector<int> fact_index;
  for (const std::string& c : grading::FactColumns()) {
    fact_index.push_back(tables::Accuracy().ColumnIndex(c));
  }
  Work w;
  grading::GradeOptions options;
  options.graded_at = "2026-04-16T06:00:00.000000Z";
  options.run_id = "bench";
  grading::FactTable facts;
  std::vector<CivilDay> days;
  for (const auto& [date, rows] : predictions) {
    std::optional<CivilDay> day = CivilDay::Parse(date);
    if (!day) continue;
    grading::GradeResult r =
        grading::GradeDate(*day, rows, of(actuals, date), of(injuries, date), options);
    if (r.outcome != grading::GradeOutcome::kGraded) continue;
    days.push_back(*day);
    w.graded += static_cast<int64_t>(r.rows.size());
    for (const Row& row : r.rows) {
      Row projected;
      projected.reserve(fact_index.size());
      for (int i : fact_index) projected.push_back(row[i]);
      facts.Add(projected).IgnoreError();
    }
  }
  for (CivilDay d : days) {
    w.daily += static_cast<int64_t>(
        grading::ComputeDailyPerformance(d, facts, options.graded_at, "bench").size());
  }
  auto phase = std::chrono::steady_clock::now();
  grading::SummaryAccumulator summaries;  // as the pipeline keeps it between dates
  for (size_t i = every_summary ? 0 : days.size() - std::min<size_t>(days.size(), 1);
       i < days.size(); ++i) {
    grading::SummaryOptions so;
    so.as_of = days[i];
    so.computed_at = options.graded_at;
    so.run_id = "bench";
    so.archetypes = &archetypes;
    w.summary += static_cast<int64_t>(summaries.Compute(facts, so).rows.size());
  }
  w.summary_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - phase).count();
  return w;
}

}  // namespace

int main(int argc, char** argv) {
  std::string url;
  int repeats = 3;
  bool every_summary = false;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--db")) url = argv[i + 1];
    if (!std::strcmp(argv[i], "--repeats")) repeats = std::max(1, std::atoi(argv[i + 1]));
    if (!std::strcmp(argv[i], "--summaries")) every_summary = !std::strcmp(argv[i + 1], "every");
  }
  if (url.empty()) {
    std::fprintf(stderr, "usage: %s --db URL [--repeats 3]\n", argv[0]);
    return 2;
  }
  auto store = Store::Open(url, StoreOptions{});
  if (!store.ok()) {
    std::fprintf(stderr, "%s\n", store.status().ToString().c_str());
    return 3;
  }
  auto predictions = ReadByDate(store->get(), tables::Predictions());
  auto actuals = ReadByDate(store->get(), tables::Actuals());
  auto injuries = ReadByDate(store->get(), tables::Injuries());
  std::unordered_map<std::string, std::string> archetypes;
  Status read = (*store)->Scan(tables::Archetypes(), ScanSpec{}, [&](Row&& r) {
    if (r[arch::archetype].is_text()) {
      archetypes[r[arch::player_lookup].as_text()] = r[arch::archetype].as_text();
    }
    return OkStatus();
  });
  for (const Status& s : {predictions.status(), actuals.status(), injuries.status(), read}) {
    if (!s.ok()) {
      std::fprintf(stderr, "reading the inputs: %s\n", s.ToString().c_str());
      return 3;
    }
  }
  std::vector<double> ms;
  Work w;
  for (int i = 0; i < repeats; ++i) {
    auto start = std::chrono::steady_clock::now();
    w = ComputeAll(*predictions, *actuals, *injuries, archetypes, every_summary);
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
                     .count());
    std::fprintf(stderr, "compute %d/%d: %.0f ms (summaries %.0f ms)\n", i + 1, repeats, ms.back(),
                 w.summary_ms);
  }
  std::sort(ms.begin(), ms.end());
  bench::Measurement m;
  m.id = "P10-compute";
  m.workload = "grade every date + daily performance + one summary, in memory";
  m.ours = ms[ms.size() / 2];
  m.target = ">= 20x faster than the Python baseline";
  m.met = true;  // judged by bench/run.sh against the baseline
  m.extra = {{"dates", predictions->size()},
             {"graded_rows", w.graded},
             {"daily_rows", w.daily},
             {"summary_rows", w.summary}};
  bench::Print(m);
  return 0;
}

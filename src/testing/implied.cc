#include "testing/implied.h"

#include <algorithm>
#include <unordered_map>

#include "schema/schema.h"
#include "common/value_text.h"
#include "grading/daily_performance.h"
#include "grading/facts.h"
#include "grading/grader.h"
#include "grading/performance_summary.h"

namespace propgrade::testing {
namespace {

// The newest version among `t`'s partitions in [from, to] (0: never written).
int64_t Newest(Store* store, const TableDef& t, const std::string& from, const std::string& to) {
  auto v = store->PartitionVersions(t, from, to);
  int64_t newest = 0;
  if (v.ok()) {
    for (const auto& [p, version] : *v) newest = std::max(newest, version);
  }
  return newest;
}

// Rows as comparable texts, without the run stamps (TableDef::stamp_columns).
std::vector<std::string> Texts(const TableDef& t, const std::vector<Row>& rows) {
  std::vector<bool> stamp(t.columns.size(), false);
  for (const std::string& c : t.stamp_columns) {
    if (int i = t.ColumnIndex(c); i >= 0) stamp[i] = true;
  }
  std::vector<std::string> out;
  for (const Row& r : rows) {
    std::string line;
    for (size_t i = 0; i < t.columns.size(); ++i) {
      if (!stamp[i]) line += (r[i].is_null() ? "\\N" : FormatCell(r[i])) + '\t';
    }
    out.push_back(std::move(line));
  }
  std::sort(out.begin(), out.end());
  return out;
}

void Compare(Store* store, const TableDef& t, const std::string& partition,
             const std::vector<Row>& implied, ImpliedCheck* check) {
  auto stored = store->ReadPartition(t, partition);
  if (!stored.ok()) {
    check->mismatches.push_back(t.name + " " + partition + ": " + stored.status().message());
    return;
  }
  ++check->checked;
  std::vector<std::string> want = Texts(t, implied), got = Texts(t, *stored);
  if (want == got) return;
  size_t differ = 0;
  for (size_t i = 0; i < std::max(want.size(), got.size()); ++i) {
    if (i >= want.size() || i >= got.size() || want[i] != got[i]) ++differ;
  }
  check->mismatches.push_back(t.name + " " + partition + ": " + std::to_string(got.size()) +
                              " rows stored, " + std::to_string(want.size()) +
                              " implied by the inputs, " + std::to_string(differ) + " differ");
}

grading::FactTable Facts(Store* store, const std::string& from, const std::string& to) {
  grading::FactTable table;
  ScanSpec spec;
  spec.partition_from = from;
  spec.partition_to = to;
  spec.columns = grading::FactColumns();
  store->Scan(tables::Accuracy(), spec, [&](Row&& r) { return table.Add(r); }).IgnoreError();
  return table;
}

}  // namespace

ImpliedCheck CheckImpliedByInputs(Store* store, CivilDay day) {
  ImpliedCheck check;
  const std::string d = day.ToString();
  // Grading: predictions, actuals and injuries of the day.
  int64_t acc = Newest(store, tables::Accuracy(), d, d);
  int64_t inputs = std::max({Newest(store, tables::Predictions(), d, d),
                             Newest(store, tables::Actuals(), d, d),
                             Newest(store, tables::Injuries(), d, d)});
  if (acc > 0 && acc < inputs) {
    ++check.stale;
  } else if (acc > 0) {
    auto p = store->ReadPartition(tables::Predictions(), d);
    auto a = store->ReadPartition(tables::Actuals(), d);
    auto i = store->ReadPartition(tables::Injuries(), d);
    if (p.ok() && a.ok() && i.ok()) {
      grading::GradeResult graded = grading::GradeDate(day, *p, *a, *i, grading::GradeOptions());
      Compare(store, tables::Accuracy(), d, graded.rows, &check);
    }
  }
  // Daily performance: the accuracy rows of the day.
  int64_t daily = Newest(store, tables::DailyPerformance(), d, d);
  if (daily > 0 && daily < acc) {
    ++check.stale;
  } else if (daily > 0) {
    Compare(store, tables::DailyPerformance(), d,
            grading::ComputeDailyPerformance(day, Facts(store, d, d), "", ""), &check);
  }
  // The summary: the accuracy rows of its window and the archetypes.
  const std::string start = grading::SummaryWindowStart(day).ToString();
  int64_t summary = Newest(store, tables::Summary(), d, d);
  int64_t summary_inputs =
      std::max(Newest(store, tables::Accuracy(), start, d), Newest(store, tables::Archetypes(), "", ""));
  if (summary > 0 && summary < summary_inputs) {
    ++check.stale;
  } else if (summary > 0) {
    std::unordered_map<std::string, std::string> archetypes;
    store
        ->Scan(tables::Archetypes(), ScanSpec{},
               [&](Row&& r) {
                 if (r[arch::archetype].is_text()) {
                   archetypes[r[arch::player_lookup].as_text()] = r[arch::archetype].as_text();
                 }
                 return OkStatus();
               })
        .IgnoreError();
    grading::SummaryOptions options;
    options.as_of = day;
    options.archetypes = &archetypes;
    grading::SummaryAccumulator accumulator;
    Compare(store, tables::Summary(), d, accumulator.Compute(Facts(store, start, d), options).rows,
            &check);
  }
  return check;
}

}  // namespace propgrade::testing

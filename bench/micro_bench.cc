// Micro-benchmarks (Google Benchmark) for the pure grading rules (grading/rules.h), the CSV
// reader (io/csv.h, io/table_file.h) and the performance summary pass
// (grading/performance_summary.h). Numbers are per call unless a counter says otherwise:
// items_per_second counts rows (CSV, summary facts) or rule evaluations; bytes_per_second counts
// input bytes.
//
// CI (a few seconds in total; Debian's libbenchmark 1.7.1 takes plain seconds, not "0.05s"):
//   propgrade_micro_bench --benchmark_min_time=0.05
// The CSV benchmarks read tests/fixtures/golden/inputs/predictions.csv (5.6 MB) into memory
// once; PROPGRADE_GOLDEN_PREDICTIONS=PATH overrides the path. Without the file they are skipped
// with an error message, the others still run.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/civil_date.h"
#include "schema/schema.h"
#include "common/value.h"
#include "grading/facts.h"
#include "grading/performance_summary.h"
#include "grading/rules.h"
#include "io/csv.h"
#include "io/table_file.h"

#ifndef PROPGRADE_SOURCE_DIR
#define PROPGRADE_SOURCE_DIR "."
#endif

namespace {

namespace g = propgrade::grading;
using propgrade::CivilDay;
using propgrade::Row;
using propgrade::Value;

// A fixed pseudo-random sequence (xorshift) so inputs vary but runs are reproducible.
class Rng {
 public:
  explicit Rng(uint64_t seed) : s_(seed | 1) {}
  uint64_t Next() {
    s_ ^= s_ << 13;
    s_ ^= s_ >> 7;
    s_ ^= s_ << 17;
    return s_;
  }
  int Uniform(int n) { return static_cast<int>(Next() % static_cast<uint64_t>(n)); }
  double Real(double lo, double hi) { return lo + (hi - lo) * (Next() % 1000000) / 1e6; }

 private:
  uint64_t s_;
};

constexpr size_t kInputs = 4096;  // inputs cycled through per benchmark (a power of two)

// ---- Rules ----

void BM_RoundHalfAway(benchmark::State& state) {
  const int places = static_cast<int>(state.range(0));
  Rng rng(1);
  std::vector<double> in(kInputs);
  for (double& v : in) v = rng.Real(-40, 40) + (rng.Uniform(4) ? 0.005 : 0);  // ties and not
  size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(g::RoundHalfAway(in[i++ & (kInputs - 1)], places));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RoundHalfAway)->Arg(1)->Arg(2)->Arg(4);

void BM_RoundedRatioAndMean(benchmark::State& state) {
  Rng rng(2);
  std::vector<std::pair<int64_t, int64_t>> in(kInputs);
  for (auto& [a, b] : in) {
    b = rng.Uniform(5000);
    a = b ? rng.Uniform(static_cast<int>(b) * 500 + 1) : 0;
  }
  size_t i = 0;
  for (auto _ : state) {
    const auto& [a, b] = in[i++ & (kInputs - 1)];
    benchmark::DoNotOptimize(g::RoundedRatio(a, b, 4));
    benchmark::DoNotOptimize(g::RoundedMean(a, b, 2, 2));
  }
  state.SetItemsProcessed(state.iterations() * 2);
}
BENCHMARK(BM_RoundedRatioAndMean);

struct CorrectnessInput {
  std::optional<std::string> recommendation;
  std::optional<double> line;
  std::optional<bool> has_prop_line;
  std::optional<std::string> line_source;
  std::optional<int64_t> points;
  bool voided;
};

// §3.2 for one row: normalise the recommendation, decide whether the line is real, decide
// correctness (the per-row work of the grader).
void BM_Correctness(benchmark::State& state) {
  Rng rng(3);
  const char* recs[] = {"OVER", "UNDER", " over ", "PASS", "HOLD", "NO_LINE", "bogus", ""};
  const char* sources[] = {"ACTUAL_PROP", "ODDS_API", "BETTINGPROS", "ESTIMATED"};
  std::vector<CorrectnessInput> in(kInputs);
  for (auto& c : in) {
    int r = rng.Uniform(10);
    if (r < 8) c.recommendation = recs[r];
    if (rng.Uniform(10)) c.line = 0.5 + rng.Uniform(40);
    if (c.line && rng.Uniform(5) == 0) c.line = *c.line + 0.5;  // whole-number lines (pushes)
    if (rng.Uniform(8) == 0) c.has_prop_line = rng.Uniform(2) == 0;
    if (rng.Uniform(6)) c.line_source = sources[rng.Uniform(4)];
    c.voided = rng.Uniform(20) == 0;
    if (!c.voided) c.points = rng.Uniform(45);
  }
  const std::vector<std::string> real = g::DefaultRealLineSources();
  size_t i = 0;
  for (auto _ : state) {
    const CorrectnessInput& c = in[i++ & (kInputs - 1)];
    g::Recommendation rec = g::NormalizeRecommendation(c.recommendation);
    bool real_line = g::IsRealLine(c.line, c.has_prop_line, c.line_source, real);
    g::Correctness out = g::DecideCorrectness(c.voided, rec, real_line, c.line, c.points);
    benchmark::DoNotOptimize(out);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Correctness);

struct VoidInput {
  std::optional<bool> is_dnp;
  std::optional<int64_t> points;
  std::optional<double> minutes;
  std::optional<std::string> captured_status;
  std::optional<bool> captured_flag;
  bool report_found;
  std::optional<std::string> report_status;
};

// §3.1: did-not-play detection and the void reason of a DNP row.
void BM_VoidReason(benchmark::State& state) {
  Rng rng(4);
  const char* statuses[] = {"out", "OUT", "doubtful", "questionable", "probable", "available"};
  std::vector<VoidInput> in(kInputs);
  for (auto& v : in) {
    if (rng.Uniform(3) == 0) v.is_dnp = rng.Uniform(4) == 0;
    if (rng.Uniform(8)) v.points = rng.Uniform(40);
    if (rng.Uniform(8)) v.minutes = rng.Uniform(3) ? rng.Real(0, 40) : 0.0;
    if (rng.Uniform(4) == 0) v.captured_status = statuses[rng.Uniform(6)];
    if (rng.Uniform(4) == 0) v.captured_flag = rng.Uniform(2) == 0;
    v.report_found = rng.Uniform(2) == 0;
    if (v.report_found && rng.Uniform(5)) v.report_status = statuses[rng.Uniform(6)];
  }
  size_t i = 0;
  for (auto _ : state) {
    const VoidInput& v = in[i++ & (kInputs - 1)];
    bool dnp = g::IsDnp(v.is_dnp, v.points, v.minutes);
    benchmark::DoNotOptimize(dnp);
    // Decided for every row (not only DNP ones) so each iteration does the same work.
    g::VoidDecision d =
        g::DecideVoid(v.captured_status, v.captured_flag, v.report_found, v.report_status);
    benchmark::DoNotOptimize(d);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_VoidReason);

// §3.4: confidence normalisation (0–1 or 0–100 scale) and the decile.
void BM_ConfidenceDecile(benchmark::State& state) {
  Rng rng(5);
  std::vector<std::optional<double>> in(kInputs);
  for (auto& c : in) {
    int r = rng.Uniform(20);
    if (r == 0) continue;  // NULL
    c = r < 10 ? rng.Real(0, 1) : r < 19 ? rng.Real(1, 100) : rng.Real(-5, 150);
  }
  size_t i = 0;
  for (auto _ : state) {
    g::Confidence c = g::NormalizeConfidence(in[i++ & (kInputs - 1)]);
    int decile = c.normalized ? g::ConfidenceDecile(*c.normalized) : 0;
    benchmark::DoNotOptimize(c);
    benchmark::DoNotOptimize(decile);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ConfidenceDecile);

// ---- CSV ----

// The golden predictions file, read once; empty when it cannot be read.
const std::string& GoldenPredictions() {
  static const std::string* text = [] {
    const char* env = std::getenv("PROPGRADE_GOLDEN_PREDICTIONS");
    std::string path = env ? env : PROPGRADE_SOURCE_DIR "/tests/fixtures/golden/inputs/predictions.csv";
    std::ifstream in(path, std::ios::binary);
    std::ostringstream s;
    if (in) s << in.rdbuf();
    return new std::string(s.str());
  }();
  return *text;
}

// Records only (io/csv.h): splitting and unquoting, no types.
void BM_CsvRecords(benchmark::State& state) {
  const std::string& text = GoldenPredictions();
  if (text.empty()) {
    state.SkipWithError("golden predictions.csv not found (set PROPGRADE_GOLDEN_PREDICTIONS)");
    return;
  }
  int64_t records = 0;
  for (auto _ : state) {
    propgrade::csv::CsvReader reader(text);
    records = 0;
    propgrade::csv::CsvReader::Result r;
    while ((r = reader.Next()) == propgrade::csv::CsvReader::Result::kRecord) {
      benchmark::DoNotOptimize(reader.fields().data());
      ++records;
    }
    if (r == propgrade::csv::CsvReader::Result::kError) {
      state.SkipWithError(reader.error().message.c_str());
      return;
    }
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(text.size()));
  state.SetItemsProcessed(state.iterations() * records);
  state.counters["records"] = static_cast<double>(records);
}
BENCHMARK(BM_CsvRecords)->Unit(benchmark::kMillisecond);

// The whole import parse (io/table_file.h): header mapping, typed validation of every cell,
// Rows in catalogue order.
void BM_ParsePredictionsCsv(benchmark::State& state) {
  const std::string& text = GoldenPredictions();
  if (text.empty()) {
    state.SkipWithError("golden predictions.csv not found (set PROPGRADE_GOLDEN_PREDICTIONS)");
    return;
  }
  int64_t rows = 0;
  for (auto _ : state) {
    auto file = propgrade::ParseTableText(propgrade::tables::Predictions(), "predictions.csv",
                                          text, propgrade::FileFormat::kCsv, {});
    if (!file.ok()) {
      state.SkipWithError(file.status().ToString().c_str());
      return;
    }
    rows = static_cast<int64_t>(file->rows.size());
    benchmark::DoNotOptimize(file->rows.data());
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(text.size()));
  state.SetItemsProcessed(state.iterations() * rows);
  state.counters["rows"] = static_cast<double>(rows);
}
BENCHMARK(BM_ParsePredictionsCsv)->Unit(benchmark::kMillisecond);

// ---- Facts and the performance summary ----

// A synthetic season as prediction_accuracy projections (FactColumns() order): 164 game days
// from 2025-10-21, 6 systems, ~7 games a day, ~35 players per game drawn from 450, so about
// 200,000 rows. Mostly graded OVER/UNDER rows; some PASS, voided, pushes and NULLs.
struct SyntheticSeason {
  std::vector<Row> rows;
  std::unordered_map<std::string, std::string> archetypes;
  CivilDay last_day = CivilDay::FromDaysSinceEpoch(0);
};

const SyntheticSeason& Season() {
  static const SyntheticSeason* season = [] {
    auto* s = new SyntheticSeason;
    Rng rng(6);
    const char* teams[] = {"ATL", "BOS", "BKN", "CHA", "CHI", "CLE", "DAL", "DEN", "DET", "GSW",
                           "HOU", "IND", "LAC", "LAL", "MEM", "MIA", "MIL", "MIN", "NOP", "NYK",
                           "OKC", "ORL", "PHI", "PHX", "POR", "SAC", "SAS", "TOR", "UTA", "WAS"};
    const char* systems[] = {"catboost_v8", "ensemble_v2", "similarity_balanced_v1",
                             "zone_matchup_v1", "moving_average_v3", "xgboost_v5"};
    const char* arch[] = {"scorer", "playmaker", "rim_protector", "wing", "bench"};
    const int kPlayers = 450;
    for (int p = 0; p < kPlayers; ++p) {
      s->archetypes["player" + std::to_string(p)] = arch[p % 5];
    }
    CivilDay first = *CivilDay::Parse("2025-10-21");
    for (int d = 0; d < 164; ++d) {
      CivilDay day = CivilDay::FromDaysSinceEpoch(first.days_since_epoch() + d);
      s->last_day = day;
      std::string date = day.ToString();
      std::string compact = date.substr(0, 4) + date.substr(5, 2) + date.substr(8, 2);
      for (int game = 0; game < 7; ++game) {
        int home = rng.Uniform(30), away = (home + 1 + rng.Uniform(29)) % 30;
        std::string game_id = compact + "_" + teams[away] + "_" + teams[home];
        for (int k = 0; k < 29; ++k) {
          std::string player = "player" + std::to_string(rng.Uniform(kPlayers));
          std::string team = k % 2 ? teams[home] : teams[away];
          for (const char* system : systems) {
            Row r(g::FactColumns().size());
            r[0] = Value::Text(date);
            r[1] = Value::Text(system);
            r[2] = Value::Text(player);
            r[3] = Value::Text(game_id);
            r[4] = Value::Text(team);
            r[5] = Value::Real(0.5 + rng.Uniform(4600) / 10000.0);
            int rec = rng.Uniform(10);
            r[6] = Value::Text(rec < 5 ? "OVER" : rec < 9 ? "UNDER" : "PASS");
            bool voided = rng.Uniform(25) == 0;
            bool push = !voided && rng.Uniform(30) == 0;
            if (!voided && !push && rec < 9) r[7] = Value::Bool(rng.Uniform(100) < 53);
            r[8] = Value::Bool(voided);
            r[9] = Value::Bool(push);
            r[10] = Value::Bool(rng.Uniform(4) != 0);
            if (!voided) {
              double err = rng.Uniform(1500) / 100.0;
              double sign = rng.Uniform(2) ? 1 : -1;
              r[11] = Value::Real(err);
              r[12] = Value::Real(sign * err);
              r[13] = Value::Bool(err <= 3);
              r[14] = Value::Bool(err <= 5);
            }
            s->rows.push_back(std::move(r));
          }
        }
      }
    }
    return s;
  }();
  return *season;
}

const g::FactTable& SeasonFacts() {
  static const g::FactTable* facts = [] {
    auto* t = new g::FactTable;
    for (const Row& r : Season().rows) {
      if (!t->Add(r).ok()) std::abort();  // synthetic rows are well-formed by construction
    }
    return t;
  }();
  return *facts;
}

// Projecting stored rows into compact facts (interning, parsing, scaling).
void BM_FactTableAdd(benchmark::State& state) {
  const std::vector<Row>& rows = Season().rows;
  for (auto _ : state) {
    g::FactTable table;
    table.facts.reserve(rows.size());
    for (const Row& r : rows) {
      if (!table.Add(r).ok()) {
        state.SkipWithError("FactTable::Add failed");
        return;
      }
    }
    benchmark::DoNotOptimize(table.facts.data());
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(rows.size()));
  state.counters["facts"] = static_cast<double>(rows.size());
}
BENCHMARK(BM_FactTableAdd)->Unit(benchmark::kMillisecond);

// One summary snapshot as of the season's last day over every fact of its window (all slices:
// periods × systems × players, archetypes, confidence tiers, situations).
void BM_PerformanceSummary(benchmark::State& state) {
  const g::FactTable& facts = SeasonFacts();
  g::SummaryOptions options;
  options.as_of = Season().last_day;
  options.computed_at = "2026-04-15T06:00:00.000000Z";
  options.run_id = "bench";
  options.archetypes = &Season().archetypes;
  int64_t out_rows = 0;
  for (auto _ : state) {
    g::SummaryResult result = g::ComputePerformanceSummary(facts, options);
    out_rows = static_cast<int64_t>(result.rows.size());
    benchmark::DoNotOptimize(result.rows.data());
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(facts.facts.size()));
  state.counters["facts"] = static_cast<double>(facts.facts.size());
  state.counters["summary_rows"] = static_cast<double>(out_rows);
}
BENCHMARK(BM_PerformanceSummary)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();

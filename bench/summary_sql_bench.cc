// P4 (spec/performance.md): the performance summary for one as-of date over a full season,
// beside "the naive way", in one run. Target: ours ≥ 10× faster (ratio ≤ 0.1).
//   ours:   Pipeline::SummarizeAsOf in process (what `propgrade summarize --as-of A` runs): a
//           fresh pipeline (cold fact cache) reads the window's prediction_accuracy rows as
//           compact facts, computes every slice in one pass and writes the snapshot (fenced
//           replace under the db lock, duplicate check, run record).
//   theirs: the same slices (grading.md §5.3) and metrics (§5.4) computed by SQLite, one
//           GROUP BY statement per (period, slice kind) with system_id in the grouping:
//           4 periods × {overall, player (top 200 per system by a window function), archetype
//           (joined to player_archetypes), confidence tier, situation} = 20 statements, each
//           result read into memory; the active systems (§5.2) come from one more query.
//           Computing only, nothing written: the strongest naive baseline. The weaker one the
//           legacy job resembled — one statement per (system, period, slice kind) — is timed
//           too and reported in `extra`.
// The naive rows are checked against the snapshot ours wrote: the same keys, equal counts and
// (to 1e-9) equal rates and means; any difference is an error (exit 1).
// Note: ours rewrites the summary partition of --as-of (same contents, new run id).
// Usage: propgrade_summary_sql_bench --db sqlite:PATH --as-of YYYY-MM-DD [--repeats 3]
// Prints one JSON line (bench/README.md); progress on stderr.
#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "bench_json.h"
#include "common/civil_date.h"
#include "schema/schema.h"
#include "grading/performance_summary.h"
#include "lock/lock_service.h"
#include "pipeline/fact_cache.h"
#include "pipeline/pipeline.h"
#include "db/sqlite_conn.h"
#include "store/store.h"

namespace {

using namespace propgrade;

using bench::Median;
using bench::NowMs;

// One slice as the naive queries compute it. Counts are exact; rates and means are SQLite's
// doubles (NULL when the denominator is empty).
struct NaiveRow {
  std::string key;  // summary_key (grading.md §5.5)
  int64_t total = 0, over = 0, under = 0, pass = 0, hits = 0, misses = 0;
  int64_t unique_players = 0, unique_games = 0;
  std::optional<double> hit_rate, over_hit_rate, under_hit_rate, mae, avg_bias, within3, within5,
      avg_confidence;
};

// The metrics of §5.4 over the rows of a group; voided rows count only in total (§7.10).
// Columns 2.. of every naive statement, in the order ReadRow expects.
const char* kMetrics =
    "count(*), "
    "sum(nv AND recommendation = 'OVER'), sum(nv AND recommendation = 'UNDER'), "
    "sum(nv AND recommendation IN ('PASS', 'HOLD', 'NO_LINE')), "
    "sum(nv AND prediction_correct = 1), sum(nv AND prediction_correct = 0), "
    "count(DISTINCT CASE WHEN nv THEN player_lookup END), "
    "count(DISTINCT CASE WHEN nv THEN game_id END), "
    "sum(nv AND prediction_correct = 1) * 1.0 / "
    "  nullif(sum(nv AND prediction_correct IS NOT NULL), 0), "
    "sum(nv AND recommendation = 'OVER' AND prediction_correct = 1) * 1.0 / "
    "  nullif(sum(nv AND recommendation = 'OVER' AND prediction_correct IS NOT NULL), 0), "
    "sum(nv AND recommendation = 'UNDER' AND prediction_correct = 1) * 1.0 / "
    "  nullif(sum(nv AND recommendation = 'UNDER' AND prediction_correct IS NOT NULL), 0), "
    "avg(CASE WHEN nv THEN absolute_error END), "
    "sum(CASE WHEN nv AND absolute_error IS NOT NULL THEN coalesce(signed_error, 0) END) * 1.0 / "
    "  nullif(sum(nv AND absolute_error IS NOT NULL), 0), "
    "sum(nv AND absolute_error IS NOT NULL AND within_3_points = 1) * 1.0 / "
    "  nullif(sum(nv AND absolute_error IS NOT NULL), 0), "
    "sum(nv AND absolute_error IS NOT NULL AND within_5_points = 1) * 1.0 / "
    "  nullif(sum(nv AND absolute_error IS NOT NULL), 0), "
    "avg(CASE WHEN nv THEN confidence_score END)";

enum Kind { kOverall, kPlayer, kArchetype, kTier, kSituation, kNumKinds };

// The rows of a period's window (game_date in [?1, ?2]) of the active systems (`systems`, an
// SQL condition), with `nv` = not voided and the derived tier and situation columns.
std::string Window(const std::string& systems) {
  return "(SELECT *, "
         "  CASE WHEN confidence_score >= 0.70 THEN 'high' "
         "       WHEN confidence_score >= 0.55 THEN 'medium' "
         "       WHEN confidence_score IS NOT NULL THEN 'low' END AS tier, "
         "  CASE WHEN p1 > 0 AND p2 > 0 AND instr(substr(rest, p2 + 1), '_') = 0 THEN "
         "    CASE WHEN team_abbr = substr(rest, p2 + 1) THEN 'home' "
         "         WHEN team_abbr = substr(rest, 1, p2 - 1) THEN 'away' END END AS situation "
         " FROM (SELECT *, instr(rest, '_') AS p2 "
         "  FROM (SELECT *, coalesce(is_voided, 0) = 0 AS nv, instr(game_id, '_') AS p1, "
         "               substr(game_id, instr(game_id, '_') + 1) AS rest "
         "        FROM prediction_accuracy "
         "        WHERE game_date BETWEEN ?1 AND ?2 AND " + systems + ")))";
}

// The statement of one slice kind: column 0 system_id, column 1 the slice value (NULL for
// overall), then kMetrics.
std::string Statement(Kind kind, const std::string& systems) {
  const std::string from = " FROM " + Window(systems) + " w ";
  switch (kind) {
    case kOverall:
      return std::string("SELECT system_id, NULL, ") + kMetrics + from + "GROUP BY system_id";
    case kPlayer:
      return std::string("SELECT * FROM (SELECT system_id, player_lookup, ") + kMetrics +
             ", row_number() OVER (PARTITION BY system_id ORDER BY count(*) DESC, "
             "player_lookup) AS rn" + from +
             "GROUP BY system_id, player_lookup HAVING count(*) >= 5) WHERE rn <= 200";
    case kArchetype:
      return std::string("SELECT system_id, a.archetype, ") + kMetrics + from +
             "JOIN (SELECT player_lookup AS ap, archetype FROM player_archetypes) a "
             "ON a.ap = w.player_lookup "
             "WHERE a.archetype IS NOT NULL GROUP BY system_id, a.archetype "
             "HAVING count(*) >= 10";
    case kTier:
      return std::string("SELECT system_id, tier, ") + kMetrics + from +
             "WHERE tier IS NOT NULL GROUP BY system_id, tier";
    case kSituation:
      return std::string("SELECT system_id, situation, ") + kMetrics + from +
             "WHERE situation IS NOT NULL GROUP BY system_id, situation";
    default:
      return "";
  }
}

std::string Text(sqlite3_stmt* st, int i) {
  const unsigned char* t = sqlite3_column_text(st, i);
  return t ? reinterpret_cast<const char*>(t) : "";
}

std::optional<double> Real(sqlite3_stmt* st, int i) {
  if (sqlite3_column_type(st, i) == SQLITE_NULL) return std::nullopt;
  return sqlite3_column_double(st, i);
}

NaiveRow ReadRow(sqlite3_stmt* st, Kind kind, const grading::Period& period) {
  NaiveRow r;
  std::string slice = sqlite3_column_type(st, 1) == SQLITE_NULL ? "NULL" : Text(st, 1);
  std::string parts[4] = {"NULL", "NULL", "NULL", "NULL"};
  if (kind != kOverall) parts[kind - 1] = slice;
  r.key = Text(st, 0) + "|" + period.type + "|" + period.value + "|" + parts[0] + "|" + parts[1] +
          "|" + parts[2] + "|" + parts[3];
  int c = 2;
  r.total = sqlite3_column_int64(st, c++);
  r.over = sqlite3_column_int64(st, c++);
  r.under = sqlite3_column_int64(st, c++);
  r.pass = sqlite3_column_int64(st, c++);
  r.hits = sqlite3_column_int64(st, c++);
  r.misses = sqlite3_column_int64(st, c++);
  r.unique_players = sqlite3_column_int64(st, c++);
  r.unique_games = sqlite3_column_int64(st, c++);
  r.hit_rate = Real(st, c++);
  r.over_hit_rate = Real(st, c++);
  r.under_hit_rate = Real(st, c++);
  r.mae = Real(st, c++);
  r.avg_bias = Real(st, c++);
  r.within3 = Real(st, c++);
  r.within5 = Real(st, c++);
  r.avg_confidence = Real(st, c++);
  return r;
}

std::string SqlQuote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("''") : std::string(1, c);
  return out + "'";
}

// The naive computation. `per_system`: one statement per (system, period, kind) instead of
// per (period, kind). Returns false on an SQLite error; counts the statements in *statements.
bool Naive(sqlite3* db, CivilDay as_of, bool per_system, std::vector<NaiveRow>* out,
           int* statements) {
  out->clear();
  *statements = 0;
  // §5.2: systems with a row in [A − 90, A].
  std::vector<std::string> systems;
  {
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db,
                           "SELECT DISTINCT system_id FROM prediction_accuracy WHERE game_date "
                           "BETWEEN ?1 AND ?2 ORDER BY system_id",
                           -1, &st, nullptr) != SQLITE_OK) {
      std::fprintf(stderr, "naive: %s\n", sqlite3_errmsg(db));
      return false;
    }
    std::string from = as_of.AddDays(-90).ToString(), to = as_of.ToString();
    sqlite3_bind_text(st, 1, from.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, to.c_str(), -1, SQLITE_TRANSIENT);
    while (sqlite3_step(st) == SQLITE_ROW) systems.push_back(Text(st, 0));
    sqlite3_finalize(st);
    ++*statements;
  }
  std::string in_list;
  for (const auto& s : systems) in_list += (in_list.empty() ? "" : ", ") + SqlQuote(s);
  std::vector<std::string> conditions;
  if (per_system) {
    conditions.push_back("system_id = ?3");
  } else if (!systems.empty()) {
    conditions.push_back("system_id IN (" + in_list + ")");
  }
  for (const grading::Period& period : grading::PeriodsFor(as_of)) {
    std::string from = period.start.ToString(), to = period.end.ToString();
    for (int k = 0; k < kNumKinds; ++k) {
      for (const std::string& condition : conditions) {
        std::string sql = Statement(static_cast<Kind>(k), condition);
        sqlite3_stmt* st = nullptr;
        if (sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) != SQLITE_OK) {
          std::fprintf(stderr, "naive: %s\n  in: %s\n", sqlite3_errmsg(db), sql.c_str());
          return false;
        }
        size_t runs = per_system ? systems.size() : 1;
        for (size_t s = 0; s < runs; ++s) {
          sqlite3_bind_text(st, 1, from.c_str(), -1, SQLITE_TRANSIENT);
          sqlite3_bind_text(st, 2, to.c_str(), -1, SQLITE_TRANSIENT);
          if (per_system) sqlite3_bind_text(st, 3, systems[s].c_str(), -1, SQLITE_TRANSIENT);
          int rc;
          while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
            out->push_back(ReadRow(st, static_cast<Kind>(k), period));
          }
          if (rc != SQLITE_DONE) {
            std::fprintf(stderr, "naive: %s\n", sqlite3_errmsg(db));
            sqlite3_finalize(st);
            return false;
          }
          sqlite3_reset(st);
          ++*statements;
        }
        sqlite3_finalize(st);
      }
    }
  }
  return true;
}

bool Near(const std::optional<double>& a, const Value& b) {
  if (!a) return b.is_null();
  auto v = b.ToReal();
  return v && std::fabs(*a - *v) <= 1e-9 * std::max(1.0, std::fabs(*v));
}

// Compares the naive rows with the stored snapshot; returns the number of differences (a row
// missing on either side counts as one) and prints the first few on stderr.
int64_t Compare(const std::vector<NaiveRow>& naive, const std::vector<Row>& snapshot) {
  std::unordered_map<std::string, const Row*> by_key;
  for (const Row& r : snapshot) by_key[r[summ::summary_key].as_text()] = &r;
  int64_t diffs = 0;
  auto report = [&](const std::string& what) {
    if (++diffs <= 5) std::fprintf(stderr, "  mismatch: %s\n", what.c_str());
  };
  for (const NaiveRow& n : naive) {
    auto it = by_key.find(n.key);
    if (it == by_key.end()) {
      report(n.key + " only in the naive result");
      continue;
    }
    const Row& s = *it->second;
    auto eq = [&](int col, int64_t v) { return s[col].ToInt() == std::optional<int64_t>(v); };
    bool same = eq(summ::total_predictions, n.total) &&
                eq(summ::total_recommendations, n.over + n.under) &&
                eq(summ::over_recommendations, n.over) &&
                eq(summ::under_recommendations, n.under) &&
                eq(summ::pass_recommendations, n.pass) && eq(summ::hits, n.hits) &&
                eq(summ::misses, n.misses) && eq(summ::unique_players, n.unique_players) &&
                eq(summ::unique_games, n.unique_games) && Near(n.hit_rate, s[summ::hit_rate]) &&
                Near(n.over_hit_rate, s[summ::over_hit_rate]) &&
                Near(n.under_hit_rate, s[summ::under_hit_rate]) && Near(n.mae, s[summ::mae]) &&
                Near(n.avg_bias, s[summ::avg_bias]) && Near(n.within3, s[summ::within_3_pct]) &&
                Near(n.within5, s[summ::within_5_pct]) &&
                Near(n.avg_confidence, s[summ::avg_confidence]);
    if (!same) report(n.key + " differs");
    by_key.erase(it);
  }
  for (const auto& [key, row] : by_key) report(key + " only in the snapshot");
  return diffs;
}

}  // namespace

int main(int argc, char** argv) {
  std::string url, as_of_text;
  int repeats = 3;
  for (int i = 1; i < argc; ++i) {
    bool has = i + 1 < argc;
    if (!std::strcmp(argv[i], "--db") && has) {
      url = argv[++i];
    } else if (!std::strcmp(argv[i], "--as-of") && has) {
      as_of_text = argv[++i];
    } else if (!std::strcmp(argv[i], "--repeats") && has) {
      repeats = std::atoi(argv[++i]);
    } else {
      url.clear();
      break;
    }
  }
  auto as_of_day = CivilDay::Parse(as_of_text);
  auto path = SqlitePathOf(url);
  if (!path.ok() || !as_of_day || repeats < 1) {
    std::fprintf(stderr, "usage: %s --db sqlite:PATH --as-of YYYY-MM-DD [--repeats N]\n",
                 argv[0]);
    return 2;
  }
  const CivilDay as_of = *as_of_day;
  auto store = Store::Open(url, StoreOptions{});
  if (!store.ok()) {
    std::fprintf(stderr, "opening %s: %s\n", url.c_str(), store.status().ToString().c_str());
    return 3;
  }
  LockOptions lo;
  lo.store_url = url;
  auto locks = LockService::Open("db", lo);
  if (!locks.ok()) {
    std::fprintf(stderr, "lock service: %s\n", locks.status().ToString().c_str());
    return 3;
  }
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path->c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    std::fprintf(stderr, "opening %s: %s\n", path->c_str(), sqlite3_errmsg(db));
    return 3;
  }
  // The store's read settings (src/store/sqlite), so both sides get the same page cache.
  sqlite3_exec(db, "PRAGMA cache_size=-65536; PRAGMA temp_store=MEMORY", nullptr, nullptr,
               nullptr);
  sqlite3_busy_timeout(db, 60000);

  CancelToken cancel;
  PipelineDeps deps;
  deps.store = store->get();
  deps.locks = locks->get();
  deps.clock = &RealClock();
  deps.log = &NullLogger();
  deps.cancel = &cancel;

  // Compute alone, for `extra`: read the window as facts, then the one-pass computation.
  double read_ms = 0, compute_ms = 0;
  int64_t window_rows = 0;
  {
    std::unordered_map<std::string, std::string> archetypes;
    (*store)
        ->Scan(tables::Archetypes(), ScanSpec{}, [&](Row&& r) {
          if (r[arch::archetype].is_text()) {
            archetypes[r[arch::player_lookup].as_text()] = r[arch::archetype].as_text();
          }
          return OkStatus();
        })
        .IgnoreError();
    FactCache cache;
    double a = NowMs();
    Status s = cache.Refresh(store->get(), grading::SummaryWindowStart(as_of), as_of);
    read_ms = NowMs() - a;
    if (!s.ok()) {
      std::fprintf(stderr, "reading the window: %s\n", s.ToString().c_str());
      return 1;
    }
    window_rows = cache.rows_read();
    grading::SummaryOptions so;
    so.as_of = as_of;
    so.archetypes = &archetypes;
    std::vector<double> t;
    for (int i = 0; i < repeats; ++i) {
      a = NowMs();
      auto result = grading::ComputePerformanceSummary(cache.table(), so);
      t.push_back(NowMs() - a);
    }
    compute_ms = Median(t);
  }

  std::vector<double> ours_t, theirs_t, per_system_t;
  int64_t rows = 0;
  int statements = 0, per_system_statements = 0;
  std::vector<NaiveRow> naive, per_system;
  for (int i = 0; i < repeats; ++i) {
    std::fprintf(stderr, "repeat %d/%d: ours...\n", i + 1, repeats);
    Pipeline pipeline(deps);  // a fresh fact cache each time
    double a = NowMs();
    RunSummary step = pipeline.SummarizeAsOf(as_of, pipeline.NewRunId(), RunOptions{});
    ours_t.push_back(NowMs() - a);
    if (step.status != RunStatus::kSuccess || !step.rows_written) {
      std::fprintf(stderr, "summary as of %s did not succeed: %s\n", as_of.ToString().c_str(),
                   step.error.c_str());
      return 1;
    }
    rows = *step.rows_written;
    std::fprintf(stderr, "  %.1f ms, %lld rows; naive, per (period, slice kind)...\n",
                 ours_t.back(), static_cast<long long>(rows));
    a = NowMs();
    if (!Naive(db, as_of, false, &naive, &statements)) return 1;
    theirs_t.push_back(NowMs() - a);
    std::fprintf(stderr, "  %.1f ms, %d statements; naive, per (system, period, slice kind)...\n",
                 theirs_t.back(), statements);
    a = NowMs();
    if (!Naive(db, as_of, true, &per_system, &per_system_statements)) return 1;
    per_system_t.push_back(NowMs() - a);
    std::fprintf(stderr, "  %.1f ms, %d statements\n", per_system_t.back(),
                 per_system_statements);
  }

  auto snapshot = (*store)->ReadPartition(tables::Summary(), as_of.ToString());
  if (!snapshot.ok()) {
    std::fprintf(stderr, "reading the snapshot: %s\n", snapshot.status().ToString().c_str());
    return 1;
  }
  int64_t diffs = Compare(naive, *snapshot);
  int64_t per_system_diffs = Compare(per_system, *snapshot);
  sqlite3_close(db);

  double ours = Median(ours_t), theirs = Median(theirs_t), ratio = ours / theirs;
  bool checked = diffs == 0 && per_system_diffs == 0 &&
                 static_cast<int64_t>(snapshot->size()) == rows &&
                 static_cast<int64_t>(naive.size()) == rows;
  std::printf(
      "{\"id\": \"P4\", \"workload\": \"summary as of %s over a full season (%lld accuracy rows "
      "in the window): read, compute, write the snapshot\", \"ours\": %.1f, \"compare\": \"one "
      "SQL GROUP BY per (period, slice kind), systems grouped (SQLite, compute only)\", "
      "\"theirs\": %.1f, \"unit\": \"ms\", \"ratio\": %.4f, \"target\": \"ours <= theirs / 10\", "
      "\"met\": %s, \"extra\": {\"rows\": %lld, \"naive_rows\": %zu, \"naive_statements\": %d, "
      "\"checked_equal\": %s, \"ours_read_facts_ms\": %.1f, \"ours_compute_ms\": %.1f, "
      "\"per_system_naive_ms\": %.1f, \"per_system_statements\": %d, "
      "\"ratio_vs_per_system\": %.4f, \"repeats\": %d}}\n",
      as_of.ToString().c_str(), static_cast<long long>(window_rows), ours, theirs, ratio,
      checked && ratio <= 0.1 ? "true" : "false", static_cast<long long>(rows), naive.size(),
      statements, checked ? "true" : "false", read_ms, compute_ms, Median(per_system_t),
      per_system_statements, ours / Median(per_system_t), repeats);
  if (!checked) {
    std::fprintf(stderr,
                 "the naive result does not match the snapshot (%lld + %lld differences; %zu "
                 "naive rows, %zu snapshot rows): the comparison is not fair\n",
                 static_cast<long long>(diffs), static_cast<long long>(per_system_diffs),
                 naive.size(), snapshot->size());
    return 1;
  }
  return 0;
}

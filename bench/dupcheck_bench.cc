// P9 (spec/performance.md): the post-write duplicate check (Store::CountDuplicates, grading.md
// §6) on one partition of a big prediction_accuracy table, beside the same check on a small
// one, in one run. Target: big ≤ 2× small (the check searches the key index by partition, so
// its cost must not depend on the table's size).
//
// Both databases are created through Store::Open (the real schema and unique key index) and
// filled with `--per-day` rows per game_date (a normal day), inserted in key order by one
// INSERT ... SELECT from a recursive CTE per day, many days per transaction. A database whose
// fill marker (table bench_p9_fill) records the requested size is reused as is.
// Usage: propgrade_dupcheck_bench [--rows 10000000] [--small 100000] [--per-day 10000]
//                                 [--repeats 5] [--dir /tmp/p9]
// Prints one JSON line (bench/README.md); progress on stderr.
#include <sqlite3.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "bench_json.h"
#include "common/civil_date.h"
#include "schema/schema.h"
#include "store/sql_text.h"
#include "store/store.h"

namespace {

using namespace propgrade;

constexpr int kSystems = 20;  // rows of one day = players × kSystems

using bench::Median;
using bench::NowMs;

// Partition `index` (0-based) of a filled table: consecutive days from 2000-01-01.
std::string DayOf(int index) { return CivilDay::Parse("2000-01-01")->AddDays(index).ToString(); }

// A raw connection to `path`, for the fill and the row counts (never for the timed check).
class Raw {
 public:
  explicit Raw(const std::string& path) { sqlite3_open(path.c_str(), &db_); }
  ~Raw() { sqlite3_close(db_); }
  // The first column of the first row as an integer; -1 on error or no row.
  int64_t Int(const std::string& sql) {
    sqlite3_stmt* st = nullptr;
    int64_t out = -1;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &st, nullptr) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW) {
      out = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
    return out;
  }
  std::string Plan(const std::string& sql) {  // EXPLAIN QUERY PLAN details joined by "; "
    sqlite3_stmt* st = nullptr;
    std::string out;
    if (sqlite3_prepare_v2(db_, ("EXPLAIN QUERY PLAN " + sql).c_str(), -1, &st, nullptr) ==
        SQLITE_OK) {
      while (sqlite3_step(st) == SQLITE_ROW) {
        if (!out.empty()) out += "; ";
        out += reinterpret_cast<const char*>(sqlite3_column_text(st, 3));
      }
    }
    sqlite3_finalize(st);
    return out;
  }

 private:
  sqlite3* db_ = nullptr;
};

// The filled row count recorded by a completed fill, or -1.
int64_t FilledRows(const std::string& path, int per_day) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) return -1;
  Raw raw(path);
  return raw.Int("SELECT rows FROM bench_p9_fill WHERE per_day = " + std::to_string(per_day));
}

// Creates `path` through the Store (schema, unique key index) and fills `rows` rows, `per_day`
// per game_date, in key order. Returns false on error.
bool Fill(const std::string& path, int64_t rows, int per_day) {
  std::remove(path.c_str());
  std::remove((path + "-wal").c_str());
  std::remove((path + "-shm").c_str());
  {
    auto store = Store::Open("sqlite:" + path, StoreOptions{});
    if (!store.ok()) {
      std::fprintf(stderr, "opening %s: %s\n", path.c_str(), store.status().ToString().c_str());
      return false;
    }
  }
  // One day: players p (0-based, zero-padded so text order = numeric order) × systems s,
  // generated in key order (game_date, player_lookup, game_id, system_id, line_value).
  const std::string insert =
      "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < ?2) "
      "INSERT INTO prediction_accuracy (prediction_id, player_lookup, game_id, game_date, "
      "system_id, team_abbr, predicted_points, confidence_score, recommendation, line_value, "
      "line_source, is_actionable, actual_points, minutes_played, absolute_error, "
      "signed_error, prediction_correct, within_3_points, within_5_points, is_push, "
      "is_voided, graded_at, run_id) "
      "SELECT ?1 || '-' || i, printf('player%05d', i / " + std::to_string(kSystems) + "), "
      "printf('%s_A%03d_H%03d', replace(?1, '-', ''), i / 400, i / 400), ?1, "
      "printf('system_%02d', i % " + std::to_string(kSystems) + "), "
      "printf('H%03d', i / 400), 10 + (i % 97) * 0.21, 0.5 + (i % 50) / 100.0, "
      "CASE WHEN i % 3 THEN 'OVER' ELSE 'UNDER' END, 12.5 + (i / " +
      std::to_string(kSystems) + ") % 20, 'ACTUAL_PROP', 1, (i * 7) % 35, 24.5, "
      "(i % 90) / 10.0, (i % 90) / 10.0 - 4.5, i % 2, (i % 90) < 30, (i % 90) < 50, 0, 0, "
      "?1 || 'T12:00:00.000000Z', 'bench-p9' FROM n";
  sqlite3_stmt* st = nullptr;
  sqlite3* db = nullptr;
  sqlite3_open(path.c_str(), &db);
  // Bulk-load settings for this connection only; the timed check uses the Store's own.
  sqlite3_exec(db, "PRAGMA synchronous=OFF; PRAGMA cache_size=-262144", nullptr, nullptr,
               nullptr);
  if (sqlite3_prepare_v2(db, insert.c_str(), -1, &st, nullptr) != SQLITE_OK) {
    std::fprintf(stderr, "preparing the fill: %s\n", sqlite3_errmsg(db));
    sqlite3_close(db);
    return false;
  }
  const int64_t days = (rows + per_day - 1) / per_day;
  const int64_t days_per_txn = std::max<int64_t>(1, 1000000 / per_day);
  double start = NowMs();
  int64_t written = 0;
  bool ok = true;
  for (int64_t d = 0; d < days && ok; ++d) {
    if (d % days_per_txn == 0) sqlite3_exec(db, "BEGIN", nullptr, nullptr, nullptr);
    std::string day = DayOf(static_cast<int>(d));
    int n = static_cast<int>(std::min<int64_t>(per_day, rows - written));
    sqlite3_bind_text(st, 1, day.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(st, 2, n);
    if (sqlite3_step(st) != SQLITE_DONE) {
      std::fprintf(stderr, "filling %s: %s\n", day.c_str(), sqlite3_errmsg(db));
      ok = false;
    }
    sqlite3_reset(st);
    written += n;
    if ((d + 1) % days_per_txn == 0 || d + 1 == days) {
      if (ok && d + 1 == days) {
        sqlite3_exec(db,
                     ("CREATE TABLE IF NOT EXISTS bench_p9_fill (rows INTEGER, per_day INTEGER);"
                      "DELETE FROM bench_p9_fill; INSERT INTO bench_p9_fill VALUES (" +
                      std::to_string(written) + ", " + std::to_string(per_day) + ")")
                         .c_str(),
                     nullptr, nullptr, nullptr);
      }
      if (sqlite3_exec(db, ok ? "COMMIT" : "ROLLBACK", nullptr, nullptr, nullptr) != SQLITE_OK) {
        std::fprintf(stderr, "commit: %s\n", sqlite3_errmsg(db));
        ok = false;
      }
      double s = (NowMs() - start) / 1000;
      std::fprintf(stderr, "  %s: %lld / %lld rows, %.0f s (%.0f rows/s)\n", path.c_str(),
                   static_cast<long long>(written), static_cast<long long>(rows), s,
                   written / std::max(s, 1e-9));
    }
  }
  sqlite3_finalize(st);
  sqlite3_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)", nullptr, nullptr, nullptr);
  sqlite3_close(db);
  return ok;
}

// Makes sure `path` holds `rows` rows (reusing a complete earlier fill).
bool Ensure(const std::string& path, int64_t rows, int per_day) {
  if (FilledRows(path, per_day) == rows) {
    std::fprintf(stderr, "reusing %s: already holds %lld rows (%d per day)\n", path.c_str(),
                 static_cast<long long>(rows), per_day);
    return true;
  }
  std::fprintf(stderr, "building %s: %lld rows, %d per day...\n", path.c_str(),
               static_cast<long long>(rows), per_day);
  return Fill(path, rows, per_day);
}

struct Timing {
  double warm_ms = 0;   // median of the repeats
  double first_ms = 0;  // the first call on a fresh connection
  int64_t partition_rows = 0;
  int64_t groups = -1;
};

// Times CountDuplicates on `partition` through a fresh Store: one first call, then `repeats`.
bool TimeCheck(const std::string& path, const std::string& partition, int repeats, Timing* out) {
  auto store = Store::Open("sqlite:" + path, StoreOptions{});
  if (!store.ok()) {
    std::fprintf(stderr, "opening %s: %s\n", path.c_str(), store.status().ToString().c_str());
    return false;
  }
  std::vector<double> t;
  for (int i = 0; i <= repeats; ++i) {
    double a = NowMs();
    auto count = (*store)->CountDuplicates(tables::Accuracy(), partition);
    double ms = NowMs() - a;
    if (!count.ok()) {
      std::fprintf(stderr, "duplicate check on %s: %s\n", path.c_str(),
                   count.status().ToString().c_str());
      return false;
    }
    out->groups = count->groups;
    if (i == 0) {
      out->first_ms = ms;
    } else {
      t.push_back(ms);
    }
  }
  out->warm_ms = Median(t);
  Raw raw(path);
  out->partition_rows = raw.Int("SELECT count(*) FROM prediction_accuracy WHERE game_date = '" +
                                partition + "'");
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  int64_t rows = 10000000, small = 100000;
  int per_day = 10000, repeats = 5;
  std::string dir = "/tmp/p9";
  for (int i = 1; i < argc; ++i) {
    bool has = i + 1 < argc;
    if (!std::strcmp(argv[i], "--rows") && has) {
      rows = std::atoll(argv[++i]);
    } else if (!std::strcmp(argv[i], "--small") && has) {
      small = std::atoll(argv[++i]);
    } else if (!std::strcmp(argv[i], "--per-day") && has) {
      per_day = std::atoi(argv[++i]);
    } else if (!std::strcmp(argv[i], "--repeats") && has) {
      repeats = std::atoi(argv[++i]);
    } else if (!std::strcmp(argv[i], "--dir") && has) {
      dir = argv[++i];
    } else {
      std::fprintf(stderr,
                   "usage: %s [--rows N] [--small N] [--per-day N] [--repeats R] [--dir DIR]\n",
                   argv[0]);
      return 2;
    }
  }
  if (rows < per_day || small < per_day || repeats < 1 || per_day < kSystems) {
    std::fprintf(stderr, "need --rows, --small >= --per-day >= %d and --repeats >= 1\n",
                 kSystems);
    return 2;
  }
  mkdir(dir.c_str(), 0755);
  const std::string big_path = dir + "/dupcheck_" + std::to_string(rows) + ".db";
  const std::string small_path = dir + "/dupcheck_" + std::to_string(small) + ".db";
  if (!Ensure(small_path, small, per_day) || !Ensure(big_path, rows, per_day)) return 1;

  // A full day in the middle of each table.
  auto middle = [&](int64_t n) { return DayOf(static_cast<int>(n / per_day / 2)); };
  Timing big, little;
  std::fprintf(stderr, "timing the check on %s (%s)...\n", big_path.c_str(),
               middle(rows).c_str());
  if (!TimeCheck(big_path, middle(rows), repeats, &big)) return 1;
  std::fprintf(stderr, "timing the check on %s (%s)...\n", small_path.c_str(),
               middle(small).c_str());
  if (!TimeCheck(small_path, middle(small), repeats, &little)) return 1;
  if (big.partition_rows != little.partition_rows || big.groups != 0 || little.groups != 0) {
    std::fprintf(stderr, "unexpected partitions: %lld vs %lld rows, %lld / %lld groups\n",
                 static_cast<long long>(big.partition_rows),
                 static_cast<long long>(little.partition_rows),
                 static_cast<long long>(big.groups), static_cast<long long>(little.groups));
    return 1;
  }
  // The plan of the check's inner query (the same text Store builds), to show the index use.
  const TableDef& t = tables::Accuracy();
  std::string keys = sql::KeyExprList(t, sql::Dialect::kSqlite);
  std::string plan =
      Raw(big_path).Plan("SELECT " + keys + ", count(*) FROM prediction_accuracy WHERE "
                         "game_date = '2000-01-01' GROUP BY " + keys + " HAVING count(*) > 1");
  for (char& c : plan) {
    if (c == '"' || c == '\\') c = '\'';
  }
  double ratio = big.warm_ms / little.warm_ms;
  std::printf(
      "{\"id\": \"P9\", \"workload\": \"post-write duplicate check (Store::CountDuplicates) on "
      "one %lld-row partition of a %lld-row prediction_accuracy table\", \"ours\": %.3f, "
      "\"compare\": \"the same check on a %lld-row table\", \"theirs\": %.3f, \"unit\": \"ms\", "
      "\"ratio\": %.3f, \"target\": \"ours <= 2 * theirs\", \"met\": %s, \"extra\": {"
      "\"rows\": %lld, \"small_rows\": %lld, \"partition_rows\": %lld, \"repeats\": %d, "
      "\"first_call_ms\": %.3f, \"small_first_call_ms\": %.3f, \"plan\": \"%s\"}}\n",
      static_cast<long long>(big.partition_rows), static_cast<long long>(rows), big.warm_ms,
      static_cast<long long>(small), little.warm_ms, ratio, ratio <= 2.0 ? "true" : "false",
      static_cast<long long>(rows), static_cast<long long>(small),
      static_cast<long long>(big.partition_rows), repeats, big.first_ms, little.first_ms,
      plan.c_str());
  return 0;
}

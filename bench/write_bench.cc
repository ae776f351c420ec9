// P3 and P7 (spec/performance.md): re-grading one date of N predictions (the daily job's
// grading step: read inputs, grade, fenced atomic replace under the db lock, duplicate check,
// run record) beside the bare write of the same rows, in one run:
//   SQLite:      one transaction: DELETE the partition, INSERT the rows with one prepared
//                statement (sorted by key)
//   PostgreSQL:  psql -1: DELETE the partition, \copy the same rows from a CSV file
// Usage: propgrade_write_bench --db URL [--predictions 10000] [--repeats 5]
// Prints JSON lines (bench/README.md): P3 (SQLite) or P7 and the insert-path comparison.
// PostgreSQL URLs must not carry ?schema= (psql gets the same database).
#include <sqlite3.h>
#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "bench_json.h"
#include "common/civil_date.h"
#include "schema/schema.h"
#include "common/value_text.h"
#include "io/table_file.h"
#include "lock/lock_service.h"
#include "pipeline/pipeline.h"
#include "db/pg_conn.h"
#include "db/sqlite_conn.h"
#include "store/store.h"

namespace {

using namespace propgrade;

double MedianMs(int repeats, const std::function<void()>& fn) {
  std::vector<double> t;
  for (int i = 0; i < repeats; ++i) {
    auto a = std::chrono::steady_clock::now();
    fn();
    t.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - a)
                    .count());
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

const char* kDate = "2026-01-16";

// N predictions of one date: 500 players in 25 games, N / 500 systems.
void Inputs(int n, std::vector<Row>* predictions, std::vector<Row>* actuals) {
  const int players = 500;
  for (int p = 0; p < players; ++p) {
    int game = p / 20;
    std::string game_id = "20260116_A" + std::to_string(game) + "_H" + std::to_string(game);
    std::string team = (p % 2 ? "H" : "A") + std::to_string(game);
    Row a(act::kNumColumns);
    a[act::game_date] = Value::Text(kDate);
    a[act::game_id] = Value::Text(game_id);
    a[act::player_lookup] = Value::Text("player" + std::to_string(p));
    a[act::team_abbr] = Value::Text(team);
    a[act::points] = Value::Int((p * 7) % 35);
    a[act::minutes_played] = Value::Real(p % 17 == 0 ? 0 : 24.5);
    actuals->push_back(a);
  }
  for (int i = 0; i < n; ++i) {
    int p = i % players, s = i / players;
    Row r(pred::kNumColumns);
    r[pred::prediction_id] = Value::Text("bench-" + std::to_string(i));
    r[pred::game_date] = Value::Text(kDate);
    r[pred::game_id] = (*actuals)[p][act::game_id];
    r[pred::player_lookup] = (*actuals)[p][act::player_lookup];
    r[pred::system_id] = Value::Text("system_" + std::to_string(s));
    r[pred::predicted_points] = Value::Real(10 + (i % 97) * 0.21);
    r[pred::confidence_score] = Value::Real(0.5 + (i % 50) / 100.0);
    r[pred::recommendation] = Value::Text(i % 3 ? "OVER" : "UNDER");
    r[pred::line_value] = Value::Real(12.5 + (i % 20));
    r[pred::line_source] = Value::Text("ACTUAL_PROP");
    r[pred::pace_adjustment] = Value::Real(1.0123);
    r[pred::model_version] = Value::Text("v1");
    r[pred::created_at] = Value::Text("2026-01-16T12:00:00.000000Z");
    predictions->push_back(r);
  }
}

int Run(const std::vector<std::string>& argv) {
  pid_t pid = fork();
  if (pid == 0) {
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    freopen("/dev/null", "w", stdout);
    execvp(args[0], args.data());
    _exit(127);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

}  // namespace

int main(int argc, char** argv) {
  std::string url;
  int n = 10000, repeats = 5;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--db")) url = argv[i + 1];
    if (!std::strcmp(argv[i], "--predictions")) n = std::atoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--repeats")) repeats = std::atoi(argv[i + 1]);
  }
  if (url.empty()) {
    std::fprintf(stderr, "usage: %s --db URL [--predictions N] [--repeats R]\n", argv[0]);
    return 2;
  }
  auto store = Store::Open(url, StoreOptions{});
  if (!store.ok()) {
    std::fprintf(stderr, "%s\n", store.status().ToString().c_str());
    return 3;
  }
  std::vector<Row> predictions, actuals;
  Inputs(n, &predictions, &actuals);
  (*store)->Import(tables::Actuals(), actuals, {}, "bench", ImportMode::kUpsert).status().IgnoreError();
  (*store)->Import(tables::Predictions(), predictions, {}, "bench", ImportMode::kUpsert)
      .status().IgnoreError();

  LockOptions lo;
  bool postgres = (*store)->backend() == "postgres";
  lo.store_url = url;
  auto locks = LockService::Open("db", lo);
  if (!locks.ok()) return 3;
  CancelToken cancel;
  PipelineDeps deps;
  deps.store = store->get();
  deps.locks = locks->get();
  deps.clock = &RealClock();
  deps.log = &NullLogger();
  deps.cancel = &cancel;
  Pipeline pipeline(deps);
  CivilDay day = *CivilDay::Parse(kDate);
  RunSummary first = pipeline.GradeDate(day, "bench-first", RunOptions{}, store->get());
  if (first.status != RunStatus::kSuccess) {
    std::fprintf(stderr, "grading failed: %s\n", first.error.c_str());
    return 1;
  }
  int64_t rows = *first.rows_written;
  double ours = MedianMs(repeats, [&] {
    pipeline.GradeDate(day, pipeline.NewRunId(), RunOptions{}, store->get());
  });
  std::vector<Row> graded = *(*store)->ReadPartition(tables::Accuracy(), kDate);
  const TableDef& t = tables::Accuracy();

  double raw = 0;
  const char* raw_name = "";
  if (!postgres) {
    raw_name = "bare SQLite: DELETE + prepared INSERT, one transaction";
    sqlite3* db = nullptr;
    sqlite3_open(SqlitePathOf(url)->c_str(), &db);
    sqlite3_busy_timeout(db, 10000);
    std::string cols, marks;
    for (size_t i = 0; i < t.columns.size(); ++i) {
      cols += (i ? ", \"" : "\"") + t.columns[i].name + "\"";
      marks += i ? ", ?" : "?";
    }
    sqlite3_stmt *del = nullptr, *ins = nullptr;
    sqlite3_prepare_v2(db, "DELETE FROM prediction_accuracy WHERE game_date = ?", -1, &del, nullptr);
    sqlite3_prepare_v2(db, ("INSERT INTO prediction_accuracy (" + cols + ") VALUES (" + marks + ")").c_str(),
                       -1, &ins, nullptr);
    raw = MedianMs(repeats, [&] {
      sqlite3_exec(db, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr);
      sqlite3_bind_text(del, 1, kDate, -1, SQLITE_STATIC);
      sqlite3_step(del);
      sqlite3_reset(del);
      for (const Row& r : graded) {
        for (size_t i = 0; i < r.size(); ++i) {
          const Value& v = r[i];
          int idx = static_cast<int>(i + 1);
          if (v.is_null()) sqlite3_bind_null(ins, idx);
          else if (v.is_text()) sqlite3_bind_text(ins, idx, v.as_text().c_str(), -1, SQLITE_STATIC);
          else if (v.is_real()) sqlite3_bind_double(ins, idx, v.as_real());
          else sqlite3_bind_int64(ins, idx, *v.ToInt());
        }
        sqlite3_step(ins);
        sqlite3_reset(ins);
      }
      sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr);
    });
    sqlite3_finalize(del);
    sqlite3_finalize(ins);
    sqlite3_close(db);
  } else {
    raw_name = "psql -1: DELETE + \\copy of the same rows";
    std::string csv_path = "/tmp/propgrade-write-bench.csv";
    {
      std::ofstream out(csv_path);
      auto writer = TableWriter::Create(t, FileFormat::kCsv, &out);
      writer->WriteHeader();
      for (const Row& r : graded) writer->WriteRow(r);
    }
    std::string cols;
    for (size_t i = 0; i < t.columns.size(); ++i) cols += (i ? ", " : "") + t.columns[i].name;
    raw = MedianMs(repeats, [&] {
      Run({"psql", url, "-q", "-1", "-v", "ON_ERROR_STOP=1", "-c",
           std::string("DELETE FROM prediction_accuracy WHERE game_date = '") + kDate + "'", "-c",
           "\\copy prediction_accuracy (" + cols + ") FROM '" + csv_path + "' CSV HEADER"});
    });
    std::remove(csv_path.c_str());

    // The store's insert path, chosen by measurement: COPY against multi-row parameterised
    // INSERTs (500 rows per statement), both in one transaction after the DELETE.
    auto pg_url = ParsePgUrl(url);
    auto conn = PgConn::Connect(*pg_url);
    if (conn.ok()) {
      auto text = [](const Value& v) -> std::optional<std::string> {
        if (v.is_null()) return std::nullopt;
        return FormatCell(v);
      };
      double copy_ms = MedianMs(repeats, [&] {
        std::string data;
        for (const Row& r : graded) {
          for (size_t i = 0; i < r.size(); ++i) {
            if (i) data += '\t';
            AppendCopyField(&data, text(r[i]));
          }
          data += '\n';
        }
        (*conn)->Exec("BEGIN").status().IgnoreError();
        (*conn)->Exec("DELETE FROM prediction_accuracy WHERE game_date = $1", {kDate}).status().IgnoreError();
        (*conn)->CopyIn("COPY prediction_accuracy (" + cols + ") FROM STDIN", data).IgnoreError();
        (*conn)->Exec("COMMIT").status().IgnoreError();
      });
      const size_t per_statement = 500;
      double insert_ms = MedianMs(repeats, [&] {
        (*conn)->Exec("BEGIN").status().IgnoreError();
        (*conn)->Exec("DELETE FROM prediction_accuracy WHERE game_date = $1", {kDate}).status().IgnoreError();
        for (size_t start = 0; start < graded.size(); start += per_statement) {
          size_t end = std::min(graded.size(), start + per_statement);
          std::string sql = "INSERT INTO prediction_accuracy (" + cols + ") VALUES ";
          PgParams params;
          for (size_t r = start; r < end; ++r) {
            sql += r > start ? ", (" : "(";
            for (size_t i = 0; i < t.columns.size(); ++i) {
              params.push_back(text(graded[r][i]));
              sql += (i ? ", $" : "$") + std::to_string(params.size());
            }
            sql += ")";
          }
          (*conn)->Exec(sql, params).status().IgnoreError();
        }
        (*conn)->Exec("COMMIT").status().IgnoreError();
      });
      bench::Measurement m;
      m.id = "P7-insert-path";
      m.workload = "multi-row INSERT, " + std::to_string(per_statement) + " rows per statement";
      m.ours = insert_ms;
      m.compare = "COPY FROM STDIN through libpq (the store's choice)";
      m.theirs = copy_ms;
      m.target = "informational";
      m.met = true;
      m.extra = {{"rows", graded.size()}};
      bench::Print(m);
    }
  }
  bench::Measurement m;
  m.id = postgres ? "P7" : "P3";
  m.workload = "re-grade one date of " + std::to_string(n) + " predictions (" +
               std::string((*store)->backend()) + ")";
  m.ours = ours;
  m.compare = raw_name;
  m.theirs = raw;
  m.target = postgres ? "<= 2x" : "<= 1.5x";
  m.met = ours <= (postgres ? 2.0 : 1.5) * raw;
  m.extra = {{"rows", rows}, {"ours_rows_per_s", rows / ours * 1000},
             {"theirs_rows_per_s", rows / raw * 1000}};
  bench::Print(m);
  return 0;
}

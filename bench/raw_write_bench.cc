// P1 "raw" side (spec/performance.md): a bare program writing the rows `propgrade grade --from
// --to` writes — all three output tables (prediction_accuracy, system_daily_performance,
// prediction_performance_summary) — with one prepared INSERT per table, each partition's rows
// sorted by the table's unique key, one transaction per date (all three tables' partitions of
// that date; --txn-per-table: one per table partition, as propgrade's ReplacePartition does),
// deleting the partition's old rows first when --regrade.
//
// Usage: propgrade_raw_write_bench --graded sqlite:GRADED.db --target PATH.db
//                                  [--regrade] [--repeats 3] [--txn-per-table]
//                                  [--synchronous full|normal]
//   --graded   a database propgrade has already graded (e.g. by `propgrade demo`); only read.
//   --target   created afresh (schema through Store::Open) before every first-write repeat;
//              any existing PATH.db, -wal and -shm are removed.
//   --synchronous  PRAGMA synchronous of the target (default full, as propgrade's default).
//   --regrade  write everything once untimed, then time rewrites (DELETE + INSERT per
//              partition) of the same rows.
//
// The target connection uses propgrade's SQLite settings (src/store/sqlite/sqlite_store.cc):
// journal_mode=WAL, synchronous=FULL (or NORMAL), cache_size=-65536 (64 MiB), temp_store=MEMORY,
// busy_timeout, statements prepared with SQLITE_PREPARE_PERSISTENT, BEGIN IMMEDIATE.
//
// Timed: only the writing — BEGIN ... COMMIT of every partition plus the final close (which
// checkpoints the WAL, as propgrade's process exit does). Reading and sorting a partition's rows
// from the graded database happens between partitions with the clock stopped.
//
// Output: one JSON line per mode on stdout (progress on stderr):
//   {"id":"raw","mode":"first"|"regrade","ms":<median ms>,"unit":"ms","rows":<rows per write>,
//    "rows_per_s":<rows / median s>,"partitions":<dates>,"transactions":<per write>,
//    "repeats":<n>,"runs_ms":[...],"close_ms":<median ms of the final close>,
//    "tables":{"prediction_accuracy":n,"system_daily_performance":n,
//              "prediction_performance_summary":n},
//    "pragmas":"journal_mode=WAL synchronous=FULL cache_size=-65536 temp_store=MEMORY"}
// Exit codes: 0 ok, 2 usage, 3 a database error (message on stderr).
#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "common/status.h"
#include "common/strings.h"
#include "schema/schema.h"
#include "common/value.h"
#include "store/store.h"

namespace {

using propgrade::ColumnType;
using propgrade::Row;
using propgrade::Status;
using propgrade::StatusOr;
using propgrade::Store;
using propgrade::TableDef;
using propgrade::Value;

using Clock = std::chrono::steady_clock;

// The pragmas besides synchronous.
constexpr const char* kPragmas = "journal_mode=WAL cache_size=-65536 temp_store=MEMORY";

struct Args {
  std::string graded_url;
  std::string target_path;
  bool regrade = false;
  bool txn_per_table = false;
  int repeats = 3;
  std::string synchronous = "FULL";
};

// The three output tables in the order a grade writes a date: accuracy, daily, summary.
std::vector<const TableDef*> OutputTables() {
  return {&propgrade::tables::Accuracy(), &propgrade::tables::DailyPerformance(),
          &propgrade::tables::Summary()};
}

Status SqliteStatus(sqlite3* db, int rc, const std::string& what) {
  return propgrade::InternalError(what + ": " + (db ? sqlite3_errmsg(db) : sqlite3_errstr(rc)));
}

// A bare connection to the target with propgrade's pragmas and one DELETE and one INSERT
// statement per output table.
class RawWriter {
 public:
  ~RawWriter() { Close().IgnoreError(); }

  Status Open(const std::string& path, const std::string& synchronous) {
    int rc = sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE, nullptr);
    if (rc != SQLITE_OK) return SqliteStatus(db_, rc, "opening " + path);
    sqlite3_busy_timeout(db_, 60000);
    const std::string sync = "PRAGMA synchronous=" + synchronous;
    for (const char* p : {"PRAGMA journal_mode=WAL", sync.c_str(), "PRAGMA cache_size=-65536",
                          "PRAGMA temp_store=MEMORY"}) {
      RETURN_IF_ERROR(Exec(p));
    }
    for (const TableDef* t : OutputTables()) {
      std::string cols, marks;
      for (size_t i = 0; i < t->columns.size(); ++i) {
        cols += (i ? ", \"" : "\"") + t->columns[i].name + "\"";
        marks += i ? ", ?" : "?";
      }
      Stmts s;
      RETURN_IF_ERROR(Prepare("INSERT INTO \"" + t->name + "\" (" + cols + ") VALUES (" + marks +
                                  ")",
                              &s.insert));
      RETURN_IF_ERROR(Prepare("DELETE FROM \"" + t->name + "\" WHERE \"" + t->partition_column +
                                  "\" = ?",
                              &s.del));
      stmts_[t] = s;
    }
    return propgrade::OkStatus();
  }

  // Finalizes the statements and closes (the last connection's close checkpoints the WAL).
  Status Close() {
    if (!db_) return propgrade::OkStatus();
    for (auto& [t, s] : stmts_) {
      sqlite3_finalize(s.insert);
      sqlite3_finalize(s.del);
    }
    stmts_.clear();
    int rc = sqlite3_close(db_);
    sqlite3* db = db_;
    db_ = nullptr;
    if (rc != SQLITE_OK) return SqliteStatus(db, rc, "closing the target");
    return propgrade::OkStatus();
  }

  Status Begin() { return Exec("BEGIN IMMEDIATE"); }
  Status Commit() { return Exec("COMMIT"); }

  Status DeletePartition(const TableDef& t, const std::string& partition) {
    sqlite3_stmt* del = stmts_.at(&t).del;
    sqlite3_bind_text(del, 1, partition.data(), static_cast<int>(partition.size()),
                      SQLITE_STATIC);
    int rc = sqlite3_step(del);
    sqlite3_reset(del);
    if (rc != SQLITE_DONE) return SqliteStatus(db_, rc, "deleting from " + t.name);
    return propgrade::OkStatus();
  }

  // Inserts rows (catalogue order), binding each cell by its column's type as propgrade does.
  Status Insert(const TableDef& t, const std::vector<Row>& rows) {
    sqlite3_stmt* ins = stmts_.at(&t).insert;
    const int n = static_cast<int>(t.columns.size());
    for (const Row& row : rows) {
      for (int i = 0; i < n; ++i) Bind(ins, i + 1, t.columns[i].type, row[i]);
      int rc = sqlite3_step(ins);
      sqlite3_reset(ins);
      if (rc != SQLITE_DONE) return SqliteStatus(db_, rc, "inserting into " + t.name);
    }
    return propgrade::OkStatus();
  }

 private:
  struct Stmts {
    sqlite3_stmt* insert = nullptr;
    sqlite3_stmt* del = nullptr;
  };

  // The same binding as propgrade's SqliteStore::BindValue: by column type, text as is.
  static void Bind(sqlite3_stmt* stmt, int idx, ColumnType type, const Value& v) {
    if (v.is_null()) {
      sqlite3_bind_null(stmt, idx);
      return;
    }
    switch (type) {
      case ColumnType::kBool:
      case ColumnType::kInteger:
        sqlite3_bind_int64(stmt, idx, v.ToInt().value_or(0));
        return;
      case ColumnType::kReal:
        sqlite3_bind_double(stmt, idx, v.ToReal().value_or(0));
        return;
      default:
        if (v.is_text()) {
          const std::string& s = v.as_text();
          sqlite3_bind_text(stmt, idx, s.data(), static_cast<int>(s.size()), SQLITE_STATIC);
        } else {
          std::string s = v.is_real() ? propgrade::FormatDouble(v.as_real())
                                      : std::to_string(v.ToInt().value_or(0));
          sqlite3_bind_text(stmt, idx, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
        }
    }
  }

  Status Exec(const char* sql) {
    char* err = nullptr;
    int rc = sqlite3_exec(db_, sql, nullptr, nullptr, &err);
    if (rc != SQLITE_OK) {
      std::string msg = std::string(sql) + ": " + (err ? err : sqlite3_errstr(rc));
      sqlite3_free(err);
      return propgrade::InternalError(msg);
    }
    return propgrade::OkStatus();
  }

  Status Prepare(const std::string& sql, sqlite3_stmt** out) {
    int rc = sqlite3_prepare_v3(db_, sql.c_str(), static_cast<int>(sql.size()),
                                SQLITE_PREPARE_PERSISTENT, out, nullptr);
    if (rc != SQLITE_OK) return SqliteStatus(db_, rc, "preparing " + sql);
    return propgrade::OkStatus();
  }

  sqlite3* db_ = nullptr;
  std::map<const TableDef*, Stmts> stmts_;
};

// Removes PATH, PATH-wal and PATH-shm, then creates the schema through Store::Open.
Status FreshTarget(const std::string& path) {
  for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
    std::remove((path + suffix).c_str());
  }
  ASSIGN_OR_RETURN(std::unique_ptr<Store> store,
                   Store::Open("sqlite:" + path, propgrade::StoreOptions{}));
  return propgrade::OkStatus();
}

struct WriteStats {
  double total_ms = 0;  // timed: transactions + close
  double close_ms = 0;
  int64_t rows = 0;
  int64_t transactions = 0;
  std::map<std::string, int64_t> table_rows;
};

// One full write of every date into `target_path`; see the file comment for what is timed.
StatusOr<WriteStats> WriteAll(Store* graded, const std::vector<std::string>& dates,
                              const std::string& target_path, const Args& args, bool del) {
  RawWriter writer;
  RETURN_IF_ERROR(writer.Open(target_path, args.synchronous));
  WriteStats stats;
  Clock::duration timed{};
  std::vector<const TableDef*> tables = OutputTables();
  std::vector<std::vector<Row>> rows(tables.size());
  for (const std::string& date : dates) {
    // Untimed: read and sort the date's rows of every table.
    for (size_t i = 0; i < tables.size(); ++i) {
      ASSIGN_OR_RETURN(rows[i], graded->ReadPartition(*tables[i], date));
      propgrade::SortRowsByKey(*tables[i], &rows[i]);
    }
    Clock::time_point start = Clock::now();
    for (size_t i = 0; i < tables.size(); ++i) {
      if (i == 0 || args.txn_per_table) {
        RETURN_IF_ERROR(writer.Begin());
        ++stats.transactions;
      }
      if (del) RETURN_IF_ERROR(writer.DeletePartition(*tables[i], date));
      RETURN_IF_ERROR(writer.Insert(*tables[i], rows[i]));
      if (i + 1 == tables.size() || args.txn_per_table) RETURN_IF_ERROR(writer.Commit());
    }
    timed += Clock::now() - start;
    for (size_t i = 0; i < tables.size(); ++i) {
      stats.rows += static_cast<int64_t>(rows[i].size());
      stats.table_rows[tables[i]->name] += static_cast<int64_t>(rows[i].size());
    }
  }
  Clock::time_point close_start = Clock::now();
  RETURN_IF_ERROR(writer.Close());
  Clock::duration close = Clock::now() - close_start;
  stats.close_ms = std::chrono::duration<double, std::milli>(close).count();
  stats.total_ms = std::chrono::duration<double, std::milli>(timed + close).count();
  return stats;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

// Every date that has rows in any output table, ascending.
StatusOr<std::vector<std::string>> Dates(Store* graded) {
  std::set<std::string> dates;
  for (const TableDef* t : OutputTables()) {
    ASSIGN_OR_RETURN(std::vector<std::string> parts, graded->ListPartitions(*t));
    dates.insert(parts.begin(), parts.end());
  }
  return std::vector<std::string>(dates.begin(), dates.end());
}

Status Run(const Args& args) {
  ASSIGN_OR_RETURN(std::unique_ptr<Store> graded,
                   Store::Open(args.graded_url, propgrade::StoreOptions{}));
  ASSIGN_OR_RETURN(std::vector<std::string> dates, Dates(graded.get()));
  if (dates.empty()) return propgrade::FailedPreconditionError(args.graded_url + " holds no graded rows");
  std::fprintf(stderr, "raw: %zu dates %s..%s\n", dates.size(), dates.front().c_str(),
               dates.back().c_str());

  std::vector<double> runs, closes;
  WriteStats last;
  if (args.regrade) {
    RETURN_IF_ERROR(FreshTarget(args.target_path));
    ASSIGN_OR_RETURN(last, WriteAll(graded.get(), dates, args.target_path, args, false));
    std::fprintf(stderr, "raw: untimed first write %.1f ms\n", last.total_ms);
  }
  for (int r = 0; r < args.repeats; ++r) {
    if (!args.regrade) RETURN_IF_ERROR(FreshTarget(args.target_path));
    ASSIGN_OR_RETURN(last, WriteAll(graded.get(), dates, args.target_path, args, args.regrade));
    std::fprintf(stderr, "raw: %s repeat %d: %.1f ms (%lld rows)\n",
                 args.regrade ? "regrade" : "first", r + 1, last.total_ms,
                 static_cast<long long>(last.rows));
    runs.push_back(last.total_ms);
    closes.push_back(last.close_ms);
  }

  double ms = Median(runs);
  std::string runs_json, tables_json;
  for (double t : runs) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%s%.1f", runs_json.empty() ? "" : ",", t);
    runs_json += buf;
  }
  for (const auto& [name, n] : last.table_rows) {
    tables_json += (tables_json.empty() ? "\"" : ",\"") + name + "\":" + std::to_string(n);
  }
  std::printf(
      "{\"id\":\"raw\",\"mode\":\"%s\",\"ms\":%.1f,\"unit\":\"ms\",\"rows\":%lld,"
      "\"rows_per_s\":%.0f,\"partitions\":%zu,\"transactions\":%lld,\"repeats\":%d,"
      "\"runs_ms\":[%s],\"close_ms\":%.1f,\"tables\":{%s},\"pragmas\":\"%s synchronous=%s\"}\n",
      args.regrade ? "regrade" : "first", ms, static_cast<long long>(last.rows),
      last.rows / ms * 1000, dates.size(), static_cast<long long>(last.transactions), args.repeats,
      runs_json.c_str(), Median(closes), tables_json.c_str(), kPragmas, args.synchronous.c_str());
  std::fflush(stdout);
  return propgrade::OkStatus();
}

}  // namespace

int main(int argc, char** argv) {
  Args args;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    bool has_value = i + 1 < argc;
    if (a == "--regrade") {
      args.regrade = true;
    } else if (a == "--txn-per-table") {
      args.txn_per_table = true;
    } else if (a == "--graded" && has_value) {
      args.graded_url = argv[++i];
    } else if (a == "--target" && has_value) {
      args.target_path = argv[++i];
    } else if (a == "--repeats" && has_value) {
      args.repeats = std::atoi(argv[++i]);
    } else if (a == "--synchronous" && has_value) {
      std::string v = argv[++i];
      args.synchronous = v == "normal" ? "NORMAL" : v == "full" ? "FULL" : "";
      if (args.synchronous.empty()) {
        std::fprintf(stderr, "--synchronous must be full or normal\n");
        return 2;
      }
    } else {
      args.graded_url.clear();
      break;
    }
  }
  if (args.graded_url.empty() || args.target_path.empty() || args.repeats < 1) {
    std::fprintf(stderr,
                 "usage: %s --graded sqlite:GRADED.db --target PATH.db [--regrade] "
                 "[--repeats N>=1] [--txn-per-table] [--synchronous full|normal]\n",
                 argv[0]);
    return 2;
  }
  Status s = Run(args);
  if (!s.ok()) {
    std::fprintf(stderr, "propgrade_raw_write_bench: %s\n", s.ToString().c_str());
    return 3;
  }
  return 0;
}

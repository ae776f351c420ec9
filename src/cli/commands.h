// The subcommands of the propgrade CLI as plain functions: main.cc parses flags (CLI11) and
// calls one of these; they return the process exit code (spec/operations.md §2). Nothing here
// includes CLI11.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/cancel.h"

namespace propgrade::cli {

struct GlobalOptions {
  std::string db;          // --db; empty = config / env / default
  std::string lock;        // --lock; empty = config / env / default (db)
  std::string config;      // --config; empty = $PROPGRADE_CONFIG or ./propgrade.toml if present
  std::string log_format;  // --log-format text|json; empty = $PROPGRADE_LOG_FORMAT or by TTY
  std::string metrics_file;  // --metrics-file: Prometheus textfile written at exit
  // --enable-test-hooks (hidden): honour the PROPGRADE_TEST_* fault-injection variables of the
  // reliability suites, logged CRITICAL; without it they are ignored (with a warning).
  bool enable_test_hooks = false;
  CancelToken* cancel = nullptr;
};

struct ImportArgs {
  std::string kind;  // predictions, actuals, injuries, archetypes, accuracy
  std::string file;
  std::string format;  // csv, jsonl or "" (by extension)
  bool allow_empty = false;
};

struct LoadArgs {
  std::string table;
  std::string partition;
  std::string file;              // "-": standard input
  std::string sql;               // --sql: a SELECT instead of a file
  std::string format;            // csv, jsonl or "" (by extension; csv for standard input)
  std::string mode = "replace";  // replace or merge
  bool allow_empty = false;
  bool allow_shrink = false;    // past [writes] max_shrink_ratio
  std::string output = "text";  // text or json
};

struct GradeArgs {
  std::string date, from, to;
  bool yesterday = false;
  int jobs = 1;
  bool no_aggregate = false;
  bool allow_shrink = false;    // past [writes] max_shrink_ratio
  std::string format = "text";  // text or json
};

struct ExportArgs {
  std::string table;
  std::string date;
  std::string format = "csv";
  std::string output;  // "" = stdout
};

struct DemoArgs {
  uint64_t seed = 42;
  int scale = 1;
  std::string today;  // "" = today in the league time zone
  int jobs = 1;
};

int Init(const GlobalOptions& g);
int Import(const GlobalOptions& g, const ImportArgs& a);
// One partition of a declared table ([tables.NAME]) through the fenced write path.
int Load(const GlobalOptions& g, const LoadArgs& a);
int Grade(const GlobalOptions& g, const GradeArgs& a);
// --date D, or --from A --to B (each date in order; the exit code is the worst).
int Aggregate(const GlobalOptions& g, const std::string& date, const std::string& from,
              const std::string& to);
int Summarize(const GlobalOptions& g, const std::string& as_of);
int Report(const GlobalOptions& g, const std::string& kind, std::optional<int> days,
           const std::string& format);
int Export(const GlobalOptions& g, const ExportArgs& a);
int Demo(const GlobalOptions& g, const DemoArgs& a);

// `propgrade locks list | release KEY --reason R | sweep | reset-fence TABLE PARTITION --reason R`
struct LocksArgs {
  std::string action;  // list, release, sweep, reset-fence
  std::string key;     // release
  std::string table, partition;  // reset-fence
  std::string reason;
  std::string format = "table";  // list: table or json
};
int Locks(const GlobalOptions& g, const LocksArgs& a);

struct LockArgs {
  std::string action;                // run, acquire, renew, release
  std::string key;                   // run, acquire
  double ttl_seconds = -1;           // default: [lock_policy] ttl_seconds
  double max_wait_seconds = -1;      // default: [lock_policy] max_wait_seconds
  double grace_seconds = 10;         // run: SIGTERM to SIGKILL once the lease is lost
  std::string lease;                 // renew, release: the JSON acquire printed, or - (stdin)
  std::vector<std::string> command;  // run: after --
};
// A command under a lease (`lock run`), or one step of a lease kept across invocations.
int Lock(const GlobalOptions& g, const LockArgs& a);

// `tables list` (every table: built-in or declared, partition column, key, writer) and
// `tables show NAME` (its columns too); text or json.
int Tables(const GlobalOptions& g, const std::string& action, const std::string& name,
           const std::string& format);

struct DedupeArgs {
  std::string table;
  std::string date;       // --date D: a date partition
  std::string partition;  // --partition P: any partition (a declared table's own values)
  std::string keep;  // "", earliest, latest
  bool dry_run = false;
  std::string restore;  // --restore RUN: put back what that run quarantined
};
int Dedupe(const GlobalOptions& g, const DedupeArgs& a);

struct CheckArgs {
  int days = 7;
  std::string format = "table";  // table or json
  bool strict = false;           // warnings exit 1 too
};
int Check(const GlobalOptions& g, const CheckArgs& a);

struct StageArgs {
  std::string file;
  std::string batch;
  std::string format;
  bool replace = false;
};
int Stage(const GlobalOptions& g, const StageArgs& a);

int Consolidate(const GlobalOptions& g, const std::string& date, bool cleanup_orphans);

// `propgrade serve`: the HTTP service until SIGTERM/SIGINT.
struct ServeArgs {
  std::string listen;      // "" = config server.listen
  std::string static_dir;  // "" = the embedded dashboard
};
int Serve(const GlobalOptions& g, const ServeArgs& a);

// `propgrade breaker status | reset NAME`
int Breaker(const GlobalOptions& g, const std::string& action, const std::string& name);

// `propgrade history | diff | rollback` (history_commands.cc).
struct HistoryArgs {
  std::string table, partition;
  std::string format = "text";  // text or json
};
int History(const GlobalOptions& g, const HistoryArgs& a);

struct DiffArgs {
  std::string table, partition;
  std::vector<std::string> runs;  // none: the last write; two: run A against run B
  bool dry_run = false;           // what a step would write now against what is stored
  int limit = 20;                 // keys printed per kind (text); 0 = all
  std::string format = "text";    // text or json
};
int Diff(const GlobalOptions& g, const DiffArgs& a);

struct RollbackArgs {
  std::string table, partition, to;
  std::string format = "text";  // text or json (run summaries)
};
int Rollback(const GlobalOptions& g, const RollbackArgs& a);

// `propgrade impact --from D1 --to D2`: what duplicate graded rows did to the figures.
int Impact(const GlobalOptions& g, const std::string& from, const std::string& to,
           const std::string& format);

}  // namespace propgrade::cli

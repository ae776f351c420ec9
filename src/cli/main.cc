// propgrade's command line: parses flags with CLI11 and calls one function of commands.h.
#include <CLI/CLI.hpp>

#include <csignal>
#include <iostream>

#include "cli/commands.h"

namespace {

propgrade::CancelToken g_cancel;
volatile std::sig_atomic_t g_signals = 0;

void OnSignal(int) {
  // A second signal stops at once; the first lets the current step finish or roll back.
  if (++g_signals > 1) std::_Exit(130);
  g_cancel.Cancel();
}

}  // namespace

int main(int argc, char** argv) {
  using namespace propgrade::cli;
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);

  CLI::App app{"propgrade: grades player-prop predictions into accuracy tables that concurrent, "
               "retried or crashed runs never duplicate"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "propgrade 0.1.0");
  app.footer(
      "Examples:\n"
      "  propgrade demo                              # a generated season, graded\n"
      "  propgrade import predictions predictions.csv\n"
      "  propgrade grade --date 2026-01-16\n"
      "  propgrade report accuracy --days 30\n"
      "Only init, import, stage, demo, grade and serve create a database that does not exist;\n"
      "report, export and locks list open it read-only.\n"
      "Exit codes: 0 ok, 1 problems found, 2 usage or input error (a database that does not\n"
      "exist), 3 dependency unavailable or refused for safety, 130 interrupted.");

  GlobalOptions g;
  g.cancel = &g_cancel;
  app.add_option("--db", g.db,
                 "database URL: sqlite:PATH or postgresql://USER@HOST:PORT/DB[?schema=NAME] (env "
                 "PROPGRADE_DB; default sqlite:propgrade.db). Give PostgreSQL's password in "
                 "PROPGRADE_DB, PGPASSWORD or ~/.pgpass rather than on the command line (output "
                 "shows it as ***)");
  app.add_option("--lock", g.lock, "lock service: db, etcd://host:port[,host:port...] or none (env PROPGRADE_LOCK; default db)");
  app.add_option("--config", g.config, "config file (env PROPGRADE_CONFIG; default ./propgrade.toml when present)");
  app.add_option("--metrics-file", g.metrics_file, "write Prometheus textfile-collector metrics here at exit (atomically)");
  app.add_option("--log-format", g.log_format, "text or json (env PROPGRADE_LOG_FORMAT; default text on a terminal, else json)")
      ->check(CLI::IsMember({"text", "json"}));
  // Fault injection for the reliability suites only: not shown in --help.
  app.add_flag("--enable-test-hooks", g.enable_test_hooks,
               "honour PROPGRADE_TEST_* fault injection (tests only)")
      ->group("");

  int code = 0;

  auto* init = app.add_subcommand("init", "create or migrate the schema (idempotent)");
  init->footer("Example:\n  propgrade init --db sqlite:/var/lib/propgrade/props.db");
  init->callback([&] { code = Init(g); });

  ImportArgs imp;
  auto* import = app.add_subcommand("import", "load a CSV or JSONL file, all or nothing, upserting on each table's key");
  import->add_option("kind", imp.kind, "predictions | actuals | injuries | archetypes | accuracy (legacy graded rows)")
      ->required();
  import->add_option("file", imp.file, "the file; headers are column names")->required();
  import->add_option("--format", imp.format, "csv or jsonl (default: from the extension)");
  import->add_flag("--allow-empty", imp.allow_empty, "accept a file without data rows");
  import->footer("Examples:\n  propgrade import predictions predictions.csv\n"
                 "  propgrade import actuals box_scores.jsonl\n"
                 "Errors name the file, line and column; nothing is imported from a rejected file.\n"
                 "A row whose key is already stored takes the file's values for the columns the\n"
                 "file has (an empty cell or a JSON null sets NULL) and keeps its other columns;\n"
                 "a new row has NULL in the columns the file lacks. A JSONL file has the columns\n"
                 "that any of its objects names. (accuracy inserts: it never updates.)");
  import->callback([&] { code = Import(g, imp); });

LoadArgs ld;
auto* load = app.add_subcommand(
    "load",
    "write one partition of a table declared in propgrade.toml ([tables.NAME]) under "
    "its lease, in one fenced transaction, then check it for duplicate keys");
load->add_option("table", ld.table, "the declared table")->required();
auto* load_file =
    load->add_option("file", ld.file, "CSV or JSONL file with column-name headers; - reads stdin");
load->add_option("--sql", ld.sql,
                 "instead of a file: a SELECT whose rows (columns named as the table's) become "
                 "the partition, run inside the write transaction; $1 is the partition")
    ->excludes(load_file);
load->add_option("--partition", ld.partition, "the partition written (its column's value)")
    ->required();
load->add_option("--mode", ld.mode,
                 "replace (default): the partition becomes exactly the file; merge: the file's "
                 "rows are upserted by key, other rows stay");
load->add_option("--format", ld.format, "csv or jsonl (default: from the extension; csv for -)");
load->add_flag("--allow-empty", ld.allow_empty,
               "accept a file without data rows (replace then empties the partition)");
load->add_flag("--allow-shrink", ld.allow_shrink,
               "write even when the partition would lose more of its keys than [writes] "
               "max_shrink_ratio allows (default 0.2)");
load->add_option("--output", ld.output, "text (default) or json: the run summary");
load->footer(
    "Examples:\n"
    "  propgrade load player_form_daily form-2026-01-16.csv --partition 2026-01-16\n"
    "  export_job | propgrade load bets_export - --partition 2026-01-16 --format jsonl\n"
    "  propgrade load player_form_daily fixes.csv --partition 2026-01-16 --mode merge\n"
    "  propgrade load bets_export --partition 2026-01-16 \\\n"
    "    --sql 'SELECT game_date, bet_id, stake FROM bets WHERE game_date = $1'\n"
    "The whole file is checked first (types, required values, every row in --partition,\n"
    "no key twice); a bad file exits 2 naming FILE:LINE and column, and nothing is written.\n"
    "The same content twice: the second load ends `unchanged` and writes nothing.\n"
    "Exit codes: 0 written or unchanged, 1 duplicates found after the write or failed,\n"
    "2 bad input, 3 lock timeout, lease lost, fenced out, breaker open, database down, or\n"
    "shrink_refused (more than max_shrink_ratio of the keys would go; --allow-shrink).");
load->callback([&] { code = Load(g, ld); });

GradeArgs gr;
auto* grade = app.add_subcommand(
    "grade", "grade dates, then compute daily performance and the summary as of each date");
grade->add_option("--date", gr.date, "one date (YYYY-MM-DD)");
grade->add_option("--from", gr.from, "first date of a range");
grade->add_option("--to", gr.to, "last date of a range (inclusive)");
grade->add_flag("--yesterday", gr.yesterday, "yesterday in the league time zone (config timezone)");
grade->add_option("--jobs", gr.jobs,
                  "grade this many dates at once (aggregations follow in date order)");
grade->add_flag("--no-aggregate", gr.no_aggregate,
                "grade only; skip daily performance and the summary");
grade->add_flag("--allow-shrink", gr.allow_shrink,
                "write even when a partition would lose more of its keys than [writes] "
                "max_shrink_ratio allows (default 0.2)");
grade->add_option("--format", gr.format, "text or json (run summaries)");
grade->footer(
    "Examples:\n  propgrade grade --date 2026-01-16\n"
    "  propgrade grade --from 2025-10-21 --to 2026-04-12 --jobs 2\n"
    "  propgrade grade --yesterday --format json\n"
    "A date is refused (insufficient_actuals, exit 3, nothing written) while its box scores\n"
    "cover under [grading] min_player_coverage (0.70) of its predictions or min_game_coverage\n"
    "(0.80) of its games; a write that would drop more than [writes] max_shrink_ratio (0.2)\n"
    "of a partition's keys is refused (shrink_refused, exit 3) unless --allow-shrink.");
grade->callback([&] { code = Grade(g, gr); });

std::string agg_date, agg_from, agg_to;
auto* aggregate =
    app.add_subcommand("aggregate", "recompute system_daily_performance for a date or a range");
aggregate->add_option("--date", agg_date, "the date (YYYY-MM-DD)");
aggregate->add_option("--from", agg_from, "first date of a range");
aggregate->add_option("--to", agg_to, "last date of a range (inclusive)");
aggregate->footer(
    "Examples:\n  propgrade aggregate --date 2026-01-16\n"
    "  propgrade aggregate --from 2025-10-21 --to 2026-04-12");
aggregate->callback([&] { code = Aggregate(g, agg_date, agg_from, agg_to); });

std::string as_of;
auto* summarize = app.add_subcommand(
    "summarize", "recompute the prediction_performance_summary snapshot as of a date");
summarize->add_option("--as-of", as_of, "the as-of date (YYYY-MM-DD)")->required();
summarize->footer("Example:\n  propgrade summarize --as-of 2026-01-16");
summarize->callback([&] { code = Summarize(g, as_of); });

std::string report_kind, report_format = "table";
std::optional<int> report_days;
auto* report = app.add_subcommand("report", "read-only accuracy reports");
report->add_option("kind", report_kind, "accuracy | calibration | players | systems")->required();
report->add_option("--days", report_days, "the last N graded dates, 1 to 36600 (default: all)")
    ->check(CLI::Range(1, 36600));
report->add_option("--format", report_format, "table, json or csv");
report->footer(
    "Examples:\n  propgrade report accuracy --days 30\n"
    "  propgrade report calibration --format csv > calibration.csv");
report->callback([&] { code = Report(g, report_kind, report_days, report_format); });

ExportArgs ex;
auto* exp = app.add_subcommand("export", "dump a table (or one date of it) as CSV or JSONL");
exp->add_option("table", ex.table, "a table name, e.g. prediction_accuracy")->required();
exp->add_option("--date", ex.date,
                "only this partition (game_date, or as_of_date for the summary)");
exp->add_option("--format", ex.format, "csv or jsonl");
exp->add_option("--output", ex.output, "write to this file (atomically) instead of stdout");
exp->footer(
    "Examples:\n  propgrade export prediction_accuracy --date 2026-01-16 > graded.csv\n"
    "  propgrade export grading_runs --format jsonl");
exp->callback([&] { code = Export(g, ex); });

DemoArgs demo;
auto* dm = app.add_subcommand("demo", "generate a realistic season into the database and grade it");
dm->add_option("--seed", demo.seed, "random seed (default 42)");
dm->add_option("--scale", demo.scale,
               "multiply the number of prediction systems (default 1 = 6 systems)");
dm->add_option("--today", demo.today,
               "the season ends the day before (default: today in the league time zone)");
dm->add_option("--jobs", demo.jobs, "grade this many dates at once");
dm->footer("Example:\n  propgrade demo --db sqlite:demo.db --seed 7");
dm->callback([&] { code = Demo(g, demo); });

LocksArgs lk;
auto* locks = app.add_subcommand("locks", "inspect and recover lease locks");
locks->require_subcommand(1);
locks->add_subcommand("list", "the locks held now")
    ->callback([&] {
      lk.action = "list";
      code = Locks(g, lk);
    })
    ->add_option("--format", lk.format, "table or json");
auto* release = locks->add_subcommand(
    "release", "force-release a lock (its holder's write will be fenced out)");
release->add_option("key", lk.key, "the lock key, e.g. grading/2026-01-16")->required();
release->add_option("--reason", lk.reason, "why (recorded in lock_events)")->required();
release->callback([&] {
  lk.action = "release";
  code = Locks(g, lk);
});
locks
    ->add_subcommand(
        "sweep", "warn about locks held too long and force-release the stuck ones (lock_policy)")
    ->callback([&] {
      lk.action = "sweep";
      code = Locks(g, lk);
    });
auto* reset = locks->add_subcommand(
    "reset-fence", "forget a partition's fence token in this lock service's namespace");
reset->add_option("table", lk.table, "e.g. prediction_accuracy")->required();
reset->add_option("partition", lk.partition, "e.g. 2026-01-16")->required();
reset->add_option("--reason", lk.reason, "why (recorded in lock_events)")->required();
reset->callback([&] {
  lk.action = "reset-fence";
  code = Locks(g, lk);
});
locks->footer(
    "Examples:\n  propgrade locks list\n"
    "  propgrade locks release grading/2026-01-16 --reason \"holder host died\"\n"
    "  propgrade locks sweep\n"
    "  propgrade locks reset-fence prediction_accuracy 2026-01-16 --reason \"moved to etcd\"");

std::string tables_name, tables_format = "text";
auto* tables_cmd = app.add_subcommand(
    "tables", "the tables of this database: propgrade's and those declared in propgrade.toml");
tables_cmd->require_subcommand(1);
tables_cmd->add_subcommand("list", "every table, its partition column, key and writer")
    ->callback([&] { code = Tables(g, "list", "", tables_format); })
    ->add_option("--format", tables_format, "text or json");
auto* tables_show = tables_cmd->add_subcommand("show", "one table, with its columns");
tables_show->add_option("name", tables_name, "the table")->required();
tables_show->add_option("--format", tables_format, "text or json");
tables_show->callback([&] { code = Tables(g, "show", tables_name, tables_format); });
tables_cmd->footer(
    "Examples:\n  propgrade tables list\n  propgrade tables show player_form_daily --format json");

LockArgs lka;
auto* lock =
    app.add_subcommand("lock", "run a command under a lease, or keep a lease across invocations");
lock->require_subcommand(1);
auto lease_options = [&](CLI::App* c) {
  c->add_option("--ttl", lka.ttl_seconds,
                "lease TTL in seconds (default: [lock_policy] ttl_seconds)");
  c->add_option("--max-wait", lka.max_wait_seconds,
                "how long to wait for the key, seconds (default: [lock_policy] max_wait_seconds)");
};
auto* run = lock->add_subcommand("run",
                                 "acquire KEY, run the command with the lease in its environment, "
                                 "renew while it runs, release when it exits");
run->add_option("key", lka.key, "the lock key, e.g. analytics/2026-01-16")->required();
run->add_option("command", lka.command, "the command and its arguments, after --")->required();
lease_options(run);
run->add_option("--grace", lka.grace_seconds,
                "seconds from SIGTERM to SIGKILL once the lease is lost (default 10)");
run->footer(
    "Examples:\n"
    "  propgrade lock run analytics/2026-01-16 -- ./rebuild_analytics.sh 2026-01-16\n"
    "  propgrade lock run exports/2026-01-16 --ttl 120 --max-wait 600 -- python3 export.py\n"
    "The command gets PROPGRADE_LOCK_KEY, PROPGRADE_FENCE_TOKEN, PROPGRADE_FENCE_NAMESPACE,\n"
    "PROPGRADE_LOCK_HOLDER, PROPGRADE_LOCK_EXPIRES_AT and PROPGRADE_DB. A lease lost while it\n"
    "runs sends it SIGTERM, then SIGKILL after --grace; its own writes must check the fence\n"
    "token (docs/own-tables.md, the SQL fence) to be safe past that point.\n"
    "Exit: the command's status; 3 with lock_timeout (it never started) or lock_lost (it was\n"
    "stopped); 130 when interrupted.");
run->callback([&] {
  lka.action = "run";
  code = Lock(g, lka);
});
auto* acquire = lock->add_subcommand(
    "acquire", "acquire KEY and print the lease as JSON (for jobs that cannot keep a process)");
acquire->add_option("key", lka.key, "the lock key")->required();
lease_options(acquire);
acquire->callback([&] {
  lka.action = "acquire";
  code = Lock(g, lka);
});
auto* renew = lock->add_subcommand("renew", "extend a lease acquire printed; prints it again");
renew->add_option("--lease", lka.lease, "the JSON acquire printed, or - to read it from stdin")
    ->required();
renew->callback([&] {
  lka.action = "renew";
  code = Lock(g, lka);
});
auto* lrelease = lock->add_subcommand(
    "release", "end a lease acquire printed (a no-op when it is no longer held)");
lrelease->add_option("--lease", lka.lease, "the JSON acquire printed, or - to read it from stdin")
    ->required();
lrelease->callback([&] {
  lka.action = "release";
  code = Lock(g, lka);
});
lock->footer(
    "Examples:\n"
    "  propgrade lock run analytics/2026-01-16 -- ./job.sh\n"
    "  LEASE=$(propgrade lock acquire analytics/2026-01-16 --ttl 300)\n"
    "  propgrade lock renew --lease \"$LEASE\"\n"
    "  propgrade lock release --lease \"$LEASE\"");

DedupeArgs dd;
auto* dedupe = app.add_subcommand("dedupe",
                                  "move surplus duplicate-key rows into remediation_quarantine "
                                  "(nothing is deleted without a copy)");
dedupe->add_option("--table", dd.table,
                   "prediction_accuracy, system_daily_performance, prediction_performance_summary, "
                   "player_prop_predictions or a declared table with keep (required unless "
                   "--restore)");
auto* dedupe_date = dedupe->add_option("--date", dd.date, "only this date partition");
dedupe->add_option("--partition", dd.partition, "only this partition, of any type")
    ->excludes(dedupe_date);
dedupe
    ->add_option(
        "--keep", dd.keep,
        "which row of a key stays: earliest or latest (default: per table, see docs/operations.md)")
    ->check(CLI::IsMember({"earliest", "latest"}));
dedupe->add_flag("--dry-run", dd.dry_run,
                 "report what would move; change nothing (exit 1 when something would)");
dedupe->add_option("--restore", dd.restore,
                   "undo: put the rows run RUN quarantined back into their partitions (fenced; the "
                   "post-write check reports the duplicates they bring back)");
dedupe->footer(
    "Examples:\n  propgrade dedupe --table prediction_accuracy --dry-run\n"
    "  propgrade dedupe --table prediction_accuracy --date 2026-01-16\n"
    "  propgrade dedupe --table bets_export --partition batch-0117\n"
    "  propgrade dedupe --restore 20260116T110002Z-4f3a9c   # undo that run's dedupe");
dedupe->callback([&] { code = Dedupe(g, dd); });

HistoryArgs hs;
auto* history = app.add_subcommand(
    "history", "the kept writes of one partition: when, by which run and token, rows and keys");
history->add_option("table", hs.table, "a table processors write, e.g. prediction_accuracy")
    ->required();
history->add_option("--partition", hs.partition, "the partition (a date for grading's tables)")
    ->required();
history->add_option("--format", hs.format, "text or json");
history->footer(
    "Examples:\n  propgrade history prediction_accuracy --partition 2026-01-16\n"
    "  propgrade history bets_export --partition 2026-01-16 --format json\n"
    "Each replace keeps the rows it replaced ([writes] history_keep_runs, default 5 per\n"
    "partition); runs the coverage gate or the shrink guard refused are listed too.");
history->callback([&] { code = History(g, hs); });

DiffArgs df;
auto* diff = app.add_subcommand(
    "diff", "keys added, removed and changed (per column) between two versions of a partition");
diff->add_option("table", df.table, "a table processors write")->required();
diff->add_option("--partition", df.partition, "the partition")->required();
auto* diff_runs =
    diff->add_option("--run", df.runs, "a kept run; twice: the rows of run A against run B")
        -> expected(1) -> multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
diff->add_flag("--dry-run", df.dry_run,
               "grade (or aggregate) now without writing and compare with what is stored")
    ->excludes(diff_runs);
diff->add_option("--limit", df.limit, "keys printed per kind (default 20; 0 = all)")
    ->check(CLI::NonNegativeNumber);
diff->add_option("--format", df.format, "text or json (json lists every key)");
diff->footer(
    "Examples:\n  propgrade diff prediction_accuracy --partition 2026-01-16   # the last write\n"
    "  propgrade diff prediction_accuracy --partition 2026-01-16 --dry-run\n"
    "  propgrade diff prediction_accuracy --partition 2026-01-16 --run RUN_A --run RUN_B\n"
    "Columns every write stamps (run_id, graded_at, computed_at) are not changes.");
diff->callback([&] { code = Diff(g, df); });

RollbackArgs rb;
auto* rollback = app.add_subcommand(
    "rollback", "write back the rows a kept run left in a partition (a fenced run of its own)");
rollback->add_option("table", rb.table, "a table processors write")->required();
rollback->add_option("--partition", rb.partition, "the partition")->required();
rollback->add_option("--to", rb.to, "the run whose rows come back (see `propgrade history`)")
    ->required();
rollback->add_option("--format", rb.format, "text or json (run summaries)");
rollback->footer(
    "Example:\n  propgrade rollback prediction_accuracy --partition 2026-01-16 --to RUN\n"
    "The write goes through the table writer's lease and fence like any run, is kept in the\n"
    "history itself (kind rollback), and for prediction_accuracy recomputes the date's daily\n"
    "performance and summary. Exit codes as for grade.");
rollback->callback([&] { code = Rollback(g, rb); });

std::string impact_from, impact_to, impact_format = "table";
auto* impact = app.add_subcommand(
    "impact", "how much duplicate graded rows distort each system's win rate, MAE and bias");
impact->add_option("--from", impact_from, "first game date")->required();
impact->add_option("--to", impact_to, "last game date (inclusive)")->required();
impact->add_option("--format", impact_format, "table, json or csv");
impact->footer(
    "Example:\n  propgrade impact --from 2026-01-01 --to 2026-01-31\n"
    "Per system and period (the last 7 and 30 days of the range, and the range), the figures\n"
    "with every graded row, the rows remediation quarantined included, against one row per\n"
    "key (the earliest graded), and the difference: \"catboost_v8 rolling_7d win rate +2.1\n"
    "points ... from 312 surplus rows\".");
impact->callback([&] { code = Impact(g, impact_from, impact_to, impact_format); });

std::string breaker_name;
auto* breaker = app.add_subcommand("breaker", "circuit breaker state (per processor)");
breaker->require_subcommand(1);
breaker->add_subcommand("status", "every breaker's state (exit 1 when one is not closed)")
    ->callback([&] { code = Breaker(g, "status", ""); });
auto* breset = breaker->add_subcommand("reset", "close a breaker by hand");
breset
    ->add_option("name", breaker_name,
                 "grading, daily_performance, performance_summary or consolidation")
    ->required();
breset->callback([&] { code = Breaker(g, "reset", breaker_name); });
breaker->footer("Examples:\n  propgrade breaker status\n  propgrade breaker reset grading");

ServeArgs sv;
auto* serve = app.add_subcommand("serve",
                                 "HTTP service: run triggers (single flight per date), health, "
                                 "metrics, the dashboard; sweeps stuck locks");
serve->add_option(
    "--listen", sv.listen,
    "host:port (config server.listen; default 127.0.0.1:8080; port 0 = any free port)");
serve->add_option(
    "--static-dir", sv.static_dir,
    "serve the dashboard from this directory (laid out as web/) instead of the embedded copy");
serve->footer(
    "Examples:\n"
    "  propgrade serve                                   # http://127.0.0.1:8080/\n"
    "  PROPGRADE_TRIGGER_TOKEN=$(cat /etc/propgrade/token) propgrade serve --listen 0.0.0.0:8080\n"
    "  curl -X POST -H 'Authorization: Bearer TOKEN' -d '{\"target_date\":\"yesterday\"}' \\\n"
    "       'http://127.0.0.1:8080/v1/runs?wait=true'\n"
    "Without a token (the variable named by server.token_env) only loopback addresses are "
    "allowed.\n"
    "Beyond loopback /api/* and /metrics need the token too (server.protect_reads = "
    "auto|always|never).\n"
    "SIGTERM: stop accepting, finish running runs (60 s grace), then exit 0.");
serve->callback([&] { code = Serve(g, sv); });

CheckArgs ck;
auto* check = app.add_subcommand(
    "check", "the data-quality suite (13 checks; results stored in check_results)");
check
    ->add_option("--days", ck.days,
                 "the window: the last N dates up to yesterday, 1 to 36600 (default 7)")
    ->check(CLI::Range(1, 36600));
check->add_option("--format", ck.format, "table or json")->check(CLI::IsMember({"table", "json"}));
check->add_flag("--strict", ck.strict, "warnings exit 1 too");
check->footer(
    "Examples:\n  propgrade check\n  propgrade check --days 14 --format json --strict\n"
    "Exit: 0 all pass (warnings allowed unless --strict), 1 a check failed.");
check->callback([&] { code = Check(g, ck); });

StageArgs st;
std::string stage_kind;
auto* stage =
    app.add_subcommand("stage", "stage a prediction worker's output as one batch (all or nothing)");
stage->add_option("kind", stage_kind, "predictions")
    ->required()
    ->check(CLI::IsMember({"predictions"}));
stage->add_option("file", st.file, "the worker's CSV or JSONL file")->required();
stage
    ->add_option("--batch", st.batch,
                 "the batch id (unique; a staged id is refused unless --replace)")
    ->required();
stage->add_option("--format", st.format, "csv or jsonl (default: from the extension)");
stage->add_flag("--replace", st.replace, "swap out a batch already staged under this id");
stage->footer("Example:\n  propgrade stage predictions worker-3.csv --batch 2026-01-16-worker-3");
stage->callback([&] { code = Stage(g, st); });

std::string consolidate_date;
bool cleanup_orphans = false;
auto* consolidate = app.add_subcommand("consolidate",
                                       "merge the staged predictions of a date into "
                                       "player_prop_predictions (one row per business key)");
consolidate->add_option("--date", consolidate_date, "the date to consolidate (YYYY-MM-DD)");
consolidate->add_flag(
    "--cleanup-orphans", cleanup_orphans,
    "move batches staged over 24 h ago and never consolidated into remediation_quarantine");
consolidate->footer(
    "Examples:\n  propgrade consolidate --date 2026-01-16\n  propgrade consolidate "
    "--cleanup-orphans");
consolidate->callback([&] { code = Consolidate(g, consolidate_date, cleanup_orphans); });

try {
  app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  }
  return code;
}

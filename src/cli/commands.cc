#include "cli/commands.h"

#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "checks/checks.h"
#include "cli/context.h"
#include "common/civil_date.h"
#include "common/ids.h"
#include "common/strings.h"
#include "common/value_text.h"
#include "demo/demo_season.h"
#include "io/table_file.h"
#include "lockrun/lock_run.h"
#include "pipeline/consolidation.h"
#include "reports/reports.h"
#include "safety/lock_events.h"
#include "safety/remediation.h"
#include "safety/upkeep.h"
#include "server/server.h"
#include "store/ledgers.h"

namespace propgrade::cli {

namespace {

// --from A --to B: every date from A to B inclusive (at most ten years).
StatusOr<std::vector<CivilDay>> ParseDateRange(const std::string& from_flag,
                                               const std::string& to_flag) {
  if (from_flag.empty() || to_flag.empty()) {
    return InvalidArgumentError("--from and --to go together");
  }
  ASSIGN_OR_RETURN(CivilDay from, ParseDateFlag("--from", from_flag));
  ASSIGN_OR_RETURN(CivilDay to, ParseDateFlag("--to", to_flag));
  if (to < from) return InvalidArgumentError("--to is before --from");
  if (to.days_since_epoch() - from.days_since_epoch() > 3660) {
    return InvalidArgumentError("--from/--to spans more than ten years");
  }
  std::vector<CivilDay> dates;
  for (CivilDay d = from; d <= to; d = d.AddDays(1)) dates.push_back(d);
  return dates;
}

// A lock key is PROCESSOR/YYYY-MM-DD (lowercase letters and _ before the slash).
StatusOr<std::string> ParseLockKey(const std::string& key) {
  size_t slash = key.find('/');
  bool name_ok = slash != std::string::npos && slash > 0;
  for (size_t i = 0; name_ok && i < slash; ++i) {
    name_ok = key[i] == '_' || (key[i] >= 'a' && key[i] <= 'z');
  }
  if (!name_ok || !CivilDay::Parse(key.substr(slash + 1))) {
    return InvalidArgumentError("lock key '" + key +
                                "' is not PROCESSOR/YYYY-MM-DD (e.g. grading/2026-01-16)");
  }
  return key;
}

// `s` as one shell word: as it is when every character is safe, else in single quotes.
std::string ShellWord(const std::string& s) {
  bool safe = !s.empty();
  for (char c : s) {
    safe = safe && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    std::string_view("_@%+=:,./-").find(c) != std::string_view::npos);
  }
  if (safe) return s;
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

const TableDef* ImportTable(const std::string& kind) {
  if (kind == "predictions") return &tables::Predictions();
  if (kind == "actuals") return &tables::Actuals();
  if (kind == "injuries") return &tables::Injuries();
  if (kind == "archetypes") return &tables::Archetypes();
  if (kind == "accuracy") return &tables::Accuracy();
  return nullptr;
}

// Progress: one rewritten line on a terminal, nothing otherwise (plain lines go to stdout).
class Progress {
 public:
  explicit Progress(bool tty) : tty_(tty) {}
  void Update(const std::string& text) {
    if (!tty_) return;
    std::fprintf(stderr, "\r\033[K%s", text.c_str());
    std::fflush(stderr);
    shown_ = true;
  }
  void Done() {
    if (shown_) std::fprintf(stderr, "\r\033[K");
    shown_ = false;
  }

 private:
  bool tty_;
  bool shown_ = false;
};

std::string DateRunLine(const DateRun& run) {
  std::string line = run.steps.empty() ? run.date.ToString() : run.steps[0].ToText();
  for (size_t i = 1; i < run.steps.size(); ++i) {
    const RunSummary& s = run.steps[i];
    line += "; " + s.processor + " " + std::string(RunStatusName(s.status));
    if (s.rows_written) line += " rows=" + std::to_string(*s.rows_written);
    if (s.duplicate_rows.value_or(0) > 0) line += " DUPLICATES=" + std::to_string(*s.duplicate_rows);
    if (!s.error.empty() && s.status != RunStatus::kSuccess) line += " error=\"" + s.error + "\"";
  }
  return line;
}

// Runs the pipeline over dates with progress and the closing summary; returns the exit code.
int RunAndReport(Context* ctx, Pipeline* pipeline, const std::vector<CivilDay>& dates,
                 const RunOptions& options, int jobs, const std::string& format) {
  bool json = format == "json";
  Progress progress(IsTty(2));
  int64_t start = ctx->clock().SteadyMicros();
  int64_t graded_rows = 0, duplicate_rows = 0;
  std::map<std::string, int> by_status;
  ExitCode code = ExitCode::kSuccess;
  std::string json_out = "[";
  auto runs = pipeline->RunDates(dates, options, jobs, [&](const DateRun& run, size_t done,
                                                          size_t total) {
    for (const RunSummary& s : run.steps) {
      if (s.processor == "grading") {
        by_status[std::string(RunStatusName(s.status))]++;
        if (s.stats && s.status == RunStatus::kSuccess) graded_rows += s.stats->graded;
      }
      duplicate_rows += s.duplicate_rows.value_or(0);
      if (json) json_out += (json_out.size() > 1 ? "," : "") + s.ToJson();
    }
    code = WorseExitCode(code, run.exit_code());
    if (!json && !IsTty(2)) std::cout << DateRunLine(run) << "\n" << std::flush;
    if (!json && IsTty(2) && run.exit_code() != ExitCode::kSuccess) {
      progress.Done();
      std::cout << DateRunLine(run) << "\n" << std::flush;
    }
    progress.Update("[" + std::to_string(done) + "/" + std::to_string(total) + "] " +
                    DateRunLine(run).substr(0, 100));
  });
  progress.Done();
  double seconds = (ctx->clock().SteadyMicros() - start) / 1e6;
  if (json) {
    std::cout << json_out << "]\n";
  } else {
    std::string statuses;
    for (const auto& [name, n] : by_status) {
      statuses += (statuses.empty() ? "" : ", ") + std::to_string(n) + " " + name;
    }
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.1f", seconds);
    std::cout << "graded " << runs.size() << " date" << (runs.size() == 1 ? "" : "s") << " ("
              << (statuses.empty() ? "none" : statuses) << "): " << graded_rows
              << " rows graded, " << duplicate_rows << " duplicate rows, " << buf << " s\n";
  }
  if (ctx->cancel()->cancelled()) {
    std::cerr << "propgrade: interrupted after " << runs.size() << " of " << dates.size()
              << " dates\n";
    return static_cast<int>(ExitCode::kInterrupted);
  }
  return static_cast<int>(code);
}

}  // namespace

int Init(const GlobalOptions& g) {
  std::unique_ptr<Context> owned;
  CLI_ASSIGN_OR_EXIT(owned, Context::Create(g, DbUse::kCreate));
  Context* ctx = owned.get();
  CLI_ASSIGN_OR_FAIL(Store * store, ctx->store(), ctx);
  // The one command that changes key indexes: to what [grading] enforce_unique_keys says.
  const bool unique = ctx->config().grading.enforce_unique_keys;
  CLI_ASSIGN_OR_FAIL(std::vector<std::string> changed, store->ApplyKeyUniqueness(unique), ctx);
  for (const std::string& change : changed) {
    ctx->log().Log(unique ? Severity::kInfo : Severity::kWarning, "key_index_changed",
                   {{"change", Value::Text(change)},
                    {"enforce_unique_keys", Value::Bool(unique)}});
    std::cout << change << (unique ? "" : " (enforce_unique_keys = false)") << "\n";
  }
  std::cout << "schema ready in " << store->DisplayName() << " (" << store->Durability()
            << ")\n";
  return 0;
}

int Import(const GlobalOptions& g, const ImportArgs& a) {
  std::unique_ptr<Context> owned;
  CLI_ASSIGN_OR_EXIT(owned, Context::Create(g, DbUse::kCreate));
  Context* ctx = owned.get();
  const TableDef* table = ImportTable(a.kind);
  if (!table) {
    return ctx->Fail(InvalidArgumentError(
        "unknown import kind '" + a.kind + "' (predictions, actuals, injuries, archetypes, accuracy)"));
  }
  CLI_ASSIGN_OR_FAIL(FileFormat format, ResolveFileFormat(a.format, a.file), ctx);
  ReadOptions read_options;
  read_options.allow_empty = a.allow_empty;
  CLI_ASSIGN_OR_FAIL(TableFile file, ReadTableFile(*table, a.file, format, read_options), ctx);
  CLI_ASSIGN_OR_FAIL(Store * store, ctx->store(), ctx);
  // Legacy graded rows (an output table) are inserted as they are: a duplicate key is an
  // error while unique keys are enforced, and is kept (for dedupe) when they are not. Inputs
  // upsert on their key, and a row already stored keeps the columns the file does not have.
  ImportMode mode = table->key_uniqueness_configurable ? ImportMode::kInsert : ImportMode::kUpsert;
  CLI_ASSIGN_OR_FAIL(
      ImportCounts counts,
      store->Import(*table, file.rows, file.columns, file.line_numbers, a.file, mode), ctx);
  ctx->log().Info("import_finished", {{"table", Value::Text(table->name)},
                                      {"file", Value::Text(a.file)},
                                      {"rows", Value::Int(static_cast<int64_t>(file.rows.size()))},
                                      {"inserted", Value::Int(counts.inserted)},
                                      {"replaced", Value::Int(counts.replaced)}});
  std::cout << "imported " << file.rows.size() << " rows from " << a.file << " into "
            << table->name << " (" << counts.inserted << " inserted, " << counts.replaced
            << " replaced)\n";
  return 0;
}

int Load(const GlobalOptions& g, const LoadArgs& a) {
  std::unique_ptr<Context> owned;
  CLI_ASSIGN_OR_EXIT(owned, Context::Create(g, DbUse::kCreate));
  Context* ctx = owned.get();
  LoadRequest request;
  request.table = a.table;
  request.partition = a.partition;
  request.allow_empty = a.allow_empty;
  if (a.mode != "replace" && a.mode != "merge") {
    return ctx->Fail(InvalidArgumentError("--mode must be replace or merge"));
  }
  if (a.output != "text" && a.output != "json") {
    return ctx->Fail(InvalidArgumentError("--output must be text or json"));
  }
  request.mode = a.mode == "merge" ? LoadMode::kMerge : LoadMode::kReplace;
  if (a.sql.empty() == a.file.empty()) {
    return ctx->Fail(
        InvalidArgumentError("load takes a FILE (or - for stdin) or --sql 'SELECT ...'"));
  }
  if (!a.sql.empty()) {
    request.sql = a.sql;  // its rows are named "query row N" in errors
  } else {
    const bool stdin_file = a.file == "-";
    CLI_ASSIGN_OR_FAIL(request.format,
                       stdin_file && a.format.empty() ? StatusOr<FileFormat>(FileFormat::kCsv)
                                                      : ResolveFileFormat(a.format, a.file),
                       ctx);
    request.source = stdin_file ? "stdin" : a.file;
    CLI_ASSIGN_OR_FAIL(request.text, ReadWholeFile(a.file), ctx);
  }
  CLI_ASSIGN_OR_FAIL(Pipeline * pipeline, ctx->pipeline(), ctx);
  RunOptions options;
  options.trigger_source = "cli";
  options.allow_shrink = a.allow_shrink;
  CLI_ASSIGN_OR_FAIL(RunSummary s, pipeline->LoadText(request, pipeline->NewRunId(), options), ctx);
  std::cout << (a.output == "json" ? s.ToJson() : s.ToText()) << "\n";
  return static_cast<int>(s.exit_code());
}

int Grade(const GlobalOptions& g, const GradeArgs& a) {
  std::unique_ptr<Context> owned;
  CLI_ASSIGN_OR_EXIT(owned, Context::Create(g, DbUse::kCreate));
  Context* ctx = owned.get();
  int chosen = !a.date.empty() + (!a.from.empty() || !a.to.empty()) + a.yesterday;
  if (chosen != 1) {
    return ctx->Fail(InvalidArgumentError("give exactly one of --date D, --from D1 --to D2, --yesterday"));
  }
  if (a.jobs < 1 || a.jobs > 64) return ctx->Fail(InvalidArgumentError("--jobs must be 1..64"));
  if (a.format != "text" && a.format != "json") {
    return ctx->Fail(InvalidArgumentError("--format must be text or json"));
  }
  std::vector<CivilDay> dates;
  if (!a.date.empty()) {
    CLI_ASSIGN_OR_FAIL(CivilDay d, ParseDateFlag("--date", a.date), ctx);
    dates.push_back(d);
  } else if (a.yesterday) {
    CLI_ASSIGN_OR_FAIL(CivilDay today,
                       TodayInZone(ctx->config().timezone, ctx->clock().NowMicros()), ctx);
    dates.push_back(today.AddDays(-1));
  } else {
    CLI_ASSIGN_OR_FAIL(dates, ParseDateRange(a.from, a.to), ctx);
  }
  CLI_ASSIGN_OR_FAIL(Pipeline * pipeline, ctx->pipeline(), ctx);
  RunOptions options;
  options.aggregate = !a.no_aggregate;
  options.trigger_source = "cli";
  options.allow_shrink = a.allow_shrink;
  return RunAndReport(ctx, pipeline, dates, options, a.jobs, a.format);
}

namespace {

int SingleStep(const GlobalOptions& g, const std::string& flag, const std::string& value,
               bool daily) {
  std::unique_ptr<Context> owned;
  CLI_ASSIGN_OR_EXIT(owned, Context::Create(g, DbUse::kExisting));
  Context* ctx = owned.get();
  CLI_ASSIGN_OR_FAIL(CivilDay d, ParseDateFlag(flag, value), ctx);
  CLI_ASSIGN_OR_FAIL(Pipeline * pipeline, ctx->pipeline(), ctx);
  RunOptions options;
  options.trigger_source = "cli";
  std::string run_id = pipeline->NewRunId();
  RunSummary s = daily ? pipeline->AggregateDate(d, run_id, options)
                       : pipeline->SummarizeAsOf(d, run_id, options);
  std::cout << s.ToText() << "\n";
  return static_cast<int>(s.exit_code());
}

}  // namespace

int Aggregate(const GlobalOptions& g, const std::string& date, const std::string& from,
              const std::string& to) {
  if (from.empty() && to.empty() && !date.empty()) return SingleStep(g, "--date", date, true);
  std::unique_ptr<Context> owned;
  CLI_ASSIGN_OR_EXIT(owned, Context::Create(g, DbUse::kExisting));
  Context* ctx = owned.get();
  if (!date.empty() || (from.empty() && to.empty())) {
    return ctx->Fail(InvalidArgumentError("give --date D, or --from A --to B"));
  }
  CLI_ASSIGN_OR_FAIL(std::vector<CivilDay> dates, ParseDateRange(from, to), ctx);
  CLI_ASSIGN_OR_FAIL(Pipeline * pipeline, ctx->pipeline(), ctx);
  RunOptions options;
  options.trigger_source = "cli";
  int code = 0;
  for (CivilDay d : dates) {
    RunSummary s = pipeline->AggregateDate(d, pipeline->NewRunId(), options);
    std::cout << s.ToText() << "\n";
    code = std::max(code, static_cast<int>(s.exit_code()));
  }
  return code;
}

int Summarize(const GlobalOptions& g, const std::string& as_of) {
  return SingleStep(g, "--as-of", as_of, false);
}

int Report(const GlobalOptions& g, const std::string& kind, std::optional<int> days,
           const std::string& format) {
  std::unique_ptr<Context> owned;
  CLI_ASSIGN_OR_EXIT(owned, Context::Create(g, DbUse::kRead));
  Context* ctx = owned.get();
  CLI_ASSIGN_OR_FAIL(ReportFormat fmt, ParseReportFormat(format), ctx);
  CLI_ASSIGN_OR_FAIL(Store * store, ctx->store(), ctx);
  CLI_ASSIGN_OR_FAIL(ReportTable report, BuildReport(store, kind, days), ctx);
  std::cout << RenderReport(report, fmt);
  return 0;
}

int Export(const GlobalOptions& g, const ExportArgs& a) {
  std::unique_ptr<Context> owned;
  CLI_ASSIGN_OR_EXIT(owned, Context::Create(g, DbUse::kRead));
  Context* ctx = owned.get();
  CLI_ASSIGN_OR_FAIL(Store * store, ctx->store(), ctx);
  const TableDef* table = store->catalogue().Find(a.table);
  if (!table) {
    std::vector<std::string> names;
    for (const TableDef* t : store->catalogue().tables()) names.push_back(t->name);
    return ctx->Fail(InvalidArgumentError("unknown table '" + a.table + "' (" +
                                          Join(names, ", ") + ")"));
  }
  CLI_ASSIGN_OR_FAIL(FileFormat format, ResolveFileFormat(a.format, ""), ctx);
  ScanSpec spec;
  if (!a.date.empty()) {
    CLI_ASSIGN_OR_FAIL(CivilDay d, ParseDateFlag("--date", a.date), ctx);
    if (table->partition_column.empty()) {
      return ctx->Fail(InvalidArgumentError(table->name + " has no date partitions"));
    }
    spec.partition = d.ToString();
  }
  std::ofstream file;
  std::ostream* out = &std::cout;
  std::string tmp_path = a.output + ".tmp";
  if (!a.output.empty()) {
    file.open(tmp_path, std::ios::binary | std::ios::trunc);
    if (!file) return ctx->Fail(InvalidArgumentError("cannot write " + a.output));
    out = &file;
  }
  auto writer = TableWriter::Create(*table, format, out);
  writer->WriteHeader();
  int64_t rows = 0;
  Status s = store->Scan(*table, spec, [&](Row&& row) {
    writer->WriteRow(row);
    ++rows;
    return OkStatus();
  });
  if (!s.ok()) return ctx->Fail(s);
  out->flush();
  if (!a.output.empty()) {
    file.close();
    if (!file || std::rename(tmp_path.c_str(), a.output.c_str()) != 0) {
      return ctx->Fail(UnavailableError("cannot write " + a.output));
    }
    std::cerr << "exported " << rows << " rows of " << table->name << " to " << a.output << "\n";
  }
  return 0;
}

int Demo(const GlobalOptions& g, const DemoArgs& a) {
  std::unique_ptr<Context> owned;
  CLI_ASSIGN_OR_EXIT(owned, Context::Create(g, DbUse::kCreate));
  Context* ctx = owned.get();
  if (a.scale < 1 || a.scale > 100) return ctx->Fail(InvalidArgumentError("--scale must be 1..100"));
  DemoOptions options;
  options.seed = a.seed;
  options.scale = a.scale;
  if (a.today.empty()) {
    CLI_ASSIGN_OR_FAIL(options.today,
                       TodayInZone(ctx->config().timezone, ctx->clock().NowMicros()), ctx);
  } else {
    CLI_ASSIGN_OR_FAIL(options.today, ParseDateFlag("--today", a.today), ctx);
  }
  CLI_ASSIGN_OR_FAIL(Store * store, ctx->store(), ctx);
  std::cout << "generating a season ending " << options.today.AddDays(-1).ToString()
            << " (seed " << a.seed << ", scale " << a.scale << ")...\n" << std::flush;
  DemoSeason season = GenerateDemoSeason(options);
  struct Part {
    const TableDef* table;
    const std::vector<Row>* rows;
  };
  for (Part p : {Part{&tables::Archetypes(), &season.archetypes},
                 Part{&tables::Actuals(), &season.actuals},
                 Part{&tables::Injuries(), &season.injuries},
                 Part{&tables::Predictions(), &season.predictions}}) {
    CLI_ASSIGN_OR_FAIL(ImportCounts c, store->Import(*p.table, *p.rows, {}, "demo", ImportMode::kUpsert),
                       ctx);
    std::cout << "  " << p.table->name << ": " << p.rows->size() << " rows (" << c.inserted
              << " new, " << c.replaced << " replaced)\n";
  }
  std::cout << season.teams << " teams, " << season.players << " players, " << season.games
            << " games on " << season.game_dates << " dates (" << season.first_date.ToString()
            << " to " << season.last_date.ToString() << "), " << season.system_ids.size()
            << " prediction systems\n" << std::flush;
  std::vector<CivilDay> dates;
  for (CivilDay d = season.first_date; d <= season.last_date; d = d.AddDays(1)) dates.push_back(d);
  CLI_ASSIGN_OR_FAIL(Pipeline * pipeline, ctx->pipeline(), ctx);
  RunOptions run_options;
  run_options.trigger_source = "demo";
  int code = RunAndReport(ctx, pipeline, dates, run_options, a.jobs, "text");
  if (code != 0) return code;
  CLI_ASSIGN_OR_FAIL(ReportTable report, BuildReport(store, "accuracy", std::nullopt), ctx);
  std::cout << "\n" << RenderReport(report, ReportFormat::kTable);
  // The database as the user gave it, without its password (copied into a shell, a redacted
  // password is quoted rather than globbed).
  const std::string db = ShellWord(RedactUrlCredentials(ctx->config().db));
  std::cout << "\nNext: propgrade report calibration | players | systems --db " << db
            << "\n      propgrade export prediction_accuracy --date "
            << season.last_date.ToString() << " --db " << db << "\n";
  return 0;
}

}  // namespace propgrade::cli

namespace propgrade::cli {

int Locks(const GlobalOptions& g, const LocksArgs& a) {
  std::unique_ptr<Context> owned;
  CLI_ASSIGN_OR_EXIT(owned,
                     Context::Create(g, a.action == "list" ? DbUse::kRead : DbUse::kExisting));
  Context* ctx = owned.get();
  if ((a.action == "release" || a.action == "reset-fence") && a.reason.empty()) {
    return ctx->Fail(InvalidArgumentError(a.action + " needs --reason (it is recorded)"));
  }
  // Keys and partitions are checked before anything is opened or recorded.
  Status valid = a.action == "release"       ? ParseLockKey(a.key).status()
                 : a.action == "reset-fence" ? ParseDateFlag("PARTITION", a.partition).status()
                                             : OkStatus();
  if (!valid.ok()) return ctx->Fail(valid);
  CLI_ASSIGN_OR_FAIL(Store * store, ctx->store(), ctx);
  CLI_ASSIGN_OR_FAIL(LockService * locks, ctx->locks(), ctx);
  Clock* clock = &ctx->clock();
  auto ts = [](int64_t micros) { return micros ? FormatTimestampMicros(micros).substr(0, 19) + "Z" : ""; };

  if (a.action == "list") {
    CLI_ASSIGN_OR_FAIL(std::vector<LockInfo> held, locks->List(), ctx);
    std::vector<std::string> columns = {"key", "holder_id", "token", "acquired_at",
                                        "expires_at", "held_seconds", "waiters"};
    std::vector<Row> rows;
    for (const LockInfo& l : held) {
      rows.push_back({Value::Text(l.key), Value::Text(l.holder_id), Value::OptInt(l.token),
                      Value::Text(ts(l.acquired_at_micros)), Value::Text(ts(l.expires_at_micros)),
                      Value::Int(l.held_micros / 1000000), Value::Int(l.waiters)});
    }
    if (a.format == "json") {
      std::cout << "[";
      for (size_t i = 0; i < rows.size(); ++i) {
        std::cout << (i ? ",\n " : "") << JsonObject(columns, rows[i]);
      }
      std::cout << "]\n";
    } else if (rows.empty()) {
      std::cout << "no locks held (" << locks->backend() << ")\n";
    } else {
      for (const Row& r : rows) {
        std::cout << r[0].as_text() << "  holder=" << r[1].as_text() << "  token="
                  << FormatCell(r[2]) << "  held " << r[5].as_int() << " s  expires "
                  << r[4].as_text() << (r[6].as_int() ? "  waiters=" + FormatCell(r[6]) : "")
                  << "\n";
      }
    }
    return 0;
  }
  if (a.action == "release") {
    // Releases the holder listed now, by its token: if the key changes hands between the
    // listing and the release, the new holder keeps it (run the command again to release it).
    CLI_ASSIGN_OR_FAIL(std::vector<LockInfo> held, locks->List(), ctx);
    std::optional<LockInfo> listed;
    for (LockInfo& l : held) {
      if (l.key == a.key && l.token) listed = std::move(l);
    }
    bool released = false;
    if (listed) {
      CLI_ASSIGN_OR_FAIL(released, locks->ForceRelease(a.key, *listed->token), ctx);
    }
    if (!released) {
      std::cout << a.key << (listed ? " changed hands before the release; nothing released\n"
                                    : " is not held\n");
      return 0;
    }
    Status s = RecordLockEvent(store, clock,
                               {a.key, "force_released", listed->holder_id, listed->token,
                                std::nullopt, listed->held_micros / 1e6, "manual: " + a.reason});
    if (!s.ok()) return ctx->Fail(s);
    ctx->log().Warn("lock_force_released", {{"key", Value::Text(a.key)},
                                            {"holder_id", Value::Text(listed->holder_id)},
                                            {"token", Value::OptInt(listed->token)},
                                            {"reason", Value::Text(a.reason)}});
    ctx->metrics().Inc("lock_force_released_total");
    std::cout << "released " << a.key << " (holder " << listed->holder_id << ", token "
              << *listed->token << ")\n";
    return 0;
  }
  if (a.action == "sweep") {
    UpkeepDeps upkeep;
    upkeep.locks = locks;
    upkeep.store = store;
    upkeep.clock = clock;
    upkeep.policy = &ctx->config().lock_policy;
    upkeep.alerts = &ctx->alerts();
    upkeep.metrics = &ctx->metrics();
    upkeep.log = &ctx->log();
    CLI_ASSIGN_OR_FAIL(std::vector<StuckLock> stuck, SweepAndReport(upkeep), ctx);
    for (const StuckLock& s : stuck) {
      std::cout << (s.released ? "force-released " : "stuck ") << s.lock.key << " (held "
                << std::lround(s.held_seconds) << " s by " << s.lock.holder_id << ")\n";
    }
    if (stuck.empty()) std::cout << "no stuck locks\n";
    return stuck.empty() ? 0 : static_cast<int>(ExitCode::kProblems);
  }
  if (a.action == "reset-fence") {
    const TableDef* table = store->catalogue().Find(a.table);
    if (!table || table->partition_column.empty()) {
      return ctx->Fail(InvalidArgumentError("'" + a.table + "' is not a partitioned table"));
    }
    CLI_ASSIGN_OR_FAIL(bool removed,
                       store->fences().DeleteFence(locks->fence_namespace(), *table, a.partition), ctx);
    Status s = RecordLockEvent(store, clock,
                               {"fence/" + a.table + "/" + a.partition, "fence_reset", "",
                                std::nullopt, std::nullopt, std::nullopt,
                                locks->fence_namespace() + ": " + a.reason});
    if (!s.ok()) return ctx->Fail(s);
    std::cout << (removed ? "reset the fence of " : "no fence stored for ") << a.table << " "
              << a.partition << " in " << locks->fence_namespace() << "\n";
    return 0;
  }
  return ctx->Fail(InvalidArgumentError("unknown locks action '" + a.action + "'"));
}

int Tables(const GlobalOptions& g, const std::string& action, const std::string& name,
           const std::string& format) {
  std::unique_ptr<Context> owned;
  CLI_ASSIGN_OR_EXIT(owned, Context::Create(g, DbUse::kRead));
  Context* ctx = owned.get();
  if (format != "text" && format != "json") {
    return ctx->Fail(InvalidArgumentError("--format must be text or json"));
  }
  CLI_ASSIGN_OR_FAIL(Store * store, ctx->store(), ctx);
  const Catalogue& catalogue = store->catalogue();
  std::vector<const TableDef*> chosen;
  if (action == "show") {
    const TableDef* t = catalogue.Find(name);
    if (!t) return ctx->Fail(InvalidArgumentError("unknown table '" + name + "'"));
    chosen.push_back(t);
  } else {
    chosen = catalogue.tables();
  }
  nlohmann::json all = nlohmann::json::array();
  for (const TableDef* t : chosen) {
    nlohmann::json j = {{"name", t->name},
                        {"kind", t->declared ? "declared" : "built-in"},
                        {"partition_column", t->partition_column},
                        {"key", t->key_columns},
                        {"processor", t->writer},
                        {"manage_schema", t->manage_schema},
                        {"keep", nullptr}};
    if (t->winner) {
      j["keep"] = {{"column", t->winner->time_column},
                   {"wins", t->winner->latest ? "latest" : "earliest"}};
    }
    if (action == "show") {
      nlohmann::json cols = nlohmann::json::array();
      for (const ColumnDef& c : t->columns) {
        cols.push_back({{"name", c.name},
                        {"type", std::string(ColumnTypeName(c.type))},
                        {"required", c.required}});
      }
      j["columns"] = cols;
    }
    all.push_back(j);
  }
  if (format == "json") {
    std::cout << (action == "show" ? all[0] : all).dump() << "\n";
    return 0;
  }
  for (const nlohmann::json& j : all) {
    std::cout << j["name"].get<std::string>() << "  " << j["kind"].get<std::string>()
              << "  partition=" << j["partition_column"].get<std::string>()
              << "  key=" << Join(j["key"].get<std::vector<std::string>>(), ",")
              << "  processor=" << j["processor"].get<std::string>() << "\n";
    if (j.contains("columns")) {
      for (const nlohmann::json& c : j["columns"]) {
        std::cout << "  " << c["name"].get<std::string>() << " " << c["type"].get<std::string>()
                  << (c["required"].get<bool>() ? " required" : "") << "\n";
      }
    }
  }
  return 0;
}

int Lock(const GlobalOptions& g, const LockArgs& a) {
  std::unique_ptr<Context> owned;
  const bool starts = a.action == "run" || a.action == "acquire";
  CLI_ASSIGN_OR_EXIT(owned, Context::Create(g, starts ? DbUse::kCreate : DbUse::kExisting));
  Context* ctx = owned.get();
  const LockPolicy& policy = ctx->config().lock_policy;
  const double ttl = a.ttl_seconds >= 0 ? a.ttl_seconds : policy.ttl_seconds;
  const double wait = a.max_wait_seconds >= 0 ? a.max_wait_seconds : policy.max_wait_seconds;
  if (!(ttl >= 1 && ttl <= 86400) || !(wait >= 0 && wait <= 86400) ||
      !(a.grace_seconds >= 0 && a.grace_seconds <= 3600)) {
    return ctx->Fail(InvalidArgumentError(
        "--ttl must be 1 to 86400 s, --max-wait 0 to 86400 s and --grace 0 to 3600 s"));
  }
  CLI_ASSIGN_OR_FAIL(LockService * locks, ctx->locks(), ctx);
  // Lease outcomes print their run status's name, as every step does.
  auto refused = [&](const Status& s) {
    std::cerr << "propgrade: " << RunStatusName(RunStatusForError(s)) << ": " << s.message()
              << "\n";
    return static_cast<int>(ExitCodeFor(s));
  };
  if (a.action == "run") {
    LockRunOptions o;
    o.key = a.key;
    o.ttl_micros = static_cast<int64_t>(ttl * 1e6);
    o.max_wait_micros = static_cast<int64_t>(wait * 1e6);
    o.renew_every_micros = static_cast<int64_t>(ttl * 1e6 / 3);
    o.grace_micros = static_cast<int64_t>(a.grace_seconds * 1e6);
    o.env = {{"PROPGRADE_DB", ctx->config().db}};
    LockRunResult r = RunUnderLease(locks, o, a.command, &ctx->clock(), &ctx->log(), ctx->cancel());
    if (r.status.ok()) return r.exit_status;
    if (r.status.code() == StatusCode::kCancelled) return static_cast<int>(ExitCode::kInterrupted);
    const StatusReason why = r.status.reason();
    if (why == StatusReason::kLockTimeout || why == StatusReason::kLockLost) {
      return refused(r.status);
    }
    return ctx->Fail(r.status);
  }
  if (a.action == "acquire") {
    auto lease =
        locks->Acquire(a.key, static_cast<int64_t>(ttl * 1e6), static_cast<int64_t>(wait * 1e6));
    if (!lease.ok()) {
      return lease.status().reason() == StatusReason::kLockTimeout ? refused(lease.status())
                                                                   : ctx->Fail(lease.status());
    }
    std::cout << LeaseJson(*lease) << "\n";
    return 0;
  }
  std::string text = a.lease;
  if (text == "-") {
    CLI_ASSIGN_OR_FAIL(text, ReadWholeFile("-"), ctx);
  }
  CLI_ASSIGN_OR_FAIL(Lease lease, LeaseFromJson(text), ctx);
  if (a.action == "renew") {
    Status s = locks->Renew(&lease);
    if (!s.ok()) return s.reason() == StatusReason::kLockLost ? refused(s) : ctx->Fail(s);
    std::cout << LeaseJson(lease) << "\n";
    return 0;
  }
  if (Status s = locks->Release(lease); !s.ok()) return ctx->Fail(s);
  std::cout << "released " << lease.key << "\n";
  return 0;
}

}  // namespace propgrade::cli

namespace propgrade::cli {

namespace {

int RestoreQuarantined(Context* ctx, const DedupeArgs& a) {
  const TableDef* table = nullptr;
  if (!a.table.empty()) {
    CLI_ASSIGN_OR_FAIL(Store * store, ctx->store(), ctx);
    table = store->catalogue().Find(a.table);
    if (!table) return ctx->Fail(InvalidArgumentError("unknown table '" + a.table + "'"));
  }
  if (!a.date.empty() || !a.keep.empty()) {
    return ctx->Fail(InvalidArgumentError("--restore takes no --date or --keep"));
  }
  CLI_ASSIGN_OR_FAIL(Pipeline * pipeline, ctx->pipeline(), ctx);
  CLI_ASSIGN_OR_FAIL(std::vector<Pipeline::Restored> done,
                     pipeline->RestoreQuarantined(a.restore, table, a.dry_run), ctx);
  ExitCode code = ExitCode::kSuccess;
  for (const Pipeline::Restored& r : done) {
    std::cout << r.table << " " << r.partition << ": " << r.rows
              << (a.dry_run ? " quarantined rows would be restored"
                            : r.status.ok() ? " rows restored" : " rows NOT restored: " + r.status.message());
    if (!a.dry_run && r.status.ok()) {
      std::cout << ", " << r.duplicates.surplus_rows << " duplicate rows now";
    }
    std::cout << "\n";
    if (!r.status.ok()) code = WorseExitCode(code, ExitCodeFor(r.status));
  }
  return static_cast<int>(code);
}

}  // namespace

int Dedupe(const GlobalOptions& g, const DedupeArgs& a) {
  std::unique_ptr<Context> owned;
  CLI_ASSIGN_OR_EXIT(owned, Context::Create(g, DbUse::kExisting));
  Context* ctx = owned.get();
  if (!a.restore.empty()) return RestoreQuarantined(ctx, a);
  if (a.table.empty()) return ctx->Fail(InvalidArgumentError("dedupe needs --table (or --restore RUN)"));
  CLI_ASSIGN_OR_FAIL(Store * store, ctx->store(), ctx);
  const TableDef* table = store->catalogue().Find(a.table);
  if (Status s = CheckDedupeSupported(store->catalogue(), table, a.table); !s.ok()) {
    return ctx->Fail(s);
  }
  RemediationOptions options;
  if (a.keep == "earliest") {
    options.keep = KeepPolicy::kEarliest;
  } else if (a.keep == "latest") {
    options.keep = KeepPolicy::kLatest;
  } else if (!a.keep.empty()) {
    return ctx->Fail(InvalidArgumentError("--keep must be earliest or latest"));
  }
  options.dry_run = a.dry_run;
  options.reason = "propgrade dedupe" + std::string(a.keep.empty() ? "" : " --keep " + a.keep);
  std::optional<std::string> partition;
  if (!a.date.empty()) {
    CLI_ASSIGN_OR_FAIL(CivilDay d, ParseDateFlag("--date", a.date), ctx);
    partition = d.ToString();
  } else if (!a.partition.empty()) {
    const int part = table->PartitionIndex();
    if (part >= 0 && table->columns[part].type == ColumnType::kDate) {
      CLI_ASSIGN_OR_FAIL(CivilDay d, ParseDateFlag("--partition", a.partition), ctx);
      partition = d.ToString();
    } else {
      partition = a.partition;
    }
  }
  options.run_id = NewRunId(ctx->clock().NowMicros());
  CLI_ASSIGN_OR_FAIL(RemediationResult r, RemoveDuplicates(store, *table, partition, options), ctx);
  if (!a.dry_run) ctx->metrics().Inc("remediated_rows_total", {table->name}, static_cast<double>(r.moved));
  ctx->log().Info("dedupe_finished", {{"table", Value::Text(table->name)},
                                      {"dry_run", Value::Bool(a.dry_run)},
                                      {"rows_scanned", Value::Int(r.rows_scanned)},
                                      {"duplicate_groups", Value::Int(r.duplicate_groups)},
                                      {"moved", Value::Int(r.moved)},
                                      {"remaining_duplicate_rows", Value::Int(r.remaining_duplicate_rows)},
                                      {"run_id", Value::Text(options.run_id)}});
  std::cout << table->name << (partition ? " " + *partition : "") << ": " << r.rows_scanned
            << " rows, " << r.duplicate_groups << " duplicate key groups, " << r.moved
            << (a.dry_run ? " surplus rows would be moved" : " surplus rows moved")
            << " to remediation_quarantine";
  if (!a.dry_run) {
    std::cout << "; " << (r.rows_scanned - r.moved) << " rows remain, "
              << r.remaining_duplicate_rows << " duplicates left (run " << options.run_id << ")";
  }
  std::cout << "\n";
  if (a.dry_run) return r.moved > 0 ? static_cast<int>(ExitCode::kProblems) : 0;
  return r.remaining_duplicate_rows > 0 ? static_cast<int>(ExitCode::kProblems) : 0;
}

int Breaker(const GlobalOptions& g, const std::string& action, const std::string& name) {
  std::unique_ptr<Context> owned;
  CLI_ASSIGN_OR_EXIT(owned,
                     Context::Create(g, action == "status" ? DbUse::kRead : DbUse::kExisting));
  Context* ctx = owned.get();
  if (action == "reset") {
    Status s = ctx->breaker().Reset(name);
    if (!s.ok()) return ctx->Fail(s);
    ctx->log().Warn("breaker_reset", {{"name", Value::Text(name)}});
    std::cout << "breaker " << name << " reset to closed\n";
    return 0;
  }
  CLI_ASSIGN_OR_FAIL(std::vector<BreakerStatus> all, ctx->breaker().List(), ctx);
  std::cout << "breakers in " << ctx->breaker().state_file() << "\n";
  if (all.empty()) std::cout << "(none yet: every breaker is closed)\n";
  int64_t now = ctx->clock().NowMicros();
  bool open = false;
  for (const BreakerStatus& b : all) {
    open |= b.state != BreakerState::kClosed;
    std::cout << b.name << "  " << BreakerStateName(b.state)
              << "  consecutive_failures=" << b.consecutive_failures;
    if (b.state == BreakerState::kOpen) {
      double left = (b.opened_at_micros + ctx->config().breaker.open_seconds * 1e6 - now) / 1e6;
      std::cout << "  half-opens in " << FormatDouble(std::max(0.0, std::round(left))) << " s";
    }
    std::cout << "\n";
  }
  return open ? static_cast<int>(ExitCode::kProblems) : 0;
}

int Serve(const GlobalOptions& g, const ServeArgs& a) {
  // The signal token (g.cancel) stops the server; the pipeline gets its own, which the server
  // cancels only when the shutdown grace period ends.
  CancelToken run_cancel;
  GlobalOptions runs = g;
  runs.cancel = &run_cancel;
  std::unique_ptr<Context> owned;
  CLI_ASSIGN_OR_EXIT(owned, Context::Create(runs, DbUse::kCreate));
  Context* ctx = owned.get();
  server::ServerOptions options;
  options.listen = a.listen.empty() ? ctx->config().server.listen : a.listen;
  options.token = ReadSecret(ctx->config().server.token_env, "");
  options.protect_reads = ctx->config().server.protect_reads;
  options.wait_timeout_seconds = ctx->config().server.wait_timeout_seconds;
  options.static_dir = a.static_dir;
  CLI_ASSIGN_OR_FAIL(Pipeline * pipeline, ctx->pipeline(), ctx);
  server::ServerDeps deps;
  deps.pipeline = pipeline;
  deps.store_factory = ctx->store_factory();
  deps.lock_factory = ctx->lock_factory();
  deps.breaker = &ctx->breaker();
  deps.config = &ctx->config();
  deps.clock = &ctx->clock();
  deps.log = &ctx->log();
  deps.metrics = &ctx->metrics();
  deps.alerts = &ctx->alerts();
  deps.stop = g.cancel;
  deps.run_cancel = &run_cancel;
  std::unique_ptr<server::Server> http;
  CLI_ASSIGN_OR_FAIL(http, server::Server::Create(std::move(deps), options), ctx);
  Status bound = http->Bind();
  if (!bound.ok()) return ctx->Fail(bound);
  auto hp = server::ParseListen(options.listen);
  std::cout << "propgrade: serving on http://" << hp->first << ":" << http->port()
            << "/ (dashboard /, trigger POST /v1/runs, /healthz, /readyz, /metrics"
            << (options.token.empty() ? "; no token: loopback only" : "")
            << (http->reads_protected() ? "; /api and /metrics need the token" : "") << ")"
            << std::endl;
  int still_running = http->Run();
  return still_running == 0 ? 0 : static_cast<int>(ExitCode::kRefused);
}

}  // namespace propgrade::cli

namespace propgrade::cli {

int Check(const GlobalOptions& g, const CheckArgs& a) {
  std::unique_ptr<Context> owned;
  CLI_ASSIGN_OR_EXIT(owned, Context::Create(g, DbUse::kExisting));
  Context* ctx = owned.get();
  if (a.format != "table" && a.format != "json") {
    return ctx->Fail(InvalidArgumentError("--format must be table or json"));
  }
  CLI_ASSIGN_OR_FAIL(Store * store, ctx->store(), ctx);
  CheckOptions options;
  options.days = a.days;
  options.thresholds = ctx->config().checks;
  options.timezone = ctx->config().timezone;
  options.breaker = &ctx->breaker();
  CLI_ASSIGN_OR_FAIL(CheckReport report, RunChecks(store, &ctx->clock(), options), ctx);
  Status recorded = RecordCheckResults(store, report);
  if (!recorded.ok()) {
    ctx->log().Error("check_results_not_recorded", {{"error", Value::Text(recorded.message())}});
  }
  for (const CheckResult& c : report.checks) {
    ctx->metrics().Set("check_failures", {c.name}, c.status == CheckStatus::kFail ? 1 : 0);
    if (c.status == CheckStatus::kPass) continue;
    bool trend = c.name == "duplicate_trend";
    Alert alert = MakeAlert(trend ? "duplicate_trend" : "check_failed", "", "",
                            c.name + " " + std::string(CheckStatusName(c.status)) + ": " + c.summary,
                            {{"check", Value::Text(c.name)},
                             {"status", Value::Text(std::string(CheckStatusName(c.status)))},
                             {"value", Value::OptReal(c.value)},
                             {"threshold", Value::Text(c.threshold)}});
    if (!trend) alert.severity = c.status == CheckStatus::kFail ? Severity::kCritical : Severity::kWarning;
    alert.subject = "check/" + c.name;
    ctx->alerts().Raise(std::move(alert));
  }
  int fails = report.count(CheckStatus::kFail), warns = report.count(CheckStatus::kWarn);
  if (a.format == "json") {
    std::string out = "{\"checks\": [";
    for (size_t i = 0; i < report.checks.size(); ++i) {
      const CheckResult& c = report.checks[i];
      out += (i ? ",\n  " : "\n  ") +
             JsonObject({"name", "status", "value", "threshold", "summary"},
                        {Value::Text(c.name), Value::Text(std::string(CheckStatusName(c.status))),
                         Value::OptReal(c.value), Value::Text(c.threshold), Value::Text(c.summary)});
      out.pop_back();
      out += ",\"details\":" + c.details_json + "}";
    }
    out += "\n], \"summary\": " +
           JsonObject({"checked_at", "yesterday", "days", "pass", "warn", "fail"},
                      {Value::Text(FormatTimestampMicros(report.checked_at_micros)),
                       Value::Text(report.yesterday.ToString()), Value::Int(a.days),
                       Value::Int(report.count(CheckStatus::kPass)), Value::Int(warns),
                       Value::Int(fails)}) +
           "}\n";
    std::cout << out;
  } else {
    const char* no_color = std::getenv("NO_COLOR");
    bool color = IsTty(1) && !(no_color && *no_color);
    auto paint = [&](CheckStatus s) {
      std::string name(CheckStatusName(s));
      if (!color) return name;
      const char* code = s == CheckStatus::kPass ? "32" : s == CheckStatus::kWarn ? "33" : "31";
      return std::string("\033[") + code + "m" + name + "\033[0m";
    };
    std::cout << "data-quality checks up to " << report.yesterday.ToString() << " (last " << a.days
              << " days)\n";
    for (const CheckResult& c : report.checks) {
      std::string name = c.name + std::string(std::max<size_t>(1, 22 - c.name.size()), ' ');
      std::cout << name << paint(c.status) << std::string(c.status == CheckStatus::kPass ? 2 : 2, ' ')
                << c.summary << "  [" << c.threshold << "]\n";
    }
    std::cout << report.checks.size() << " checks: " << report.count(CheckStatus::kPass)
              << " pass, " << warns << " warn, " << fails << " fail\n";
  }
  if (fails > 0 || (a.strict && warns > 0)) return static_cast<int>(ExitCode::kProblems);
  return 0;
}

int Stage(const GlobalOptions& g, const StageArgs& a) {
  std::unique_ptr<Context> owned;
  CLI_ASSIGN_OR_EXIT(owned, Context::Create(g, DbUse::kCreate));
  Context* ctx = owned.get();
  if (a.batch.empty()) return ctx->Fail(InvalidArgumentError("--batch ID is required"));
  CLI_ASSIGN_OR_FAIL(FileFormat format, ResolveFileFormat(a.format, a.file), ctx);
  CLI_ASSIGN_OR_FAIL(TableFile file, ReadTableFile(tables::Predictions(), a.file, format, ReadOptions{}), ctx);
  CLI_ASSIGN_OR_FAIL(Store * store, ctx->store(), ctx);
  int64_t now = ctx->clock().NowMicros();
  std::vector<Row> rows;
  std::set<std::string> dates;
  for (const Row& p : file.rows) {
    rows.push_back(ToStagingRow(a.batch, now, p));
    dates.insert(FormatCell(p[pred::game_date]));
  }
  CLI_ASSIGN_OR_FAIL(int64_t staged, store->staging().StageBatch(a.batch, rows, a.replace), ctx);
  ctx->log().Info("batch_staged", {{"batch_id", Value::Text(a.batch)},
                                   {"rows", Value::Int(staged)},
                                   {"dates", Value::Int(static_cast<int64_t>(dates.size()))}});
  std::cout << "staged " << staged << " predictions as batch " << a.batch << " ("
            << dates.size() << " date" << (dates.size() == 1 ? "" : "s") << ": "
            << *dates.begin() << (dates.size() > 1 ? " .. " + *dates.rbegin() : "") << ")\n";
  return 0;
}

int Consolidate(const GlobalOptions& g, const std::string& date, bool cleanup_orphans) {
  std::unique_ptr<Context> owned;
  CLI_ASSIGN_OR_EXIT(owned, Context::Create(g, DbUse::kExisting));
  Context* ctx = owned.get();
  if (date.empty() && !cleanup_orphans) {
    return ctx->Fail(InvalidArgumentError("give --date D, --cleanup-orphans, or both"));
  }
  std::optional<CivilDay> day;  // checked before anything changes
  if (!date.empty()) {
    CLI_ASSIGN_OR_FAIL(day, ParseDateFlag("--date", date), ctx);
  }
  int code = 0;
  if (cleanup_orphans) {
    CLI_ASSIGN_OR_FAIL(Store * store, ctx->store(), ctx);
    std::string run_id = NewRunId(ctx->clock().NowMicros());
    CLI_ASSIGN_OR_FAIL(OrphanReport cleaned,
                       CleanupOrphanedBatches(store, &ctx->clock(), 24LL * 3600 * 1000000, run_id), ctx);
    ctx->log().Info("orphans_quarantined", {{"rows", Value::Int(cleaned.rows)},
                                            {"batches", Value::Text(Join(cleaned.batches, ","))}});
    std::cout << "moved " << cleaned.rows << " rows of " << cleaned.batches.size()
              << " orphaned batches to remediation_quarantine\n";
  }
  if (day) {
    CLI_ASSIGN_OR_FAIL(Pipeline * pipeline, ctx->pipeline(), ctx);
    RunOptions options;
    options.trigger_source = "cli";
    RunSummary s = pipeline->Consolidate(*day, pipeline->NewRunId(), options);
    std::cout << s.ToText() << "\n";
    code = static_cast<int>(s.exit_code());
  }
  return code;
}

}  // namespace propgrade::cli

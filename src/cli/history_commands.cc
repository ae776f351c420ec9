// `propgrade history`, `diff` and `rollback`: a partition's kept writes (partition_history),
// what a write changed or would change, and the fenced write back of a kept version.
#include <algorithm>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/context.h"
#include "common/value_text.h"
#include "reports/reports.h"
#include "schema/row_diff.h"

namespace propgrade::cli {

namespace {

using json = nlohmann::ordered_json;

json Cell(const Value& v) {
  std::string text;
  AppendJsonValue(&text, v);
  return json::parse(text);
}

Status CheckFormat(const std::string& format) {
  if (format == "text" || format == "json") return OkStatus();
  return InvalidArgumentError("--format must be text or json");
}

// The table a history command names, and its partition as stored (a date partition checked).
StatusOr<std::pair<const TableDef*, std::string>> Target(Store* store, const std::string& name,
                                                         const std::string& partition) {
  const TableDef* t = store->catalogue().Find(name);
  if (!t || t->writer.empty() || t->PartitionIndex() < 0) {
    return InvalidArgumentError(
        "no partition history for '" + name +
        "': it is kept for the tables processors write (prediction_accuracy, "
        "system_daily_performance, prediction_performance_summary and declared tables)");
  }
  if (partition.empty()) return InvalidArgumentError("--partition is required");
  if (t->columns[t->PartitionIndex()].type == ColumnType::kDate) {
    ASSIGN_OR_RETURN(CivilDay d, ParseDateFlag("--partition", partition));
    return std::make_pair(t, d.ToString());
  }
  return std::make_pair(t, partition);
}

// Runs of the table's writer on the partition that wrote nothing because a guard refused them,
// newest first.
StatusOr<std::vector<RunSummary>> RefusedRuns(Store* store, const TableDef& t,
                                              const std::string& partition) {
  ScanSpec spec;
  spec.range_column = "partition";
  spec.partition = partition;
  std::vector<RunSummary> out;
  RETURN_IF_ERROR(store->Scan(tables::GradingRuns(), spec, [&](Row&& r) {
    RunSummary s = RunSummary::FromRow(r);
    if (s.processor == t.writer &&
        (s.status == RunStatus::kShrinkRefused || s.status == RunStatus::kInsufficientActuals)) {
      out.push_back(std::move(s));
    }
    return OkStatus();
  }));
  std::sort(out.begin(), out.end(), [](const RunSummary& a, const RunSummary& b) {
    return a.started_at_micros > b.started_at_micros;  // newest first, as the writes
  });
  return out;
}

std::string Token(const std::optional<int64_t>& t) { return t ? std::to_string(*t) : "-"; }

}  // namespace

int History(const GlobalOptions& g, const HistoryArgs& a) {
  std::unique_ptr<Context> owned;
  CLI_ASSIGN_OR_EXIT(owned, Context::Create(g, DbUse::kRead));
  Context* ctx = owned.get();
  if (Status s = CheckFormat(a.format); !s.ok()) return ctx->Fail(s);
  CLI_ASSIGN_OR_FAIL(Store * store, ctx->store(), ctx);
  CLI_ASSIGN_OR_FAIL(auto target, Target(store, a.table, a.partition), ctx);
  const auto& [t, partition] = target;
  CLI_ASSIGN_OR_FAIL(std::vector<HistoryEntry> entries, store->ReadHistory(*t, partition), ctx);
  CLI_ASSIGN_OR_FAIL(int64_t rows_now, store->CountPartitionRows(*t, partition), ctx);
  CLI_ASSIGN_OR_FAIL(std::vector<RunSummary> refused, RefusedRuns(store, *t, partition), ctx);
  if (a.format == "json") {
    json out = {{"table", t->name}, {"partition", partition}, {"rows_now", rows_now}};
    out["writes"] = json::array();
    for (auto e = entries.rbegin(); e != entries.rend(); ++e) {
      out["writes"].push_back({{"run_id", e->run_id},
                               {"kind", e->kind},
                               {"written_at", e->written_at},
                               {"fence_token", e->fence_token ? json(*e->fence_token) : json()},
                               {"lock_namespace", e->lock_namespace},
                               {"rows_before", e->rows_before},
                               {"rows_after", e->rows_after},
                               {"keys_added", e->keys_added},
                               {"keys_removed", e->keys_removed},
                               {"keys_changed", e->keys_changed}});
    }
    out["refused"] = json::array();
    for (const RunSummary& s : refused) out["refused"].push_back(json::parse(s.ToJson()));
    std::cout << out.dump(2) << "\n";
    return 0;
  }
  std::cout << t->name << " " << partition << ": " << rows_now << " rows now; " << entries.size()
            << " kept write" << (entries.size() == 1 ? "" : "s")
            << " (newest first; each keeps the rows it replaced)\n";
  if (!entries.empty()) {
    std::cout << "  written_at                   run_id                          kind      "
                 "token  rows          keys (+added -removed ~changed)\n";
  }
  for (auto e = entries.rbegin(); e != entries.rend(); ++e) {
    std::string rows = std::to_string(e->rows_before) + " -> " + std::to_string(e->rows_after);
    std::printf("  %-28s %-31s %-9s %-6s %-13s +%lld -%lld ~%lld\n", e->written_at.c_str(),
                e->run_id.c_str(), e->kind.c_str(), Token(e->fence_token).c_str(), rows.c_str(),
                static_cast<long long>(e->keys_added), static_cast<long long>(e->keys_removed),
                static_cast<long long>(e->keys_changed));
  }
  for (const RunSummary& s : refused) {
    std::cout << "  refused: " << FormatTimestampMicros(s.started_at_micros) << " run " << s.run_id
              << " " << RunStatusName(s.status) << ": " << s.error << "\n";
  }
  return 0;
}

int Diff(const GlobalOptions& g, const DiffArgs& a) {
  std::unique_ptr<Context> owned;
  CLI_ASSIGN_OR_EXIT(owned, Context::Create(g, a.dry_run ? DbUse::kExisting : DbUse::kRead));
  Context* ctx = owned.get();
  if (Status s = CheckFormat(a.format); !s.ok()) return ctx->Fail(s);
  if (a.dry_run && !a.runs.empty()) {
    return ctx->Fail(InvalidArgumentError("--dry-run compares with what is stored: no --run"));
  }
  if (!a.runs.empty() && a.runs.size() != 2) {
    return ctx->Fail(InvalidArgumentError("give --run twice (A then B), or neither"));
  }
  CLI_ASSIGN_OR_FAIL(Store * store, ctx->store(), ctx);
  CLI_ASSIGN_OR_FAIL(auto target, Target(store, a.table, a.partition), ctx);
  const auto& [t, partition] = target;
  std::vector<Row> before, after;
  std::string from, to;
  if (a.dry_run) {
    CLI_ASSIGN_OR_FAIL(Pipeline * pipeline, ctx->pipeline(), ctx);
    CLI_ASSIGN_OR_FAIL(Pipeline::Preview preview, pipeline->PreviewStep(*t, partition), ctx);
    if (preview.status != RunStatus::kSuccess) {
      std::cout << t->name << " " << partition << ": a run now would end "
                << RunStatusName(preview.status) << " and write nothing"
                << (preview.detail.empty() ? "" : " (" + preview.detail + ")") << "\n";
      return 0;
    }
    CLI_ASSIGN_OR_FAIL(before, store->ReadPartition(*t, partition), ctx);
    after = std::move(preview.rows);
    from = "stored";
    to = "a run now (dry run, nothing written)";
  } else if (a.runs.size() == 2) {
    CLI_ASSIGN_OR_FAIL(before, store->RowsWrittenBy(*t, partition, a.runs[0]), ctx);
    CLI_ASSIGN_OR_FAIL(after, store->RowsWrittenBy(*t, partition, a.runs[1]), ctx);
    from = "run " + a.runs[0];
    to = "run " + a.runs[1];
  } else {
    CLI_ASSIGN_OR_FAIL(std::vector<HistoryEntry> entries, store->ReadHistory(*t, partition), ctx);
    if (entries.empty()) {
      return ctx->Fail(NotFoundError("no kept write of " + t->name + " partition " + partition));
    }
    CLI_ASSIGN_OR_FAIL(before, store->RowsFoundBy(*t, partition, entries.back().run_id), ctx);
    CLI_ASSIGN_OR_FAIL(after, store->ReadPartition(*t, partition), ctx);
    from = "before run " + entries.back().run_id;
    to = "now";
  }
  const PartitionDiff d = DiffRows(*t, before, after, /*detail=*/true);
  if (a.format == "json") {
    json out = {{"table", t->name},
                {"partition", partition},
                {"from", from},
                {"to", to},
                {"rows_before", d.rows_before},
                {"rows_after", d.rows_after},
                {"keys_added", d.keys_added},
                {"keys_removed", d.keys_removed},
                {"keys_changed", d.keys_changed}};
    for (const auto& [name, list] : {std::pair{"added", &d.added}, {"removed", &d.removed}}) {
      out[name] = json::array();
      for (const KeyChange& k : *list) out[name].push_back(k.key);
    }
    out["changed"] = json::array();
    for (const KeyChange& k : d.changed) {
      json cells = json::array();
      for (const CellChange& c : k.cells) {
        cells.push_back(
            {{"column", c.column}, {"before", Cell(c.before)}, {"after", Cell(c.after)}});
      }
      out["changed"].push_back({{"key", k.key}, {"cells", cells}});
    }
    std::cout << out.dump(2) << "\n";
    return 0;
  }
  std::cout << t->name << " " << partition << ": " << from << " (" << d.rows_before << " rows) -> "
            << to << " (" << d.rows_after << " rows): " << d.keys_added << " keys added, "
            << d.keys_removed << " removed, " << d.keys_changed << " changed\n";
  auto print = [&](char mark, const std::vector<KeyChange>& list) {
    size_t shown = 0;
    for (const KeyChange& k : list) {
      if (a.limit > 0 && shown == static_cast<size_t>(a.limit)) {
        std::cout << "  ... and " << list.size() - shown << " more (--limit 0 prints all)\n";
        break;
      }
      ++shown;
      std::cout << "  " << mark << " " << k.key;
      for (size_t i = 0; i < k.cells.size(); ++i) {
        const CellChange& c = k.cells[i];
        std::cout << (i ? "; " : ": ") << c.column << " " << FormatCell(c.before) << " -> "
                  << FormatCell(c.after);
      }
      std::cout << "\n";
    }
  };
  print('+', d.added);
  print('-', d.removed);
  print('~', d.changed);
  return 0;
}

int Rollback(const GlobalOptions& g, const RollbackArgs& a) {
  std::unique_ptr<Context> owned;
  CLI_ASSIGN_OR_EXIT(owned, Context::Create(g, DbUse::kExisting));
  Context* ctx = owned.get();
  if (Status s = CheckFormat(a.format); !s.ok()) return ctx->Fail(s);
  if (a.to.empty()) return ctx->Fail(InvalidArgumentError("--to RUN is required"));
  CLI_ASSIGN_OR_FAIL(Store * store, ctx->store(), ctx);
  CLI_ASSIGN_OR_FAIL(auto target, Target(store, a.table, a.partition), ctx);
  const auto& [t, partition] = target;
  CLI_ASSIGN_OR_FAIL(Pipeline * pipeline, ctx->pipeline(), ctx);
  RunOptions options;
  options.trigger_source = "cli";
  CLI_ASSIGN_OR_FAIL(DateRun run,
                     pipeline->Rollback(*t, partition, a.to, pipeline->NewRunId(), options), ctx);
  for (const RunSummary& s : run.steps) {
    std::cout << (a.format == "json" ? s.ToJson() : s.ToText()) << "\n";
  }
  if (a.format == "text" && !run.steps.empty() && run.steps[0].status == RunStatus::kSuccess) {
    std::cout << t->name << " " << partition << " holds the rows of run " << a.to
              << " again (rollback run " << run.run_id << ")";
    if (t->name == tables::Accuracy().name) {
      std::cout << "; summaries as of later dates still count the replaced rows until they are "
                   "recomputed (`propgrade check` reports them stale)";
    }
    std::cout << "\n";
  }
  return static_cast<int>(run.exit_code());
}

int Impact(const GlobalOptions& g, const std::string& from, const std::string& to,
           const std::string& format) {
  std::unique_ptr<Context> owned;
  CLI_ASSIGN_OR_EXIT(owned, Context::Create(g, DbUse::kRead));
  Context* ctx = owned.get();
  CLI_ASSIGN_OR_FAIL(ReportFormat fmt, ParseReportFormat(format), ctx);
  CLI_ASSIGN_OR_FAIL(CivilDay first, ParseDateFlag("--from", from), ctx);
  CLI_ASSIGN_OR_FAIL(CivilDay last, ParseDateFlag("--to", to), ctx);
  CLI_ASSIGN_OR_FAIL(Store * store, ctx->store(), ctx);
  CLI_ASSIGN_OR_FAIL(ImpactReport impact, BuildImpact(store, first, last), ctx);
  if (fmt != ReportFormat::kTable) {
    std::cout << RenderReport(impact.table, fmt);
    return 0;
  }
  std::cout << RenderReport(impact.table, fmt) << "\n";
  if (impact.headlines.empty()) {
    std::cout << "No surplus rows from " << from << " to " << to
              << ": every figure stands as it is.\n";
    return 0;
  }
  std::cout << "Distortion from duplicate rows (with them against one row per key"
            << (impact.quarantined_rows > 0 ? "; " + std::to_string(impact.quarantined_rows) +
                                                  " of them taken back from remediation_quarantine"
                                            : std::string())
            << "):\n";
  for (const std::string& line : impact.headlines) std::cout << "  " << line << "\n";
  return 0;
}

}  // namespace propgrade::cli

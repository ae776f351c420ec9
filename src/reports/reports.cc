#include "reports/reports.h"

#include <algorithm>
#include <map>
#include <sstream>

#include "common/civil_date.h"
#include "common/strings.h"
#include "common/value_text.h"
#include "grading/impact.h"
#include "grading/rules.h"
#include "io/csv.h"
#include "schema/schema.h"

namespace propgrade {

namespace {

using grading::RoundedMean;
using grading::RoundedRatio;
using grading::ToScaledInt;

struct Tally {
  int64_t rows = 0, voided = 0, hits = 0, misses = 0, errors = 0, abs_e2 = 0, signed_e2 = 0;
  int64_t conf_n = 0, conf_e4 = 0;
};

Status ScanWindow(Store* store, const ReportTable& r, const TableDef& t,
                  std::vector<std::string> columns, const std::function<Status(Row&&)>& fn) {
  ScanSpec spec;
  spec.partition_from = r.from;
  spec.partition_to = r.to;
  spec.columns = std::move(columns);
  return store->Scan(t, spec, fn);
}

void AddOutcome(Tally* t, const Row& row, int correct, int voided, int abs_err, int signed_err) {
  ++t->rows;
  if (row[voided].ToBool().value_or(false)) {
    ++t->voided;
    return;
  }
  if (auto c = row[correct].ToBool()) ++(*c ? t->hits : t->misses);
  if (abs_err >= 0) {
    if (auto e = row[abs_err].ToReal()) {
      ++t->errors;
      t->abs_e2 += ToScaledInt(*e, 2);
      t->signed_e2 += ToScaledInt(row[signed_err].ToReal().value_or(0), 2);
    }
  }
}

StatusOr<ReportTable> Accuracy(Store* store, ReportTable r) {
  std::map<std::string, Tally> by_system;
  Tally all;
  RETURN_IF_ERROR(ScanWindow(store, r, tables::Accuracy(),
                             {"system_id", "prediction_correct", "is_voided", "absolute_error",
                              "signed_error"},
                             [&](Row&& row) {
                               AddOutcome(&by_system[row[0].as_text()], row, 1, 2, 3, 4);
                               AddOutcome(&all, row, 1, 2, 3, 4);
                               return OkStatus();
                             }));
  r.columns = {"system_id", "predictions", "graded", "voided", "decided", "win_rate", "mae",
               "bias"};
  auto emit = [&](const std::string& name, const Tally& t) {
    r.rows.push_back({Value::Text(name), Value::Int(t.rows), Value::Int(t.rows - t.voided),
                      Value::Int(t.voided), Value::Int(t.hits + t.misses),
                      Value::OptReal(RoundedRatio(t.hits, t.hits + t.misses, 3)),
                      Value::OptReal(RoundedMean(t.abs_e2, t.errors, 2, 2)),
                      Value::OptReal(RoundedMean(t.signed_e2, t.errors, 2, 2))});
  };
  for (const auto& [system, t] : by_system) emit(system, t);
  if (by_system.size() > 1) emit("ALL", all);
  return r;
}

StatusOr<ReportTable> Calibration(Store* store, ReportTable r) {
  std::map<std::pair<std::string, int64_t>, Tally> cells;
  RETURN_IF_ERROR(ScanWindow(store, r, tables::Accuracy(),
                             {"system_id", "confidence_decile", "confidence_score",
                              "prediction_correct", "is_voided"},
                             [&](Row&& row) {
                               auto decile = row[1].ToInt();
                               auto correct = row[3].ToBool();
                               if (!decile || !correct || row[4].ToBool().value_or(false)) {
                                 return OkStatus();
                               }
                               Tally& t = cells[{row[0].as_text(), *decile}];
                               ++(*correct ? t.hits : t.misses);
                               ++t.conf_n;
                               t.conf_e4 += ToScaledInt(row[2].ToReal().value_or(0), 4);
                               return OkStatus();
                             }));
  r.columns = {"system_id", "decile", "decided", "mean_confidence", "hit_rate"};
  for (const auto& [key, t] : cells) {
    r.rows.push_back({Value::Text(key.first), Value::Int(key.second),
                      Value::Int(t.hits + t.misses),
                      Value::OptReal(RoundedMean(t.conf_e4, t.conf_n, 4, 3)),
                      Value::OptReal(RoundedRatio(t.hits, t.hits + t.misses, 3))});
  }
  return r;
}

StatusOr<ReportTable> Players(Store* store, ReportTable r) {
  std::map<std::string, Tally> by_player;
  RETURN_IF_ERROR(ScanWindow(store, r, tables::Accuracy(),
                             {"player_lookup", "prediction_correct", "is_voided"},
                             [&](Row&& row) {
                               AddOutcome(&by_player[row[0].as_text()], row, 1, 2, -1, -1);
                               return OkStatus();
                             }));
  struct Entry {
    std::string player;
    Tally t;
    double rate;
  };
  std::vector<Entry> entries;
  for (const auto& [player, t] : by_player) {
    int64_t decided = t.hits + t.misses;
    if (decided >= 10) entries.push_back({player, t, static_cast<double>(t.hits) / decided});
  }
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    if (a.rate != b.rate) return a.rate > b.rate;
    return a.player < b.player;
  });
  r.columns = {"rank", "player_lookup", "decided", "hits", "hit_rate"};
  const size_t n = std::min<size_t>(10, entries.size());
  auto emit = [&](const std::string& rank, const Entry& e) {
    r.rows.push_back({Value::Text(rank), Value::Text(e.player), Value::Int(e.t.hits + e.t.misses),
                      Value::Int(e.t.hits),
                      Value::OptReal(RoundedRatio(e.t.hits, e.t.hits + e.t.misses, 3))});
  };
  for (size_t i = 0; i < n; ++i) emit("best " + std::to_string(i + 1), entries[i]);
  for (size_t i = std::max(n, entries.size() - std::min(entries.size(), size_t{10}));
       i < entries.size(); ++i) {
    emit("worst " + std::to_string(entries.size() - i), entries[i]);
  }
  return r;
}

StatusOr<ReportTable> Systems(Store* store, ReportTable r) {
  const TableDef& t = tables::DailyPerformance();
  r.columns = {"game_date", "system_id", "predictions_count", "voided_count", "correct_count",
               "incorrect_count", "win_rate", "mae", "avg_bias", "avg_confidence"};
  RETURN_IF_ERROR(ScanWindow(store, r, t, r.columns, [&](Row&& row) {
    r.rows.push_back(std::move(row));
    return OkStatus();
  }));
  return r;
}

}  // namespace

StatusOr<ReportTable> BuildReport(Store* store, std::string_view kind, std::optional<int> days) {
  if (days && *days < 1) return InvalidArgumentError("--days must be at least 1");
  ReportTable r;
  r.kind = std::string(kind);
  if (kind != "accuracy" && kind != "calibration" && kind != "players" && kind != "systems") {
    return InvalidArgumentError("unknown report '" + r.kind +
                                "' (accuracy, calibration, players, systems)");
  }
  ASSIGN_OR_RETURN(auto dates, store->ListPartitions(tables::Accuracy()));
  if (dates.empty()) return r;
  r.to = dates.back();
  r.from = days ? CivilDay::Parse(r.to)->AddDays(1 - *days).ToString() : dates.front();
  if (kind == "accuracy") return Accuracy(store, std::move(r));
  if (kind == "calibration") return Calibration(store, std::move(r));
  if (kind == "players") return Players(store, std::move(r));
  return Systems(store, std::move(r));
}

StatusOr<ImpactReport> BuildImpact(Store* store, CivilDay from, CivilDay to) {
  if (to < from) return InvalidArgumentError("--to is before --from");
  const TableDef& t = tables::Accuracy();
  ImpactReport out;
  out.table.kind = "impact";
  out.table.from = from.ToString();
  out.table.to = to.ToString();
  std::vector<Row> rows;
  RETURN_IF_ERROR(ScanWindow(store, out.table, t, {}, [&](Row&& r) {
    rows.push_back(std::move(r));
    return OkStatus();
  }));
  // The surplus rows remediation removed are part of what the figures were before it.
  RETURN_IF_ERROR(store->Scan(tables::Quarantine(), ScanSpec{}, [&](Row&& q) {
    const std::string partition = FormatCell(q[quar::partition]);
    if (FormatCell(q[quar::table_name]) != t.name || partition < out.table.from ||
        partition > out.table.to) {
      return OkStatus();
    }
    ASSIGN_OR_RETURN(Row row, RowFromJsonObject(t, FormatCell(q[quar::row_json])));
    rows.push_back(std::move(row));
    ++out.quarantined_rows;
    return OkStatus();
  }));
  out.table.columns = {"system_id",
                       "period",
                       "rows",
                       "surplus_rows",
                       "win_rate",
                       "win_rate_without",
                       "win_rate_delta_points",
                       "mae",
                       "mae_without",
                       "mae_delta",
                       "bias",
                       "bias_without",
                       "bias_delta"};
  std::vector<grading::ImpactLine> lines = grading::DuplicateImpact(rows, from, to);
  auto opt = [](std::optional<double> v, int places) {
    return v ? Value::Real(grading::RoundHalfAway(*v, places)) : Value();
  };
  for (const grading::ImpactLine& l : lines) {
    out.table.rows.push_back(
        {Value::Text(l.system_id), Value::Text(l.period), Value::Int(l.with.rows),
         Value::Int(l.surplus_rows()), opt(l.with.win_rate(), 3), opt(l.without.win_rate(), 3),
         Value::OptReal(l.win_rate_delta_points()), opt(l.with.mae(), 2), opt(l.without.mae(), 2),
         Value::OptReal(l.mae_delta()), opt(l.with.bias(), 2), opt(l.without.bias(), 2),
         Value::OptReal(l.bias_delta())});
  }
  std::vector<const grading::ImpactLine*> distorted;
  for (const grading::ImpactLine& l : lines) {
    if (l.surplus_rows() > 0) distorted.push_back(&l);
  }
  std::stable_sort(distorted.begin(), distorted.end(), [](const auto* a, const auto* b) {
    return std::abs(a->win_rate_delta_points().value_or(0)) >
           std::abs(b->win_rate_delta_points().value_or(0));
  });
  for (const grading::ImpactLine* l : distorted) out.headlines.push_back(DistortionText(*l));
  return out;
}

StatusOr<ReportFormat> ParseReportFormat(std::string_view name) {
  if (name == "table") return ReportFormat::kTable;
  if (name == "json") return ReportFormat::kJson;
  if (name == "csv") return ReportFormat::kCsv;
  return InvalidArgumentError("unknown format '" + std::string(name) + "' (table, json, csv)");
}

std::string RenderReport(const ReportTable& r, ReportFormat format) {
  std::ostringstream out;
  if (format == ReportFormat::kJson) {
    auto date = [](const std::string& d) { return d.empty() ? Value() : Value::Text(d); };
    std::string json = JsonObject({"report", "from", "to"},
                                  {Value::Text(r.kind), date(r.from), date(r.to)});
    json.pop_back();
    json += ",\"rows\":[";
    for (size_t i = 0; i < r.rows.size(); ++i) {
      json += (i ? ",\n  " : "\n  ") + JsonObject(r.columns, r.rows[i]);
    }
    out << json << (r.rows.empty() ? "" : "\n") << "]}\n";
    return out.str();
  }
  if (format == ReportFormat::kCsv) {
    for (size_t i = 0; i < r.columns.size(); ++i) out << (i ? "," : "") << r.columns[i];
    out << "\n";
    for (const Row& row : r.rows) {
      std::string line;
      for (size_t i = 0; i < row.size(); ++i) {
        if (i) line += ',';
        csv::AppendCell(&line, FormatCell(row[i]));
      }
      out << line << "\n";
    }
    return out.str();
  }
  if (r.to.empty()) return "No graded predictions yet: run `propgrade grade` first.\n";
  out << r.kind << " report, " << r.from << " to " << r.to << "\n";
  std::vector<size_t> width(r.columns.size());
  for (size_t i = 0; i < r.columns.size(); ++i) width[i] = r.columns[i].size();
  for (const Row& row : r.rows) {
    for (size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], FormatCell(row[i]).size());
  }
  auto line = [&](const std::vector<std::string>& cells, bool numeric_right) {
    for (size_t i = 0; i < cells.size(); ++i) {
      bool right = numeric_right && i > 0 && r.kind != "players";
      std::string pad(width[i] - cells[i].size(), ' ');
      out << (i ? "  " : "") << (right ? pad + cells[i] : cells[i] + (i + 1 < cells.size() ? pad : ""));
    }
    out << "\n";
  };
  line(r.columns, true);
  for (const Row& row : r.rows) {
    std::vector<std::string> cells;
    for (const Value& v : row) cells.push_back(FormatCell(v));
    line(cells, true);
  }
  if (r.rows.empty()) out << "(no rows)\n";
  return out.str();
}

}  // namespace propgrade

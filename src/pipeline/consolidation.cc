#include "pipeline/consolidation.h"

#include <map>
#include <set>

#include "common/civil_date.h"
#include "common/table_catalog.h"
#include "common/value_text.h"
#include "grading/rules.h"

namespace propgrade {

namespace {

std::string BusinessKey(const Row& p) {
  std::string key;
  for (int c : {pred::game_date, pred::player_lookup, pred::game_id, pred::system_id}) {
    key += FormatCell(p[c]) + '\x1f';
  }
  auto line = p[pred::line_value].ToReal();
  return key + (line ? FormatCell(Value::Real(grading::RoundHalfAway(*line, 2))) : "\x1eNULL");
}

// grading.md §2: the latest created_at wins, then the greatest prediction_id.
bool Newer(const Row& a, const Row& b) {
  std::string ca = FormatCell(a[pred::created_at]), cb = FormatCell(b[pred::created_at]);
  if (ca != cb) return ca > cb;
  return FormatCell(a[pred::prediction_id]) > FormatCell(b[pred::prediction_id]);
}

Row ToPrediction(const Row& staged) {
  return Row(staged.begin() + stage::kPred, staged.end());
}

}  // namespace

Row ToStagingRow(const std::string& batch_id, int64_t staged_at_micros, const Row& prediction) {
  Row r;
  r.reserve(stage::kNumColumns);
  r.push_back(Value::Text(batch_id));
  r.push_back(Value::Text(FormatTimestampMicros(staged_at_micros)));
  r.insert(r.end(), prediction.begin(), prediction.end());
  return r;
}

ConsolidationPlan PlanConsolidation(const std::vector<Row>& staged, const std::vector<Row>& stored) {
  // The staged winner of every business key.
  std::map<std::string, Row> winners;
  for (const Row& s : staged) {
    Row p = ToPrediction(s);
    std::string key = BusinessKey(p);
    auto it = winners.find(key);
    if (it == winners.end()) {
      winners.emplace(key, std::move(p));
    } else if (Newer(p, it->second)) {
      it->second = std::move(p);
    }
  }
  std::map<std::string, std::vector<const Row*>> stored_by_key;
  std::map<std::string, const Row*> stored_by_id;
  for (const Row& r : stored) {
    stored_by_key[BusinessKey(r)].push_back(&r);
    stored_by_id[FormatCell(r[pred::prediction_id])] = &r;
  }
  ConsolidationPlan plan;
  std::set<std::string> deleted;
  auto remove = [&](const Row& r) {
    std::string id = FormatCell(r[pred::prediction_id]);
    if (deleted.insert(id).second) plan.delete_ids.push_back(id);
  };
  for (auto& [key, winner] : winners) {
    const Row* best = &winner;
    for (const Row* r : stored_by_key[key]) {
      if (Newer(*r, *best)) best = r;
    }
    // Exactly one row stays for the key: every other stored row of it goes.
    for (const Row* r : stored_by_key[key]) {
      if (r != best) remove(*r);
    }
    if (best == &winner) {
      // The staged row replaces a stored row that has its id under another key, too.
      auto same_id = stored_by_id.find(FormatCell(winner[pred::prediction_id]));
      if (same_id != stored_by_id.end()) remove(*same_id->second);
      plan.insert.push_back(winner);
    }
  }
  return plan;
}

StatusOr<OrphanReport> FindOrphanedBatches(Store* store, Clock* clock, int64_t max_age_micros) {
  OrphanReport report;
  ScanSpec spec;
  spec.range_column = "staged_at";
  spec.partition_to = FormatTimestampMicros(clock->NowMicros() - max_age_micros);
  spec.columns = {"batch_id"};
  std::set<std::string> batches;
  RETURN_IF_ERROR(store->Scan(tables::Staging(), spec, [&](Row&& r) {
    ++report.rows;
    batches.insert(r[0].as_text());
    return OkStatus();
  }));
  report.batches.assign(batches.begin(), batches.end());
  return report;
}

StatusOr<OrphanReport> CleanupOrphanedBatches(Store* store, Clock* clock, int64_t max_age_micros,
                                              const std::string& run_id) {
  OrphanReport report;
  const std::string cutoff = FormatTimestampMicros(clock->NowMicros() - max_age_micros);
  std::set<std::string> batches;
  DedupeRequest request;
  request.table = &tables::Staging();
  request.reason = "orphaned staging batch (staged before " + cutoff + ", never consolidated)";
  request.run_id = run_id;
  request.choose_surplus = [&](const std::vector<Row>& rows) {
    std::vector<size_t> old;
    for (size_t i = 0; i < rows.size(); ++i) {
      if (FormatCell(rows[i][stage::staged_at]) < cutoff) {
        old.push_back(i);
        batches.insert(FormatCell(rows[i][stage::batch_id]));
      }
    }
    return old;
  };
  ASSIGN_OR_RETURN(DedupeResult done, store->Dedupe(request));
  report.rows = done.moved;
  report.batches.assign(batches.begin(), batches.end());
  return report;
}

}  // namespace propgrade

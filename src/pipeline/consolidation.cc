#include "pipeline/consolidation.h"

#include <map>
#include <set>

#include "common/civil_date.h"
#include "common/value_text.h"
#include "schema/schema.h"

namespace propgrade {

namespace {

// Consolidation merges into player_prop_predictions by its business key and winner rule.
const TableDef& P() { return tables::Predictions(); }

Row ToPrediction(const Row& staged) { return Row(staged.begin() + stage::kPred, staged.end()); }

}  // namespace

Row ToStagingRow(const std::string& batch_id, int64_t staged_at_micros, const Row& prediction) {
  Row r;
  r.reserve(stage::kNumColumns);
  r.push_back(Value::Text(batch_id));
  r.push_back(Value::Text(FormatTimestampMicros(staged_at_micros)));
  r.insert(r.end(), prediction.begin(), prediction.end());
  return r;
}

ConsolidationPlan PlanConsolidation(const std::vector<Row>& staged, const std::vector<Row>& stored,
                                    const std::map<std::string, std::string>& stored_elsewhere) {
  ConsolidationPlan plan;
  const BusinessKey business_key(P());
  // The staged winner of every business key (index into `staged`). A row whose prediction_id
  // is stored under another date cannot be merged here (the id would then name two rows):
  // it is quarantined rather than failing the date on every retry.
  std::map<std::string, size_t> winners;
  for (size_t i = 0; i < staged.size(); ++i) {
    Row p = ToPrediction(staged[i]);
    const std::string id = FormatCell(p[pred::prediction_id]);
    if (auto other = stored_elsewhere.find(id); other != stored_elsewhere.end()) {
      plan.quarantine.push_back({i, "prediction_id " + id + " is already stored under game_date " +
                                        other->second + "; it was staged for " +
                                        FormatCell(p[pred::game_date])});
      continue;
    }
    auto [it, first] = winners.try_emplace(business_key.Of(p), i);
    if (!first && Newer(P(), p, ToPrediction(staged[it->second]))) it->second = i;
  }
  // Two winners with one prediction_id (staged under two keys): the newer stays, the other is
  // quarantined (inserting both would break the id's uniqueness).
  auto id_of = [&](size_t i) { return FormatCell(staged[i][stage::kPred + pred::prediction_id]); };
  std::map<std::string, std::vector<std::string>> keys_by_id;
  for (const auto& [key, i] : winners) keys_by_id[id_of(i)].push_back(key);
  for (const auto& [id, keys] : keys_by_id) {
    if (keys.size() < 2) continue;
    std::string keep = keys[0];
    for (const std::string& k : keys) {
      if (Newer(P(), ToPrediction(staged[winners[k]]), ToPrediction(staged[winners[keep]])))
        keep = k;
    }
    for (const std::string& k : keys) {
      if (k == keep) continue;
      plan.quarantine.push_back(
          {winners[k], "prediction_id " + id +
                           " was staged twice for this date under "
                           "different business keys; the newer row was kept"});
      winners.erase(k);
    }
  }
  std::map<std::string, std::vector<const Row*>> stored_by_key;
  std::map<std::string, const Row*> stored_by_id;
  for (const Row& r : stored) {
    stored_by_key[business_key.Of(r)].push_back(&r);
    stored_by_id[FormatCell(r[pred::prediction_id])] = &r;
  }
  std::set<std::string> deleted;
  auto remove = [&](const Row& r) {
    std::string id = FormatCell(r[pred::prediction_id]);
    if (deleted.insert(id).second) plan.delete_ids.push_back(id);
  };
  for (auto& [key, index] : winners) {
    Row winner = ToPrediction(staged[index]);
    const Row* best = &winner;
    for (const Row* r : stored_by_key[key]) {
      if (Newer(P(), *r, *best)) best = r;
    }
    // Exactly one row stays for the key: every other stored row of it goes.
    for (const Row* r : stored_by_key[key]) {
      if (r != best) remove(*r);
    }
    if (best == &winner) {
      // The staged row replaces a stored row that has its id under another key, too.
      auto same_id = stored_by_id.find(FormatCell(winner[pred::prediction_id]));
      if (same_id != stored_by_id.end()) remove(*same_id->second);
      plan.insert.push_back(std::move(winner));
    }
  }
  return plan;
}

}  // namespace propgrade

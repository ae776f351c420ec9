#include "pipeline/fact_cache.h"

#include <algorithm>

namespace propgrade {

void FactCache::DropDays(int32_t from, int32_t to) {
  auto& facts = table_.facts;
  facts.erase(std::remove_if(facts.begin(), facts.end(),
                             [&](const grading::AccuracyFact& f) {
                               return f.day >= from && f.day <= to;
                             }),
              facts.end());
}

VersionMap FactCache::Versions(CivilDay from, CivilDay to) const {
  return VersionMap(versions_.lower_bound(from.ToString()), versions_.upper_bound(to.ToString()));
}

Status FactCache::LoadRange(Store* store, CivilDay from, CivilDay to, const VersionMap& versions) {
  ScanSpec spec;
  spec.partition_from = from.ToString();
  spec.partition_to = to.ToString();
  spec.columns = grading::FactColumns();
  RETURN_IF_ERROR(store->Scan(tables::Accuracy(), spec, [&](Row&& row) {
    ++rows_read_;
    return table_.Add(row);
  }));
  for (auto it = versions.lower_bound(from.ToString());
       it != versions.end() && it->first <= to.ToString(); ++it) {
    versions_[it->first] = it->second;
  }
  return OkStatus();
}

Status FactCache::Refresh(Store* store, CivilDay from, CivilDay to, bool keep_earlier) {
  if (keep_earlier && !empty_ && from > covered_from_) from = covered_from_;
  // Versions first: a write that lands while we read makes the recorded version stale, so the
  // day is read again next time rather than missed.
  ASSIGN_OR_RETURN(auto versions,
                   store->PartitionVersions(tables::Accuracy(), from.ToString(), to.ToString()));
  if (empty_ || to < covered_from_.AddDays(-1) || from > covered_to_.AddDays(1)) {
    table_ = grading::FactTable();
    versions_.clear();
    RETURN_IF_ERROR(LoadRange(store, from, to, versions));
    covered_from_ = from;
    covered_to_ = to;
    empty_ = false;
    return OkStatus();
  }
  // Forget days before the window; load what is missing at either end.
  if (from > covered_from_) {
    DropDays(covered_from_.days_since_epoch(), from.days_since_epoch() - 1);
    versions_.erase(versions_.begin(), versions_.lower_bound(from.ToString()));
    covered_from_ = from;
  }
  if (from < covered_from_) {
    RETURN_IF_ERROR(LoadRange(store, from, covered_from_.AddDays(-1), versions));
    covered_from_ = from;
  }
  if (to > covered_to_) {
    RETURN_IF_ERROR(LoadRange(store, covered_to_.AddDays(1), to, versions));
    covered_to_ = to;
  }
  // Re-read days rewritten since they were loaded.
  for (const auto& [day, version] : versions) {
    auto it = versions_.find(day);
    if (it != versions_.end() && it->second == version) continue;
    auto d = CivilDay::Parse(day);
    if (!d || *d < covered_from_ || *d > covered_to_) continue;
    DropDays(d->days_since_epoch(), d->days_since_epoch());
    RETURN_IF_ERROR(LoadRange(store, *d, *d, versions));
  }
  return OkStatus();
}

}  // namespace propgrade

// FactCache: the compact projection of stored prediction_accuracy rows over a contiguous range
// of dates, kept between the steps of a multi-date run so each stored row is read about once.
// Days rewritten since they were loaded (by this process or any other) are re-read: every
// partition write records a version in partition_versions, which Refresh compares.
// Not thread-safe: one cache per pipeline, used under the pipeline's aggregation lock.
#pragma once

#include <map>
#include <string>

#include "common/civil_date.h"
#include "common/status.h"
#include "grading/facts.h"
#include "store/store.h"

namespace propgrade {

class FactCache {
 public:
  // After this, table() holds exactly the store's facts for every day of [from, to] (and
  // possibly other cached days, which the aggregations filter out by date). Cached days before
  // `from` are forgotten, unless `keep_earlier`: then the cache extends from its first day to
  // `to` (the daily step between two summaries must not make the next window read the season
  // again).
  Status Refresh(Store* store, CivilDay from, CivilDay to, bool keep_earlier = false);
  const grading::FactTable& table() const { return table_; }
  // The partition versions of the cached days in [from, to], as they were before those days
  // were read (a write computed from the cache is fenced on them).
  VersionMap Versions(CivilDay from, CivilDay to) const;
  // Number of accuracy rows read from the store so far (for tests and benchmarks).
  int64_t rows_read() const { return rows_read_; }

 private:
  Status LoadRange(Store* store, CivilDay from, CivilDay to, const VersionMap& versions);
  void DropDays(int32_t from, int32_t to);  // inclusive

  grading::FactTable table_;
  bool empty_ = true;
  CivilDay covered_from_, covered_to_;
  VersionMap versions_;  // day → version when loaded
  int64_t rows_read_ = 0;
};

}  // namespace propgrade

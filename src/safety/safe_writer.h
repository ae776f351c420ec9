// SafeWriter: the one door every processor writes through (DESIGN.md §1, §3). Today it runs
// layer 0 (the store's fenced atomic replace) and layer 2 (the post-write duplicate check);
// the lease lock, circuit breaker, alerts and remediation plug in here without touching the
// processors. Thread-safe when its Store is.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "common/table_catalog.h"
#include "common/value.h"
#include "observe/log.h"
#include "store/store.h"

namespace propgrade {

struct WriteRequest {
  std::string processor;  // grading, daily_performance, performance_summary, consolidation
  const TableDef* table = nullptr;
  std::string partition;
  std::vector<Row> rows;  // catalogue order; every row in `partition`
  std::string run_id;
  // The step's grading_runs row; SafeWriter fills the lock columns and records it inside the
  // write transaction.
  Row run_record;
};

struct WriteOutcome {
  WriteResult write;
  DuplicateCount duplicates;
  // Not ok when the post-write check itself failed: the rows are committed, but nobody may
  // read that as "no duplicates".
  Status duplicate_check;
  std::optional<int64_t> fence_token;
  double lock_wait_seconds = 0;
  std::string lock_backend = "none";
  std::string holder_id;
};

class SafeWriter {
 public:
  // All pointers must outlive the writer.
  SafeWriter(Store* store, Logger* log, Clock* clock) : store_(store), log_(log), clock_(clock) {}

  // Writes `request.rows` as the new content of the partition, then checks it for duplicate
  // keys. Errors: those of Store::ReplacePartition (nothing was written).
  StatusOr<WriteOutcome> Replace(WriteRequest request);

 private:
  Store* store_;
  Logger* log_;
  Clock* clock_;
};

}  // namespace propgrade

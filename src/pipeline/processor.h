// Processor: the computation behind one output table. A step of it reads the inputs of one
// partition through a Store and computes the partition's rows; it takes no lock and writes
// nothing, so any thread with its own Store may prepare a step, and the pipeline writes the
// rows through SafeWriter (one fenced replace). Each processor lives in its own
// *_processor.cc, whose factory the Pipeline declares and calls (pipeline.cc). Thread-compatible:
// the pipeline serialises Prepare calls of processors that share its fact cache
// (shares_fact_cache()).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "common/value.h"
#include "grading/grader.h"
#include "grading/performance_summary.h"
#include "observe/log.h"
#include "pipeline/fact_cache.h"
#include "pipeline/run_summary.h"
#include "schema/schema.h"
#include "store/store.h"

namespace propgrade {

// What Prepare computed for a step.
struct Prepared {
  Status read;                        // reading the inputs; not ok: the step ends with it
  std::vector<InputVersions> inputs;  // their versions, read before them (the input fence)
  std::vector<Row> rows;              // the partition's new rows
  // Instead of `rows`: a query run inside the write transaction (WriteRequest::select_sql).
  std::string select_sql;
  QueryRowsParser parse_query;
  // Set when there is nothing to write: the step ends with this status (and `nothing_detail`
  // as its error text) and the partition is left as it is.
  std::optional<RunStatus> nothing_to_write;
  std::string nothing_detail;
  std::optional<grading::GradeStats> stats;  // recorded with the step (grading)
  // partition_history.kind of the write ("rollback" for a rollback's).
  std::string history_kind = "replace";
  // Logged as `input_warnings` (after the partition) before the write; empty for none.
  std::vector<LogField> input_warnings;
};

class Processor {
 public:
  virtual ~Processor() = default;
  // The step's processor name (grading_runs.processor, the lock key's prefix, the breaker).
  virtual const char* name() const = 0;
  // The table it writes; its TableDef::writer is name().
  virtual const TableDef& table() const = 0;
  // Whether Prepare uses the pipeline's fact cache (and so runs under its mutex).
  virtual bool shares_fact_cache() const { return false; }
  // Reads the inputs of `step` (its game_date is the partition, or the as-of date) through
  // `store` and computes the rows.
  virtual Prepared Prepare(const RunSummary& step, Store* store) = 0;
};

}  // namespace propgrade

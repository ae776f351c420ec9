#include "safety/safe_writer.h"

#include "common/ids.h"

namespace propgrade {

StatusOr<WriteOutcome> SafeWriter::Replace(WriteRequest request) {
  WriteOutcome outcome;
  outcome.holder_id = ProcessHolderId();
  Row& run = request.run_record;
  if (run.size() == runs::kNumColumns) {
    run[runs::lock_backend] = Value::Text(outcome.lock_backend);
    run[runs::lock_wait_seconds] = Value::Real(outcome.lock_wait_seconds);
    run[runs::holder_id] = Value::Text(outcome.holder_id);
    run[runs::fence_token] = Value::OptInt(outcome.fence_token);
    run[runs::rows_written] = Value::Int(static_cast<int64_t>(request.rows.size()));
  }
  WriteSpec spec;
  spec.fence_token = outcome.fence_token;
  spec.lock_namespace = outcome.lock_backend;
  spec.run_id = request.run_id;
  spec.run_record = run.size() == runs::kNumColumns ? &run : nullptr;
  const std::string& table = request.table->name;
  ASSIGN_OR_RETURN(outcome.write, store_->ReplacePartition(*request.table, request.partition,
                                                           std::move(request.rows), spec));
  auto dups = store_->CountDuplicates(*request.table, request.partition);
  if (dups.ok()) {
    outcome.duplicates = std::move(dups).value();
    if (outcome.duplicates.groups > 0) {
      log_->Log(Severity::kCritical, "duplicates_detected",
                {{"table", Value::Text(table)},
                 {"partition", Value::Text(request.partition)},
                 {"duplicate_groups", Value::Int(outcome.duplicates.groups)},
                 {"duplicate_rows", Value::Int(outcome.duplicates.surplus_rows)}});
    }
  } else {
    outcome.duplicate_check = dups.status().WithContext("post-write duplicate check of " + table);
    log_->Error("duplicate_check_failed", {{"table", Value::Text(table)},
                                           {"partition", Value::Text(request.partition)},
                                           {"error", Value::Text(outcome.duplicate_check.message())}});
  }
  return outcome;
}

}  // namespace propgrade

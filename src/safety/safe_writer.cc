#include "safety/safe_writer.h"

#include <nlohmann/json.hpp>

#include "common/civil_date.h"
#include "common/strings.h"
#include "common/value_text.h"
#include "grading/impact.h"
#include "lock/lease_keeper.h"
#include "safety/lock_events.h"

namespace propgrade {

namespace {

int64_t Micros(double seconds) { return static_cast<int64_t>(seconds * 1e6); }

constexpr double kContentionSeconds = 60;  // a wait this long raises lock_contention

}  // namespace

void SafeWriter::Count(const char* name, const MetricLabels& labels, double by) {
  if (d_.metrics) d_.metrics->Inc(name, labels, by);
}

void SafeWriter::Raise(Alert alert) {
  if (d_.alerts) d_.alerts->Raise(std::move(alert));
}

void SafeWriter::Event(const std::string& key, const std::string& event, const Lease* lease,
                       const std::string& detail) {
  LockEvent e;
  e.key = key;
  e.event = event;
  e.detail = detail;
  if (lease) {
    e.holder_id = lease->holder_id;
    e.token = lease->token;
    e.wait_seconds = lease->wait_seconds;
    if (lease->acquired_at_micros) {
      e.hold_seconds = (d_.clock->NowMicros() - lease->acquired_at_micros) / 1e6;
    }
  }
  Status s = RecordLockEvent(d_.store, d_.clock, e);
  if (!s.ok()) {
    d_.log->Error("lock_event_not_recorded", {{"key", Value::Text(key)},
                                              {"event", Value::Text(event)},
                                              {"error", Value::Text(s.message())}});
  }
}

void SafeWriter::RespondToDuplicates(const WriteRequest& request, WriteOutcome* outcome) {
  const TableDef& t = *request.table;
  const DuplicateCount& found = outcome->duplicates;
  Count("duplicates_detected_total", {t.name}, static_cast<double>(found.surplus_rows));

  // duplicate_audit: one row per duplicate key group, with a sample of its rows.
  std::vector<Row> rows;
  ScanSpec spec;
  spec.partition = request.partition;
  Status scanned = d_.store->Scan(t, spec, [&](Row&& r) {
    rows.push_back(std::move(r));
    return OkStatus();
  });
  std::vector<std::string> names, key_names;
  for (const ColumnDef& c : t.columns) names.push_back(c.name);
  std::vector<Row> audit;
  if (scanned.ok()) {
    for (const std::vector<size_t>& group : DuplicateGroups(t, rows)) {
      Row key;
      key_names.clear();
      for (int k : t.KeyIndexes()) {
        key_names.push_back(t.columns[k].name);
        key.push_back(rows[group[0]][k]);
      }
      std::string sample = "[";
      for (size_t i = 0; i < group.size() && i < 3; ++i) {
        sample += (i ? "," : "") + JsonObject(names, rows[group[i]]);
      }
      Row a(audit::kNumColumns);
      a[audit::detected_at] = Value::Text(FormatTimestampMicros(d_.clock->NowMicros()));
      a[audit::table_name] = Value::Text(t.name);
      a[audit::partition] = Value::Text(request.partition);
      a[audit::key_json] = Value::Text(JsonObject(key_names, key));
      a[audit::occurrences] = Value::Int(static_cast<int64_t>(group.size()));
      a[audit::run_id] = Value::Text(request.run_id);
      a[audit::sample_json] = Value::Text(sample + "]");
      audit.push_back(std::move(a));
    }
  }
  Status audited = scanned.ok() ? d_.store->Append(tables::DuplicateAudit(), audit) : scanned;
  if (!audited.ok()) {
    d_.log->Error("duplicate_audit_failed", {{"table", Value::Text(t.name)},
                                             {"partition", Value::Text(request.partition)},
                                             {"error", Value::Text(audited.message())}});
  }

  // Bounded auto-remediation: surplus rows move to quarantine, then the partition is re-checked.
  bool ran = d_.remediation.auto_remediate && found.surplus_rows > 0 &&
             found.surplus_rows < d_.remediation.max_rows && DedupeSupported(t);
  std::string remediation = "not run (" +
                            std::string(!d_.remediation.auto_remediate ? "auto is off"
                                        : found.surplus_rows >= d_.remediation.max_rows
                                            ? "too many rows for auto-remediation"
                                            : "table not supported") +
                            ")";
  if (ran) {
    RemediationOptions options;
    options.reason = "auto: post-write check of run " + request.run_id;
    options.run_id = request.run_id;
    auto fixed = RemoveDuplicates(d_.store, t, request.partition, options);
    if (fixed.ok()) {
      outcome->remediated_rows = fixed->moved;
      outcome->remediation_verified = fixed->remaining_duplicate_rows == 0;
      Count("remediated_rows_total", {t.name}, static_cast<double>(fixed->moved));
      remediation = "moved " + std::to_string(fixed->moved) + " rows to remediation_quarantine; " +
                    (outcome->remediation_verified ? "re-check clean" : "duplicates remain");
    } else {
      remediation = "failed: " + fixed.status().message();
    }
  }
  d_.log->Log(Severity::kCritical, "duplicates_detected",
              {{"table", Value::Text(t.name)},
               {"partition", Value::Text(request.partition)},
               {"run_id", Value::Text(request.run_id)},
               {"duplicate_groups", Value::Int(found.groups)},
               {"duplicate_rows", Value::Int(found.surplus_rows)},
               {"remediation", Value::Text(remediation)}});
  // What the surplus rows do to the figures (graded rows: the date's win rate, MAE, bias).
  std::string distortion;
  if (scanned.ok() && t.name == tables::Accuracy().name) {
    if (auto day = CivilDay::Parse(request.partition)) {
      for (const grading::ImpactLine& l : grading::DuplicateImpact(rows, *day, *day)) {
        if (l.system_id == "ALL" && l.period == "window") distortion = DistortionText(l);
      }
    }
  }
  Raise(MakeAlert("duplicates_detected", t.name, request.partition,
                  std::to_string(found.surplus_rows) + " surplus rows in " +
                      std::to_string(found.groups) + " duplicate key groups after run " +
                      request.run_id + (distortion.empty() ? "" : "; " + distortion),
                  {{"duplicate_groups", Value::Int(found.groups)},
                   {"distortion", Value::Text(distortion)},
                   {"duplicate_rows", Value::Int(found.surplus_rows)},
                   {"sample_keys", Value::Text(Join(found.sample_keys, "; "))},
                   {"remediation_ran", Value::Bool(ran)},
                   {"remediation", Value::Text(remediation)},
                   {"verified_clean", Value::Bool(outcome->remediation_verified)}}));
}

StatusOr<WriteOutcome> SafeWriter::Replace(WriteRequest request) {
  std::vector<Row> rows = std::move(request.rows);
  const TableDef* table = request.table;
  std::string partition = request.partition;
  std::string sql = std::move(request.select_sql);
  QueryRowsParser parse = std::move(request.parse_query);
  return Write(std::move(request), [&](const WriteSpec& spec) {
    if (!sql.empty())
      return d_.store->ReplacePartitionFromQuery(*table, partition, sql, parse, spec);
    return d_.store->ReplacePartition(*table, partition, std::move(rows), spec);
  });
}

StatusOr<DuplicateCount> SafeWriter::CheckDuplicates(const WriteRequest& request) {
  if (request.table->BusinessKeyIsStoredKey()) {
    return d_.store->CountDuplicates(*request.table, request.partition);
  }
  // A business key apart from the stored one (predictions: grading.md §2's) is counted here.
  std::vector<Row> rows;
  ScanSpec spec;
  spec.partition = request.partition;
  RETURN_IF_ERROR(d_.store->Scan(*request.table, spec, [&](Row&& r) {
    rows.push_back(std::move(r));
    return OkStatus();
  }));
  DuplicateCount count;
  for (const auto& group : DuplicateGroups(*request.table, rows)) {
    ++count.groups;
    count.surplus_rows += static_cast<int64_t>(group.size()) - 1;
    if (count.sample_keys.size() < 5) {
      count.sample_keys.push_back(BusinessKey(*request.table).TextOf(rows[group[0]]));
    }
  }
  return count;
}

StatusOr<WriteOutcome> SafeWriter::Write(WriteRequest request, const FencedWrite& write) {
  WriteOutcome outcome;
  outcome.lock_backend = std::string(d_.locks->backend());
  const std::string& backend = outcome.lock_backend;
  const std::string key = LockKey(request.processor, request.partition);
  const std::string& table = request.table->name;
  Logger* log = d_.log;

  if (d_.hooks && d_.hooks->TEST_before_acquire) d_.hooks->TEST_before_acquire();
  if (d_.hooks && d_.hooks->TEST_pause_before_acquire_micros > 0) {
    log->Info("test_pause", {{"at", Value::Text("before_acquire")}, {"key", Value::Text(key)}});
    d_.clock->SleepMicros(d_.hooks->TEST_pause_before_acquire_micros);
  }
  // Layer 1: the lease.
  std::optional<Lease> lease;
  auto acquired =
      d_.locks->Acquire(key, Micros(d_.policy->ttl_seconds), Micros(d_.policy->max_wait_seconds));
  if (acquired.ok()) {
    lease = std::move(acquired).value();
    outcome.lock_wait_seconds = lease->wait_seconds;
    outcome.holder_id = lease->holder_id;
    outcome.fence_token = lease->token;
    Count("lock_acquire_total", {backend, "acquired"});
    if (d_.metrics) {
      d_.metrics->Observe("lock_wait_seconds", {backend}, lease->wait_seconds);
      d_.metrics->Inc("locks_held", {backend}, 0);  // make the series exist
    }
    log->Info("lock_acquired", {{"key", Value::Text(key)},
                                {"backend", Value::Text(backend)},
                                {"token", Value::OptInt(lease->token)},
                                {"wait_seconds", Value::Real(lease->wait_seconds)}});
    if (lease->wait_seconds > kContentionSeconds) {
      Raise(MakeAlert(
          "lock_contention", request.table->name, request.partition,
          "waited " + FormatDouble(lease->wait_seconds) + " s for lock " + key,
          {{"key", Value::Text(key)}, {"wait_seconds", Value::Real(lease->wait_seconds)}}));
    }
  } else if (acquired.status().reason() == StatusReason::kLockTimeout) {
    bool proceed = d_.policy->on_lock_timeout == "proceed";
    Count("lock_acquire_total", {backend, "timeout"});
    // Proceeding still writes with a fencing token, drawn now from the key's sequence: a
    // lease taken after this point gets a greater one, so a proceed-write that lands late is
    // fenced out instead of overwriting a newer fenced write.
    StatusOr<int64_t> drawn =
        proceed ? d_.locks->DrawToken(key) : StatusOr<int64_t>(acquired.status());
    if (proceed && !drawn.ok()) proceed = false;
    Event(
        key, "acquire_timeout", nullptr,
        acquired.status().message() +
            (proceed ? "; proceeding without the lock, token " + std::to_string(*drawn)
             : d_.policy->on_lock_timeout == "proceed"
                 ? "; could not proceed: no token could be drawn (" + drawn.status().message() + ")"
                 : ""));
    std::string action =
        proceed ? "proceeded (atomic replace under a drawn token, no lease)" : "wrote nothing";
    log->Log(Severity::kCritical, "lock_timeout",
             {{"key", Value::Text(key)},
              {"backend", Value::Text(backend)},
              {"wait_seconds", Value::Real(d_.policy->max_wait_seconds)},
              {"error", Value::Text(acquired.status().message())},
              {"action", Value::Text(action)}});
    Raise(MakeAlert("lock_acquisition_failed", table, request.partition,
                    "lock " + key + " not acquired within " +
                        FormatDouble(d_.policy->max_wait_seconds) + " s; " + action,
                    {{"key", Value::Text(key)},
                     {"wrote", Value::Bool(proceed)},
                     {"error", Value::Text(acquired.status().message())}}));
    if (!proceed) return acquired.status();
    outcome.proceeded_without_lock = true;
    outcome.fence_token = *drawn;
    outcome.lock_wait_seconds = d_.policy->max_wait_seconds;
  } else {
    Count("lock_acquire_total", {backend, "error"});
    return acquired.status().WithContext("lock " + key);
  }

  std::unique_ptr<LeaseKeeper> keeper;
  if (lease && lease->token) {
    keeper = std::make_unique<LeaseKeeper>(d_.locks, &*lease, d_.clock,
                                           Micros(d_.policy->renew_every_seconds));
    keeper->set_on_renew([log, key](const Status& s) {
      if (s.ok()) {
        log->Info("lock_renewed", {{"key", Value::Text(key)}});
      } else {
        log->Error("lock_renewal_failed",
                   {{"key", Value::Text(key)}, {"error", Value::Text(s.message())}});
      }
    });
    if (d_.hooks && d_.hooks->TEST_disable_lease_check) keeper->TEST_DisableLossCheck();
    keeper->Start();
    if (d_.metrics) d_.metrics->Inc("locks_held", {backend}, 1);
  }
  // Each run logs entering and leaving the write section with its token, so tests can show
  // that no two runs were inside at once.
  log->Info("write_section", {{"phase", Value::Text("enter")},
                              {"key", Value::Text(key)},
                              {"token", Value::OptInt(outcome.fence_token)},
                              {"at_micros", Value::Int(d_.clock->NowMicros())}});
  if (d_.hooks && d_.hooks->TEST_after_acquire) d_.hooks->TEST_after_acquire();
  if (d_.hooks && d_.hooks->TEST_pause_after_acquire_micros > 0) {
    d_.clock->SleepMicros(d_.hooks->TEST_pause_after_acquire_micros);
  }

  Row& run = request.run_record;
  bool has_run = run.size() == runs::kNumColumns;
  if (has_run) {
    run[runs::lock_backend] = Value::Text(outcome.lock_backend);
    run[runs::lock_wait_seconds] = Value::Real(outcome.lock_wait_seconds);
    run[runs::holder_id] = Value::Text(outcome.holder_id);
    run[runs::fence_token] = Value::OptInt(outcome.fence_token);
  }
  WriteSpec spec;
  spec.fence_token = outcome.fence_token;
  spec.lock_namespace = d_.locks->fence_namespace();
  spec.run_id = request.run_id;
  spec.inputs = request.inputs;
  spec.run_record = has_run ? &run : nullptr;
  if (!request.allow_shrink) spec.max_shrink_ratio = d_.writes.MaxShrinkRatio(table);
  spec.history_keep_runs = d_.writes.history_keep_runs;
  spec.history_keep_days = d_.writes.history_keep_days;
  spec.history_kind = request.history_kind;
  spec.counts = request.counts;
  const int64_t pause_in_transaction = d_.hooks ? d_.hooks->TEST_pause_in_transaction_micros : 0;
  if (keeper || pause_in_transaction > 0) {
    spec.before_commit = [this, &keeper, pause_in_transaction] {
      if (pause_in_transaction > 0) {
        d_.log->Info("test_pause", {{"at", Value::Text("in_transaction")}});
        d_.clock->SleepMicros(pause_in_transaction);
      }
      return keeper ? keeper->CheckHeld() : OkStatus();
    };
  }

  // Layer 0: the fenced atomic replace (after a cheap early look at the lease).
  Status held = keeper ? keeper->CheckHeld() : OkStatus();
  auto written = held.ok() ? write(spec) : StatusOr<WriteResult>(held);
  int64_t exit_at = d_.clock->NowMicros();
  if (keeper) keeper->Stop();

  // Layer 2: the post-write duplicate check, still under the lock; layer 3 responds.
  if (written.ok()) {
    outcome.write = *written;
    if (!written->rows_kept) {
      Count("rows_written_total", {table}, static_cast<double>(written->rows_written));
    }
    auto dups = CheckDuplicates(request);
    if (dups.ok()) {
      outcome.duplicates = std::move(dups).value();
      if (outcome.duplicates.groups > 0) RespondToDuplicates(request, &outcome);
    } else {
      outcome.duplicate_check = dups.status().WithContext("post-write duplicate check of " + table);
      log->Error("duplicate_check_failed",
                 {{"table", Value::Text(table)},
                  {"partition", Value::Text(request.partition)},
                  {"error", Value::Text(outcome.duplicate_check.message())}});
    }
  }
  log->Info("write_section", {{"phase", Value::Text("exit")},
                              {"key", Value::Text(key)},
                              {"token", Value::OptInt(outcome.fence_token)},
                              {"committed", Value::Bool(written.ok())},
                              {"at_micros", Value::Int(exit_at)}});
  if (lease) {
    double hold = (d_.clock->NowMicros() - lease->acquired_at_micros) / 1e6;
    Status released = d_.locks->Release(*lease);
    if (d_.metrics) {
      d_.metrics->Observe("lock_hold_seconds", {backend}, hold);
      if (keeper) d_.metrics->Inc("locks_held", {backend}, -1);
    }
    if (released.ok()) {
      log->Info("lock_released", {{"key", Value::Text(key)},
                                  {"token", Value::OptInt(lease->token)},
                                  {"hold_seconds", Value::Real(hold)}});
    } else {
      log->Warn("lock_release_failed",
                {{"key", Value::Text(key)}, {"error", Value::Text(released.message())}});
    }
  }
  if (!written.ok()) {
    StatusReason r = written.status().reason();
    if (r == StatusReason::kInputsChanged) {
      Count("input_changes_total", {table});
      log->Info("inputs_changed", {{"key", Value::Text(key)},
                                   {"run_id", Value::Text(request.run_id)},
                                   {"error", Value::Text(written.status().message())}});
    } else if (r == StatusReason::kShrinkRefused) {
      Count("shrink_refused_total", {table});
      log->Warn("shrink_refused", {{"key", Value::Text(key)},
                                   {"run_id", Value::Text(request.run_id)},
                                   {"error", Value::Text(written.status().message())}});
    } else if (r == StatusReason::kLockLost || r == StatusReason::kFencedOut) {
      bool fenced = r == StatusReason::kFencedOut;
      Event(key, fenced ? "fenced_out" : "lock_lost", lease ? &*lease : nullptr,
            written.status().message());
      Count("lock_lost_total", {});
      if (fenced) Count("fence_rejections_total", {table});
      log->Log(
          Severity::kCritical, "lock_lost",
          {{"key", Value::Text(key)},
           {"token", Value::OptInt(outcome.fence_token)},
           {"hold_seconds", Value::Real(lease ? (exit_at - lease->acquired_at_micros) / 1e6 : 0)},
           {"error", Value::Text(written.status().message())},
           {"written", Value::Bool(false)}});
      Raise(MakeAlert("lock_lost", table, request.partition,
                      std::string(fenced ? "fenced out" : "lease lost") + " on " + key +
                          "; nothing was written",
                      {{"key", Value::Text(key)},
                       {"token", Value::OptInt(outcome.fence_token)},
                       {"error", Value::Text(written.status().message())}}));
    }
    return written.status();
  }
  return outcome;
}

}  // namespace propgrade

// The ledgers a Store's database keeps beside the partitions (every backend implements all
// four; reach them through Store::alert_ledger(), staging(), quarantine() and fences()):
// the alerts raised and how they were folded, the staging of prediction batches and their
// consolidation, the quarantine of rows remediation removed (and their restore), and the
// partition fences. Thread-safe as the Store that holds them.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "common/value.h"
#include "schema/schema.h"
#include "store/store.h"

namespace propgrade {

// What Store::Dedupe does: moves chosen rows into remediation_quarantine.
struct DedupeRequest {
  const TableDef* table = nullptr;
  std::optional<std::string> partition;  // nullopt: every partition
  // Given the rows of the table (or partition) in catalogue column order, ordered by key and
  // then by storage order, returns the indexes of the rows to remove.
  std::function<std::vector<size_t>(const std::vector<Row>& rows)> choose_surplus;
  std::string reason;  // recorded with every quarantined row
  std::string run_id;
  bool dry_run = false;  // choose and count, change nothing
};

struct DedupeResult {
  int64_t rows_scanned = 0;
  int64_t moved = 0;                    // rows quarantined (or that would be, on a dry run)
  std::vector<std::string> partitions;  // partitions that lost rows
};

// Consolidation of staged predictions (spec/operations.md §9): given the staged rows of a date
// (prediction_staging layout), the stored predictions of that date, and where staged
// prediction_ids are stored under ANOTHER date (prediction_id → that game_date), what to delete
// (by prediction_id) from and insert into player_prop_predictions, and which staged rows cannot
// be consolidated (they move to remediation_quarantine with the reason, instead of failing the
// date on every retry). Every staged row read is consumed.
struct ConsolidationPlan {
  std::vector<std::string> delete_ids;
  std::vector<Row> insert;                                 // player_prop_predictions layout
  std::vector<std::pair<size_t, std::string>> quarantine;  // index into `staged`, reason
};
using ConsolidationPlanner =
    std::function<ConsolidationPlan(const std::vector<Row>& staged, const std::vector<Row>& stored,
                                    const std::map<std::string, std::string>& stored_elsewhere)>;

struct ConsolidationResult {
  int64_t staged_rows = 0;  // consumed from prediction_staging
  int64_t inserted = 0;
  int64_t deleted = 0;      // stored rows replaced by newer staged ones
  int64_t quarantined = 0;  // staged rows moved to remediation_quarantine instead
};

// The repeat-folding state of one alert type and subject (spec/operations.md §3 [alerts]).
struct AlertFold {
  std::optional<int64_t> last_sent_micros;  // the latest delivered alert
  int64_t folded_since = 0;                 // alerts folded (not sent) after it
};

class AlertLedger {
 public:
  virtual ~AlertLedger() = default;
  // One row per alert raised, sent or folded. RecordAlert returns the id.
  virtual StatusOr<int64_t> RecordAlert(const Row& alert_row) = 0;
  virtual Status UpdateAlert(int64_t id, bool delivered, int64_t attempts, int64_t folded_count,
                             std::optional<int64_t> sent_at_micros) = 0;
  virtual StatusOr<AlertFold> AlertFoldState(std::string_view type, std::string_view subject) = 0;
};

class StagingLedger {
 public:
  virtual ~StagingLedger() = default;
  // Puts one batch (prediction_staging rows) into staging, all or nothing. AlreadyExists when
  // the batch id is already staged, unless `replace` (then the old batch is swapped out).
  virtual StatusOr<int64_t> StageBatch(const std::string& batch_id, const std::vector<Row>& rows,
                                       bool replace) = 0;

  // ONE transaction, fenced like ReplacePartition on player_prop_predictions `date`: reads the
  // staged rows and the stored predictions of the date, applies `planner`'s plan, quarantines
  // the rows it rejects, removes exactly the staged rows it read (a batch staged meanwhile
  // stays for the next run: staging of a date waits for its consolidation), records the fence
  // and the run, commits.
  virtual StatusOr<ConsolidationResult> Consolidate(std::string_view date,
                                                    const ConsolidationPlanner& planner,
                                                    const WriteSpec& spec) = 0;
};

class QuarantineLedger {
 public:
  virtual ~QuarantineLedger() = default;
  // Removes the rows `request.choose_surplus` picks, each copied whole (as JSON) into
  // remediation_quarantine first, in ONE transaction: nothing is deleted without its copy.
  virtual StatusOr<DedupeResult> Dedupe(const DedupeRequest& request) = 0;

  // Puts rows that remediation quarantined back into `partition` of `table` (the undo of
  // `dedupe`): ONE transaction, fenced like ReplacePartition, that inserts `rows` beside the
  // partition's rows and deletes their quarantine entries `quarantine_ids` (Aborted when one is
  // gone: restored already). AlreadyExists when a row's key is held while keys are unique.
  virtual StatusOr<WriteResult> RestoreRows(const TableDef& table, std::string_view partition,
                                            std::vector<Row> rows,
                                            const std::vector<int64_t>& quarantine_ids,
                                            const WriteSpec& spec) = 0;
};

class FenceLedger {
 public:
  virtual ~FenceLedger() = default;
  // Removes the fence of one partition in one lock namespace (`propgrade locks reset-fence`).
  // Returns whether a fence was stored.
  virtual StatusOr<bool> DeleteFence(std::string_view lock_namespace, const TableDef& table,
                                     std::string_view partition) = 0;

  // The stored fence token of a partition, if any.
  virtual StatusOr<std::optional<int64_t>> FenceToken(std::string_view lock_namespace,
                                                      const TableDef& table,
                                                      std::string_view partition) = 0;
};

}  // namespace propgrade

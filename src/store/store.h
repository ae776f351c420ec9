// Store: every read and write propgrade makes to its database, behind one interface with a
// SQLite implementation (sqlite:PATH) and, later, PostgreSQL (postgresql://...).
// The write path is ReplacePartition: ONE transaction that checks the partition's fence token,
// deletes the partition, inserts the new rows (sorted by key), records the run and commits —
// a reader sees the old partition or the new one, never a mix, and a stale writer writes
// nothing. Thread-safe: calls on one Store are serialised; open one Store per worker for
// parallel work.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "schema/schema.h"
#include "common/value.h"

namespace propgrade {

class CancelToken;

struct StoreOptions {
  // Unique index on the business key of the grading outputs (grading.md §3.6), as a new
  // database creates it; off only to load legacy data that already holds duplicates. Opening
  // an existing database never changes its key indexes: only ApplyKeyUniqueness (`propgrade
  // init`) does. Default: true
  bool enforce_unique_keys = true;
  // How long a statement waits for another writer's lock before failing with Unavailable
  // (SQLite's busy timeout, PostgreSQL's lock_timeout). Default: 60 s
  int busy_timeout_ms = 60000;
  // PostgreSQL session bounds, 0 = none: how long one statement may run (statement_timeout),
  // and how long a session may sit idle inside a transaction before the server ends it and
  // releases its locks (idle_in_transaction_session_timeout). Default: 900 s and 60 s
  int statement_timeout_ms = 900000;
  int idle_in_transaction_timeout_ms = 60000;
  // PostgreSQL: once cancelled, a statement still running kCancelGraceMs (2 s) later is
  // cancelled on the server and fails with Cancelled. Not owned. Default: none
  CancelToken* cancel = nullptr;
  // SQLite's PRAGMA synchronous: true = FULL (every acknowledged commit survives a power loss),
  // false = NORMAL (syncs at checkpoints; the last commits can be lost to a power loss).
  // Default: true
  bool sqlite_synchronous_full = true;
  // Whether Open may create the database: false makes a SQLite file that does not exist, or a
  // PostgreSQL schema without propgrade's tables, NotFound "no such database: URL (run
  // `propgrade init` or check --db)", with nothing created. Default: true
  bool create_if_missing = true;
  // Reads only (reports, exports, listings): SQLite opens the file SQLITE_OPEN_READONLY (so a
  // file this user cannot write can be read) and PostgreSQL sessions are read-only. Neither
  // creates nor migrates anything: a missing database is NotFound as above, and a schema of
  // another version than this propgrade's is FailedPrecondition (older: run `propgrade init`).
  // Every write fails. Default: false
  bool read_only = false;
  // Time source for written_at stamps. Default: the real clock.
  Clock* clock = nullptr;
  // Test-only (PostgreSQL): skip the partition's advisory lock, to show the READ COMMITTED
  // DELETE + INSERT race it prevents.
  bool TEST_skip_advisory_lock = false;
  // Test-only: ReplacePartition deletes and inserts in two separate transactions, as the legacy
  // job did, so the race harness can show that it would find the duplicates (R4).
  bool TEST_non_atomic_replace = false;
  // ... and waits this long between the two, as the legacy job's round trips did.
  int64_t TEST_non_atomic_gap_micros = 0;
  // Test-only broken writers, so the reliability checkers can be shown to fail: ReplacePartition
  // drops the last row of every write (the lost-row checker), and skips the fence comparison
  // (the fence-monotonicity checker).
  bool TEST_lose_a_row = false;
  bool TEST_skip_fence_check = false;
};

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
  int64_t moved = 0;  // rows quarantined (or that would be, on a dry run)
  std::vector<std::string> partitions;  // partitions that lost rows
};

// Which rows a Scan returns.
struct ScanSpec {
  std::optional<std::string> partition;       // partition column = value
  std::optional<std::string> partition_from;  // partition column >= value
  std::optional<std::string> partition_to;    // partition column <= value
  std::vector<std::string> columns;           // projection; empty = every column in order
  // Apply the three bounds to this column instead of the partition column (e.g. `at`).
  std::string range_column;

  // The column the bounds apply to.
  const std::string& RangeColumn(const TableDef& t) const {
    return range_column.empty() ? t.partition_column : range_column;
  }
};

// The versions of `table`'s partitions in [from, to] (partition_versions) as a reader saw them
// BEFORE reading those rows. An unpartitioned table is the one partition "" (from = to = "").
using VersionMap = std::map<std::string, int64_t>;
struct InputVersions {
  const TableDef* table = nullptr;
  std::string from, to;
  VersionMap versions;  // partitions never written are absent
};

// How ReplacePartition fences and records a write.
struct WriteSpec {
  // The writer's fencing token. A stored token greater than this rejects the write
  // (FencedOut). nullopt = no comparison and the stored token stays unchanged (§7.16).
  std::optional<int64_t> fence_token;
  std::string lock_namespace = "db";  // partition_fence namespace ("db", "etcd:<id>", "none")
  std::string run_id;
  // Input fencing: the write is refused (Aborted with reason kInputsChanged, nothing written)
  // unless every input's versions, read again inside the transaction, equal these; the inputs
  // cannot change between that check and the commit (SQLite: one writer at a time; PostgreSQL:
  // advisory locks that every writer of those partitions takes).
  std::vector<InputVersions> inputs;
  // A grading_runs row (catalogue order) upserted inside the same transaction; may be null.
  const Row* run_record = nullptr;
  // Called inside the transaction just before COMMIT; a non-ok status rolls the write back and
  // is returned (the lease check of the write path). May be empty.
  std::function<Status()> before_commit;
};

struct WriteResult {
  int64_t rows_deleted = 0;
  int64_t rows_written = 0;
};

struct DuplicateCount {
  int64_t groups = 0;        // key groups with more than one row
  int64_t surplus_rows = 0;  // rows − distinct keys
  std::vector<std::string> sample_keys;  // up to 5 keys, parts joined by '|'
};

enum class ImportMode {
  kUpsert,  // insert or replace on the table's key (inputs)
  kInsert,  // plain insert: a key that already exists is an error while keys are unique
};

// Consolidation of staged predictions (spec/operations.md §9): given the staged rows of a date
// (prediction_staging layout), the stored predictions of that date, and where staged
// prediction_ids are stored under ANOTHER date (prediction_id → that game_date), what to delete
// (by prediction_id) from and insert into player_prop_predictions, and which staged rows cannot
// be consolidated (they move to remediation_quarantine with the reason, instead of failing the
// date on every retry). Every staged row read is consumed.
struct ConsolidationPlan {
  std::vector<std::string> delete_ids;
  std::vector<Row> insert;  // player_prop_predictions layout
  std::vector<std::pair<size_t, std::string>> quarantine;  // index into `staged`, reason
};
using ConsolidationPlanner = std::function<ConsolidationPlan(
    const std::vector<Row>& staged, const std::vector<Row>& stored,
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

struct ImportCounts {
  int64_t inserted = 0;
  int64_t replaced = 0;
};

class Store {
 public:
  virtual ~Store() = default;

  // `sqlite:PATH` or `postgresql://user:pass@host:port/db[?schema=NAME]`; the database (the
  // file, the schema) is created and migrated on open, unless `options` say otherwise.
  static StatusOr<std::unique_ptr<Store>> Open(const std::string& url,
                                               const StoreOptions& options);

  virtual std::string_view backend() const = 0;  // "sqlite", "postgres"
  // A description of the database safe to print (never a password).
  virtual std::string DisplayName() const = 0;
  // What an acknowledged commit survives, as this connection is set up (printed by `init`).
  virtual std::string Durability() const = 0;
  // Creates or migrates the schema; idempotent. Open already does this.
  virtual Status Migrate() = 0;
  // Makes the key indexes of the grading outputs unique or not (`propgrade init` applies the
  // configured enforce_unique_keys); returns a line per index changed. FailedPrecondition when
  // a table holds duplicate keys and `unique` (dedupe first).
  virtual StatusOr<std::vector<std::string>> ApplyKeyUniqueness(bool unique) = 0;
  // A round trip to the database (readiness probes): Unavailable when it does not answer.
  virtual Status Ping() = 0;
  // For a connection that reads each partition once (the pipeline's helpers): keep a small page
  // cache, so every helper does not grow to the writer's. A hint; backends may ignore it.
  virtual void UseSmallCache() {}

  // Loads file rows in one transaction (all or nothing). `columns`: the catalogue indexes of
  // the columns the file had (every row still holds every column, the absent ones NULL);
  // empty = every column. An upsert onto a key already stored sets only those columns and
  // keeps the stored values of the others; a new row gets NULL in them. `line_numbers` (same
  // length as rows, or empty) and `source` name the offending line in errors.
  virtual StatusOr<ImportCounts> Import(const TableDef& table, const std::vector<Row>& rows,
                                        const std::vector<int>& columns,
                                        const std::vector<int64_t>& line_numbers,
                                        std::string_view source, ImportMode mode) = 0;
  // The same for rows that carry every column.
  StatusOr<ImportCounts> Import(const TableDef& table, const std::vector<Row>& rows,
                                const std::vector<int64_t>& line_numbers,
                                std::string_view source, ImportMode mode) {
    return Import(table, rows, std::vector<int>{}, line_numbers, source, mode);
  }

  // Calls `fn` for each selected row, ordered by the table's key. A non-ok status from `fn`
  // stops the scan and is returned.
  virtual Status Scan(const TableDef& table, const ScanSpec& spec,
                      const std::function<Status(Row&&)>& fn) = 0;

  // The atomic, fenced replace of one partition (see the file comment). `rows` are in the
  // catalogue column order and all belong to `partition`. Errors: FencedOut (Aborted with
  // reason kFencedOut), Unavailable, AlreadyExists (duplicate keys in `rows` while unique).
  virtual StatusOr<WriteResult> ReplacePartition(const TableDef& table,
                                                 std::string_view partition, std::vector<Row> rows,
                                                 const WriteSpec& spec) = 0;

  // Puts rows that remediation quarantined back into `partition` of `table` (the undo of
  // `dedupe`): ONE transaction, fenced like ReplacePartition, that inserts `rows` beside the
  // partition's rows and deletes their quarantine entries `quarantine_ids` (Aborted when one is
  // gone: restored already). AlreadyExists when a row's key is held while keys are unique.
  virtual StatusOr<WriteResult> RestoreRows(const TableDef& table, std::string_view partition,
                                            std::vector<Row> rows,
                                            const std::vector<int64_t>& quarantine_ids,
                                            const WriteSpec& spec) = 0;

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

  // The post-write check (grading.md §6) for one partition, through the key index.
  virtual StatusOr<DuplicateCount> CountDuplicates(const TableDef& table,
                                                   std::string_view partition) = 0;

  // Removes the rows `request.choose_surplus` picks, each copied whole (as JSON) into
  // remediation_quarantine first, in ONE transaction: nothing is deleted without its copy.
  virtual StatusOr<DedupeResult> Dedupe(const DedupeRequest& request) = 0;

  // The alerts ledger: one row per alert raised, sent or folded. RecordAlert returns the id.
  virtual StatusOr<int64_t> RecordAlert(const Row& alert_row) = 0;
  virtual Status UpdateAlert(int64_t id, bool delivered, int64_t attempts, int64_t folded_count,
                             std::optional<int64_t> sent_at_micros) = 0;
  virtual StatusOr<AlertFold> AlertFoldState(std::string_view type, std::string_view subject) = 0;

  // Upserts one grading_runs row (catalogue order).
  virtual Status UpsertRun(const Row& run_record) = 0;

  // For each partition of `table` in [from, to] that any write has changed: its version, from
  // one database-wide counter (a later change has a greater version; versions never go away).
  // Read them BEFORE the rows they describe (input fencing, cache validation).
  virtual StatusOr<VersionMap> PartitionVersions(const TableDef& table, std::string_view from,
                                                 std::string_view to) = 0;

  // Distinct partition values of `table`, ascending.
  virtual StatusOr<std::vector<std::string>> ListPartitions(const TableDef& table) = 0;

  // Removes the fence of one partition in one lock namespace (`propgrade locks reset-fence`).
  // Returns whether a fence was stored.
  virtual StatusOr<bool> DeleteFence(std::string_view lock_namespace, const TableDef& table,
                                     std::string_view partition) = 0;

  // The stored fence token of a partition, if any.
  virtual StatusOr<std::optional<int64_t>> FenceToken(std::string_view lock_namespace,
                                                      const TableDef& table,
                                                      std::string_view partition) = 0;

  // Convenience: every row of one partition.
  StatusOr<std::vector<Row>> ReadPartition(const TableDef& table, std::string_view partition);
  // Convenience: inserts rows of an append-only table (events, alerts) in one transaction.
  Status Append(const TableDef& table, const std::vector<Row>& rows);

 protected:
  // Shared by the backends. Checks that every row belongs to `partition` and sorts the rows by
  // the key, as ReplacePartition inserts them.
  static Status PrepareRows(const TableDef& table, std::string_view partition,
                            std::vector<Row>* rows);
  // The positions of the columns a scan selects (all, in order, when none are named).
  static StatusOr<std::vector<int>> ScanColumns(const TableDef& table, const ScanSpec& spec);
  static Status CannotEnforceUniqueKeys(const TableDef& table);
  // InvalidArgument unless every index of an Import's `columns` names a column of `table`.
  static Status CheckImportColumns(const TableDef& table, const std::vector<int>& columns);
  // The remediation_quarantine row for `row` of `table`.
  static Row QuarantineRow(const TableDef& table, const Row& row, const std::string& reason,
                           const std::string& run_id, int64_t now_micros);
};

// NotFound "no such database: DISPLAY_NAME (run `propgrade init` or check --db)": what Open
// says when StoreOptions forbid creating the database it names.
Status NoSuchDatabaseError(std::string_view display_name);


// Orders rows by the table's key (NULL first), as ReplacePartition inserts them.
void SortRowsByKey(const TableDef& table, std::vector<Row>* rows);

}  // namespace propgrade

// Store: the partitions propgrade reads and writes in its database (scan, fenced replace,
// import, versions, duplicates, the run record), behind one interface with a SQLite
// (sqlite:PATH) and a PostgreSQL (postgresql://...) implementation; the ledgers the same
// database keeps (alerts, staging, quarantine, fences) are in store/ledgers.h. The write path is
// ReplacePartition: ONE transaction that checks the partition's fence token, refuses a write that
// would drop too many of its keys (WriteSpec::max_shrink_ratio), deletes the partition, inserts the
// new rows (sorted by key), keeps the rows it replaced (partition_history), records the run and
// commits — a reader sees the old partition or the new one, never a mix, and a stale writer writes
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
class AlertLedger;
class StagingLedger;
class QuarantineLedger;
class FenceLedger;

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
  // The tables the configuration declares ([tables.NAME]): Open builds the store's catalogue
  // from them, creating and migrating those whose schema propgrade manages and checking the
  // others (FailedPrecondition naming the table and column a user must add). Default: none
  std::vector<TableDeclaration> declared_tables;
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

struct WriteResult;

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
  // The shrink guard of a replace: refused (Aborted with reason kShrinkRefused, nothing
  // written) when it would remove more than this share of the stored partition's keys
  // (RowDiff). nullopt = no guard.
  std::optional<double> max_shrink_ratio;
  // Partition history: a replace keeps the rows it replaced in partition_history, and of that
  // partition's entries the newest `history_keep_runs` (0 = no history) not older than
  // `history_keep_days` (0 = any age). `history_kind` names the write there.
  int history_keep_runs = 0;
  double history_keep_days = 0;
  std::string history_kind = "replace";
  // Receives a replace's counts (WriteResult) even when the shrink guard refused it. May be
  // null.
  WriteResult* counts = nullptr;
};

struct WriteResult {
  int64_t rows_deleted = 0;
  int64_t rows_written = 0;
  bool unchanged = false;  // the partition already held the rows: nothing written
  // A replace's effect (RowDiff): rows the partition held before and after, and its keys
  // added, removed and changed (beyond the table's stamp columns).
  int64_t rows_before = 0, rows_after = 0;
  int64_t keys_added = 0, keys_removed = 0, keys_changed = 0;
  // The partition already held these rows beyond their stamps: its rows were left as they
  // were (with the stamps of the write that made them), and only the fence, the version and
  // the run were recorded. rows_written counts the rows all the same.
  bool rows_kept = false;
};

// Turns the rows a user's query returned, as JSON lines (one object per row, its keys the
// result's column names; timestamps RFC 3339), into rows of the table (catalogue order), checking
// them as a file's rows are checked. Called inside the write transaction.
using QueryRowsParser = std::function<StatusOr<std::vector<Row>>(const std::string& jsonl)>;

struct DuplicateCount {
  int64_t groups = 0;        // key groups with more than one row
  int64_t surplus_rows = 0;  // rows − distinct keys
  std::vector<std::string> sample_keys;  // up to 5 keys, parts joined by '|'
};

// One write of a partition as partition_history keeps it (WriteSpec::history_keep_runs).
struct HistoryEntry {
  int64_t id = 0;  // ascending in write order
  std::string run_id, kind, written_at, lock_namespace;
  std::optional<int64_t> fence_token;
  int64_t rows_before = 0, rows_after = 0;
  int64_t keys_added = 0, keys_removed = 0, keys_changed = 0;
  bool rows_kept = false;  // WriteResult::rows_kept: the write left the rows it found
};

enum class ImportMode {
  kUpsert,  // insert or replace on the table's key (inputs)
  kInsert,  // plain insert: a key that already exists is an error while keys are unique
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
  // The tables of this database: the built-in ones, then those StoreOptions declared.
  virtual const Catalogue& catalogue() const = 0;
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
  // The same replace with the rows of `select_sql`, run inside the write transaction (so what
  // it reads and what is written commit together): one read-only statement whose $1 is
  // `partition`, its result turned into rows by `parse` (a non-ok status rolls back and is
  // returned; InvalidArgument, the query's or its rows' fault, has reason kBadInput).
  // `unchanged`, nothing written, when the partition already holds exactly them.
  virtual StatusOr<WriteResult> ReplacePartitionFromQuery(const TableDef& table,
                                                          std::string_view partition,
                                                          const std::string& select_sql,
                                                          const QueryRowsParser& parse,
                                                          const WriteSpec& spec) = 0;

  // The post-write check (grading.md §6) for one partition, through the key index.
  virtual StatusOr<DuplicateCount> CountDuplicates(const TableDef& table,
                                                   std::string_view partition) = 0;

  // Upserts one grading_runs row (catalogue order).
  virtual Status UpsertRun(const Row& run_record) = 0;

  // For each partition of `table` in [from, to] that any write has changed: its version, from
  // one database-wide counter (a later change has a greater version; versions never go away).
  // Read them BEFORE the rows they describe (input fencing, cache validation).
  virtual StatusOr<VersionMap> PartitionVersions(const TableDef& table, std::string_view from,
                                                 std::string_view to) = 0;

  // Distinct partition values of `table`, ascending.
  virtual StatusOr<std::vector<std::string>> ListPartitions(const TableDef& table) = 0;

  // The ledgers kept in the same database (store/ledgers.h); every backend implements them.
  virtual AlertLedger& alert_ledger() = 0;
  virtual StagingLedger& staging() = 0;
  virtual QuarantineLedger& quarantine() = 0;
  virtual FenceLedger& fences() = 0;

  // Convenience: every row of one partition.
  StatusOr<std::vector<Row>> ReadPartition(const TableDef& table, std::string_view partition);
  // The number of rows of one partition.
  StatusOr<int64_t> CountPartitionRows(const TableDef& table, std::string_view partition);
  // When any partition of `table` last changed (partition_versions.changed_at, which every
  // fenced write records, the SQL fence's too); "" when never.
  StatusOr<std::string> LastChangedAt(const TableDef& table);
  // The partition's kept history, oldest write first.
  StatusOr<std::vector<HistoryEntry>> ReadHistory(const TableDef& table,
                                                  std::string_view partition);
  // The rows the write of `run_id` left in the partition (its latest write there, when it wrote
  // it more than once): the rows the next write that changed them replaced, as its history
  // entry keeps them, or the partition's rows when none did since (catalogue order, sorted by
  // key). NotFound when no kept entry is of that run.
  StatusOr<std::vector<Row>> RowsWrittenBy(const TableDef& table, std::string_view partition,
                                           const std::string& run_id);
  // The rows that write found in the partition (what it replaced).
  StatusOr<std::vector<Row>> RowsFoundBy(const TableDef& table, std::string_view partition,
                                         const std::string& run_id);
  // Convenience: inserts rows of an append-only table (events, alerts) in one transaction.
  Status Append(const TableDef& table, const std::vector<Row>& rows);

 private:
  // The rows of the partition once entries[index] was written: those the next entry that
  // changed rows replaced, or the partition's rows.
  StatusOr<std::vector<Row>> RowsAfterEntry(const TableDef& table, std::string_view partition,
                                            const std::vector<HistoryEntry>& entries, size_t index);
  // The rows entry `entry_id` of `table` replaced, as it keeps them.
  StatusOr<std::vector<Row>> ReadReplacedRows(const TableDef& table, int64_t entry_id);

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

// FencedStore (module-internal: the backends' base class; callers use Store): the one write
// path of every backend. ReplacePartition, RestoreRows and Consolidate are one protocol,
// written here once:
//
//   BeginWrite (PostgreSQL: + the partition's advisory locks)
//   -> fence check (a stored token greater than the writer's refuses the write)
//   -> input check (the versions the writer read its inputs under must still hold)
//   -> the body: a replace reads the partition, counts the keys it adds, removes and changes
//      (RowDiff), refuses past the shrink guard, deletes and inserts unless nothing but stamps
//      would change, and keeps the rows it replaced in partition_history; or a restore, or a
//      consolidation
//   -> fence upsert -> version bump -> run record -> before_commit -> CommitWrite
//
// and any failure rolls the whole transaction back. Backends supply only the primitives below;
// each is called with mu_ held, inside the transaction BeginWrite opened.
// Thread-safe: calls are serialised on mu_.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "store/ledgers.h"
#include "store/sql_text.h"
#include "store/store.h"

namespace propgrade {

class FencedStore : public Store,
                    public AlertLedger,
                    public StagingLedger,
                    public QuarantineLedger,
                    public FenceLedger {
 public:
  AlertLedger& alert_ledger() final { return *this; }
  StagingLedger& staging() final { return *this; }
  QuarantineLedger& quarantine() final { return *this; }
  FenceLedger& fences() final { return *this; }
  const Catalogue& catalogue() const final { return *catalogue_; }

  // Builds the catalogue from options_.declared_tables and brings each declared table's schema
  // to it (sql::DeclaredTableDdl, then its unique key index) unless the store is read-only,
  // where a table that needs a change is FailedPrecondition. Backends call it last in Open.
  Status AdoptDeclaredTables();

  StatusOr<WriteResult> ReplacePartition(const TableDef& table, std::string_view partition,
                                         std::vector<Row> rows, const WriteSpec& spec) final;
  StatusOr<WriteResult> ReplacePartitionFromQuery(const TableDef& table, std::string_view partition,
                                                  const std::string& select_sql,
                                                  const QueryRowsParser& parse,
                                                  const WriteSpec& spec) final;
  StatusOr<WriteResult> RestoreRows(const TableDef& table, std::string_view partition,
                                    std::vector<Row> rows,
                                    const std::vector<int64_t>& quarantine_ids,
                                    const WriteSpec& spec) final;
  StatusOr<ConsolidationResult> Consolidate(std::string_view date,
                                            const ConsolidationPlanner& planner,
                                            const WriteSpec& spec) final;

 protected:
  explicit FencedStore(StoreOptions options);

  // A partition a write holds beside its own (consolidation: the date's staging).
  struct PartitionRef {
    const TableDef* table;
    std::string_view partition;
  };

  // Opens the write transaction of `table`'s `partition`, which no other write of it (or of
  // `also`) may enter until it ends, and in which `inputs` cannot change (SQLite: one writer
  // at a time; PostgreSQL: advisory locks, see postgres_store.cc).
  virtual Status BeginWrite(const TableDef& table, std::string_view partition,
                            const std::vector<InputVersions>& inputs,
                            const std::vector<PartitionRef>& also) = 0;
  virtual Status CommitWrite() = 0;
  virtual void RollbackWrite() = 0;

  // partition_fence: the stored token (nullopt: none, or NULL), and its upsert (a nullopt
  // token keeps the stored one).
  virtual StatusOr<std::optional<int64_t>> ReadFenceToken(std::string_view ns,
                                                          std::string_view table,
                                                          std::string_view partition) = 0;
  virtual Status WriteFenceToken(std::string_view ns, std::string_view table,
                                 std::string_view partition, std::optional<int64_t> token,
                                 std::string_view run_id) = 0;
  // partition_versions of `table` in [from, to]; and the next version for a partition of a
  // versioned table (a no-op for others).
  virtual StatusOr<VersionMap> ReadVersions(std::string_view table, std::string_view from,
                                            std::string_view to) = 0;
  virtual Status BumpVersion(const TableDef& table, std::string_view partition,
                             std::string_view run_id) = 0;
  // Upserts one grading_runs row (catalogue order).
  virtual Status UpsertRunRow(const Row& run) = 0;

  // Rows of `table` (catalogue order): those whose `column` equals `value`; deletion of a
  // partition (returns the rows deleted); insertion (a generated id is left to the database;
  // AlreadyExists on a duplicate unique key); deletion of the rows whose `columns` equal one
  // of `keys` (each key holds those columns' values, in order; returns the rows deleted).
  virtual StatusOr<std::vector<Row>> ReadRowsWhere(const TableDef& table,
                                                   const std::string& column,
                                                   std::string_view value) = 0;
  virtual StatusOr<int64_t> DeletePartitionRows(const TableDef& table,
                                                std::string_view partition) = 0;
  virtual Status InsertRows(const TableDef& table, const std::vector<Row>& rows) = 0;
  // Runs a user's read-only `sql` (one statement; $1 bound to `param`) and returns its rows as
  // JSON lines (see QueryRowsParser); InvalidArgument for a statement that writes or is more
  // than one.
  virtual StatusOr<std::string> QueryAsJsonLines(const std::string& sql,
                                                 std::string_view param) = 0;
  virtual StatusOr<int64_t> DeleteKeys(const TableDef& table, const std::vector<int>& columns,
                                       const std::vector<Row>& keys) = 0;
  // For each of `values` of `table`'s `column` stored in a partition other than `partition`:
  // value → that partition.
  virtual StatusOr<std::map<std::string, std::string>> PartitionsElsewhere(
      const TableDef& table, int column, const std::vector<std::string>& values,
      std::string_view partition) = 0;

  virtual sql::Dialect dialect() const = 0;
  // The columns of `table` as the database has them, in order; empty when there is no such table.
  virtual StatusOr<std::vector<ExistingColumn>> ReadColumns(const std::string& table) = 0;
  // Runs `ddl`, then creates the key index of `t` if it lacks one, in one transaction.
  virtual Status ApplyDeclaredSchema(const TableDef& t, const std::vector<std::string>& ddl) = 0;

  StoreOptions options_;
  std::mutex mu_;
  std::shared_ptr<const Catalogue> catalogue_ = Catalogue::BuiltIn();

 private:
  // The protocol of the file comment around `body`, in one transaction. `finish` is false
  // only for the first step of TEST_non_atomic_replace (no run record, no before_commit).
  Status FencedWrite(const TableDef& table, std::string_view partition, const WriteSpec& spec,
                     const std::vector<PartitionRef>& also, const std::function<Status()>& body,
                     bool finish = true);
  // FencedOut when the partition's stored token is greater than the writer's.
  Status CheckFence(const TableDef& table, std::string_view partition, const WriteSpec& spec);
  Status CheckInputs(const WriteSpec& spec);
  // The replace of `partition`, now holding `before`, by `rows` (sorted by key; their
  // fence_token stamp set) inside the write transaction: the counts into `result` (and
  // spec.counts), the shrink guard, the delete and insert, and the history entry that keeps
  // `before`.
  Status Replace(const TableDef& table, std::string_view partition, const std::vector<Row>& before,
                 std::vector<Row>& rows, const WriteSpec& spec, WriteResult* result);
  Status RecordHistory(const TableDef& table, std::string_view partition,
                       const std::vector<Row>& before, const WriteSpec& spec,
                       const WriteResult& result);
};

}  // namespace propgrade

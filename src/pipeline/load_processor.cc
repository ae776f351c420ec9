// load: one partition of a declared table from rows a user brings (`propgrade load`, the HTTP
// PUT). Replace: the partition becomes exactly the rows. Merge: the rows are upserted by key
// into the partition as it stands; the partition is an input of the write (input fencing), so
// a write that landed between the read and the commit makes the step read it again rather than
// lose that write's rows. Either way a load the partition already holds is `unchanged` and
// writes nothing.
#include <map>

#include "io/table_file.h"
#include "pipeline/pipeline.h"
#include "pipeline/processor.h"

namespace propgrade {

namespace {

class LoadProcessor final : public Processor {
 public:
  LoadProcessor(const TableDef& table, std::vector<Row> rows, std::vector<int> columns,
                LoadMode mode)
      : table_(table), rows_(std::move(rows)), columns_(std::move(columns)), mode_(mode) {}
  // The rows of `sql`, read inside the write transaction (replace).
  LoadProcessor(const TableDef& table, std::string sql)
      : table_(table), mode_(LoadMode::kReplace), sql_(std::move(sql)) {}

  const char* name() const override { return table_.writer.c_str(); }
  const TableDef& table() const override { return table_; }

  Prepared Prepare(const RunSummary& step, Store* store) override {
    Prepared out;
    const std::string partition = step.partition();
    if (!sql_.empty()) {
      out.select_sql = sql_;
      out.parse_query = [this, partition](const std::string& jsonl) -> StatusOr<std::vector<Row>> {
        ReadOptions read;
        read.allow_empty = true;  // a query may empty the partition
        ASSIGN_OR_RETURN(TableFile file,
                         ParseTableText(table_, "query row", jsonl, FileFormat::kJsonl, read));
        RETURN_IF_ERROR(CheckLoadRows(table_, file, "query row", partition));
        return std::move(file.rows);
      };
      return out;
    }
    if (mode_ == LoadMode::kMerge) {
      // The version first, then the rows it describes.
      StatusOr<VersionMap> versions = store->PartitionVersions(table_, partition, partition);
      if (!versions.ok()) {
        out.read = versions.status();
        return out;
      }
      out.inputs.push_back({&table_, partition, partition, std::move(*versions)});
    }
    StatusOr<std::vector<Row>> current = store->ReadPartition(table_, partition);
    if (!current.ok()) {
      out.read = current.status();
      return out;
    }
    SortRowsByKey(table_, &*current);  // as `rows` below (a database may collate otherwise)
    std::vector<Row> rows = rows_;     // a retry prepares again from the same rows
    if (mode_ == LoadMode::kMerge) {
      const BusinessKey key(table_);
      std::map<std::string, Row> merged;
      for (Row& r : *current) merged.emplace(key.Of(r), r);
      for (Row& r : rows) {
        auto [it, added] = merged.emplace(key.Of(r), r);
        if (added || columns_.empty()) {
          it->second = std::move(r);
          continue;
        }
        // A stored row keeps the columns the file does not have.
        for (int c : columns_) it->second[c] = std::move(r[c]);
      }
      rows.clear();
      for (auto& [k, r] : merged) rows.push_back(std::move(r));
    }
    SortRowsByKey(table_, &rows);
    if (rows == *current) {
      out.nothing_to_write = RunStatus::kUnchanged;
      out.nothing_detail = "";
    }
    out.rows = std::move(rows);
    return out;
  }

 private:
  const TableDef& table_;
  const std::vector<Row> rows_;
  const std::vector<int> columns_;  // the columns the rows carry; empty: all
  const LoadMode mode_;
  const std::string sql_;
};

std::string DeclaredNames(const Catalogue& catalogue) {
  std::string names;
  for (const TableDef* t : catalogue.declared()) names += (names.empty() ? "" : ", ") + t->name;
  return names.empty() ? "none yet" : names;
}

}  // namespace

RunSummary Pipeline::Load(const TableDef& table, const std::string& partition,
                          std::vector<Row> rows, std::vector<int> columns, LoadMode mode,
                          const std::string& run_id, const RunOptions& options) {
  LoadProcessor load(table, std::move(rows), std::move(columns), mode);
  return RunLoad(load, partition, run_id, options);
}

RunSummary Pipeline::RunLoad(Processor& load, const std::string& partition,
                             const std::string& run_id, const RunOptions& options) {
  RunSummary step = StartStep(load.name(), CivilDay(), run_id, options);
  if (auto day = CivilDay::Parse(partition); day && day->ToString() == partition) {
    step.game_date = *day;
  } else {
    step.other_partition = partition;
  }
  return RunStep(load, std::move(step), nullptr);
}

StatusOr<RunSummary> Pipeline::LoadText(const LoadRequest& request, const std::string& run_id,
                                        const RunOptions& options) {
  RETURN_IF_ERROR(EnsureReady());
  const Catalogue& catalogue = store_->catalogue();
  const TableDef* table = catalogue.Find(request.table);
  if (!table || !table->declared) {
    return InvalidArgumentError(
        (table ? request.table + " is one of propgrade's own tables (import or grade it)"
               : "unknown table '" + request.table + "'") +
        "; load writes a table declared as [tables.NAME] in propgrade.toml (declared: " +
        DeclaredNames(catalogue) + ")");
  }
  if (request.partition.empty()) return InvalidArgumentError("a load needs the partition");
  if (!request.sql.empty()) {
    if (request.mode != LoadMode::kReplace) {
      return InvalidArgumentError("a load from a query replaces the partition (--mode replace)");
    }
    LoadProcessor load(*table, request.sql);
    return RunLoad(load, request.partition, run_id, options);
  }
  ReadOptions read;
  read.allow_empty = request.allow_empty;
  ASSIGN_OR_RETURN(TableFile file,
                   ParseTableText(*table, request.source, request.text, request.format, read));
  RETURN_IF_ERROR(CheckLoadRows(*table, file, request.source, request.partition));
  RunOptions run = options;
  // --allow-empty with an empty file asks for the partition to be emptied: past the guard.
  if (file.rows.empty()) run.allow_shrink = true;
  return Load(*table, request.partition, std::move(file.rows), std::move(file.columns),
              request.mode, run_id, run);
}

}  // namespace propgrade

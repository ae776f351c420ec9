// The runtime catalogue: the built-in tables and the ones a configuration declares.
#include <algorithm>
#include <cctype>
#include <set>

#include "schema/schema.h"

namespace propgrade {

namespace {

// The processors of the built-in tables: their lock keys, breakers and metrics are theirs.
const std::set<std::string>& BuiltInProcessors() {
  static const auto* names = new std::set<std::string>{
      "grading", "daily_performance", "performance_summary", "consolidation", "remediation"};
  return *names;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// A name that is safe unquoted in SQL, a lock key and a metric label: [a-z_][a-z0-9_]*, up to
// 63 characters (PostgreSQL's identifier limit).
bool IsIdentifier(std::string_view s) {
  if (s.empty() || s.size() > 63) return false;
  if (!(std::islower(static_cast<unsigned char>(s[0])) || s[0] == '_')) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return std::islower(static_cast<unsigned char>(c)) ||
           std::isdigit(static_cast<unsigned char>(c)) || c == '_';
  });
}

Status Bad(const std::string& table, const std::string& what) {
  return InvalidArgumentError("[tables." + table + "]: " + what);
}

}  // namespace

StatusOr<ColumnType> ParseColumnType(std::string_view word) {
  const std::string w = Lower(word);
  if (w == "text") return ColumnType::kText;
  if (w == "integer" || w == "int") return ColumnType::kInteger;
  if (w == "real") return ColumnType::kReal;
  if (w == "bool" || w == "boolean") return ColumnType::kBool;
  if (w == "date") return ColumnType::kDate;
  if (w == "timestamp") return ColumnType::kTimestamp;
  return InvalidArgumentError("unknown column type '" + std::string(word) +
                              "' (text, integer, real, bool, date or timestamp)");
}

StatusOr<ColumnType> ColumnTypeOfSql(std::string_view sql_type) {
  const std::string t = Lower(sql_type);
  auto has = [&](const char* part) { return t.find(part) != std::string::npos; };
  // PostgreSQL's names and SQLite's declared types (its affinity rules, with the names people
  // give dates and flags).
  if (t.rfind("timestamp", 0) == 0 || t == "datetime") return ColumnType::kTimestamp;
  if (t == "date") return ColumnType::kDate;
  if (t == "boolean" || t == "bool") return ColumnType::kBool;
  if (has("int")) return ColumnType::kInteger;
  if (has("char") || has("text") || has("clob") || t == "uuid") return ColumnType::kText;
  if (has("real") || has("floa") || has("doub") || has("numeric") || has("decimal")) {
    return ColumnType::kReal;
  }
  return InvalidArgumentError("a column of type '" + std::string(sql_type) +
                              "' has no propgrade type (text, integer, real, bool, date or "
                              "timestamp)");
}

StatusOr<TableDef> DeclaredTable(const TableDeclaration& d, std::vector<ColumnDef> columns) {
  if (!IsIdentifier(d.name)) {
    return Bad(d.name,
               "a table name is lower-case letters, digits and _, starting with a "
               "letter or _, at most 63 characters");
  }
  if (FindTable(d.name) || d.name.rfind("sqlite_", 0) == 0 || d.name.rfind("propgrade_", 0) == 0) {
    return Bad(d.name, "the name is propgrade's own; choose another");
  }
  TableDef t;
  t.name = d.name;
  t.declared = true;
  t.versioned = true;
  t.manage_schema = d.manage_schema;
  // As for the grading tables: enforce_unique_keys = false opens a table that already holds
  // duplicates (a table adopted as it is) so that dedupe can clean it.
  t.key_uniqueness_configurable = true;
  t.writer = d.processor.empty() ? d.name : d.processor;
  if (!IsIdentifier(t.writer)) {
    return Bad(d.name, "processor '" + t.writer + "' must be lower-case letters, digits and _");
  }
  if (BuiltInProcessors().count(t.writer)) {
    return Bad(d.name, "processor '" + t.writer + "' is one of propgrade's own");
  }
  if (columns.empty()) return Bad(d.name, "columns: at least one column");
  std::set<std::string> names;
  for (ColumnDef& c : columns) {
    if (!IsIdentifier(c.name)) {
      return Bad(d.name, "column '" + c.name + "' must be lower-case letters, digits and _");
    }
    if (!names.insert(c.name).second) return Bad(d.name, "column '" + c.name + "' twice");
  }
  t.columns = std::move(columns);
  auto column = [&](const std::string& name, const char* field) -> StatusOr<int> {
    const int i = t.ColumnIndex(name);
    if (i < 0) {
      return Bad(d.name, std::string(field) + ": '" + name + "' is not a column of the table" +
                             (d.introspect ? " (as the database has it)" : ""));
    }
    return i;
  };
  if (d.partition_column.empty()) return Bad(d.name, "partition_column is required");
  ASSIGN_OR_RETURN(int partition, column(d.partition_column, "partition_column"));
  t.partition_column = d.partition_column;
  t.columns[partition].required = true;
  if (d.key.empty()) return Bad(d.name, "key: at least one column");
  t.key_columns.push_back(d.partition_column);
  for (const std::string& k : d.key) {
    RETURN_IF_ERROR(column(k, "key").status());
    if (std::count(d.key.begin(), d.key.end(), k) > 1) {
      return Bad(d.name, "key: '" + k + "' twice");
    }
    if (k != d.partition_column) t.key_columns.push_back(k);
  }
  for (const std::string& k : t.key_columns) t.business_key.push_back({k});
  if (d.keep) {
    RETURN_IF_ERROR(column(d.keep->time_column, "keep.column").status());
    t.winner = WinnerRule{d.keep->time_column, d.keep->latest, ""};
  }
  return t;
}

std::shared_ptr<const Catalogue> Catalogue::BuiltIn() {
  static const auto* built_in = [] {
    auto* c = new Catalogue;
    c->all_ = AllTables();
    return new std::shared_ptr<const Catalogue>(c);
  }();
  return *built_in;
}

StatusOr<std::shared_ptr<const Catalogue>> Catalogue::Build(
    const std::vector<TableDeclaration>& declared, const ColumnReader& existing) {
  if (declared.empty()) return BuiltIn();
  auto c = std::shared_ptr<Catalogue>(new Catalogue);
  c->all_ = AllTables();
  std::set<std::string> processors;
  for (const TableDeclaration& d : declared) {
    std::vector<ColumnDef> columns = d.columns;
    if (d.introspect) {
      if (d.manage_schema) {
        return Bad(d.name,
                   "columns = \"introspect\" reads a table you own: set "
                   "manage_schema = false");
      }
      if (!columns.empty()) return Bad(d.name, "columns: a list or \"introspect\", not both");
      StatusOr<std::vector<ExistingColumn>> read = existing(d.name);
      if (!read.ok()) return Bad(d.name, read.status().message());
      for (const ExistingColumn& e : *read) {
        StatusOr<ColumnType> type = ColumnTypeOfSql(e.sql_type);
        if (!type.ok()) return Bad(d.name, "column '" + e.name + "': " + type.status().message());
        columns.push_back({e.name, *type, e.not_null});
      }
    }
    ASSIGN_OR_RETURN(TableDef t, DeclaredTable(d, std::move(columns)));
    if (c->Find(t.name)) return Bad(d.name, "declared twice");
    if (!processors.insert(t.writer).second) {
      return Bad(d.name, "processor '" + t.writer + "' already writes another declared table");
    }
    auto owned = std::make_shared<const TableDef>(std::move(t));
    c->all_.push_back(owned.get());
    c->declared_.push_back(owned.get());
    c->owned_.push_back(std::move(owned));
  }
  return std::shared_ptr<const Catalogue>(std::move(c));
}

const TableDef* Catalogue::Find(std::string_view name) const {
  for (const TableDef* t : all_) {
    if (t->name == name) return t;
  }
  return nullptr;
}

const TableDef* Catalogue::WrittenBy(std::string_view processor) const {
  for (const TableDef* t : all_) {
    if (!t->writer.empty() && t->writer == processor) return t;
  }
  return nullptr;
}

}  // namespace propgrade

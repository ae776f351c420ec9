#include "store/sql_text.h"

#include <algorithm>
#include <vector>

#include "common/strings.h"

namespace propgrade::sql {

std::string Q(std::string_view identifier) { return "\"" + std::string(identifier) + "\""; }

std::string ColumnList(const TableDef& t) {
  std::vector<std::string> parts;
  for (const auto& c : t.columns) parts.push_back(Q(c.name));
  return Join(parts, ", ");
}

std::string KeyExprList(const TableDef& t, Dialect d) {
  std::vector<std::string> parts;
  for (const auto& k : t.key_columns) {
    const ColumnDef& c = t.columns[t.ColumnIndex(k)];
    bool never_null = c.required || (t.generated_id && &c == &t.columns.front());
    if (never_null) {
      parts.push_back(Q(c.name));
    } else if (d == Dialect::kSqlite) {
      parts.push_back("coalesce(" + Q(c.name) + ", x'')");
    } else {
      const char* sentinel = c.type == ColumnType::kReal      ? "'NaN'::double precision"
                             : c.type == ColumnType::kInteger ? "(-9223372036854775807 - 1)"
                                                              : "''";
      parts.push_back("coalesce(" + Q(c.name) + ", " + sentinel + ")");
    }
  }
  return Join(parts, ", ");
}

std::string Placeholders(size_t n, Dialect d, size_t first) {
  std::string out;
  for (size_t i = 0; i < n; ++i) {
    if (i) out += ", ";
    out += d == Dialect::kSqlite ? "?" : "$" + std::to_string(first + i);
  }
  return out;
}

std::string UpdateNonKeyColumns(const TableDef& t) { return UpdateNonKeyColumns(t, {}); }

std::string UpdateNonKeyColumns(const TableDef& t, const std::vector<int>& columns) {
  std::vector<std::string> parts;
  for (size_t i = 0; i < t.columns.size(); ++i) {
    const ColumnDef& c = t.columns[i];
    if (std::find(t.key_columns.begin(), t.key_columns.end(), c.name) != t.key_columns.end()) {
      continue;
    }
    if (!columns.empty() &&
        std::find(columns.begin(), columns.end(), static_cast<int>(i)) == columns.end()) {
      continue;
    }
    parts.push_back(Q(c.name) + " = excluded." + Q(c.name));
  }
  return Join(parts, ", ");
}

std::string KeyColumnList(const TableDef& t) {
  std::vector<std::string> parts;
  for (const auto& k : t.key_columns) parts.push_back(Q(k));
  return Join(parts, ", ");
}

}  // namespace propgrade::sql

// RowDiff: what replacing one partition's rows with others changes, key by key (the shrink
// guard's counts, the run record's keys_added/removed/changed, `propgrade diff`). Rows are
// matched on the table's stored key; a key is changed when its row differs in a column that
// is not one of the table's stamp columns. Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/value.h"
#include "schema/schema.h"

namespace propgrade {

struct CellChange {
  std::string column;
  Value before, after;
};

struct KeyChange {
  std::string key;  // the key's cells as a reader sees them (BusinessKey::TextOf form)
  std::vector<CellChange> cells;  // empty for an added or removed key
};

struct PartitionDiff {
  int64_t rows_before = 0, rows_after = 0;
  int64_t keys_before = 0, keys_after = 0;  // distinct keys
  int64_t keys_added = 0, keys_removed = 0, keys_changed = 0;
  // With `detail` only, each in key order (NULL first, numbers by value, then texts).
  std::vector<KeyChange> added, removed, changed;
};

// `before` and `after` are rows of `table` (catalogue order), in any order. A key held by
// several rows (keys not unique) is changed when its rows differ as a whole.
PartitionDiff DiffRows(const TableDef& table, const std::vector<Row>& before,
                       const std::vector<Row>& after, bool detail);

// Whether a write that changes a partition as `diff` says removes more than `max_ratio` of
// its stored keys (a partition without keys never shrinks).
bool ShrinksBeyond(const PartitionDiff& diff, double max_ratio);

}  // namespace propgrade

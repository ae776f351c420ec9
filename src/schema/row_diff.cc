#include "schema/row_diff.h"

#include <algorithm>
#include <unordered_map>

#include "common/value_text.h"

namespace propgrade {

namespace {

// The rows of each key, keyed by the stored key's cells.
struct KeyedRows {
  std::unordered_map<std::string, std::vector<const Row*>> by_key;
  std::vector<std::pair<std::string, const Row*>> order;  // first row of each key
};

KeyedRows ByKey(const std::vector<int>& key, const std::vector<Row>& rows) {
  KeyedRows out;
  out.by_key.reserve(rows.size());
  std::string k;
  for (const Row& r : rows) {
    k.clear();
    for (int i : key) {
      k += r[i].is_null() ? std::string("\x1e") : FormatCell(r[i]);
      k += '\x1f';
    }
    auto [it, inserted] = out.by_key.try_emplace(k);
    if (inserted) out.order.emplace_back(k, &r);
    it->second.push_back(&r);
  }
  return out;
}

bool SameBeyondStamps(const std::vector<bool>& stamp, const Row& a, const Row& b) {
  for (size_t i = 0; i < a.size(); ++i) {
    if (!stamp[i] && !(a[i] == b[i])) return false;
  }
  return true;
}

bool SameRows(const std::vector<bool>& stamp, const std::vector<const Row*>& a,
              const std::vector<const Row*>& b) {
  if (a.size() != b.size()) return false;
  if (a.size() == 1) return SameBeyondStamps(stamp, *a[0], *b[0]);
  std::vector<bool> used(b.size(), false);
  for (const Row* x : a) {
    bool found = false;
    for (size_t j = 0; j < b.size() && !found; ++j) {
      if (!used[j] && SameBeyondStamps(stamp, *x, *b[j])) used[j] = found = true;
    }
    if (!found) return false;
  }
  return true;
}

}  // namespace

PartitionDiff DiffRows(const TableDef& t, const std::vector<Row>& before,
                       const std::vector<Row>& after, bool detail) {
  const std::vector<int> key = t.KeyIndexes();
  std::vector<bool> stamp(t.columns.size(), false);
  for (const std::string& c : t.stamp_columns) {
    if (int i = t.ColumnIndex(c); i >= 0) stamp[i] = true;
  }
  KeyedRows old_rows = ByKey(key, before);
  KeyedRows new_rows = ByKey(key, after);
  PartitionDiff d;
  d.rows_before = static_cast<int64_t>(before.size());
  d.rows_after = static_cast<int64_t>(after.size());
  d.keys_before = static_cast<int64_t>(old_rows.order.size());
  d.keys_after = static_cast<int64_t>(new_rows.order.size());
  auto key_text = [&](const Row& r) {
    std::string out;
    for (size_t n = 0; n < key.size(); ++n) {
      if (n) out += '|';
      out += r[key[n]].is_null() ? "NULL" : FormatCell(r[key[n]]);
    }
    return out;
  };
  for (const auto& [k, first] : new_rows.order) {
    auto it = old_rows.by_key.find(k);
    if (it == old_rows.by_key.end()) {
      ++d.keys_added;
      if (detail) d.added.push_back({key_text(*first), {}});
      continue;
    }
    const std::vector<const Row*>& now = new_rows.by_key[k];
    if (SameRows(stamp, it->second, now)) continue;
    ++d.keys_changed;
    if (!detail) continue;
    KeyChange change{key_text(*first), {}};
    const Row& a = *it->second.front();
    const Row& b = *now.front();
    for (size_t i = 0; i < t.columns.size(); ++i) {
      if (!stamp[i] && !(a[i] == b[i])) change.cells.push_back({t.columns[i].name, a[i], b[i]});
    }
    d.changed.push_back(std::move(change));
  }
  for (const auto& [k, first] : old_rows.order) {
    if (new_rows.by_key.count(k)) continue;
    ++d.keys_removed;
    if (detail) d.removed.push_back({key_text(*first), {}});
  }
  if (detail) {
    for (auto* list : {&d.added, &d.removed, &d.changed}) {
      std::sort(list->begin(), list->end(),
                [](const KeyChange& a, const KeyChange& b) { return a.key < b.key; });
    }
  }
  return d;
}

bool ShrinksBeyond(const PartitionDiff& diff, double max_ratio) {
  if (diff.keys_before == 0) return false;
  return static_cast<double>(diff.keys_removed) > max_ratio * static_cast<double>(diff.keys_before);
}

}  // namespace propgrade

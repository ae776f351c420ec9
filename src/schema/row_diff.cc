#include "schema/row_diff.h"

#include <algorithm>

#include "common/value_text.h"

namespace propgrade {

namespace {

// -1, 0, 1: NULL first, then numbers (integers and reals by value), booleans, texts.
int Compare(const Value& a, const Value& b) {
  auto rank = [](const Value& v) {
    return v.is_null() ? 0 : v.is_bool() ? 2 : v.is_text() ? 3 : 1;
  };
  const int ra = rank(a), rb = rank(b);
  if (ra != rb) return ra < rb ? -1 : 1;
  switch (ra) {
    case 0:
      return 0;
    case 1: {
      if (a.is_int() && b.is_int()) {
        return a.as_int() < b.as_int() ? -1 : a.as_int() > b.as_int() ? 1 : 0;
      }
      const double x = a.is_int() ? static_cast<double>(a.as_int()) : a.as_real();
      const double y = b.is_int() ? static_cast<double>(b.as_int()) : b.as_real();
      return x < y ? -1 : x > y ? 1 : 0;
    }
    case 2:
      return a.as_bool() == b.as_bool() ? 0 : a.as_bool() ? 1 : -1;
    default: {
      const int c = a.as_text().compare(b.as_text());
      return c < 0 ? -1 : c > 0 ? 1 : 0;
    }
  }
}

int CompareKeys(const std::vector<int>& key, const Row& a, const Row& b) {
  for (int k : key) {
    if (int c = Compare(a[k], b[k])) return c;
  }
  return 0;
}

std::vector<const Row*> SortedByKey(const std::vector<int>& key, const std::vector<Row>& rows) {
  std::vector<const Row*> out;
  out.reserve(rows.size());
  for (const Row& r : rows) out.push_back(&r);
  auto less = [&](const Row* a, const Row* b) { return CompareKeys(key, *a, *b) < 0; };
  if (!std::is_sorted(out.begin(), out.end(), less)) std::stable_sort(out.begin(), out.end(), less);
  return out;
}

bool SameBeyondStamps(const std::vector<bool>& stamp, const Row& a, const Row& b) {
  for (size_t i = 0; i < a.size(); ++i) {
    if (!stamp[i] && !(a[i] == b[i])) return false;
  }
  return true;
}

// Whether two groups of rows of one key hold the same rows beyond stamps (in any order).
bool SameRows(const std::vector<bool>& stamp, const Row* const* a, size_t na, const Row* const* b,
              size_t nb) {
  if (na != nb) return false;
  if (na == 1) return SameBeyondStamps(stamp, *a[0], *b[0]);
  std::vector<bool> used(nb, false);
  for (size_t i = 0; i < na; ++i) {
    bool found = false;
    for (size_t j = 0; j < nb && !found; ++j) {
      if (!used[j] && SameBeyondStamps(stamp, *a[i], *b[j])) used[j] = found = true;
    }
    if (!found) return false;
  }
  return true;
}

std::string KeyText(const std::vector<int>& key, const Row& r) {
  std::string out;
  for (size_t n = 0; n < key.size(); ++n) {
    if (n) out += '|';
    out += r[key[n]].is_null() ? "NULL" : FormatCell(r[key[n]]);
  }
  return out;
}

}  // namespace

PartitionDiff DiffRows(const TableDef& t, const std::vector<Row>& before,
                       const std::vector<Row>& after, bool detail) {
  const std::vector<int> key = t.KeyIndexes();
  std::vector<bool> stamp(t.columns.size(), false);
  for (const std::string& c : t.stamp_columns) {
    if (int i = t.ColumnIndex(c); i >= 0) stamp[i] = true;
  }
  // A merge of the two sides in key order, a group of equal keys at a time.
  const std::vector<const Row*> old_rows = SortedByKey(key, before);
  const std::vector<const Row*> new_rows = SortedByKey(key, after);
  PartitionDiff d;
  d.rows_before = static_cast<int64_t>(before.size());
  d.rows_after = static_cast<int64_t>(after.size());
  size_t i = 0, j = 0;
  auto group_end = [&](const std::vector<const Row*>& rows, size_t from) {
    size_t to = from + 1;
    while (to < rows.size() && CompareKeys(key, *rows[from], *rows[to]) == 0) ++to;
    return to;
  };
  while (i < old_rows.size() || j < new_rows.size()) {
    const int c = i == old_rows.size()   ? 1
                  : j == new_rows.size() ? -1
                                         : CompareKeys(key, *old_rows[i], *new_rows[j]);
    if (c < 0) {  // only before: removed
      const size_t end = group_end(old_rows, i);
      ++d.keys_before;
      ++d.keys_removed;
      if (detail) d.removed.push_back({KeyText(key, *old_rows[i]), {}});
      i = end;
    } else if (c > 0) {  // only after: added
      const size_t end = group_end(new_rows, j);
      ++d.keys_after;
      ++d.keys_added;
      if (detail) d.added.push_back({KeyText(key, *new_rows[j]), {}});
      j = end;
    } else {
      const size_t old_end = group_end(old_rows, i), new_end = group_end(new_rows, j);
      ++d.keys_before;
      ++d.keys_after;
      if (!SameRows(stamp, &old_rows[i], old_end - i, &new_rows[j], new_end - j)) {
        ++d.keys_changed;
        if (detail) {
          KeyChange change{KeyText(key, *new_rows[j]), {}};
          const Row& a = *old_rows[i];
          const Row& b = *new_rows[j];
          for (size_t col = 0; col < t.columns.size(); ++col) {
            if (!stamp[col] && !(a[col] == b[col])) {
              change.cells.push_back({t.columns[col].name, a[col], b[col]});
            }
          }
          d.changed.push_back(std::move(change));
        }
      }
      i = old_end;
      j = new_end;
    }
  }
  return d;
}

bool ShrinksBeyond(const PartitionDiff& diff, double max_ratio) {
  if (diff.keys_before == 0) return false;
  return static_cast<double>(diff.keys_removed) > max_ratio * static_cast<double>(diff.keys_before);
}

}  // namespace propgrade

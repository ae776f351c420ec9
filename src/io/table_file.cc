#include "io/table_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <exception>
#include <nlohmann/json.hpp>
#include <system_error>
#include <unordered_map>
#include <utility>

#include "common/civil_date.h"
#include "common/strings.h"
#include "common/value_text.h"
#include "io/csv.h"

namespace propgrade {
namespace {

constexpr std::string_view kBom = "\xEF\xBB\xBF";
constexpr size_t kMaxShownBytes = 40;

// ---- Messages ----

// `s` fit for an error message: at most `max_bytes` bytes (then "..."), control bytes and
// (in invalid UTF-8) non-ASCII bytes written as \xNN.
std::string Printable(std::string_view s, size_t max_bytes = kMaxShownBytes) {
  const bool utf8 = IsValidUtf8(s);
  bool truncated = false;
  if (s.size() > max_bytes) {
    size_t cut = max_bytes;
    if (utf8) {
      while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
    }
    s = s.substr(0, cut);
    truncated = true;
  }
  std::string out;
  out.reserve(s.size() + 3);
  for (unsigned char c : s) {
    if (c < 0x20 || c == 0x7F || (!utf8 && c >= 0x80)) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02X", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  if (truncated) out += "...";
  return out;
}

std::string Quoted(std::string_view value) { return "'" + Printable(value) + "'"; }

// "FILE:LINE: column 'COLUMN': WHAT" (without the column part when `column` is empty).
Status InputError(std::string_view file, int64_t line, std::string_view column,
                  std::string_view what) {
  std::string msg(file);
  msg += ':';
  msg += std::to_string(line);
  msg += ": ";
  if (!column.empty()) {
    msg += "column '";
    msg += column;
    msg += "': ";
  }
  msg += what;
  return InvalidArgumentError(std::move(msg));
}

Status NoDataRows(std::string_view file) {
  return InvalidArgumentError(std::string(file) + ": no data rows");
}

// ---- The table being read ----

// The range a column's values must fall in (TableDef::ranges); nullptr when none.
using Check = const ValueRange*;

struct Schema {
  explicit Schema(const TableDef& t) : table(t), checks(t.columns.size(), nullptr) {
    for (size_t i = 0; i < t.columns.size(); ++i) {
      names.emplace_back(t.columns[i].name, static_cast<int>(i));
    }
    for (const auto& [alias, column] : t.import_aliases) {
      const int index = t.ColumnIndex(column);
      if (index >= 0) names.emplace_back(alias, index);
    }
    for (const ValueRange& range : t.ranges) {
      if (int i = t.ColumnIndex(range.column); i >= 0) checks[i] = &range;
    }
  }

  // The column a header name or JSON key stands for; -1 when none.
  int Lookup(std::string_view name) const {
    for (const auto& [n, index] : names) {
      if (n == name) return index;
    }
    return -1;
  }

  size_t size() const { return table.columns.size(); }

  const TableDef& table;
  std::vector<Check> checks;
  std::vector<std::pair<std::string_view, int>> names;  // column names, then aliases
};

// ---- Cell parsing ----

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char c = a[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != b[i]) return false;
  }
  return true;
}

bool AllDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// A double that is a whole number within int64 range.
std::optional<int64_t> WholeDouble(double d) {
  if (!std::isfinite(d) || std::trunc(d) != d) return std::nullopt;
  if (d < -9223372036854775808.0 || d >= 9223372036854775808.0) return std::nullopt;
  return static_cast<int64_t>(d);
}

// `M:SS` or `MM:SS` (seconds 00-59) as decimal minutes.
std::optional<double> ParseMinutesSeconds(std::string_view text) {
  const size_t colon = text.find(':');
  if (colon == std::string_view::npos) return std::nullopt;
  const std::string_view minutes = text.substr(0, colon);
  const std::string_view seconds = text.substr(colon + 1);
  if (!AllDigits(minutes) || minutes.size() > 6 || seconds.size() != 2 || !AllDigits(seconds)) {
    return std::nullopt;
  }
  const int secs = (seconds[0] - '0') * 10 + (seconds[1] - '0');
  if (secs > 59) return std::nullopt;
  return static_cast<double>(*ParseInt64(minutes)) + secs / 60.0;
}

// The table's range for the column, applied to a parsed non-NULL number.
bool ApplyCheck(Check range, Value* value, std::string* why) {
  if (!range || !(value->is_int() || value->is_real())) return true;
  const bool integer = value->is_int();
  const double v = integer ? static_cast<double>(value->as_int()) : value->as_real();
  if (v < range->min || (range->max && v > *range->max)) {
    const std::string got = integer ? std::to_string(value->as_int()) : FormatDouble(v);
    *why = range->max ? range->label + " must be between " + FormatDouble(range->min) + " and " +
                            FormatDouble(*range->max) + ", got " + got
           : range->min == 0 ? range->label + " must not be negative, got " + got
                             : range->label + " must be at least " + FormatDouble(range->min) +
                                   ", got " + got;
    return false;
  }
  if (v == 0 && !integer) *value = Value::Real(0.0);  // no -0
  return true;
}

// Parses the non-empty textual form of a cell; false with `*why` set on error.
bool ParseCell(ColumnType type, Check check, std::string_view text, Value* out, std::string* why) {
  switch (type) {
    case ColumnType::kText:
      for (unsigned char c : text) {
        if (c < 0x20 || c == 0x7F) {
          char buf[48];
          std::snprintf(buf, sizeof buf, "control character 0x%02X in text", c);
          *why = buf;
          return false;
        }
      }
      *out = Value::Text(std::string(text));
      return true;
    case ColumnType::kInteger: {
      std::optional<int64_t> v = ParseInt64(text);
      if (!v) {
        const std::optional<double> d = ParseFiniteDouble(text);
        if (!d) {
          *why = "not an integer: " + Quoted(text);
          return false;
        }
        v = WholeDouble(*d);
        if (!v) {
          *why = (std::trunc(*d) != *d ? "not a whole number: " : "integer out of range: ") +
                 Quoted(text);
          return false;
        }
      }
      *out = Value::Int(*v);
      break;
    }
    case ColumnType::kReal: {
      if (check && check->minutes_text && text.find(':') != std::string_view::npos) {
        const std::optional<double> m = ParseMinutesSeconds(text);
        if (!m) {
          *why = "not a number of minutes or MM:SS (seconds 00-59): " + Quoted(text);
          return false;
        }
        *out = Value::Real(*m);
        break;
      }
      const std::optional<double> d = ParseFiniteDouble(text);
      if (!d) {
        *why = "not a finite number: " + Quoted(text);
        return false;
      }
      *out = Value::Real(*d);
      break;
    }
    case ColumnType::kBool:
      if (text == "1" || EqualsIgnoreCase(text, "true")) {
        *out = Value::Bool(true);
      } else if (text == "0" || EqualsIgnoreCase(text, "false")) {
        *out = Value::Bool(false);
      } else {
        *why = "not a boolean (true/false/1/0): " + Quoted(text);
        return false;
      }
      break;
    case ColumnType::kDate: {
      const std::optional<CivilDay> day = CivilDay::Parse(text);
      if (!day) {
        *why = "not a valid date (YYYY-MM-DD): " + Quoted(text);
        return false;
      }
      *out = Value::Text(day->ToString());
      break;
    }
    case ColumnType::kTimestamp: {
      const std::optional<int64_t> micros = ParseTimestampMicros(text);
      if (!micros) {
        *why = "not a valid ISO-8601 timestamp: " + Quoted(text);
        return false;
      }
      *out = Value::Text(FormatTimestampMicros(*micros));
      break;
    }
  }
  return ApplyCheck(check, out, why);
}

// A cell given as text (a CSV field or a JSON string): "" is NULL.
Status ConvertText(const Schema& schema, std::string_view file, int64_t line, int column,
                   std::string_view text, Value* out) {
  const ColumnDef& def = schema.table.columns[column];
  if (!IsValidUtf8(text)) return InputError(file, line, def.name, "invalid UTF-8");
  if (text.empty()) {
    if (def.required) return InputError(file, line, def.name, "required value is empty");
    *out = Value();
    return OkStatus();
  }
  std::string why;
  if (!ParseCell(def.type, schema.checks[column], text, out, &why)) {
    return InputError(file, line, def.name, why);
  }
  return OkStatus();
}

// ---- CSV ----

StatusOr<TableFile> ParseCsv(const Schema& schema, std::string_view file, std::string_view text,
                             const ReadOptions& options) {
  csv::CsvReader reader(text);
  std::vector<int> column_of_field;  // header field -> column
  auto reader_error = [&]() {
    const csv::CsvReader::Error& e = reader.error();
    std::string_view column;
    if (e.field >= 0 && static_cast<size_t>(e.field) < column_of_field.size()) {
      column = schema.table.columns[column_of_field[e.field]].name;
    }
    return InputError(file, e.line, column, e.message);
  };

  csv::CsvReader::Result r = reader.Next();
  if (r == csv::CsvReader::Result::kError) return reader_error();
  if (r == csv::CsvReader::Result::kEnd) {
    if (options.allow_empty) return TableFile{};
    return NoDataRows(file);
  }

  // Header.
  const int64_t header_line = reader.record_line();
  const std::vector<std::string_view>& header = reader.fields();
  std::vector<int> field_of_column(schema.size(), -1);
  for (size_t i = 0; i < header.size(); ++i) {
    if (!IsValidUtf8(header[i])) {
      return InputError(file, header_line, Printable(header[i]), "invalid UTF-8 in the header");
    }
    const std::string_view name = Trim(header[i]);
    const int column = schema.Lookup(name);
    if (column < 0) {
      return InputError(file, header_line, Printable(name),
                        "unknown column for table " + schema.table.name);
    }
    if (const int first = field_of_column[column]; first >= 0) {
      const std::string_view first_name = Trim(header[first]);
      std::string what = "duplicate column in the header";
      if (first_name != name) {
        what += " (given as '" + std::string(first_name) + "' and as '" + std::string(name) + "')";
      }
      return InputError(file, header_line, schema.table.columns[column].name, what);
    }
    field_of_column[column] = static_cast<int>(i);
    column_of_field.push_back(column);
  }
  for (size_t c = 0; c < schema.size(); ++c) {
    if (schema.table.columns[c].required && field_of_column[c] < 0) {
      return InputError(file, header_line, schema.table.columns[c].name,
                        "missing required column in the header");
    }
  }

  // Rows.
  TableFile result;
  const size_t estimate = static_cast<size_t>(std::count(text.begin(), text.end(), '\n'));
  result.rows.reserve(estimate);
  result.line_numbers.reserve(estimate);
  while ((r = reader.Next()) == csv::CsvReader::Result::kRecord) {
    const int64_t line = reader.record_line();
    const std::vector<std::string_view>& fields = reader.fields();
    if (fields.size() != column_of_field.size()) {
      return InputError(file, line, "",
                        "wrong number of columns: expected " +
                            std::to_string(column_of_field.size()) + ", found " +
                            std::to_string(fields.size()));
    }
    Row row(schema.size());
    for (size_t i = 0; i < fields.size(); ++i) {
      const int column = column_of_field[i];
      RETURN_IF_ERROR(ConvertText(schema, file, line, column, fields[i], &row[column]));
    }
    result.rows.push_back(std::move(row));
    result.line_numbers.push_back(line);
  }
  if (r == csv::CsvReader::Result::kError) return reader_error();
  if (result.rows.empty() && !options.allow_empty) return NoDataRows(file);
  if (!result.rows.empty()) {
    for (size_t c = 0; c < schema.size(); ++c) {
      if (field_of_column[c] >= 0) result.columns.push_back(static_cast<int>(c));
    }
  }
  return result;
}

// ---- JSONL ----

struct JsonScalar {
  enum class Kind { kNull, kBool, kInt, kUint, kFloat, kString };
  Kind kind = Kind::kNull;
  bool b = false;
  int64_t i = 0;
  uint64_t u = 0;
  double d = 0;
  std::string text;  // the string, or the number as written (for messages)
};

// Collects the members of one flat JSON object; anything else stops the parse with an error.
class FlatObjectSax : public nlohmann::json_sax<nlohmann::json> {
 public:
  struct Member {
    std::string key;
    JsonScalar value;
  };

  void Reset() {
    depth_ = 0;
    members_.clear();
    error_.clear();
    error_key_.clear();
  }
  const std::vector<Member>& members() const { return members_; }
  const std::string& error() const { return error_; }
  const std::string& error_key() const { return error_key_; }

  bool null() override { return Add(JsonScalar{}); }
  bool boolean(bool v) override {
    JsonScalar s;
    s.kind = JsonScalar::Kind::kBool;
    s.b = v;
    return Add(std::move(s));
  }
  bool number_integer(number_integer_t v) override {
    JsonScalar s;
    s.kind = JsonScalar::Kind::kInt;
    s.i = v;
    s.text = std::to_string(v);
    return Add(std::move(s));
  }
  bool number_unsigned(number_unsigned_t v) override {
    JsonScalar s;
    s.kind = JsonScalar::Kind::kUint;
    s.u = v;
    s.text = std::to_string(v);
    return Add(std::move(s));
  }
  bool number_float(number_float_t v, const string_t& raw) override {
    JsonScalar s;
    s.kind = JsonScalar::Kind::kFloat;
    s.d = v;
    s.text = raw;
    return Add(std::move(s));
  }
  bool string(string_t& v) override {
    JsonScalar s;
    s.kind = JsonScalar::Kind::kString;
    s.text = std::move(v);
    return Add(std::move(s));
  }
  bool binary(binary_t&) override { return Nested(); }
  bool start_object(std::size_t) override {
    if (depth_ == 0) {
      depth_ = 1;
      return true;
    }
    return Nested();
  }
  bool key(string_t& v) override {
    key_ = std::move(v);
    return true;
  }
  bool end_object() override {
    depth_ = 0;
    return true;
  }
  bool start_array(std::size_t) override { return Nested(); }
  bool end_array() override { return true; }
  bool parse_error(std::size_t position, const std::string&,
                   const nlohmann::detail::exception& ex) override {
    std::string what = ex.what();
    if (const size_t p = what.find("] "); p != std::string::npos) what.erase(0, p + 2);
    error_ = "invalid JSON at byte " + std::to_string(position) + ": " + Printable(what, 200);
    if (depth_ == 1) error_key_ = key_;  // the member being read, if any
    return false;
  }

 private:
  bool Add(JsonScalar s) {
    if (depth_ == 0) return NotAnObject();
    members_.push_back({std::move(key_), std::move(s)});
    key_.clear();
    return true;
  }
  bool Nested() {
    if (depth_ == 0) return NotAnObject();
    error_key_ = key_;
    error_ = "value must be a string, number, boolean or null";
    return false;
  }
  bool NotAnObject() {
    error_ = "the line is not a JSON object";
    return false;
  }

  int depth_ = 0;
  std::string key_;
  std::vector<Member> members_;
  std::string error_;
  std::string error_key_;
};

std::string_view JsonKindName(JsonScalar::Kind kind) {
  switch (kind) {
    case JsonScalar::Kind::kBool:
      return "a boolean";
    case JsonScalar::Kind::kString:
      return "a string";
    case JsonScalar::Kind::kNull:
      return "null";
    default:
      return "a number";
  }
}

Status ConvertJson(const Schema& schema, std::string_view file, int64_t line, int column,
                   const JsonScalar& s, Value* out) {
  const ColumnDef& def = schema.table.columns[column];
  auto wrong_kind = [&]() {
    return InputError(
        file, line, def.name,
        "expected " +
            std::string(def.type == ColumnType::kText ? "a string" : ColumnTypeName(def.type)) +
            ", got " + std::string(JsonKindName(s.kind)));
  };
  std::string why;
  switch (s.kind) {
    case JsonScalar::Kind::kNull:
      if (def.required) return InputError(file, line, def.name, "required value is null");
      *out = Value();
      return OkStatus();
    case JsonScalar::Kind::kString:
      return ConvertText(schema, file, line, column, s.text, out);
    case JsonScalar::Kind::kBool:
      if (def.type != ColumnType::kBool) return wrong_kind();
      *out = Value::Bool(s.b);
      return OkStatus();
    case JsonScalar::Kind::kInt:
    case JsonScalar::Kind::kUint:
    case JsonScalar::Kind::kFloat:
      break;
  }
  // A JSON number.
  const bool is_float = s.kind == JsonScalar::Kind::kFloat;
  switch (def.type) {
    case ColumnType::kInteger: {
      std::optional<int64_t> v;
      if (s.kind == JsonScalar::Kind::kInt) {
        v = s.i;
      } else if (s.kind == JsonScalar::Kind::kUint) {
        if (s.u <= static_cast<uint64_t>(INT64_MAX)) v = static_cast<int64_t>(s.u);
      } else {
        v = WholeDouble(s.d);
      }
      if (!v) {
        const bool fraction = is_float && std::isfinite(s.d) && std::trunc(s.d) != s.d;
        return InputError(
            file, line, def.name,
            (fraction ? "not a whole number: " : "integer out of range: ") + Quoted(s.text));
      }
      *out = Value::Int(*v);
      break;
    }
    case ColumnType::kReal: {
      const double d = s.kind == JsonScalar::Kind::kInt    ? static_cast<double>(s.i)
                       : s.kind == JsonScalar::Kind::kUint ? static_cast<double>(s.u)
                                                           : s.d;
      if (!std::isfinite(d)) {
        return InputError(file, line, def.name, "not a finite number: " + Quoted(s.text));
      }
      *out = Value::Real(d);
      break;
    }
    case ColumnType::kBool:
      if (!is_float && s.text == "1") {
        *out = Value::Bool(true);
      } else if (!is_float && s.text == "0") {
        *out = Value::Bool(false);
      } else {
        return InputError(file, line, def.name,
                          "not a boolean (true/false/1/0): " + Quoted(s.text));
      }
      break;
    default:
      return wrong_kind();
  }
  if (!ApplyCheck(schema.checks[column], out, &why)) {
    return InputError(file, line, def.name, why);
  }
  return OkStatus();
}

bool IsBlank(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c == ' ' || c == '\t' || c == '\r'; });
}

StatusOr<TableFile> ParseJsonl(const Schema& schema, std::string_view file, std::string_view text,
                               const ReadOptions& options) {
  TableFile result;
  FlatObjectSax sax;
  std::vector<bool> seen(schema.size());
  std::vector<bool> in_file(schema.size());  // a key of any object so far
  size_t pos = 0;
  int64_t line = 0;
  while (pos < text.size()) {
    ++line;
    size_t end = 0;
    if (!csv::FindLineEnd(text, pos, csv::kMaxLineBytes, &end)) {
      return InputError(file, line, "",
                        "line is longer than " + std::to_string(csv::kMaxLineBytes) + " bytes");
    }
    std::string_view content = text.substr(pos, end - pos);
    pos = end + 1;
    if (!content.empty() && content.back() == '\r') content.remove_suffix(1);
    if (IsBlank(content)) continue;
    if (!IsValidUtf8(content)) return InputError(file, line, "", "invalid UTF-8");

    sax.Reset();
    bool parsed = false;
    try {
      parsed = nlohmann::json::sax_parse(content.data(), content.data() + content.size(), &sax);
    } catch (const std::exception& e) {
      return InputError(file, line, "", "invalid JSON: " + Printable(e.what(), 200));
    }
    if (!parsed) {
      const std::string key = sax.error_key().empty() ? "" : Printable(sax.error_key());
      return InputError(file, line, key, sax.error());
    }

    Row row(schema.size());
    std::fill(seen.begin(), seen.end(), false);
    for (const FlatObjectSax::Member& m : sax.members()) {
      const int column = schema.Lookup(m.key);
      if (column < 0) {
        return InputError(file, line, Printable(m.key),
                          "unknown column for table " + schema.table.name);
      }
      if (seen[column]) {
        return InputError(file, line, schema.table.columns[column].name,
                          "duplicate key in the object (a column and its alias count as one)");
      }
      seen[column] = true;
      in_file[column] = true;
      RETURN_IF_ERROR(ConvertJson(schema, file, line, column, m.value, &row[column]));
    }
    for (size_t c = 0; c < schema.size(); ++c) {
      if (schema.table.columns[c].required && !seen[c]) {
        return InputError(file, line, schema.table.columns[c].name, "missing required key");
      }
    }
    result.rows.push_back(std::move(row));
    result.line_numbers.push_back(line);
  }
  if (result.rows.empty() && !options.allow_empty) return NoDataRows(file);
  for (size_t c = 0; c < schema.size(); ++c) {
    if (in_file[c]) result.columns.push_back(static_cast<int>(c));
  }
  return result;
}

// ---- Files ----

// ---- Writing ----

// The CSV text of a cell, formatted by the column's type where the value's kind allows.
std::string FormatTypedCell(ColumnType type, const Value& v) {
  if (type == ColumnType::kBool && v.is_int() && (v.as_int() == 0 || v.as_int() == 1)) {
    return v.as_int() != 0 ? "true" : "false";
  }
  if (type == ColumnType::kReal && v.is_int()) {
    return FormatDouble(static_cast<double>(v.as_int()));
  }
  if (type == ColumnType::kInteger && v.is_bool()) return v.as_bool() ? "1" : "0";
  return FormatCell(v);
}

void AppendJsonValue(std::string* out, ColumnType type, const Value& v) {
  if (v.is_null()) {
    out->append("null");
    return;
  }
  switch (type) {
    case ColumnType::kBool:
      if (v.is_bool()) {
        out->append(v.as_bool() ? "true" : "false");
        return;
      }
      if (v.is_int() && (v.as_int() == 0 || v.as_int() == 1)) {
        out->append(v.as_int() != 0 ? "true" : "false");
        return;
      }
      break;
    case ColumnType::kInteger:
    case ColumnType::kReal:
      if (v.is_int() || v.is_real()) {
        AppendJsonValue(out, v);
        return;
      }
      if (v.is_bool() && type == ColumnType::kInteger) {
        out->append(v.as_bool() ? "1" : "0");
        return;
      }
      break;
    case ColumnType::kText:
    case ColumnType::kDate:
    case ColumnType::kTimestamp:
      AppendJsonString(out, v.is_text() ? std::string_view(v.as_text()) : FormatCell(v));
      return;
  }
  // A kind that does not fit the column: write it by its own kind.
  AppendJsonValue(out, v);
}

class CsvTableWriter : public TableWriter {
 public:
  CsvTableWriter(const TableDef& table, std::ostream* out) : table_(table), out_(out) {}

  void WriteHeader() override {
    if (header_written_) return;
    header_written_ = true;
    line_.clear();
    for (size_t i = 0; i < table_.columns.size(); ++i) {
      if (i > 0) line_ += ',';
      csv::AppendCell(&line_, table_.columns[i].name);
    }
    line_ += '\n';
    out_->write(line_.data(), static_cast<std::streamsize>(line_.size()));
  }

  void WriteRow(const Row& row) override {
    WriteHeader();
    line_.clear();
    for (size_t i = 0; i < table_.columns.size(); ++i) {
      if (i > 0) line_ += ',';
      if (i < row.size() && !row[i].is_null()) {
        csv::AppendCell(&line_, FormatTypedCell(table_.columns[i].type, row[i]));
      }
    }
    line_ += '\n';
    out_->write(line_.data(), static_cast<std::streamsize>(line_.size()));
  }

 private:
  const TableDef& table_;
  std::ostream* out_;
  bool header_written_ = false;
  std::string line_;
};

class JsonlTableWriter : public TableWriter {
 public:
  JsonlTableWriter(const TableDef& table, std::ostream* out) : table_(table), out_(out) {}

  void WriteHeader() override {}

  void WriteRow(const Row& row) override {
    line_.clear();
    line_ += '{';
    for (size_t i = 0; i < table_.columns.size(); ++i) {
      if (i > 0) line_ += ',';
      AppendJsonString(&line_, table_.columns[i].name);
      line_ += ':';
      AppendJsonValue(&line_, table_.columns[i].type, i < row.size() ? row[i] : Value());
    }
    line_ += "}\n";
    out_->write(line_.data(), static_cast<std::streamsize>(line_.size()));
  }

 private:
  const TableDef& table_;
  std::ostream* out_;
  std::string line_;
};

}  // namespace

StatusOr<std::string> ReadWholeFile(const std::string& path) {
  const int fd = path == "-" ? ::dup(STDIN_FILENO) : ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    std::string msg =
        "cannot open " + path + ": " + std::error_code(err, std::generic_category()).message();
    return err == ENOENT ? NotFoundError(std::move(msg)) : InvalidArgumentError(std::move(msg));
  }
  struct stat st {};
  if (::fstat(fd, &st) == 0) {
    if (S_ISDIR(st.st_mode)) {
      ::close(fd);
      return InvalidArgumentError("cannot read " + path + ": it is a directory");
    }
  }
  std::string data;
  if (S_ISREG(st.st_mode) && st.st_size > 0) data.reserve(static_cast<size_t>(st.st_size));
  char buf[1 << 16];
  while (true) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      ::close(fd);
      return InvalidArgumentError("cannot read " + path + ": " +
                                  std::error_code(err, std::generic_category()).message());
    }
    if (n == 0) break;
    data.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return data;
}

StatusOr<FileFormat> ResolveFileFormat(std::string_view flag, std::string_view path) {
  if (flag == "csv") return FileFormat::kCsv;
  if (flag == "jsonl") return FileFormat::kJsonl;
  if (!flag.empty()) {
    return InvalidArgumentError("unknown --format " + Quoted(flag) + ": use csv or jsonl");
  }
  const size_t slash = path.find_last_of('/');
  const std::string_view base = slash == std::string_view::npos ? path : path.substr(slash + 1);
  const size_t dot = base.find_last_of('.');
  const std::string ext = dot == std::string_view::npos ? "" : ToLower(base.substr(dot));
  if (ext == ".csv") return FileFormat::kCsv;
  if (ext == ".jsonl" || ext == ".ndjson" || ext == ".json") return FileFormat::kJsonl;
  return InvalidArgumentError("cannot tell the format of " + Quoted(path) +
                              " from its extension: use --format csv or --format jsonl");
}

StatusOr<TableFile> ParseTableText(const TableDef& table, std::string_view display_name,
                                   std::string_view text, FileFormat format,
                                   const ReadOptions& options) {
  if (text.substr(0, kBom.size()) == kBom) text.remove_prefix(kBom.size());
  const Schema schema(table);
  if (format == FileFormat::kCsv) return ParseCsv(schema, display_name, text, options);
  return ParseJsonl(schema, display_name, text, options);
}

StatusOr<TableFile> ReadTableFile(const TableDef& table, const std::string& path, FileFormat format,
                                  const ReadOptions& options) {
  ASSIGN_OR_RETURN(const std::string text, ReadWholeFile(path));
  return ParseTableText(table, path, text, format, options);
}

Status CheckLoadRows(const TableDef& table, const TableFile& file, std::string_view display_name,
                     std::string_view partition) {
  const int part = table.PartitionIndex();
  if (part < 0) return InvalidArgumentError("table " + table.name + " has no partitions");
  const BusinessKey key(table);
  std::unordered_map<std::string, int64_t> first_line;
  for (size_t i = 0; i < file.rows.size(); ++i) {
    const Row& row = file.rows[i];
    const int64_t line = i < file.line_numbers.size() ? file.line_numbers[i] : 0;
    const std::string value = FormatCell(row[part]);
    if (value != partition) {
      return InputError(
          display_name, line, table.partition_column,
          Quoted(value) + " is not the partition being loaded (" + Quoted(partition) + ")");
    }
    auto [it, inserted] = first_line.emplace(key.Of(row), line);
    if (!inserted) {
      return InputError(display_name, line, "",
                        "key " + Printable(key.TextOf(row)) + " repeats line " +
                            std::to_string(it->second) + " (a partition holds one row per key)");
    }
  }
  return OkStatus();
}

std::unique_ptr<TableWriter> TableWriter::Create(const TableDef& table, FileFormat format,
                                                 std::ostream* out) {
  if (out == nullptr) return nullptr;
  if (format == FileFormat::kCsv) return std::make_unique<CsvTableWriter>(table, out);
  return std::make_unique<JsonlTableWriter>(table, out);
}


}  // namespace propgrade

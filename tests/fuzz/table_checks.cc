#include "table_checks.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <optional>
#include <sstream>
#include <string>

#include "common/civil_date.h"
#include "common/status.h"
#include "common/strings.h"
#include "common/value.h"
#include "fuzz_check.h"

namespace propgrade::fuzz {
namespace {

constexpr std::string_view kFileName = "fuzz-input";
constexpr std::string_view kExportName = "fuzz-export";

std::string_view FormatName(FileFormat format) {
  return format == FileFormat::kCsv ? "csv" : "jsonl";
}

// An error names the file, then a line of it ("FILE:LINE: ...") or says it has no data rows.
void CheckError(const Status& status, std::string_view file, std::string_view text) {
  FUZZ_CHECK(status.code() == StatusCode::kInvalidArgument, status.ToString());
  const std::string& msg = status.message();
  FUZZ_CHECK(msg.size() > file.size() && msg.compare(0, file.size(), file) == 0, msg);
  std::string_view rest = std::string_view(msg).substr(file.size());
  if (rest == ": no data rows") return;
  FUZZ_CHECK(rest.front() == ':', msg);
  rest.remove_prefix(1);
  const size_t colon = rest.find(':');
  FUZZ_CHECK(colon != std::string_view::npos, msg);
  const std::optional<int64_t> line = ParseInt64(rest.substr(0, colon));
  const int64_t lines = std::count(text.begin(), text.end(), '\n') + 1;
  FUZZ_CHECK(line && *line >= 1 && *line <= lines, msg);
}

void CheckCell(const TableDef& table, size_t column, const Value& v) {
  const ColumnDef& def = table.columns[column];
  const std::string what = table.name + "." + def.name;
  if (v.is_null()) {
    FUZZ_CHECK(!def.required, what);
    return;
  }
  switch (def.type) {
    case ColumnType::kText: {
      FUZZ_CHECK(v.is_text() && !v.as_text().empty() && IsValidUtf8(v.as_text()), what);
      const bool control = std::any_of(v.as_text().begin(), v.as_text().end(), [](char c) {
        return static_cast<unsigned char>(c) < 0x20 || c == 0x7F;
      });
      FUZZ_CHECK(!control, what);
      break;
    }
    case ColumnType::kInteger:
      FUZZ_CHECK(v.is_int(), what);
      break;
    case ColumnType::kReal:
      FUZZ_CHECK(v.is_real() && std::isfinite(v.as_real()), what);
      break;
    case ColumnType::kBool:
      FUZZ_CHECK(v.is_bool(), what);
      break;
    case ColumnType::kDate: {
      FUZZ_CHECK(v.is_text(), what);
      const std::optional<CivilDay> day = CivilDay::Parse(v.as_text());
      FUZZ_CHECK(day && day->ToString() == v.as_text(), what + " = " + v.as_text());
      break;
    }
    case ColumnType::kTimestamp: {
      FUZZ_CHECK(v.is_text(), what);
      const std::optional<int64_t> micros = ParseTimestampMicros(v.as_text());
      FUZZ_CHECK(micros && FormatTimestampMicros(*micros) == v.as_text(),
                 what + " = " + v.as_text());
      break;
    }
  }
  if (table.name == "player_game_summary" && def.name == "points") {
    FUZZ_CHECK(v.as_int() >= 0 && v.as_int() <= 200, what);
  }
  if (table.name == "player_game_summary" && def.name == "minutes_played") {
    FUZZ_CHECK(v.as_real() >= 0 && !std::signbit(v.as_real()), what);
  }
}

void CheckRows(const TableDef& table, const TableFile& file, std::string_view text) {
  FUZZ_CHECK(file.rows.size() == file.line_numbers.size());
  const int64_t lines = std::count(text.begin(), text.end(), '\n') + 1;
  int64_t previous_line = 0;
  for (size_t r = 0; r < file.rows.size(); ++r) {
    FUZZ_CHECK(file.line_numbers[r] > previous_line && file.line_numbers[r] <= lines);
    previous_line = file.line_numbers[r];
    const Row& row = file.rows[r];
    FUZZ_CHECK(row.size() == table.columns.size(), table.name);
    for (size_t c = 0; c < row.size(); ++c) CheckCell(table, c, row[c]);
  }
}

// Exports the rows as `format` and imports the export: the same rows must come back.
void CheckRoundTrip(const TableDef& table, const std::vector<Row>& rows, FileFormat format) {
  std::ostringstream out;
  std::unique_ptr<TableWriter> writer = TableWriter::Create(table, format, &out);
  writer->WriteHeader();
  for (const Row& row : rows) writer->WriteRow(row);
  const std::string exported = out.str();
  StatusOr<TableFile> again =
      ParseTableText(table, kExportName, exported, format, ReadOptions{.allow_empty = false});
  const std::string what = table.name + " through " + std::string(FormatName(format));
  FUZZ_CHECK(again.ok(), what + ": " + again.status().ToString());
  FUZZ_CHECK(again->rows.size() == rows.size(), what);
  for (size_t r = 0; r < rows.size(); ++r) {
    for (size_t c = 0; c < rows[r].size(); ++c) {
      FUZZ_CHECK(again->rows[r][c] == rows[r][c], what + ": column " + table.columns[c].name);
    }
  }
}

}  // namespace

const std::vector<const TableDef*>& ImportTables() {
  static const std::vector<const TableDef*> tables = {
      &tables::Predictions(), &tables::Actuals(), &tables::Injuries(), &tables::Archetypes(),
      &tables::Accuracy()};
  return tables;
}

void CheckTableText(std::string_view text, FileFormat format) {
  for (const TableDef* table : ImportTables()) {
    StatusOr<TableFile> strict =
        ParseTableText(*table, kFileName, text, format, ReadOptions{.allow_empty = false});
    StatusOr<TableFile> lenient =
        ParseTableText(*table, kFileName, text, format, ReadOptions{.allow_empty = true});
    if (!strict.ok()) CheckError(strict.status(), kFileName, text);
    if (!lenient.ok()) CheckError(lenient.status(), kFileName, text);
    // allow_empty only lets a file without data rows through.
    if (strict.ok()) {
      FUZZ_CHECK(!strict->rows.empty());
      FUZZ_CHECK(lenient.ok() && lenient->rows == strict->rows &&
                 lenient->line_numbers == strict->line_numbers);
    }
    if (!lenient.ok()) continue;
    FUZZ_CHECK(strict.ok() == !lenient->rows.empty(),
               strict.ok() ? "" : strict.status().ToString());
    CheckRows(*table, *lenient, text);
    if (lenient->rows.empty()) continue;
    CheckRoundTrip(*table, lenient->rows, FileFormat::kCsv);
    CheckRoundTrip(*table, lenient->rows, FileFormat::kJsonl);
  }
}

}  // namespace propgrade::fuzz

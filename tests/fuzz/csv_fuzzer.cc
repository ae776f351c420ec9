// Fuzzes the CSV reader (io/csv.h) and CSV table files (io/table_file.h), as `propgrade import`
// reads them. Invariants: records start on increasing lines within the text; the reader's end
// and error states are sticky; records written back with AppendCell read back the same; a
// shorter line limit only ever adds an error; and the table-file checks of table_checks.h.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.h"
#include "io/csv.h"
#include "io/table_file.h"
#include "table_checks.h"

namespace propgrade::fuzz {
namespace {

using csv::CsvReader;
using Records = std::vector<std::vector<std::string>>;

// A line limit small enough for the fuzzer's inputs to cross it.
constexpr size_t kShortLineBytes = 24;

// Reads every record until the end or an error, checking the reader's own contract.
Records ReadAll(std::string_view text, size_t max_line_bytes, CsvReader::Result* last) {
  const int64_t lines = static_cast<int64_t>(std::count(text.begin(), text.end(), '\n')) + 1;
  CsvReader reader(text, max_line_bytes);
  Records records;
  int64_t previous_line = 0;
  while ((*last = reader.Next()) == CsvReader::Result::kRecord) {
    // A record holds at least one byte of the text, so there are never more than its size.
    FUZZ_CHECK(records.size() < text.size());
    FUZZ_CHECK(reader.record_line() > previous_line && reader.record_line() <= lines);
    previous_line = reader.record_line();
    FUZZ_CHECK(!reader.fields().empty());
    records.emplace_back(reader.fields().begin(), reader.fields().end());
  }
  if (*last == CsvReader::Result::kError) {
    const CsvReader::Error& e = reader.error();
    FUZZ_CHECK(e.line >= 1 && e.line <= lines && e.field >= -1 && !e.message.empty());
  }
  // Both end states are sticky.
  FUZZ_CHECK(reader.Next() == *last);
  return records;
}

// The records as CSV text: AppendCell for each field; a record of one empty field is written
// as "" (an empty line is no record).
std::string WriteAll(const Records& records) {
  std::string out;
  for (const std::vector<std::string>& fields : records) {
    if (fields.size() == 1 && fields[0].empty()) {
      out += "\"\"";
    } else {
      for (size_t i = 0; i < fields.size(); ++i) {
        if (i > 0) out += ',';
        csv::AppendCell(&out, fields[i]);
      }
    }
    out += '\n';
  }
  return out;
}

void CheckReader(std::string_view text) {
  CsvReader::Result last;
  const Records records = ReadAll(text, csv::kMaxLineBytes, &last);
  FUZZ_CHECK(last != CsvReader::Result::kRecord);

  // A shorter line limit reads a prefix of the same records, all of them if it reaches the end.
  CsvReader::Result short_last;
  const Records short_records = ReadAll(text, kShortLineBytes, &short_last);
  FUZZ_CHECK(short_records.size() <= records.size());
  FUZZ_CHECK(std::equal(short_records.begin(), short_records.end(), records.begin()));
  if (short_last == CsvReader::Result::kEnd) {
    FUZZ_CHECK(last == CsvReader::Result::kEnd && short_records.size() == records.size());
  }

  if (last != CsvReader::Result::kEnd) return;
  const std::string written = WriteAll(records);
  CsvReader::Result again_last;
  const Records again = ReadAll(written, csv::kMaxLineBytes, &again_last);
  FUZZ_CHECK(again_last == CsvReader::Result::kEnd);
  FUZZ_CHECK(again == records);
}

}  // namespace
}  // namespace propgrade::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  propgrade::fuzz::CheckReader(text);
  propgrade::fuzz::CheckTableText(text, propgrade::FileFormat::kCsv);
  return 0;
}

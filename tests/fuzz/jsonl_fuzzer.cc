// Fuzzes JSONL table files (io/table_file.h) as `propgrade import` reads them: the table-file
// checks of table_checks.h, and an accepted file gives one row per non-blank line.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "schema/schema.h"
#include "fuzz_check.h"
#include "io/table_file.h"
#include "table_checks.h"

namespace propgrade::fuzz {
namespace {

// Lines holding something other than spaces, tabs and CRs.
size_t NonBlankLines(std::string_view text) {
  size_t count = 0;
  bool blank = true;
  for (char c : text) {
    if (c == '\n') {
      if (!blank) ++count;
      blank = true;
    } else if (c != ' ' && c != '\t' && c != '\r') {
      blank = false;
    }
  }
  return blank ? count : count + 1;
}

void CheckRowPerLine(std::string_view text) {
  for (const TableDef* table : ImportTables()) {
    StatusOr<TableFile> file =
        ParseTableText(*table, "fuzz-input", text, FileFormat::kJsonl,
                       ReadOptions{.allow_empty = true});
    if (!file.ok()) continue;
    // A leading BOM is skipped before the lines are read.
    std::string_view body = text;
    if (body.substr(0, 3) == "\xEF\xBB\xBF") body.remove_prefix(3);
    FUZZ_CHECK(file->rows.size() == NonBlankLines(body), table->name);
  }
}

}  // namespace
}  // namespace propgrade::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  propgrade::fuzz::CheckTableText(text, propgrade::FileFormat::kJsonl);
  propgrade::fuzz::CheckRowPerLine(text);
  return 0;
}

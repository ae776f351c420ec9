// Reading and writing table files: CSV and JSONL import with full validation (every error names
// file, line and column), and CSV/JSONL export in the catalogue's column order
// (spec/operations.md §10). Stateless functions; thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "schema/schema.h"
#include "common/value.h"
#include "common/value_text.h"  // FormatCell

namespace propgrade {

enum class FileFormat { kCsv, kJsonl };

// `flag` is "csv", "jsonl" or "" (then from the extension of `path`: .csv, .jsonl/.json/.ndjson).
StatusOr<FileFormat> ResolveFileFormat(std::string_view flag, std::string_view path);

struct ReadOptions {
  bool allow_empty = false;  // an empty file (no data rows) is an error unless set. Default: false
};

struct TableFile {
  std::vector<Row> rows;             // in the TableDef's column order; absent columns are NULL
  std::vector<int64_t> line_numbers; // the 1-based source line of each row (for later errors)
  // The columns the file has, as ascending catalogue indexes (for Store::Import): those its CSV
  // header names, or that any of its JSONL objects has as a key (an object without a key
  // another object has gives NULL for it). Empty when the file has no data rows.
  std::vector<int> columns;
};

// A whole file's bytes; "-" reads standard input to its end. NotFound for a missing file.
StatusOr<std::string> ReadWholeFile(const std::string& path);

// Reads and validates a whole file. All-or-nothing: the first problem returns
// InvalidArgument "FILE:LINE: column 'NAME': what is wrong" and no rows.
StatusOr<TableFile> ReadTableFile(const TableDef& table, const std::string& path, FileFormat format,
                                  const ReadOptions& options);
// The same over text already in memory; `display_name` stands for the file in errors.
StatusOr<TableFile> ParseTableText(const TableDef& table, std::string_view display_name,
                                   std::string_view text, FileFormat format,
                                   const ReadOptions& options);

// The rows of a load into `partition` (`propgrade load`, the HTTP PUT): InvalidArgument
// "FILE:LINE: column 'C': ..." for the first row whose partition column holds another
// partition, and for a row whose key an earlier row of the file has.
Status CheckLoadRows(const TableDef& table, const TableFile& file, std::string_view display_name,
                     std::string_view partition);

// Writes rows of one table: CSV with a header (booleans true/false, NULL empty, reals in
// shortest round-trip form, timestamps as stored) or JSONL (one object per row, JSON numbers and
// booleans, null for NULL). Not thread-safe; one writer per stream.
class TableWriter {
 public:
  virtual ~TableWriter() = default;
  static std::unique_ptr<TableWriter> Create(const TableDef& table, FileFormat format,
                                             std::ostream* out);
  // CSV writes the header line on the first call; JSONL writes nothing.
  virtual void WriteHeader() = 0;
  virtual void WriteRow(const Row& row) = 0;
};

}  // namespace propgrade

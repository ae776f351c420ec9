// Low-level CSV (RFC 4180) for the table-file formats: a record reader over text in memory that
// enforces the physical line limit as it scans, and cell quoting for writers. Knows nothing of
// tables or types. A CsvReader is not thread-safe (one per text); the free functions are.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace propgrade::csv {

// The longest physical line accepted, without its line end (LF or CRLF).
inline constexpr size_t kMaxLineBytes = size_t{1} << 20;

// Finds the end of the physical line starting at `start` (< text.size()): `*line_end` becomes
// the index of its '\n', or text.size() for a last line without one. Looks at no more than
// `max_bytes` + 2 bytes. Returns false when the line (without "\n" or "\r\n") is longer than
// `max_bytes`.
bool FindLineEnd(std::string_view text, size_t start, size_t max_bytes, size_t* line_end);

// Splits text into records. Fields are separated by ',', records by LF or CRLF; a field that
// starts with '"' is quoted and may hold ',', '"' (written "") and line ends. Lines that are
// empty (apart from a CR) between records are skipped. A '"' inside an unquoted field is kept
// as a literal character.
class CsvReader {
 public:
  enum class Result { kRecord, kEnd, kError };
  struct Error {
    int64_t line = 0;  // 1-based physical line
    int field = -1;    // 0-based field index, or -1 when no field applies
    std::string message;
  };

  explicit CsvReader(std::string_view text, size_t max_line_bytes = kMaxLineBytes);

  // Reads the next record. After kError the reader stays in error.
  Result Next();

  // The fields of the last record (unquoted, "" unescaped). Valid until the next call of Next.
  const std::vector<std::string_view>& fields() const { return fields_; }
  // The 1-based line the last record starts on.
  int64_t record_line() const { return record_line_; }
  const Error& error() const { return error_; }

 private:
  struct Span {
    bool in_arena;
    size_t offset;
    size_t size;
  };
  // Starts the physical line at pos_ (sets line_end_); false (error set) when it is too long.
  bool StartLine();
  // Moves past the '\n' at line_end_ onto the next line; false on error.
  bool NextLine();
  // The end of the current line's content: line_end_ without a CR before it.
  size_t ContentEnd() const;
  Result Fail(int64_t line, int field, std::string message);

  std::string_view text_;
  size_t max_line_bytes_;
  size_t pos_ = 0;
  size_t line_start_ = 0;
  size_t line_end_ = 0;
  int64_t line_ = 1;
  bool failed_ = false;
  int64_t record_line_ = 0;
  std::vector<Span> spans_;
  std::string arena_;
  std::vector<std::string_view> fields_;
  Error error_;
};

// True when a cell must be quoted: it holds ',', '"', CR or LF, or starts or ends with a space
// or tab.
bool NeedsQuoting(std::string_view cell);
// Appends `cell` to `out`, quoted (with '"' doubled) when NeedsQuoting.
void AppendCell(std::string* out, std::string_view cell);

}  // namespace propgrade::csv

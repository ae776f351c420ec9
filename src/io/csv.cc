#include "io/csv.h"

#include <algorithm>
#include <cstring>
#include <utility>

namespace propgrade::csv {

bool FindLineEnd(std::string_view text, size_t start, size_t max_bytes, size_t* line_end) {
  const size_t remaining = text.size() - start;
  const size_t window = std::min(remaining, max_bytes + 2);
  const char* base = text.data();
  if (const void* nl = std::memchr(base + start, '\n', window)) {
    const size_t end = static_cast<size_t>(static_cast<const char*>(nl) - base);
    size_t length = end - start;
    if (length > 0 && text[end - 1] == '\r') --length;
    *line_end = end;
    return length <= max_bytes;
  }
  if (remaining > window) {  // no line end within max_bytes + 2: certainly too long
    *line_end = start + window;
    return false;
  }
  size_t length = remaining;
  if (length > 0 && text.back() == '\r') --length;
  *line_end = text.size();
  return length <= max_bytes;
}

CsvReader::CsvReader(std::string_view text, size_t max_line_bytes)
    : text_(text), max_line_bytes_(max_line_bytes) {
  if (!text_.empty()) StartLine();
}

CsvReader::Result CsvReader::Fail(int64_t line, int field, std::string message) {
  failed_ = true;
  error_.line = line;
  error_.field = field;
  error_.message = std::move(message);
  return Result::kError;
}

bool CsvReader::StartLine() {
  line_start_ = pos_;
  if (pos_ >= text_.size()) {
    line_end_ = text_.size();
    return true;
  }
  if (!FindLineEnd(text_, pos_, max_line_bytes_, &line_end_)) {
    Fail(line_, -1, "line is longer than " + std::to_string(max_line_bytes_) + " bytes");
    return false;
  }
  return true;
}

bool CsvReader::NextLine() {
  pos_ = line_end_ + 1;
  ++line_;
  return StartLine();
}

size_t CsvReader::ContentEnd() const {
  size_t end = line_end_;
  if (end > line_start_ && text_[end - 1] == '\r') --end;
  return end;
}

CsvReader::Result CsvReader::Next() {
  if (failed_) return Result::kError;
  fields_.clear();
  spans_.clear();
  arena_.clear();

  // Skip blank lines; pos_ is at the start of a line here.
  while (true) {
    if (pos_ >= text_.size()) return Result::kEnd;
    if (ContentEnd() != pos_) break;
    if (line_end_ >= text_.size()) {
      pos_ = text_.size();
      return Result::kEnd;
    }
    if (!NextLine()) return Result::kError;
  }

  record_line_ = line_;
  const char* base = text_.data();
  while (true) {
    const int field = static_cast<int>(spans_.size());
    if (pos_ < text_.size() && text_[pos_] == '"') {
      ++pos_;
      const size_t start = pos_;
      size_t end = start;
      bool escaped = false;
      while (true) {
        const void* quote = std::memchr(base + pos_, '"', line_end_ - pos_);
        if (quote == nullptr) {
          if (line_end_ >= text_.size()) {
            return Fail(record_line_, field, "unterminated quoted field");
          }
          if (!NextLine()) return Result::kError;
          continue;
        }
        const size_t q = static_cast<size_t>(static_cast<const char*>(quote) - base);
        if (q + 1 < text_.size() && text_[q + 1] == '"') {
          escaped = true;
          pos_ = q + 2;
          continue;
        }
        end = q;
        pos_ = q + 1;
        break;
      }
      if (!escaped) {
        spans_.push_back({false, start, end - start});
      } else {
        const size_t arena_start = arena_.size();
        for (size_t i = start; i < end; ++i) {
          arena_ += text_[i];
          if (text_[i] == '"') ++i;  // the second quote of ""
        }
        spans_.push_back({true, arena_start, arena_.size() - arena_start});
      }
      if (pos_ < ContentEnd()) {
        if (text_[pos_] == ',') {
          ++pos_;
          continue;
        }
        return Fail(line_, field, "unexpected character after a closing quote");
      }
    } else {
      const size_t content_end = ContentEnd();
      const void* comma = std::memchr(base + pos_, ',', content_end - pos_);
      if (comma != nullptr) {
        const size_t c = static_cast<size_t>(static_cast<const char*>(comma) - base);
        spans_.push_back({false, pos_, c - pos_});
        pos_ = c + 1;
        continue;
      }
      spans_.push_back({false, pos_, content_end - pos_});
    }
    // End of the record.
    if (line_end_ >= text_.size()) {
      pos_ = text_.size();
    } else if (!NextLine()) {
      return Result::kError;
    }
    break;
  }

  fields_.reserve(spans_.size());
  for (const Span& s : spans_) {
    fields_.push_back(s.in_arena ? std::string_view(arena_).substr(s.offset, s.size)
                                 : text_.substr(s.offset, s.size));
  }
  return Result::kRecord;
}

bool NeedsQuoting(std::string_view cell) {
  if (cell.empty()) return false;
  if (cell.front() == ' ' || cell.front() == '\t' || cell.back() == ' ' || cell.back() == '\t') {
    return true;
  }
  return cell.find_first_of(",\"\r\n") != std::string_view::npos;
}

void AppendCell(std::string* out, std::string_view cell) {
  if (!NeedsQuoting(cell)) {
    out->append(cell);
    return;
  }
  out->push_back('"');
  for (char c : cell) {
    if (c == '"') out->push_back('"');
    out->push_back(c);
  }
  out->push_back('"');
}

}  // namespace propgrade::csv

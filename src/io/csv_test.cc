#include "io/csv.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace propgrade::csv {
namespace {

using Result = CsvReader::Result;

struct Record {
  int64_t line;
  std::vector<std::string> fields;
};

// Reads every record; stops at the end or the first error.
std::vector<Record> ReadAll(CsvReader* reader, Result* last) {
  std::vector<Record> out;
  while ((*last = reader->Next()) == Result::kRecord) {
    out.push_back({reader->record_line(),
                   std::vector<std::string>(reader->fields().begin(), reader->fields().end())});
  }
  return out;
}

TEST(CsvReaderTest, SplitsPlainRecords) {
  CsvReader reader("a,b,c\n1,,3\n");
  Result last;
  auto records = ReadAll(&reader, &last);
  EXPECT_EQ(last, Result::kEnd);
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].fields, (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(records[1].fields, (std::vector<std::string>{"1", "", "3"}));
  EXPECT_EQ(records[1].line, 2);
}

TEST(CsvReaderTest, QuotedFieldsWithCommasQuotesAndNewlines) {
  CsvReader reader("\"x, y\",\"say \"\"hi\"\"\",\"\"\n\"two\nlines\",b,c\nlast,\"q\",\n");
  Result last;
  auto records = ReadAll(&reader, &last);
  EXPECT_EQ(last, Result::kEnd);
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(records[0].fields, (std::vector<std::string>{"x, y", "say \"hi\"", ""}));
  EXPECT_EQ(records[1].fields, (std::vector<std::string>{"two\nlines", "b", "c"}));
  EXPECT_EQ(records[1].line, 2);
  EXPECT_EQ(records[2].line, 4);  // counted after the embedded line end
  EXPECT_EQ(records[2].fields, (std::vector<std::string>{"last", "q", ""}));
}

TEST(CsvReaderTest, CrlfAndBlankLinesAndNoFinalNewline) {
  CsvReader reader("a,b\r\n\r\n\n\"1\",2\r\n3,4");
  Result last;
  auto records = ReadAll(&reader, &last);
  EXPECT_EQ(last, Result::kEnd);
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(records[0].fields, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(records[1].fields, (std::vector<std::string>{"1", "2"}));
  EXPECT_EQ(records[1].line, 4);
  EXPECT_EQ(records[2].fields, (std::vector<std::string>{"3", "4"}));
  EXPECT_EQ(records[2].line, 5);
}

TEST(CsvReaderTest, BareQuoteInsideUnquotedFieldIsLiteral) {
  CsvReader reader("6'8\",x\n");
  ASSERT_EQ(reader.Next(), Result::kRecord);
  EXPECT_EQ(reader.fields()[0], "6'8\"");
}

TEST(CsvReaderTest, EmptyInputHasNoRecords) {
  CsvReader empty("");
  EXPECT_EQ(empty.Next(), Result::kEnd);
  CsvReader blank("\n\r\n\n");
  EXPECT_EQ(blank.Next(), Result::kEnd);
}

TEST(CsvReaderTest, UnterminatedQuoteReportsRecordStart) {
  CsvReader reader("a,b\nx,\"open\nmore\n");
  Result last;
  ReadAll(&reader, &last);
  ASSERT_EQ(last, Result::kError);
  EXPECT_EQ(reader.error().line, 2);
  EXPECT_EQ(reader.error().field, 1);
  EXPECT_NE(reader.error().message.find("unterminated"), std::string::npos);
}

TEST(CsvReaderTest, TextAfterClosingQuoteIsAnError) {
  CsvReader reader("a,b\n\"x\"y,z\n");
  Result last;
  ReadAll(&reader, &last);
  ASSERT_EQ(last, Result::kError);
  EXPECT_EQ(reader.error().line, 2);
  EXPECT_EQ(reader.error().field, 0);
}

TEST(CsvReaderTest, LineLimitIsExactAndCrlfNeutral) {
  const size_t max = 8;
  for (const char* ending : {"\n", "\r\n"}) {
    std::string ok = "a\n" + std::string(max, 'x') + ending + "b\n";
    CsvReader fine(ok, max);
    Result last;
    EXPECT_EQ(ReadAll(&fine, &last).size(), 3u);
    EXPECT_EQ(last, Result::kEnd);

    std::string bad = "a\n" + std::string(max + 1, 'x') + ending + "b\n";
    CsvReader reader(bad, max);
    ReadAll(&reader, &last);
    ASSERT_EQ(last, Result::kError);
    EXPECT_EQ(reader.error().line, 2);
    EXPECT_NE(reader.error().message.find("longer than 8 bytes"), std::string::npos);
  }
}

TEST(CsvReaderTest, LongLineInsideQuotedFieldAndAtEndOfInput) {
  const std::string quoted_text = "\"a\n" + std::string(20, 'x') + "\"\n";
  CsvReader quoted(quoted_text, 8);
  EXPECT_EQ(quoted.Next(), Result::kError);
  EXPECT_EQ(quoted.error().line, 2);
  const std::string last_text = "a\n" + std::string(20, 'x');
  CsvReader last_line(last_text, 8);
  Result last;
  ReadAll(&last_line, &last);
  EXPECT_EQ(last, Result::kError);
  EXPECT_EQ(last_line.error().line, 2);
}

TEST(CsvReaderTest, FindLineEndLooksOnlyAtABoundedWindow) {
  // No line end in a long text: reported as too long with the window end, not the text end.
  const std::string text(1000, 'x');
  size_t end = 0;
  EXPECT_FALSE(FindLineEnd(text, 0, 8, &end));
  EXPECT_EQ(end, 10u);
  EXPECT_TRUE(FindLineEnd("abc\ndef", 4, 8, &end));
  EXPECT_EQ(end, 7u);
}

TEST(CsvQuotingTest, QuotesOnlyWhenNeeded) {
  EXPECT_FALSE(NeedsQuoting(""));
  EXPECT_FALSE(NeedsQuoting("plain text"));
  for (const char* s : {"a,b", "say \"x\"", "a\nb", "a\rb", " lead", "trail "}) {
    EXPECT_TRUE(NeedsQuoting(s)) << s;
  }
  std::string out;
  AppendCell(&out, "say \"hi\", ok");
  EXPECT_EQ(out, "\"say \"\"hi\"\", ok\"");
  out.clear();
  AppendCell(&out, "plain");
  EXPECT_EQ(out, "plain");
}

TEST(CsvQuotingTest, QuotedCellsReadBack) {
  const std::vector<std::string> cells = {"a,b", "q\"q", " x ", "multi\nline", "", "z"};
  std::string line;
  for (size_t i = 0; i < cells.size(); ++i) {
    if (i) line += ',';
    AppendCell(&line, cells[i]);
  }
  line += "\n";
  CsvReader reader(line);
  ASSERT_EQ(reader.Next(), Result::kRecord);
  EXPECT_EQ(std::vector<std::string>(reader.fields().begin(), reader.fields().end()), cells);
}

}  // namespace
}  // namespace propgrade::csv

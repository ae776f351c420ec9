#include "io/table_file.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

namespace propgrade {
namespace {

constexpr size_t kMiB = 1048576;

const std::string kPredHeader =
    "prediction_id,game_date,game_id,player_lookup,system_id,created_at,line_value,"
    "has_prop_line,similar_games_count,recommendation";
const std::string kPredRow =
    "p1,2026-01-16,20260116_LAL_BOS,lebronjames,ensemble_v1,2026-01-15T20:00:00.000000Z,20.5,"
    "true,12,OVER";
const std::string kActHeader = "game_date,game_id,player_lookup,points,minutes_played,is_dnp";

StatusOr<TableFile> Csv(const TableDef& table, std::string_view text, bool allow_empty = false) {
  ReadOptions options;
  options.allow_empty = allow_empty;
  return ParseTableText(table, "in.csv", text, FileFormat::kCsv, options);
}

StatusOr<TableFile> Jsonl(const TableDef& table, std::string_view text, bool allow_empty = false) {
  ReadOptions options;
  options.allow_empty = allow_empty;
  return ParseTableText(table, "in.jsonl", text, FileFormat::kJsonl, options);
}

// Predictions CSV of kPredHeader and the given rows (each a full line without its end).
std::string PredCsv(const std::vector<std::string>& rows) {
  std::string text = kPredHeader + "\n";
  for (const std::string& r : rows) text += r + "\n";
  return text;
}

// kPredRow with field `index` replaced by `value`.
std::string PredRowWith(size_t index, const std::string& value) {
  std::vector<std::string> fields;
  std::stringstream ss(kPredRow);
  std::string f;
  while (std::getline(ss, f, ',')) fields.push_back(f);
  fields.at(index) = value;
  std::string out;
  for (size_t i = 0; i < fields.size(); ++i) out += (i ? "," : "") + fields[i];
  return out;
}

// A bad-input result: InvalidArgument, "FILE:LINE: " first, and the column named (when given),
// and `also` somewhere in the message (when given).
::testing::AssertionResult IsInputError(const StatusOr<TableFile>& result, std::string_view file,
                                        int line, std::string_view column,
                                        std::string_view also = "") {
  if (result.ok()) return ::testing::AssertionFailure() << "parsed without error";
  const Status& s = result.status();
  if (s.code() != StatusCode::kInvalidArgument) {
    return ::testing::AssertionFailure() << "wrong code: " << s.ToString();
  }
  const std::string prefix = std::string(file) + ":" + std::to_string(line) + ": ";
  if (s.message().rfind(prefix, 0) != 0) {
    return ::testing::AssertionFailure() << "expected prefix '" << prefix << "': " << s.message();
  }
  if (!column.empty() &&
      s.message().find("column '" + std::string(column) + "'") == std::string::npos) {
    return ::testing::AssertionFailure() << "column '" << column << "' not named: " << s.message();
  }
  if (!also.empty() && s.message().find(also) == std::string::npos) {
    return ::testing::AssertionFailure() << "'" << also << "' not in: " << s.message();
  }
  return ::testing::AssertionSuccess() << s.message();
}

const Value& Cell(const TableFile& f, size_t row, int column) { return f.rows.at(row).at(column); }

// ---------------------------------------------------------------- CSV: accepted input

TEST(TableFileCsvTest, ParsesColumnsInAnyOrderWithAbsentColumnsNull) {
  const std::string text =
      "created_at,system_id,player_lookup,game_id,game_date,prediction_id,confidence_score\n"
      "2026-01-15T20:00:00Z,ensemble_v1,lebronjames,20260116_LAL_BOS,2026-01-16,p1,0.75\n"
      "2026-01-15T21:00:00Z,xgboost_v1,stephcurry,20260116_GSW_DEN,2026-01-16,p2,\n";
  auto file = Csv(tables::Predictions(), text);
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  ASSERT_EQ(file->rows.size(), 2u);
  EXPECT_EQ(file->line_numbers, (std::vector<int64_t>{2, 3}));
  const TableFile& f = *file;
  ASSERT_EQ(f.rows[0].size(), static_cast<size_t>(pred::kNumColumns));
  EXPECT_EQ(Cell(f, 0, pred::prediction_id), Value::Text("p1"));
  EXPECT_EQ(Cell(f, 0, pred::game_date), Value::Text("2026-01-16"));
  EXPECT_EQ(Cell(f, 0, pred::system_id), Value::Text("ensemble_v1"));
  EXPECT_EQ(Cell(f, 0, pred::created_at), Value::Text("2026-01-15T20:00:00.000000Z"));
  EXPECT_EQ(Cell(f, 0, pred::confidence_score), Value::Real(0.75));
  EXPECT_TRUE(Cell(f, 1, pred::confidence_score).is_null());
  EXPECT_TRUE(Cell(f, 0, pred::line_value).is_null());
  EXPECT_TRUE(Cell(f, 0, pred::is_active).is_null());
  EXPECT_EQ(Cell(f, 1, pred::player_lookup), Value::Text("stephcurry"));
}

// The columns a file has (what an upsert may set): the header's, by catalogue index, aliases
// as their column; none for a file without data rows.
TEST(TableFileCsvTest, ColumnsAreThoseTheHeaderNames) {
  std::string header = kActHeader;
  auto file = Csv(tables::Actuals(), "points," + header.substr(0, header.find(",points")) +
                                         "\n7,2026-01-16,g,a\n");
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  EXPECT_EQ(file->columns,
            (std::vector<int>{act::game_date, act::game_id, act::player_lookup, act::points}));
  std::string aliased = kPredHeader;
  aliased.replace(aliased.find("line_value"), std::string("line_value").size(),
                  "current_points_line");
  auto pred = Csv(tables::Predictions(), aliased + "\n" + kPredRow + "\n");
  ASSERT_TRUE(pred.ok()) << pred.status().ToString();
  EXPECT_EQ(pred->columns,
            (std::vector<int>{pred::prediction_id, pred::game_date, pred::game_id,
                              pred::player_lookup, pred::system_id, pred::recommendation,
                              pred::line_value, pred::has_prop_line, pred::similar_games_count,
                              pred::created_at}));
  auto header_only = Csv(tables::Actuals(), kActHeader + "\n", /*allow_empty=*/true);
  ASSERT_TRUE(header_only.ok());
  EXPECT_TRUE(header_only->columns.empty());
}

TEST(TableFileCsvTest, TypedValuesOfTheRow) {
  auto file = Csv(tables::Predictions(), PredCsv({kPredRow}));
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  EXPECT_EQ(Cell(*file, 0, pred::line_value), Value::Real(20.5));
  EXPECT_EQ(Cell(*file, 0, pred::has_prop_line), Value::Bool(true));
  EXPECT_EQ(Cell(*file, 0, pred::similar_games_count), Value::Int(12));
  EXPECT_EQ(Cell(*file, 0, pred::recommendation), Value::Text("OVER"));
}

TEST(TableFileCsvTest, AcceptsBomAndCrlf) {
  const std::string text =
      "\xEF\xBB\xBF" + kPredHeader + "\r\n" + kPredRow + "\r\n" + PredRowWith(0, "p2") + "\r\n";
  auto file = Csv(tables::Predictions(), text);
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  ASSERT_EQ(file->rows.size(), 2u);
  EXPECT_EQ(Cell(*file, 0, pred::prediction_id), Value::Text("p1"));     // BOM not in the name
  EXPECT_EQ(Cell(*file, 0, pred::recommendation), Value::Text("OVER"));  // no CR kept
  EXPECT_EQ(Cell(*file, 1, pred::prediction_id), Value::Text("p2"));
  EXPECT_EQ(file->line_numbers, (std::vector<int64_t>{2, 3}));
}

TEST(TableFileCsvTest, AcceptsQuotedFieldsWithCommasAndQuotes) {
  auto file = Csv(tables::Predictions(),
                  PredCsv({PredRowWith(3, "\"james, lebron\""), PredRowWith(0, "\"p\"\"2\"\"\"")}));
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  EXPECT_EQ(Cell(*file, 0, pred::player_lookup), Value::Text("james, lebron"));
  EXPECT_EQ(Cell(*file, 1, pred::prediction_id), Value::Text("p\"2\""));
}

TEST(TableFileCsvTest, AcceptsCurrentPointsLineAlias) {
  std::string header = kPredHeader;
  header.replace(header.find("line_value"), std::string("line_value").size(),
                 "current_points_line");
  auto file = Csv(tables::Predictions(), header + "\n" + kPredRow + "\n");
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  EXPECT_EQ(Cell(*file, 0, pred::line_value), Value::Real(20.5));
}

TEST(TableFileCsvTest, MinutesAsDecimalOrMinutesSeconds) {
  const std::string text = kActHeader +
                           "\n"
                           "2026-01-16,g,a,10,0:12,\n"
                           "2026-01-16,g,b,10,31:30,\n"
                           "2026-01-16,g,c,10,0:00,false\n"
                           "2026-01-16,g,d,10,25.5,\n"
                           "2026-01-16,g,e,0,0,TRUE\n"
                           "2026-01-16,g,f,,,\n";
  auto file = Csv(tables::Actuals(), text);
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  ASSERT_EQ(file->rows.size(), 6u);
  EXPECT_EQ(Cell(*file, 0, act::minutes_played), Value::Real(0.2));
  EXPECT_EQ(Cell(*file, 1, act::minutes_played), Value::Real(31.5));
  EXPECT_EQ(Cell(*file, 2, act::minutes_played), Value::Real(0.0));
  EXPECT_EQ(Cell(*file, 3, act::minutes_played), Value::Real(25.5));
  EXPECT_EQ(Cell(*file, 4, act::points), Value::Int(0));
  EXPECT_TRUE(Cell(*file, 5, act::points).is_null());
  EXPECT_TRUE(Cell(*file, 5, act::minutes_played).is_null());
}

TEST(TableFileCsvTest, BooleanForms) {
  const std::vector<std::pair<std::string, bool>> cases = {
      {"true", true},   {"TRUE", true},   {"True", true},   {"1", true},
      {"false", false}, {"FALSE", false}, {"fAlSe", false}, {"0", false}};
  for (const auto& [text, expected] : cases) {
    auto file = Csv(tables::Predictions(), PredCsv({PredRowWith(7, text)}));
    ASSERT_TRUE(file.ok()) << text << ": " << file.status().ToString();
    EXPECT_EQ(Cell(*file, 0, pred::has_prop_line), Value::Bool(expected)) << text;
  }
}

TEST(TableFileCsvTest, DatesAndTimestampsAreCanonical) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"2026-01-17T20:26:39.123456Z", "2026-01-17T20:26:39.123456Z"},
      {"2026-01-17 20:26:39.123456", "2026-01-17T20:26:39.123456Z"},
      {"2026-01-17T21:26:39+01:00", "2026-01-17T20:26:39.000000Z"},
      {"2026-01-17T20:26:39.5z", "2026-01-17T20:26:39.500000Z"},
  };
  for (const auto& [text, canonical] : cases) {
    auto file = Csv(tables::Predictions(), PredCsv({PredRowWith(5, text)}));
    ASSERT_TRUE(file.ok()) << text << ": " << file.status().ToString();
    EXPECT_EQ(Cell(*file, 0, pred::created_at), Value::Text(canonical)) << text;
    EXPECT_EQ(Cell(*file, 0, pred::game_date), Value::Text("2026-01-16"));
  }
}

TEST(TableFileCsvTest, WholeDecimalIntoIntegerColumn) {
  auto file = Csv(tables::Predictions(), PredCsv({PredRowWith(8, "25.0"), PredRowWith(8, "-3")}));
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  EXPECT_EQ(Cell(*file, 0, pred::similar_games_count), Value::Int(25));
  EXPECT_EQ(Cell(*file, 1, pred::similar_games_count), Value::Int(-3));
}

TEST(TableFileCsvTest, EmptyAndQuotedEmptyFieldsAreNull) {
  auto file = Csv(tables::Predictions(), PredCsv({PredRowWith(9, ""), PredRowWith(9, "\"\"")}));
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  EXPECT_TRUE(Cell(*file, 0, pred::recommendation).is_null());
  EXPECT_TRUE(Cell(*file, 1, pred::recommendation).is_null());
}

TEST(TableFileCsvTest, BlankLinesAreSkippedAndLineNumbersKept) {
  const std::string text =
      kPredHeader + "\n\n" + kPredRow + "\n\r\n\n" + PredRowWith(0, "p2") + "\n\n";
  auto file = Csv(tables::Predictions(), text);
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  EXPECT_EQ(file->line_numbers, (std::vector<int64_t>{3, 6}));
}

TEST(TableFileCsvTest, HeaderNamesTrimmedButTextKeptAsGiven) {
  std::string header = kPredHeader;
  header.replace(0, std::string("prediction_id").size(), "  prediction_id ");
  auto file = Csv(tables::Predictions(), header + "\n" + PredRowWith(9, "\" over \"") + "\n");
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  EXPECT_EQ(Cell(*file, 0, pred::recommendation), Value::Text(" over "));
}

TEST(TableFileCsvTest, AllowEmpty) {
  auto header_only = Csv(tables::Predictions(), kPredHeader + "\n", /*allow_empty=*/true);
  ASSERT_TRUE(header_only.ok()) << header_only.status().ToString();
  EXPECT_TRUE(header_only->rows.empty());
  auto empty = Csv(tables::Predictions(), "", /*allow_empty=*/true);
  ASSERT_TRUE(empty.ok()) << empty.status().ToString();
  EXPECT_TRUE(empty->rows.empty());
  EXPECT_TRUE(empty->line_numbers.empty());
  // The header is still checked.
  EXPECT_TRUE(IsInputError(Csv(tables::Predictions(), "nope\n", true), "in.csv", 1, "nope"));
}

TEST(TableFileCsvTest, LineOfExactlyOneMiBIsAccepted) {
  const std::string prefix = PredRowWith(9, "");
  const std::string row = prefix + std::string(kMiB - prefix.size(), 'x');
  ASSERT_EQ(row.size(), kMiB);
  auto file = Csv(tables::Predictions(), kPredHeader + "\r\n" + row + "\r\n");
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  EXPECT_EQ(Cell(*file, 0, pred::recommendation).as_text().size(), kMiB - prefix.size());
}

// ---------------------------------------------------------------- CSV: bad input

TEST(TableFileCsvErrorTest, WrongColumnCount) {
  auto few = Csv(tables::Predictions(), PredCsv({kPredRow, "p2,2026-01-16,g"}));
  EXPECT_TRUE(IsInputError(few, "in.csv", 3, "", "expected 10"));
  EXPECT_TRUE(IsInputError(few, "in.csv", 3, "", "found 3"));
  auto many = Csv(tables::Predictions(), PredCsv({kPredRow + ",extra"}));
  EXPECT_TRUE(IsInputError(many, "in.csv", 2, "", "found 11"));
}

TEST(TableFileCsvErrorTest, MissingRequiredColumn) {
  std::string header = kPredHeader;
  header.replace(header.find(",created_at"), std::string(",created_at").size(), "");
  auto r = Csv(tables::Predictions(), header + "\n" + "p1,2026-01-16,g,p,s,20.5,true,12,OVER\n");
  EXPECT_TRUE(IsInputError(r, "in.csv", 1, "created_at", "missing required column"));
}

TEST(TableFileCsvErrorTest, UnknownColumn) {
  auto r = Csv(tables::Predictions(), kPredHeader + ",colour\n" + kPredRow + ",red\n");
  EXPECT_TRUE(IsInputError(r, "in.csv", 1, "colour", "unknown column"));
}

TEST(TableFileCsvErrorTest, DuplicateHeader) {
  auto r = Csv(tables::Predictions(), kPredHeader + ",game_id\n" + kPredRow + ",g\n");
  EXPECT_TRUE(IsInputError(r, "in.csv", 1, "game_id", "duplicate"));
}

TEST(TableFileCsvErrorTest, AliasAndItsColumnBothPresent) {
  auto r = Csv(tables::Predictions(), kPredHeader + ",current_points_line\n" + kPredRow + ",3\n");
  EXPECT_TRUE(IsInputError(r, "in.csv", 1, "line_value", "duplicate"));
}

TEST(TableFileCsvErrorTest, RequiredValueEmpty) {
  EXPECT_TRUE(IsInputError(Csv(tables::Predictions(), PredCsv({kPredRow, PredRowWith(2, "")})),
                           "in.csv", 3, "game_id", "empty"));
  EXPECT_TRUE(IsInputError(Csv(tables::Predictions(), PredCsv({PredRowWith(4, "\"\"")})), "in.csv",
                           2, "system_id", "empty"));
}

TEST(TableFileCsvErrorTest, MalformedDate) {
  for (const char* bad : {"2026/01/16", "16-01-2026", "2026-1-16", "2026-01-16T00:00:00"}) {
    EXPECT_TRUE(IsInputError(Csv(tables::Predictions(), PredCsv({PredRowWith(1, bad)})), "in.csv",
                             2, "game_date", bad));
  }
}

TEST(TableFileCsvErrorTest, NonexistentDate) {
  EXPECT_TRUE(IsInputError(
      Csv(tables::Predictions(), PredCsv({kPredRow, kPredRow, PredRowWith(1, "2026-02-30")})),
      "in.csv", 4, "game_date", "2026-02-30"));
}

TEST(TableFileCsvErrorTest, BadTimestamp) {
  for (const char* bad : {"yesterday", "2026-01-17T25:00:00Z", "2026-01-17T20:26", "1700000000"}) {
    EXPECT_TRUE(IsInputError(Csv(tables::Predictions(), PredCsv({PredRowWith(5, bad)})), "in.csv",
                             2, "created_at", bad));
  }
}

TEST(TableFileCsvErrorTest, NonNumericNanAndInfiniteNumbers) {
  for (const char* bad : {"abc", "NaN", "nan", "inf", "-Infinity", "1e999", "20.5pts", " 20.5"}) {
    EXPECT_TRUE(IsInputError(Csv(tables::Predictions(), PredCsv({PredRowWith(6, bad)})), "in.csv",
                             2, "line_value", bad));
  }
  EXPECT_TRUE(IsInputError(Csv(tables::Predictions(), PredCsv({PredRowWith(8, "twelve")})),
                           "in.csv", 2, "similar_games_count", "twelve"));
}

TEST(TableFileCsvErrorTest, LongBadValueIsTruncatedInMessage) {
  const std::string bad(500, 'z');
  auto r = Csv(tables::Predictions(), PredCsv({PredRowWith(6, bad)}));
  ASSERT_TRUE(IsInputError(r, "in.csv", 2, "line_value", std::string(40, 'z') + "..."));
  EXPECT_LT(r.status().message().size(), 150u);
}

TEST(TableFileCsvErrorTest, IntegerMustBeWhole) {
  EXPECT_TRUE(IsInputError(Csv(tables::Predictions(), PredCsv({PredRowWith(8, "25.5")})), "in.csv",
                           2, "similar_games_count", "25.5"));
}

TEST(TableFileCsvErrorTest, BadBoolean) {
  for (const char* bad : {"yes", "t", "2", " true", "on"}) {
    EXPECT_TRUE(IsInputError(Csv(tables::Predictions(), PredCsv({PredRowWith(7, bad)})), "in.csv",
                             2, "has_prop_line", "not a boolean"));
  }
}

TEST(TableFileCsvErrorTest, ControlCharactersInText) {
  EXPECT_TRUE(IsInputError(Csv(tables::Predictions(), PredCsv({PredRowWith(9, "OV\tER")})),
                           "in.csv", 2, "recommendation", "control character"));
  EXPECT_TRUE(IsInputError(Csv(tables::Predictions(), PredCsv({PredRowWith(3, "bad\x7f")})),
                           "in.csv", 2, "player_lookup", "control character"));
  EXPECT_TRUE(
      IsInputError(Csv(tables::Predictions(), PredCsv({PredRowWith(3, std::string("nul\0x", 5))})),
                   "in.csv", 2, "player_lookup", "0x00"));
}

TEST(TableFileCsvErrorTest, NewlineInQuotedTextIsAControlCharacter) {
  // The record starts on line 3 and spans lines 3-4; the error names line 3.
  auto r = Csv(tables::Predictions(), PredCsv({kPredRow, PredRowWith(9, "\"OV\nER\"")}));
  EXPECT_TRUE(IsInputError(r, "in.csv", 3, "recommendation", "0x0A"));
}

TEST(TableFileCsvErrorTest, InvalidUtf8) {
  EXPECT_TRUE(
      IsInputError(Csv(tables::Predictions(), PredCsv({kPredRow, PredRowWith(3, "jos\xe9")})),
                   "in.csv", 3, "player_lookup", "UTF-8"));
  EXPECT_TRUE(IsInputError(Csv(tables::Predictions(), PredCsv({PredRowWith(6, "\xff\xfe")})),
                           "in.csv", 2, "line_value", "UTF-8"));
  // Valid multi-byte text is fine.
  auto ok = Csv(tables::Predictions(), PredCsv({PredRowWith(3, "jos\xc3\xa9")}));
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(Cell(*ok, 0, pred::player_lookup), Value::Text("jos\xc3\xa9"));
}

TEST(TableFileCsvErrorTest, LineLongerThanOneMiB) {
  const std::string prefix = PredRowWith(9, "");
  const std::string row = prefix + std::string(kMiB + 1 - prefix.size(), 'x');
  auto r = Csv(tables::Predictions(), PredCsv({kPredRow, row, kPredRow}));
  EXPECT_TRUE(IsInputError(r, "in.csv", 3, "", "longer than 1048576 bytes"));
  // A huge line without any line end: noticed without reading it all as one field.
  auto huge = Csv(tables::Predictions(), kPredHeader + "\n" + std::string(8 * kMiB, 'y'));
  EXPECT_TRUE(IsInputError(huge, "in.csv", 2, "", "longer than"));
}

TEST(TableFileCsvErrorTest, EmptyFileAndHeaderOnly) {
  for (const std::string& text : {std::string(), std::string("\n\n"), kPredHeader + "\n",
                                  kPredHeader, "\xEF\xBB\xBF" + kPredHeader + "\r\n\r\n"}) {
    auto r = Csv(tables::Predictions(), text);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(r.status().message(), "in.csv: no data rows");
  }
}

TEST(TableFileCsvErrorTest, PointsOutOfRange) {
  EXPECT_TRUE(IsInputError(Csv(tables::Actuals(), kActHeader + "\n2026-01-16,g,a,201,30,\n"),
                           "in.csv", 2, "points", "201"));
  EXPECT_TRUE(IsInputError(
      Csv(tables::Actuals(), kActHeader + "\n2026-01-16,g,a,20,30,\n2026-01-16,g,b,-1,30,\n"),
      "in.csv", 3, "points", "-1"));
  EXPECT_TRUE(IsInputError(Csv(tables::Actuals(), kActHeader + "\n2026-01-16,g,a,20.5,30,\n"),
                           "in.csv", 2, "points", "20.5"));
  auto edge = Csv(tables::Actuals(), kActHeader + "\n2026-01-16,g,a,200,30,\n");
  ASSERT_TRUE(edge.ok()) << edge.status().ToString();
}

TEST(TableFileCsvErrorTest, NegativeOrMalformedMinutes) {
  for (const char* bad : {"-0.5", "-1:30", "1:60", "1:5", "1:", ":30", "1:30:00", "a:bc"}) {
    EXPECT_TRUE(
        IsInputError(Csv(tables::Actuals(), kActHeader + "\n2026-01-16,g,a,20," + bad + ",\n"),
                     "in.csv", 2, "minutes_played"))
        << bad;
  }
}

TEST(TableFileCsvErrorTest, OtherTablesHaveNoPointsRule) {
  // prediction_accuracy.actual_points is an ordinary integer column.
  const TableDef& t = tables::Accuracy();
  auto r = Csv(t,
               "prediction_id,player_lookup,game_id,game_date,system_id,actual_points,"
               "minutes_played\np1,a,g,2026-01-16,s,250,-1\n");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(Cell(*r, 0, acc::actual_points), Value::Int(250));
  EXPECT_EQ(Cell(*r, 0, acc::minutes_played), Value::Real(-1));
}

TEST(TableFileCsvErrorTest, BrokenQuoting) {
  EXPECT_TRUE(IsInputError(Csv(tables::Predictions(), PredCsv({PredRowWith(9, "\"OVER")})),
                           "in.csv", 2, "recommendation", "unterminated"));
  EXPECT_TRUE(IsInputError(Csv(tables::Predictions(), PredCsv({PredRowWith(3, "\"a\"b")})),
                           "in.csv", 2, "player_lookup", "closing quote"));
}

// ---------------------------------------------------------------- JSONL

const std::string kPredJson =
    R"({"prediction_id":"p1","game_date":"2026-01-16","game_id":"20260116_LAL_BOS",)"
    R"("player_lookup":"lebronjames","system_id":"ensemble_v1",)"
    R"("created_at":"2026-01-15T20:00:00Z","line_value":20.5,"has_prop_line":true,)"
    R"("similar_games_count":12,"recommendation":"OVER","confidence_score":null})";

// kPredJson with `"key":value` appended (or replacing the key when present).
std::string PredJsonWith(const std::string& key, const std::string& value) {
  std::string text = kPredJson;
  const std::string needle = "\"" + key + "\":";
  const size_t at = text.find(needle);
  if (at == std::string::npos) {
    text.insert(text.size() - 1, "," + needle + value);
    return text;
  }
  const size_t start = at + needle.size();
  size_t end = start;
  if (text[start] == '"') {
    end = text.find('"', start + 1) + 1;
  } else {
    end = text.find_first_of(",}", start);
  }
  text.replace(start, end - start, value);
  return text;
}

TEST(TableFileJsonlTest, ParsesTypedValues) {
  auto file =
      Jsonl(tables::Predictions(), kPredJson + "\n" + PredJsonWith("prediction_id", "\"p2\""));
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  ASSERT_EQ(file->rows.size(), 2u);
  EXPECT_EQ(file->line_numbers, (std::vector<int64_t>{1, 2}));
  const TableFile& f = *file;
  EXPECT_EQ(Cell(f, 0, pred::prediction_id), Value::Text("p1"));
  EXPECT_EQ(Cell(f, 0, pred::game_date), Value::Text("2026-01-16"));
  EXPECT_EQ(Cell(f, 0, pred::created_at), Value::Text("2026-01-15T20:00:00.000000Z"));
  EXPECT_EQ(Cell(f, 0, pred::line_value), Value::Real(20.5));
  EXPECT_EQ(Cell(f, 0, pred::has_prop_line), Value::Bool(true));
  EXPECT_EQ(Cell(f, 0, pred::similar_games_count), Value::Int(12));
  EXPECT_TRUE(Cell(f, 0, pred::confidence_score).is_null());
  EXPECT_TRUE(Cell(f, 0, pred::is_active).is_null());
  EXPECT_EQ(Cell(f, 1, pred::prediction_id), Value::Text("p2"));
}

TEST(TableFileJsonlTest, StringsHoldingTextualFormsAndWholeNumbers) {
  auto a = Jsonl(tables::Predictions(), PredJsonWith("line_value", "\"20.5\"") + "\n" +
                                            PredJsonWith("has_prop_line", "\"FALSE\"") + "\n" +
                                            PredJsonWith("similar_games_count", "25.0") + "\n" +
                                            PredJsonWith("similar_games_count", "\"7\"") + "\n" +
                                            PredJsonWith("has_prop_line", "0") + "\n" +
                                            PredJsonWith("line_value", "21") + "\n");
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  ASSERT_EQ(a->rows.size(), 6u);
  EXPECT_EQ(Cell(*a, 0, pred::line_value), Value::Real(20.5));
  EXPECT_EQ(Cell(*a, 1, pred::has_prop_line), Value::Bool(false));
  EXPECT_EQ(Cell(*a, 2, pred::similar_games_count), Value::Int(25));
  EXPECT_EQ(Cell(*a, 3, pred::similar_games_count), Value::Int(7));
  EXPECT_EQ(Cell(*a, 4, pred::has_prop_line), Value::Bool(false));
  EXPECT_EQ(Cell(*a, 5, pred::line_value), Value::Real(21));
}

TEST(TableFileJsonlTest, AliasBomCrlfBlankLinesAndEmptyStrings) {
  std::string line = kPredJson;
  line.replace(line.find("\"line_value\""), std::string("\"line_value\"").size(),
               "\"current_points_line\"");
  const std::string text =
      "\xEF\xBB\xBF" + line + "\r\n\r\n  \n" + PredJsonWith("recommendation", "\"\"") + "\r\n";
  auto file = Jsonl(tables::Predictions(), text);
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  ASSERT_EQ(file->rows.size(), 2u);
  EXPECT_EQ(file->line_numbers, (std::vector<int64_t>{1, 4}));
  EXPECT_EQ(Cell(*file, 0, pred::line_value), Value::Real(20.5));
  EXPECT_TRUE(Cell(*file, 1, pred::recommendation).is_null());
}

TEST(TableFileJsonlTest, ActualsMinutesAndPoints) {
  auto file =
      Jsonl(tables::Actuals(), R"({"game_date":"2026-01-16","game_id":"g","player_lookup":"a",)"
                               R"("points":25.0,"minutes_played":"0:12","is_dnp":false})"
                               "\n"
                               R"({"game_date":"2026-01-16","game_id":"g","player_lookup":"b",)"
                               R"("points":"30","minutes_played":31.5})");
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  EXPECT_EQ(Cell(*file, 0, act::points), Value::Int(25));
  EXPECT_EQ(Cell(*file, 0, act::minutes_played), Value::Real(0.2));
  EXPECT_EQ(Cell(*file, 0, act::is_dnp), Value::Bool(false));
  EXPECT_EQ(Cell(*file, 1, act::points), Value::Int(30));
  EXPECT_EQ(Cell(*file, 1, act::minutes_played), Value::Real(31.5));
}

// A JSONL file has the columns any of its objects names (null values included); an object
// without one of them reads NULL there.
TEST(TableFileJsonlTest, ColumnsAreTheKeysOfAnyObject) {
  auto file =
      Jsonl(tables::Actuals(), R"({"game_date":"2026-01-16","game_id":"g","player_lookup":"a",)"
                               R"("points":25})"
                               "\n"
                               R"({"player_lookup":"b","game_id":"g","game_date":"2026-01-16",)"
                               R"("is_dnp":null})");
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  EXPECT_EQ(file->columns, (std::vector<int>{act::game_date, act::game_id, act::player_lookup,
                                             act::points, act::is_dnp}));
  EXPECT_TRUE(Cell(*file, 1, act::points).is_null());
  auto empty = Jsonl(tables::Actuals(), "\n", /*allow_empty=*/true);
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->columns.empty());
}

TEST(TableFileJsonlTest, AllowEmpty) {
  auto r = Jsonl(tables::Predictions(), "\n\n", /*allow_empty=*/true);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->rows.empty());
}

TEST(TableFileJsonlErrorTest, UnknownKey) {
  EXPECT_TRUE(IsInputError(
      Jsonl(tables::Predictions(), kPredJson + "\n" + PredJsonWith("colour", "\"red\"")),
      "in.jsonl", 2, "colour", "unknown column"));
}

TEST(TableFileJsonlErrorTest, MissingRequiredKey) {
  std::string line = kPredJson;
  line.replace(line.find(R"("game_id":"20260116_LAL_BOS",)"),
               std::string(R"("game_id":"20260116_LAL_BOS",)").size(), "");
  EXPECT_TRUE(IsInputError(Jsonl(tables::Predictions(), line), "in.jsonl", 1, "game_id",
                           "missing required"));
}

TEST(TableFileJsonlErrorTest, NullOrEmptyRequiredValue) {
  EXPECT_TRUE(IsInputError(Jsonl(tables::Predictions(), PredJsonWith("game_id", "null")),
                           "in.jsonl", 1, "game_id", "null"));
  EXPECT_TRUE(IsInputError(Jsonl(tables::Predictions(), PredJsonWith("system_id", "\"\"")),
                           "in.jsonl", 1, "system_id", "empty"));
}

TEST(TableFileJsonlErrorTest, LineThatIsNotAJsonObject) {
  for (const char* bad :
       {"[1,2]", "42", "\"text\"", "{\"prediction_id\":", "{bad}", "null", "{} {}"}) {
    EXPECT_TRUE(IsInputError(Jsonl(tables::Predictions(), kPredJson + "\n" + bad + "\n"),
                             "in.jsonl", 2, ""))
        << bad;
  }
}

TEST(TableFileJsonlErrorTest, NestedValue) {
  EXPECT_TRUE(IsInputError(Jsonl(tables::Predictions(), PredJsonWith("line_value", "[20.5]")),
                           "in.jsonl", 1, "line_value", "must be a string, number"));
  EXPECT_TRUE(IsInputError(Jsonl(tables::Predictions(), PredJsonWith("model_version", "{}")),
                           "in.jsonl", 1, "model_version"));
}

TEST(TableFileJsonlErrorTest, DuplicateKeyOrAlias) {
  EXPECT_TRUE(IsInputError(Jsonl(tables::Predictions(),
                                 kPredJson.substr(0, kPredJson.size() - 1) + R"(,"game_id":"x"})"),
                           "in.jsonl", 1, "game_id", "duplicate"));
  EXPECT_TRUE(IsInputError(Jsonl(tables::Predictions(), PredJsonWith("current_points_line", "3")),
                           "in.jsonl", 1, "line_value", "duplicate"));
}

TEST(TableFileJsonlErrorTest, BadNumbersAndWrongKinds) {
  EXPECT_TRUE(
      IsInputError(Jsonl(tables::Predictions(), PredJsonWith("similar_games_count", "25.5")),
                   "in.jsonl", 1, "similar_games_count", "25.5"));
  EXPECT_TRUE(IsInputError(Jsonl(tables::Predictions(), PredJsonWith("line_value", "\"NaN\"")),
                           "in.jsonl", 1, "line_value", "NaN"));
  EXPECT_TRUE(IsInputError(Jsonl(tables::Predictions(), PredJsonWith("line_value", "1e999")),
                           "in.jsonl", 1, "line_value", "overflow"));
  EXPECT_TRUE(IsInputError(Jsonl(tables::Predictions(), PredJsonWith("line_value", "true")),
                           "in.jsonl", 1, "line_value", "boolean"));
  EXPECT_TRUE(IsInputError(Jsonl(tables::Predictions(), PredJsonWith("game_id", "20260116")),
                           "in.jsonl", 1, "game_id", "expected a string"));
  EXPECT_TRUE(IsInputError(Jsonl(tables::Predictions(), PredJsonWith("has_prop_line", "\"yes\"")),
                           "in.jsonl", 1, "has_prop_line", "not a boolean"));
  EXPECT_TRUE(IsInputError(Jsonl(tables::Predictions(), PredJsonWith("has_prop_line", "2")),
                           "in.jsonl", 1, "has_prop_line", "not a boolean"));
  EXPECT_TRUE(
      IsInputError(Jsonl(tables::Predictions(), PredJsonWith("game_date", "\"2026-02-30\"")),
                   "in.jsonl", 1, "game_date", "2026-02-30"));
  EXPECT_TRUE(IsInputError(Jsonl(tables::Predictions(), PredJsonWith("created_at", "\"soon\"")),
                           "in.jsonl", 1, "created_at", "soon"));
}

TEST(TableFileJsonlErrorTest, ActualsRangeRules) {
  const std::string base = R"({"game_date":"2026-01-16","game_id":"g","player_lookup":"a",)";
  EXPECT_TRUE(IsInputError(Jsonl(tables::Actuals(), base + R"("points":201})"), "in.jsonl", 1,
                           "points", "201"));
  EXPECT_TRUE(IsInputError(Jsonl(tables::Actuals(), base + R"("points":-2})"), "in.jsonl", 1,
                           "points", "-2"));
  EXPECT_TRUE(IsInputError(Jsonl(tables::Actuals(), base + R"("minutes_played":-0.5})"), "in.jsonl",
                           1, "minutes_played", "negative"));
  EXPECT_TRUE(IsInputError(Jsonl(tables::Actuals(), base + R"("minutes_played":"1:75"})"),
                           "in.jsonl", 1, "minutes_played", "1:75"));
}

TEST(TableFileJsonlErrorTest, ControlCharacterInString) {
  EXPECT_TRUE(IsInputError(Jsonl(tables::Predictions(),
                                 kPredJson + "\n" + PredJsonWith("recommendation", R"("OV\tER")")),
                           "in.jsonl", 2, "recommendation", "control character"));
  EXPECT_TRUE(IsInputError(Jsonl(tables::Predictions(), PredJsonWith("filter_reason", R"("a\nb")")),
                           "in.jsonl", 1, "filter_reason", "0x0A"));
}

TEST(TableFileJsonlErrorTest, InvalidUtf8) {
  EXPECT_TRUE(IsInputError(
      Jsonl(tables::Predictions(), kPredJson + "\n" + PredJsonWith("player_lookup", "\"jos\xe9\"")),
      "in.jsonl", 2, "", "UTF-8"));
}

TEST(TableFileJsonlErrorTest, LineLongerThanOneMiB) {
  const std::string big = PredJsonWith("filter_reason", "\"" + std::string(kMiB, 'x') + "\"");
  EXPECT_TRUE(IsInputError(Jsonl(tables::Predictions(), kPredJson + "\n\n" + big + "\n"),
                           "in.jsonl", 3, "", "longer than 1048576 bytes"));
}

TEST(TableFileJsonlErrorTest, EmptyFile) {
  for (const char* text : {"", "\n", "  \r\n"}) {
    auto r = Jsonl(tables::Predictions(), text);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(r.status().message(), "in.jsonl: no data rows");
  }
}

// ---------------------------------------------------------------- Writing

std::string WriteAll(const TableDef& table, FileFormat format, const std::vector<Row>& rows) {
  std::ostringstream out;
  auto writer = TableWriter::Create(table, format, &out);
  writer->WriteHeader();
  for (const Row& r : rows) writer->WriteRow(r);
  return out.str();
}

TEST(TableFileWriterTest, FormatCell) {
  EXPECT_EQ(FormatCell(Value()), "");
  EXPECT_EQ(FormatCell(Value::Bool(true)), "true");
  EXPECT_EQ(FormatCell(Value::Bool(false)), "false");
  EXPECT_EQ(FormatCell(Value::Int(-42)), "-42");
  EXPECT_EQ(FormatCell(Value::Real(0.1)), "0.1");
  EXPECT_EQ(FormatCell(Value::Real(25.0)), "25");
  EXPECT_EQ(FormatCell(Value::Real(1.0 / 3)), "0.3333333333333333");
  EXPECT_EQ(FormatCell(Value::Text("a,b")), "a,b");
}

TEST(TableFileWriterTest, CsvHeaderQuotingAndColumnTypes) {
  const TableDef& t = tables::Archetypes();
  const std::string text = WriteAll(t, FileFormat::kCsv,
                                    {{Value::Text("a,b"), Value::Text("say \"hi\"")},
                                     {Value::Text(" lead"), Value()},
                                     {Value::Text("plain"), Value::Text("trail ")}});
  EXPECT_EQ(text,
            "player_lookup,archetype\n"
            "\"a,b\",\"say \"\"hi\"\"\"\n"
            "\" lead\",\n"
            "plain,\"trail \"\n");

  // Values from a store whose kind differs from the column type.
  Row row(acc::kNumColumns);
  row[acc::has_prop_line] = Value::Int(1);
  row[acc::is_push] = Value::Int(0);
  row[acc::line_value] = Value::Int(20);
  row[acc::predicted_points] = Value::Real(21.25);
  row[acc::actual_points] = Value::Int(25);
  std::ostringstream out;
  auto writer = TableWriter::Create(tables::Accuracy(), FileFormat::kCsv, &out);
  writer->WriteHeader();
  writer->WriteHeader();  // only once
  writer->WriteRow(row);
  std::string header, line;
  std::istringstream in(out.str());
  std::getline(in, header);
  std::getline(in, line);
  EXPECT_EQ(header.rfind("prediction_id,player_lookup,game_id,game_date,system_id,team_abbr,", 0),
            0u);
  std::string rest;
  EXPECT_FALSE(std::getline(in, rest));  // one header line, one row
  std::vector<std::string> cells;
  std::stringstream ss(line);
  std::string c;
  while (std::getline(ss, c, ',')) cells.push_back(c);
  cells.resize(acc::kNumColumns);
  EXPECT_EQ(cells[acc::has_prop_line], "true");
  EXPECT_EQ(cells[acc::is_push], "false");
  EXPECT_EQ(cells[acc::line_value], "20");
  EXPECT_EQ(cells[acc::predicted_points], "21.25");
  EXPECT_EQ(cells[acc::actual_points], "25");
}

TEST(TableFileWriterTest, JsonlShape) {
  Row row(act::kNumColumns);
  row[act::game_date] = Value::Text("2026-01-16");
  row[act::game_id] = Value::Text("20260116_LAL_BOS");
  row[act::player_lookup] = Value::Text("quote\"back\\slash");
  row[act::points] = Value::Int(25);
  row[act::minutes_played] = Value::Real(31.5);
  row[act::is_dnp] = Value::Int(0);  // an SQLite integer in a bool column
  const std::string text = WriteAll(tables::Actuals(), FileFormat::kJsonl, {row});
  EXPECT_EQ(text,
            R"({"game_date":"2026-01-16","game_id":"20260116_LAL_BOS",)"
            R"("player_lookup":"quote\"back\\slash","team_abbr":null,"opponent_team_abbr":null,)"
            R"("points":25,"minutes_played":31.5,"is_dnp":false,"dnp_reason":null})"
            "\n");
  // And it reads back.
  auto back = Jsonl(tables::Actuals(), text);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  Row expected = row;
  expected[act::is_dnp] = Value::Bool(false);
  EXPECT_EQ(back->rows[0], expected);
}

TEST(TableFileWriterTest, JsonlRealsAreShortestAndBoolsAreJsonBooleans) {
  Row row(pred::kNumColumns);
  row[pred::predicted_points] = Value::Real(0.1 + 0.2);
  row[pred::line_value] = Value::Real(20.0);
  row[pred::has_prop_line] = Value::Bool(true);
  row[pred::similar_games_count] = Value::Int(3);
  row[pred::confidence_score] = Value::Real(std::nan(""));
  const std::string text = WriteAll(tables::Predictions(), FileFormat::kJsonl, {row});
  EXPECT_NE(text.find(R"("predicted_points":0.30000000000000004,)"), std::string::npos) << text;
  EXPECT_NE(text.find(R"("line_value":20,)"), std::string::npos) << text;
  EXPECT_NE(text.find(R"("has_prop_line":true,)"), std::string::npos) << text;
  EXPECT_NE(text.find(R"("similar_games_count":3,)"), std::string::npos) << text;
  EXPECT_NE(text.find(R"("confidence_score":null,)"), std::string::npos) << text;
  EXPECT_NE(text.find(R"("prediction_id":null,)"), std::string::npos) << text;
  EXPECT_EQ(text.find('\n'), text.size() - 1);
}

TEST(TableFileWriterTest, JsonlEscapesControlCharacters) {
  Row row = {Value::Text("a\tb\x01"), Value::Text("x")};
  EXPECT_EQ(WriteAll(tables::Archetypes(), FileFormat::kJsonl, {row}),
            "{\"player_lookup\":\"a\\tb\\u0001\",\"archetype\":\"x\"}\n");
}

// Parses CSV, writes it, parses the output: the rows must be equal, and writing is stable.
void ExpectCsvRoundTrip(const TableDef& table, const std::string& text, size_t rows) {
  auto first = Csv(table, text);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  ASSERT_EQ(first->rows.size(), rows);
  const std::string written = WriteAll(table, FileFormat::kCsv, first->rows);
  auto second = Csv(table, written);
  ASSERT_TRUE(second.ok()) << second.status().ToString() << "\n" << written;
  EXPECT_EQ(second->rows, first->rows);
  EXPECT_EQ(WriteAll(table, FileFormat::kCsv, second->rows), written);
  // And through JSONL as well.
  auto third = Jsonl(table, WriteAll(table, FileFormat::kJsonl, first->rows));
  ASSERT_TRUE(third.ok()) << third.status().ToString();
  EXPECT_EQ(third->rows, first->rows);
}

TEST(TableFileRoundTripTest, Predictions) {
  const std::string text =
      "created_at,prediction_id,game_date,game_id,player_lookup,system_id,predicted_points,"
      "confidence_score,recommendation,current_points_line,line_source,has_prop_line,"
      "estimated_line_value,pace_adjustment,similar_games_count,model_version,is_active,"
      "is_actionable,filter_reason,injury_status_at_prediction,injury_flag_at_prediction,"
      "invalidation_reason\n"
      "2026-01-15 20:00:00.1234567+02:00,p1,2026-01-16,20260116_LAL_BOS,lebronjames,ensemble_v1,"
      "25.3,0.1,OVER,24.5,ODDS_API,TRUE,,0.9876,12,\"v1, \"\"beta\"\"\",1,0,,Questionable,"
      "false,\n"
      "2026-01-15T21:00:00Z,p2,2026-01-16,20260116_LAL_BOS,\" spaced \",xgboost_v1,,95,,,,,"
      "30.25,,,,,,\"note, with comma\",,,postponed\n";
  ExpectCsvRoundTrip(tables::Predictions(), text, 2);
}

TEST(TableFileRoundTripTest, PredictionAccuracy) {
  const TableDef& t = tables::Accuracy();
  std::string header;
  std::string full;
  std::string sparse;
  for (size_t i = 0; i < t.columns.size(); ++i) {
    const ColumnDef& c = t.columns[i];
    const std::string sep = i ? "," : "";
    header += sep + c.name;
    std::string value;
    switch (c.type) {
      case ColumnType::kText:
        value = "\"" + c.name + ", \"\"x\"\"\"";
        break;
      case ColumnType::kInteger:
        value = std::to_string(i * 7);
        break;
      case ColumnType::kReal:
        value = std::to_string(i) + ".1";
        break;
      case ColumnType::kBool:
        value = i % 2 ? "true" : "0";
        break;
      case ColumnType::kDate:
        value = "2026-01-16";
        break;
      case ColumnType::kTimestamp:
        value = "2026-01-17T03:04:05.678Z";
        break;
    }
    full += sep + value;
    sparse += sep + (c.required ? value : "");
  }
  ExpectCsvRoundTrip(t, header + "\n" + full + "\n" + sparse + "\n", 2);
}

// ---------------------------------------------------------------- Files and formats

TEST(TableFileFormatTest, ResolveFileFormat) {
  EXPECT_EQ(*ResolveFileFormat("csv", "x.jsonl"), FileFormat::kCsv);
  EXPECT_EQ(*ResolveFileFormat("jsonl", "x.csv"), FileFormat::kJsonl);
  EXPECT_EQ(*ResolveFileFormat("", "/d/x.CSV"), FileFormat::kCsv);
  EXPECT_EQ(*ResolveFileFormat("", "x.jsonl"), FileFormat::kJsonl);
  EXPECT_EQ(*ResolveFileFormat("", "x.ndjson"), FileFormat::kJsonl);
  EXPECT_EQ(*ResolveFileFormat("", "x.json"), FileFormat::kJsonl);
  auto bad_flag = ResolveFileFormat("xml", "x.csv");
  ASSERT_FALSE(bad_flag.ok());
  EXPECT_EQ(bad_flag.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad_flag.status().message().find("xml"), std::string::npos);
  auto bad_ext = ResolveFileFormat("", "dir.csv/data.txt");
  ASSERT_FALSE(bad_ext.ok());
  EXPECT_EQ(bad_ext.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad_ext.status().message().find("--format"), std::string::npos);
  EXPECT_FALSE(ResolveFileFormat("", "noextension").ok());
}

TEST(TableFileReadTest, ReadsARealFile) {
  char path[] = "/tmp/propgrade_table_file_XXXXXX";
  const int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  close(fd);
  {
    std::ofstream out(path, std::ios::binary);
    out << "\xEF\xBB\xBF" << kActHeader << "\r\n2026-01-16,g,a,25,31:30,\r\n";
  }
  auto file = ReadTableFile(tables::Actuals(), path, FileFormat::kCsv, ReadOptions{});
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  ASSERT_EQ(file->rows.size(), 1u);
  EXPECT_EQ(Cell(*file, 0, act::minutes_played), Value::Real(31.5));

  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << kActHeader << "\n2026-01-16,g,a,25,31:30,\n2026-01-16,g,b,999,1,\n";
  }
  auto bad = ReadTableFile(tables::Actuals(), path, FileFormat::kCsv, ReadOptions{});
  EXPECT_TRUE(IsInputError(bad, path, 3, "points", "999"));
  std::remove(path);

  auto missing = ReadTableFile(tables::Actuals(), path, FileFormat::kCsv, ReadOptions{});
  ASSERT_FALSE(missing.ok());
  EXPECT_TRUE(missing.status().code() == StatusCode::kNotFound ||
              missing.status().code() == StatusCode::kInvalidArgument);
  EXPECT_NE(missing.status().message().find(path), std::string::npos);

  auto directory = ReadTableFile(tables::Actuals(), "/tmp", FileFormat::kCsv, ReadOptions{});
  ASSERT_FALSE(directory.ok());
  EXPECT_NE(directory.status().message().find("/tmp"), std::string::npos);
}

TEST(TableFileReadTest, GoldenInputsParse) {
  const std::string dir = std::string(PROPGRADE_SOURCE_DIR) + "/tests/fixtures/golden/inputs/";
  auto predictions =
      ReadTableFile(tables::Predictions(), dir + "predictions.csv", FileFormat::kCsv, {});
  ASSERT_TRUE(predictions.ok()) << predictions.status().ToString();
  EXPECT_EQ(predictions->rows.size(), 29887u);
  EXPECT_EQ(predictions->line_numbers.size(), 29887u);
  auto actuals = ReadTableFile(tables::Actuals(), dir + "actuals.csv", FileFormat::kCsv, {});
  ASSERT_TRUE(actuals.ok()) << actuals.status().ToString();
  EXPECT_EQ(actuals->rows.size(), 5005u);
  EXPECT_EQ(actuals->line_numbers.back(), 5006);
  // Spot-check the first actual row: 2025-02-01,20250201_MIA_BKN,coldartanury,MIA,BKN,39,31.2,0,
  EXPECT_EQ(Cell(*actuals, 0, act::points), Value::Int(39));
  EXPECT_EQ(Cell(*actuals, 0, act::minutes_played), Value::Real(31.2));
  EXPECT_EQ(Cell(*actuals, 0, act::is_dnp), Value::Bool(false));
  EXPECT_TRUE(Cell(*actuals, 0, act::dnp_reason).is_null());
}

}  // namespace
}  // namespace propgrade

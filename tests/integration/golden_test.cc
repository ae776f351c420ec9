// The golden test: imports the fixture's inputs, grades its whole range through the CLI,
// exports the three output tables and compares them cell by cell with the expected files, as
// tests/fixtures/golden/README.md describes.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "common/strings.h"
#include "schema/schema.h"
#include "io/csv.h"
#include "io/table_file.h"
#include "testing/subprocess.h"
#include "testing/temp_dir.h"

namespace propgrade {
namespace {

using testing::CommandResult;
using testing::RunCommand;

class GoldenTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new testing::TempDir();
    db_ = "sqlite:" + dir_->path() + "/golden.db";
    const std::string in = testing::GoldenDir() + "/inputs/";
    for (const char* kind : {"predictions", "actuals", "injuries", "archetypes"}) {
      CommandResult r = Cli({"import", kind, in + kind + ".csv"});
      ASSERT_EQ(r.exit_code, 0) << r.err;
    }
    grade_ = new CommandResult(Cli({"grade", "--from", "2025-02-01", "--to", "2025-02-22"}));
  }
  static void TearDownTestSuite() {
    delete grade_;
    delete dir_;
  }

  static CommandResult Cli(std::vector<std::string> args) {
    args.insert(args.begin(), {testing::PropgradeBinary(), "--db", db_, "--log-format", "json"});
    return RunCommand(args);
  }

  // Parses CSV text as rows of `table` (types from the catalogue).
  static std::vector<Row> Parse(const TableDef& table, const std::string& name,
                                const std::string& text) {
    ReadOptions options;
    options.allow_empty = true;
    auto parsed = ParseTableText(table, name, text, FileFormat::kCsv, options);
    EXPECT_TRUE(parsed.ok()) << parsed.status().ToString();
    return parsed.ok() ? parsed->rows : std::vector<Row>{};
  }

  static std::string ReadFile(const std::string& path) {
    std::ifstream in(path);
    std::stringstream buf;
    buf << in.rdbuf();
    return buf.str();
  }

  static std::string KeyOf(const TableDef& t, const Row& r) {
    std::vector<std::string> parts;
    for (int k : t.KeyIndexes()) parts.push_back(r[k].is_null() ? "NULL" : FormatCell(r[k]));
    return Join(parts, "|");
  }

  // Compares every cell of every expected row with the exported row of the same key.
  void Compare(const TableDef& t, const std::vector<Row>& expected, const std::vector<Row>& got,
               const std::set<std::string>& unrounded) {
    std::set<std::string> ignore = {"graded_at", "computed_at", "run_id", "fence_token"};
    std::map<std::string, const Row*> by_key;
    for (const Row& r : got) {
      EXPECT_TRUE(by_key.emplace(KeyOf(t, r), &r).second) << "duplicate key " << KeyOf(t, r);
    }
    EXPECT_EQ(got.size(), expected.size()) << t.name;
    int mismatches = 0;
    for (const Row& e : expected) {
      std::string key = KeyOf(t, e);
      auto it = by_key.find(key);
      if (it == by_key.end()) {
        ADD_FAILURE() << t.name << ": missing row " << key;
        if (++mismatches > 20) return;
        continue;
      }
      const Row& g = *it->second;
      for (size_t c = 0; c < t.columns.size(); ++c) {
        const std::string& col = t.columns[c].name;
        if (ignore.count(col)) continue;
        bool equal = e[c] == g[c];
        if (!equal && e[c].is_real() && g[c].is_real()) {
          double tol = unrounded.count(col) ? 1e-9 : 0;
          // A cell whose exact value lies half-way may land one unit off (README).
          if (ties_.count(t.name + "|" + key + "|" + col)) tol = 0.0011;
          equal = std::fabs(e[c].as_real() - g[c].as_real()) <= tol;
        }
        if (!equal) {
          ADD_FAILURE() << t.name << " " << key << " column " << col << ": expected '"
                        << FormatCell(e[c]) << "' got '" << FormatCell(g[c]) << "'";
          if (++mismatches > 20) return;
        }
      }
    }
  }

  void SetUp() override {
    ASSERT_EQ(grade_->exit_code, 0) << grade_->out << grade_->err;
    std::string text = ReadFile(testing::GoldenDir() + "/expected/rounding_ties.csv");
    csv::CsvReader reader(text);
    bool header = true;
    while (reader.Next() == csv::CsvReader::Result::kRecord) {
      if (header) {
        header = false;
        continue;
      }
      const auto& f = reader.fields();
      ties_.insert(std::string(f[0]) + "|" + std::string(f[1]) + "|" + std::string(f[2]));
    }
  }

  static testing::TempDir* dir_;
  static std::string db_;
  static CommandResult* grade_;
  std::set<std::string> ties_;
};

testing::TempDir* GoldenTest::dir_ = nullptr;
std::string GoldenTest::db_;
CommandResult* GoldenTest::grade_ = nullptr;

TEST_F(GoldenTest, PredictionAccuracyMatchesEveryCell) {
  CommandResult r = Cli({"export", "prediction_accuracy"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const TableDef& t = tables::Accuracy();
  Compare(t, Parse(t, "expected", ReadFile(testing::GoldenDir() + "/expected/prediction_accuracy.csv")),
          Parse(t, "export", r.out), {});
}

TEST_F(GoldenTest, SystemDailyPerformanceMatchesEveryCell) {
  CommandResult r = Cli({"export", "system_daily_performance"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const TableDef& t = tables::DailyPerformance();
  Compare(t, Parse(t, "expected", ReadFile(testing::GoldenDir() + "/expected/system_daily_performance.csv")),
          Parse(t, "export", r.out), {});
}

TEST_F(GoldenTest, PerformanceSummaryAsOfTheLastDateMatchesEveryCell) {
  CommandResult r = Cli({"export", "prediction_performance_summary", "--date", "2025-02-21"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const TableDef& t = tables::Summary();
  Compare(t,
          Parse(t, "expected",
                ReadFile(testing::GoldenDir() + "/expected/prediction_performance_summary.csv")),
          Parse(t, "export", r.out),
          {"hit_rate", "over_hit_rate", "under_hit_rate", "mae", "avg_bias", "within_3_pct",
           "within_5_pct", "avg_confidence"});
  // 2025-02-22 ended no_actuals: no snapshot was written for it.
  CommandResult none = Cli({"export", "prediction_performance_summary", "--date", "2025-02-22"});
  EXPECT_EQ(Parse(t, "export", none.out).size(), 0u);
}

TEST_F(GoldenTest, RunRecordsMatchTheExpectedCounts) {
  CommandResult r = Cli({"export", "grading_runs"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::map<std::string, Row> grading_by_date;
  for (Row& row : Parse(tables::GradingRuns(), "export", r.out)) {
    if (row[runs::processor].as_text() == "grading") {
      grading_by_date[row[runs::game_date].as_text()] = row;
    }
  }
  std::string text = ReadFile(testing::GoldenDir() + "/expected/grading_runs.csv");
  csv::CsvReader reader(text);
  ASSERT_EQ(reader.Next(), csv::CsvReader::Result::kRecord);
  std::vector<std::string> header(reader.fields().begin(), reader.fields().end());
  int dates = 0;
  while (reader.Next() == csv::CsvReader::Result::kRecord) {
    ++dates;
    const auto& f = reader.fields();
    std::string date(f[0]);
    ASSERT_TRUE(grading_by_date.count(date)) << date;
    const Row& got = grading_by_date[date];
    for (size_t i = 1; i < header.size(); ++i) {
      int col = tables::GradingRuns().ColumnIndex(header[i]);
      ASSERT_GE(col, 0) << header[i];
      std::string expected(f[i]);
      std::string actual = FormatCell(got[col]);
      if (!expected.empty() && !actual.empty() && got[col].is_real()) {
        EXPECT_DOUBLE_EQ(std::stod(expected), got[col].as_real()) << date << " " << header[i];
      } else {
        EXPECT_EQ(expected, actual) << date << " " << header[i];
      }
    }
  }
  EXPECT_EQ(dates, 22);
}

TEST_F(GoldenTest, TheCopyMatchesTheSharedFixtureWhenPresent) {
  const std::string shared = testing::SourceDir() + "/../shared/fixtures/golden";
  std::ifstream probe(shared + "/README.md");
  if (!probe) GTEST_SKIP() << "no ../shared next to this checkout";
  for (const char* f : {"inputs/predictions.csv", "inputs/actuals.csv", "inputs/injuries.csv",
                        "inputs/archetypes.csv", "expected/prediction_accuracy.csv",
                        "expected/system_daily_performance.csv",
                        "expected/prediction_performance_summary.csv",
                        "expected/grading_runs.csv", "expected/rounding_ties.csv"}) {
    EXPECT_EQ(ReadFile(shared + "/" + f), ReadFile(testing::GoldenDir() + "/" + f)) << f;
  }
}

}  // namespace
}  // namespace propgrade

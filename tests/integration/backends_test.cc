// The same inputs graded on SQLite and on PostgreSQL give identical tables.
#include <gtest/gtest.h>

#include <cstdlib>
#include <set>
#include <sstream>

#include "io/csv.h"
#include "testing/pg.h"
#include "testing/subprocess.h"
#include "testing/temp_dir.h"
#include "testing/skip.h"

namespace propgrade {
namespace {

using testing::CommandResult;

// The rows of a CSV export with the per-run columns (graded_at, computed_at, run_id) blanked.
std::multiset<std::string> Lines(const std::string& text) {
  csv::CsvReader reader(text);
  std::vector<bool> drop;
  std::multiset<std::string> out;
  while (reader.Next() == csv::CsvReader::Result::kRecord) {
    const auto& fields = reader.fields();
    if (drop.empty()) {
      for (std::string_view col : fields) {
        drop.push_back(col == "graded_at" || col == "computed_at" || col == "run_id");
      }
      continue;
    }
    std::string row;
    for (size_t i = 0; i < fields.size(); ++i) {
      row += (i < drop.size() && drop[i] ? std::string_view() : fields[i]);
      row += '\x1f';
    }
    out.insert(row);
  }
  return out;
}

TEST(BackendsTest, SqliteAndPostgresGradeIdentically) {
  const char* pg = std::getenv("PROPGRADE_TEST_PG_URL");
  if (!pg || !*pg) PROPGRADE_SKIP_WITHOUT("PROPGRADE_TEST_PG_URL is not set");
  testing::TempDir dir;
  const std::string schema = "b_" + testing::RandomSchemaSuffix();
  const std::vector<std::string> dbs = {"sqlite:" + dir.path() + "/b.db",
                                        std::string(pg) + "?schema=" + schema};
  std::vector<std::map<std::string, std::multiset<std::string>>> exported(2);
  for (size_t i = 0; i < dbs.size(); ++i) {
    auto cli = [&](std::vector<std::string> args) {
      args.insert(args.begin(), {testing::PropgradeBinary(), "--db", dbs[i], "--log-format", "json"});
      return testing::RunCommand(args);
    };
    const std::string in = testing::GoldenDir() + "/inputs/";
    for (const char* kind : {"predictions", "actuals", "injuries", "archetypes"}) {
      CommandResult r = cli({"import", kind, in + kind + ".csv"});
      ASSERT_EQ(r.exit_code, 0) << r.err;
    }
    CommandResult g = cli({"grade", "--from", "2025-02-01", "--to", "2025-02-22"});
    ASSERT_EQ(g.exit_code, 0) << g.err.substr(0, 3000);
    for (const char* table : {"prediction_accuracy", "system_daily_performance",
                              "prediction_performance_summary"}) {
      CommandResult e = cli({"export", table});
      ASSERT_EQ(e.exit_code, 0) << e.err;
      exported[i][table] = Lines(e.out);
    }
  }
  testing::DropPgSchema(pg, schema);
  for (const auto& [table, lines] : exported[0]) {
    EXPECT_GT(lines.size(), 100u) << table;
    EXPECT_TRUE(lines == exported[1][table]) << table << " differs between SQLite and PostgreSQL";
  }
}

}  // namespace
}  // namespace propgrade

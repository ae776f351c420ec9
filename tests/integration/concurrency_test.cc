// Several processes grade the same date at the same moment, round after round. Whatever the
// interleaving, every partition must end with no duplicate keys and exactly the expected rows:
// the atomic replace alone guarantees it (there is no lock yet to lean on).
#include <gtest/gtest.h>

#include <cstdlib>
#include <memory>
#include <set>

#include "testing/queries.h"
#include "testing/subprocess.h"
#include "testing/temp_dir.h"

namespace propgrade {
namespace {

using testing::Child;
using testing::CommandResult;

using testing::EnvInt;

std::multiset<std::string> Query(const std::string& path, const std::string& sql) {
  return testing::SqliteQuery(path, sql);
}

TEST(ConcurrencyTest, ParallelGradesOfOneDateNeverDuplicateOrLoseRows) {
  const int processes = EnvInt("PROPGRADE_RACE_PROCESSES", 4);
  const int rounds = EnvInt("PROPGRADE_RACE_ROUNDS", 20);
  testing::TempDir dir;
  const std::string path = dir.path() + "/race.db";
  const std::string db = "sqlite:" + path;
  auto cli = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {testing::PropgradeBinary(), "--db", db, "--log-format", "json"});
    return args;
  };
  const std::string in = testing::GoldenDir() + "/inputs/";
  for (const char* kind : {"predictions", "actuals", "injuries", "archetypes"}) {
    CommandResult r = testing::RunCommand(cli({"import", kind, in + kind + ".csv"}));
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  const std::string date = "2025-02-01";
  const std::string key_sql =
      "SELECT game_date || '|' || player_lookup || '|' || game_id || '|' || system_id || '|' || "
      "coalesce(line_value, 'NULL') FROM prediction_accuracy WHERE game_date = '" + date + "'";
  const std::string dup_sql =
      "SELECT count(*) FROM prediction_accuracy WHERE game_date = '" + date +
      "' GROUP BY game_date, player_lookup, game_id, system_id, line_value HAVING count(*) > 1";
  const std::string daily_sql =
      "SELECT system_id FROM system_daily_performance WHERE game_date = '" + date + "'";
  const std::string summary_sql =
      "SELECT summary_key FROM prediction_performance_summary WHERE as_of_date = '" + date + "'";

  // The expected partitions: one grade on its own.
  CommandResult first = testing::RunCommand(cli({"grade", "--date", date}));
  ASSERT_EQ(first.exit_code, 0) << first.err;
  const auto expected_keys = Query(path, key_sql);
  const auto expected_daily = Query(path, daily_sql);
  const auto expected_summary = Query(path, summary_sql);
  ASSERT_EQ(expected_keys.size(), 1339u);  // the golden fixture's graded rows of the date
  ASSERT_EQ(std::set<std::string>(expected_keys.begin(), expected_keys.end()).size(), 1339u);
  ASSERT_EQ(expected_daily.size(), 6u);
  ASSERT_GT(expected_summary.size(), 100u);

  for (int round = 0; round < rounds; ++round) {
    std::vector<std::unique_ptr<Child>> children;
    for (int p = 0; p < processes; ++p) {
      children.push_back(std::make_unique<Child>(cli({"grade", "--date", date})));
    }
    for (auto& c : children) {
      CommandResult r = c->Wait();
      EXPECT_EQ(r.exit_code, 0) << "round " << round << ": " << r.err;
    }
    EXPECT_TRUE(Query(path, dup_sql).empty()) << "duplicates after round " << round;
    EXPECT_EQ(Query(path, key_sql), expected_keys) << "round " << round;
    EXPECT_EQ(Query(path, daily_sql), expected_daily) << "round " << round;
    EXPECT_EQ(Query(path, summary_sql), expected_summary) << "round " << round;
    if (HasFailure()) break;
  }
  // Every run was recorded, each with a clean post-write check.
  auto runs = Query(path, "SELECT count(*) FROM grading_runs WHERE processor = 'grading' AND "
                          "status = 'success' AND duplicate_rows = 0");
  EXPECT_EQ(*runs.begin(), std::to_string(1 + rounds * processes));
}

}  // namespace
}  // namespace propgrade

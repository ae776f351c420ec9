// R4: the harness can fail. With the TEST_ switch that makes the write non-atomic (delete and
// insert in separate transactions, as the legacy job did), no lock and no unique keys, the
// race harness must find duplicates (a 100 ms gap between the two stands for the legacy job's
// round trips); then the detection layer must have flagged them (run
// records and duplicate_audit), the alert must have arrived at a real HTTP receiver, and
// remediation must move the surplus into quarantine and verify a clean partition.
// Size: PROPGRADE_RACE_PROCESSES x PROPGRADE_RACE_ROUNDS (default 4 x 20).
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <fstream>
#include <memory>
#include <set>

#include "testing/http_receiver.h"
#include "testing/queries.h"
#include "testing/reliability_report.h"
#include "testing/subprocess.h"
#include "testing/temp_dir.h"

namespace propgrade {
namespace {

using testing::Child;
using testing::CommandResult;

TEST(SensitivityTest, R4_ANonAtomicWriteIsCaughtFlaggedAlertedAndRemediated) {
  const int processes = testing::EnvInt("PROPGRADE_RACE_PROCESSES", 4);
  const int rounds = testing::EnvInt("PROPGRADE_RACE_ROUNDS", 20);
  const auto started = std::chrono::steady_clock::now();
  testing::TempDir dir;
  testing::HttpReceiver receiver;
  const std::string path = dir.path() + "/r4.db";
  const std::string config = dir.path() + "/propgrade.toml";
  std::ofstream(config) << "lock = \"none\"\n[grading]\nenforce_unique_keys = false\n"
                           "[remediation]\nauto = false\n[alerts]\nmin_interval_seconds = 0\n"
                           "[breaker]\nstate_file = \"" << dir.path() << "/b.json\"\n";
  auto args = [&](std::vector<std::string> a) {
    a.insert(a.begin(), {testing::PropgradeBinary(), "--db", "sqlite:" + path, "--config", config,
                         "--log-format", "json"});
    return a;
  };
  std::map<std::string, std::string> env = {
      {"PROPGRADE_ALERT_WEBHOOK_URL", receiver.url("/hook")},
      {"PROPGRADE_TEST_NON_ATOMIC_WRITE", "1"},
      // The legacy job's DELETE and INSERT were separate round trips to the warehouse.
      {"PROPGRADE_TEST_NON_ATOMIC_GAP_MS", "100"}};
  const std::string in = testing::GoldenDir() + "/inputs/";
  for (const char* kind : {"predictions", "actuals", "injuries"}) {
    ASSERT_EQ(testing::RunCommand(args({"import", kind, in + kind + ".csv"}), env).exit_code, 0);
  }
  const std::string dup_sql =
      "SELECT count(*) FROM (SELECT 1 FROM prediction_accuracy WHERE game_date = '2025-02-01' "
      "GROUP BY game_date, player_lookup, game_id, system_id, line_value HAVING count(*) > 1) AS d";
  int rounds_with_duplicates = 0, rounds_run = 0;
  int64_t duplicate_groups = 0;
  for (int round = 0; round < rounds; ++round) {
    ++rounds_run;
    std::vector<std::unique_ptr<Child>> children;
    for (int p = 0; p < processes; ++p) {
      children.push_back(std::make_unique<Child>(
          args({"grade", "--date", "2025-02-01", "--no-aggregate"}), env));
    }
    for (auto& c : children) {
      CommandResult r = c->Wait();
      EXPECT_TRUE(r.exit_code == 0 || r.exit_code == 1) << r.err.substr(0, 2000);
    }
    int64_t groups = std::atoll(testing::SqliteQuery(path, dup_sql).begin()->c_str());
    duplicate_groups += groups;
    if (groups > 0) ++rounds_with_duplicates;
  }
  // The checker found what the non-atomic write let through.
  EXPECT_GT(rounds_with_duplicates, 0) << "no duplicates in " << rounds_run
                                       << " rounds: the harness could not fail";
  // Detection flagged them: in the run records and in duplicate_audit.
  EXPECT_NE(*testing::SqliteQuery(path, "SELECT count(*) FROM grading_runs WHERE duplicate_rows > 0").begin(), "0");
  EXPECT_NE(*testing::SqliteQuery(path, "SELECT count(*) FROM duplicate_audit WHERE table_name = "
                                        "'prediction_accuracy'").begin(), "0");
  // The alert arrived, with its figures.
  int alerts = 0;
  for (const auto& req : receiver.requests()) {
    auto j = nlohmann::json::parse(req.body);
    if (j["type"] != "duplicates_detected") continue;
    ++alerts;
    EXPECT_EQ(j["severity"], "CRITICAL");
    EXPECT_EQ(j["partition"], "2025-02-01");
    EXPECT_GT(j["fields"]["duplicate_rows"].get<int>(), 0);
    EXPECT_EQ(j["fields"]["remediation_ran"], false);
  }
  EXPECT_GT(alerts, 0);
  // Remediation moves the surplus into quarantine and verifies a clean partition.
  auto before = std::stoll(*testing::SqliteQuery(path, "SELECT count(*) FROM prediction_accuracy").begin());
  env.erase("PROPGRADE_TEST_NON_ATOMIC_WRITE");
  CommandResult fixed = testing::RunCommand(
      args({"dedupe", "--table", "prediction_accuracy", "--date", "2025-02-01"}), env);
  EXPECT_EQ(fixed.exit_code, 0) << fixed.out << fixed.err;
  EXPECT_NE(fixed.out.find("0 duplicates left"), std::string::npos) << fixed.out;
  EXPECT_EQ(*testing::SqliteQuery(path, dup_sql).begin(), "0");
  auto after = std::stoll(*testing::SqliteQuery(path, "SELECT count(*) FROM prediction_accuracy").begin());
  auto quarantined = std::stoll(*testing::SqliteQuery(path, "SELECT count(*) FROM remediation_quarantine").begin());
  EXPECT_EQ(after, 1339);
  EXPECT_EQ(after + quarantined, before);
  std::cerr << "[ R4 ] " << rounds_with_duplicates << " of " << rounds_run
            << " rounds left duplicates; " << alerts << " alerts; " << quarantined
            << " rows quarantined\n";
  testing::ScenarioReport r;
  r.scenario = "R4";
  r.title = "sensitivity: non-atomic write (DELETE and INSERT in separate transactions), no "
            "lock, unique keys off; the checker must find duplicates";
  r.combination = "sqlite+none";
  r.size = std::to_string(processes) + " processes x " + std::to_string(rounds) + " rounds";
  r.runs = static_cast<int64_t>(rounds_run) * processes;
  r.faults = "non-atomic write with a 100 ms gap (TEST_ switch)";
  r.duplicate_groups = duplicate_groups;  // expected > 0: the harness can fail
  r.outcome = "duplicates found in " + std::to_string(rounds_with_duplicates) + " of " +
              std::to_string(rounds_run) + " rounds; flagged in grading_runs and duplicate_audit; " +
              std::to_string(alerts) + " duplicates_detected alerts received; dedupe quarantined " +
              std::to_string(quarantined) + " rows and verified 0 left";
  r.passed = !::testing::Test::HasFailure();
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  testing::RecordScenario(r);
}

}  // namespace
}  // namespace propgrade

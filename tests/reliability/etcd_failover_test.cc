// R5 (etcd half): the leader of a 3-member etcd cluster is SIGKILLed while one run holds the
// date's lock (paused inside its write section) and another waits for it. Every run succeeds
// or fails cleanly (exit 3: the lease could not be renewed, or etcd had no leader); afterwards
// no partition holds duplicates or lost rows, committed fence tokens strictly increase and no
// two runs were inside a write section at once. The killed member then rejoins and the next run
// succeeds; when failures reach the breaker's threshold it refuses runs until open_seconds
// pass. The cluster belongs to the test (it kills and restarts members), with SQLite and, when
// PROPGRADE_TEST_PG_URL is set, PostgreSQL. Size: PROPGRADE_R5_TRIALS (default 3).
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <thread>

#include "testing/etcd_cluster.h"
#include "testing/pg.h"
#include "testing/queries.h"
#include "testing/reliability_report.h"
#include "testing/subprocess.h"
#include "testing/temp_dir.h"
#include "testing/write_sections.h"
#include "testing/skip.h"

namespace propgrade {
namespace {

using testing::Child;
using testing::CommandResult;

constexpr const char* kDate = "2025-02-01";

class EtcdLeaderKillTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (testing::RunCommand({"sh", "-c", "command -v etcd"}).exit_code != 0) {
      PROPGRADE_SKIP_WITHOUT("etcd is not installed");
    }
    db_ = "sqlite:" + dir_.path() + "/r5.db";
    if (GetParam() == "postgres") {
      std::string pg = testing::EnvString("PROPGRADE_TEST_PG_URL");
      if (pg.empty()) PROPGRADE_SKIP_WITHOUT("PROPGRADE_TEST_PG_URL is not set");
      schema_ = "r5e_" + testing::RandomSchemaSuffix();
      db_ = pg + "?schema=" + schema_;
    }
    auto cluster = testing::EtcdCluster::Start(dir_.path() + "/etcd");
    ASSERT_TRUE(cluster.ok()) << cluster.status().ToString();
    cluster_ = std::move(cluster).value();
    config_ = dir_.path() + "/propgrade.toml";
    std::ofstream(config_) << "lock = \"etcd://" << cluster_->Endpoints() << "\"\n"
                           << "[lock_policy]\nttl_seconds = 2\nrenew_every_seconds = 0.5\n"
                           << "max_wait_seconds = 60\n[breaker]\nfailure_threshold = 3\n"
                           << "open_seconds = 2\nstate_file = \"" << dir_.path() << "/b.json\"\n";
  }
  void TearDown() override {
    if (!schema_.empty()) testing::DropPgSchema(std::getenv("PROPGRADE_TEST_PG_URL"), schema_);
  }
  std::vector<std::string> Cli(std::vector<std::string> a) const {
    a.insert(a.begin(), {testing::PropgradeBinary(), "--db", db_, "--config", config_,
                         "--log-format", "json"});
    return a;
  }
  std::map<std::string, std::string> PartitionQueries() const {
    const std::string d = std::string("'") + kDate + "'";
    return {
        {"accuracy",
         "SELECT game_date || '|' || player_lookup || '|' || game_id || '|' || system_id || "
         "'|' || coalesce(CAST(line_value AS TEXT), 'NULL') FROM prediction_accuracy WHERE "
         "game_date = " + d},
        {"daily", "SELECT system_id FROM system_daily_performance WHERE game_date = " + d},
        {"summary",
         "SELECT summary_key FROM prediction_performance_summary WHERE as_of_date = " + d},
    };
  }

  testing::TempDir dir_;
  std::unique_ptr<testing::EtcdCluster> cluster_;
  std::string db_, schema_, config_;
};

TEST_P(EtcdLeaderKillTest, R5_LeaderKilledMidRun) {
  const int trials = std::max(1, testing::EnvInt("PROPGRADE_R5_TRIALS", 3));
  const auto started = std::chrono::steady_clock::now();
  const std::string in = testing::GoldenDir() + "/inputs/";
  for (const char* kind : {"predictions", "actuals", "injuries", "archetypes"}) {
    CommandResult r = testing::RunCommand(Cli({"import", kind, in + kind + ".csv"}));
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  CommandResult first = testing::RunCommand(Cli({"grade", "--date", kDate}));
  ASSERT_EQ(first.exit_code, 0) << first.err.substr(0, 2000);
  std::map<std::string, std::multiset<std::string>> expected;
  for (const auto& [name, sql] : PartitionQueries()) expected[name] = testing::DbQuery(db_, sql);
  ASSERT_EQ(expected["accuracy"].size(), 1339u);

  std::vector<testing::Section> sections = testing::Sections(first.err);
  int64_t runs = 1, duplicates = 0, lost = 0;
  int succeeded = 0, failed_cleanly = 0, breaker_refusals = 0;
  for (int trial = 0; trial < trials; ++trial) {
    SCOPED_TRACE("trial " + std::to_string(trial));
    // One run takes the lock and pauses inside its write section; a second waits for it.
    Child holder(Cli({"grade", "--date", kDate}),
                 {{"PROPGRADE_TEST_PAUSE_AFTER_ACQUIRE_MS", "1000"}});
    ASSERT_TRUE(testing::WaitForStderr(holder, "\"phase\":\"enter\"", 30000))
        << "the holder never took the lock";
    Child waiter(Cli({"grade", "--date", kDate}));
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    int leader = cluster_->Leader();
    ASSERT_GE(leader, 0) << "no etcd leader";
    cluster_->Kill(leader);
    runs += 2;
    for (Child* c : {&holder, &waiter}) {
      CommandResult r = c->Wait();
      EXPECT_TRUE(r.exit_code == 0 || r.exit_code == 3)
          << "exit " << r.exit_code << ": " << r.err.substr(0, 3000);
      ++(r.exit_code == 0 ? succeeded : failed_cleanly);
      std::vector<testing::Section> seen = testing::Sections(r.err);
      sections.insert(sections.end(), seen.begin(), seen.end());
    }
    for (const auto& [name, sql] : PartitionQueries()) {
      auto got = testing::DbQuery(db_, sql);
      std::set<std::string> distinct(got.begin(), got.end());
      duplicates += static_cast<int64_t>(got.size() - distinct.size());
      for (const std::string& k : expected[name]) lost += got.count(k) == 0;
      for (const std::string& k : distinct) lost += expected[name].count(k) == 0;
      EXPECT_EQ(got, expected[name]) << name << ": duplicated, lost or unexpected rows";
    }
    // The killed member rejoins; the next run succeeds (after the breaker's wait if it opened).
    ASSERT_TRUE(cluster_->Restart(leader).ok());
    CommandResult next = testing::RunCommand(Cli({"grade", "--date", kDate}));
    ++runs;
    if (next.exit_code == 3 && next.out.find("circuit_open") != std::string::npos) {
      ++breaker_refusals;
      std::this_thread::sleep_for(std::chrono::milliseconds(2100));
      next = testing::RunCommand(Cli({"grade", "--date", kDate}));
      ++runs;
    }
    EXPECT_EQ(next.exit_code, 0) << next.out << next.err.substr(0, 2000);
    std::vector<testing::Section> seen = testing::Sections(next.err);
    sections.insert(sections.end(), seen.begin(), seen.end());
    if (HasFailure()) break;
  }
  testing::SectionViolations v = testing::Violations(sections);
  EXPECT_EQ(v.overlaps, 0) << "two runs were inside a write section at once";
  EXPECT_EQ(v.non_increasing, 0) << "committed fence tokens did not strictly increase";
  std::cerr << "[ R5 etcd leader kill, " << GetParam() << " ] " << trials << " trials: "
            << succeeded << " runs succeeded, " << failed_cleanly << " failed cleanly, "
            << breaker_refusals << " breaker refusals\n";

  testing::ScenarioReport r;
  r.scenario = "R5";
  r.title = "the etcd leader (found through the status endpoint) SIGKILLed while one run holds "
            "the lock and another waits; the member then rejoins";
  r.combination = GetParam() + "+etcd (3 members)";
  r.size = std::to_string(trials) + " trials";
  r.runs = runs;
  r.faults = std::to_string(trials) + " leader kills";
  r.duplicate_groups = duplicates;
  r.lost_rows = lost;
  r.fence_violations = v.non_increasing;
  r.overlaps = v.overlaps;
  r.outcome = std::to_string(succeeded) + " runs succeeded, " + std::to_string(failed_cleanly) +
              " failed cleanly (exit 3) during the failovers; " +
              std::to_string(breaker_refusals) +
              " runs refused by the open breaker; every next run succeeded";
  r.passed = !HasFailure();
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  testing::RecordScenario(r);
}

INSTANTIATE_TEST_SUITE_P(Stores, EtcdLeaderKillTest, ::testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace propgrade

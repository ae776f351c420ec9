// R5 (PostgreSQL half): the server restarts while runs are writing. Every run either succeeds
// or fails cleanly with exit 3; afterwards no partition holds duplicates or lost rows. When the
// failures reach the breaker's threshold it opens (runs are refused) and after open_seconds its
// trial run succeeds and closes it. Uses a cluster of its own (PROPGRADE_TEST_PG_RESTART_URL/_DATA/_BIN, from
// `start_postgres RESTART`), since restarting it would disturb other suites. For the db lock
// and etcd (PROPGRADE_TEST_ETCD). Size: PROPGRADE_R5_TRIALS (default 3).
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <fstream>
#include <cstdlib>
#include <map>
#include <random>
#include <set>
#include <thread>

#include "db/pg_conn.h"
#include "testing/pg.h"
#include "testing/queries.h"
#include "testing/reliability_report.h"
#include "testing/write_sections.h"
#include "testing/subprocess.h"
#include "testing/temp_dir.h"
#include "testing/skip.h"

namespace propgrade {
namespace {

using testing::Child;
using testing::CommandResult;

using testing::EnvInt;
std::string Env(const char* name) { return testing::EnvString(name); }

// One lock service's trials; `lock_name` is "db" or "etcd".
void Trials(const std::string& lock_name) {
  SCOPED_TRACE("lock " + lock_name);
  std::string lock = lock_name == "etcd" ? "etcd://" + Env("PROPGRADE_TEST_ETCD") : lock_name;
  const auto started = std::chrono::steady_clock::now();
  const std::string base = Env("PROPGRADE_TEST_PG_RESTART_URL");
  const std::string data = Env("PROPGRADE_TEST_PG_RESTART_DATA");
  const std::string bin = Env("PROPGRADE_TEST_PG_RESTART_BIN");
  const int trials = std::max(1, EnvInt("PROPGRADE_R5_TRIALS", 3));
  const std::string schema = "r5_" + testing::RandomSchemaSuffix();
  const std::string db = base + "?schema=" + schema;
  testing::TempDir dir;
  const std::string config = dir.path() + "/propgrade.toml";
  // A run cut off by the restart cannot give its lock back (the server is down); its lease
  // then lasts its TTL: 2 s here, as in the other scenarios, not the default 300.
  std::ofstream(config) << "[lock_policy]\nttl_seconds = 2\nrenew_every_seconds = 0.5\n"
                        << "[breaker]\nfailure_threshold = 3\nopen_seconds = 2\nstate_file = \""
                        << dir.path() << "/breakers.json\"\n";
  auto cli = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {testing::PropgradeBinary(), "--db", db, "--lock", lock,
                               "--config", config, "--log-format", "json"});
    return args;
  };
  const std::string in = testing::GoldenDir() + "/inputs/";
  for (const char* kind : {"predictions", "actuals", "injuries", "archetypes"}) {
    CommandResult r = testing::RunCommand(cli({"import", kind, in + kind + ".csv"}));
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  const std::vector<std::string> range = {"grade", "--from", "2025-02-01", "--to", "2025-02-21"};
  auto t0 = std::chrono::steady_clock::now();
  CommandResult first = testing::RunCommand(cli(range));
  ASSERT_EQ(first.exit_code, 0) << first.err.substr(0, 2000);
  int run_ms = static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                    std::chrono::steady_clock::now() - t0).count());

  auto query = [&](const std::string& sql) {
    std::multiset<std::string> out;
    auto url = ParsePgUrl(db);
    auto conn = PgConn::Connect(*url);
    EXPECT_TRUE(conn.ok()) << conn.status().ToString();
    if (!conn.ok()) return out;
    auto r = (*conn)->Exec(sql);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    for (int i = 0; r.ok() && i < r->rows(); ++i) out.insert(std::string(r->text(i, 0)));
    return out;
  };
  const std::map<std::string, std::string> partitions = {
      {"accuracy",
       "SELECT game_date || '|' || player_lookup || '|' || game_id || '|' || system_id || '|' || "
       "coalesce(line_value::text, 'NULL') FROM prediction_accuracy"},
      {"daily", "SELECT game_date || '|' || system_id FROM system_daily_performance"},
      {"summary", "SELECT as_of_date || '|' || summary_key FROM prediction_performance_summary"},
  };
  std::map<std::string, std::multiset<std::string>> expected;
  for (const auto& [name, sql] : partitions) expected[name] = query(sql);

  std::mt19937 rng(7);
  int failed_cleanly = 0, succeeded = 0, breaker_opened = 0;
  int64_t duplicate_rows = 0, lost_rows = 0, runs_started = 0;
  std::vector<testing::Section> sections;
  for (int trial = 0; trial < trials; ++trial) {
    std::vector<std::unique_ptr<Child>> runs;
    for (int p = 0; p < 2; ++p) runs.push_back(std::make_unique<Child>(cli(range)));
    std::this_thread::sleep_for(
        std::chrono::milliseconds(std::uniform_int_distribution<int>(run_ms / 5, run_ms)(rng)));
    CommandResult restart = testing::RunCommand(
        {"runuser", "-u", "postgres", "--", bin + "/pg_ctl", "-D", data, "-m", "fast", "-w",
         "restart"});
    ASSERT_EQ(restart.exit_code, 0) << restart.err;
    runs_started += static_cast<int64_t>(runs.size());
    for (auto& run : runs) {
      CommandResult r = run->Wait();
      std::vector<testing::Section> seen = testing::Sections(r.err);
      sections.insert(sections.end(), seen.begin(), seen.end());
      EXPECT_TRUE(r.exit_code == 0 || r.exit_code == 3)
          << "trial " << trial << " exit " << r.exit_code << ": " << r.err.substr(0, 2000);
      ++(r.exit_code == 0 ? succeeded : failed_cleanly);
      EXPECT_EQ(r.err.find(testing::PgPassword(base)), std::string::npos) << "password leaked";
    }
    for (const auto& [name, sql] : partitions) {
      auto got = query(sql);
      std::set<std::string> distinct(got.begin(), got.end());
      duplicate_rows += static_cast<int64_t>(got.size() - distinct.size());
      for (const std::string& k : expected[name]) lost_rows += got.count(k) == 0;
      for (const std::string& k : distinct) lost_rows += expected[name].count(k) == 0;
      EXPECT_EQ(distinct.size(), got.size()) << name << " has duplicates after trial " << trial;
      EXPECT_EQ(got, expected[name]) << name << " lost or gained rows after trial " << trial;
    }
    // Failed steps count against the breaker; once open it refuses runs until open_seconds
    // pass, then one trial closes it again.
    CommandResult status = testing::RunCommand(cli({"breaker", "status"}));
    if (status.out.find(" open ") != std::string::npos) {
      ++breaker_opened;
      CommandResult refused = testing::RunCommand(cli({"grade", "--date", "2025-02-21"}));
      EXPECT_EQ(refused.exit_code, 3);
      EXPECT_NE(refused.out.find("circuit_open"), std::string::npos) << refused.out;
      std::this_thread::sleep_for(std::chrono::milliseconds(2100));
    }
    CommandResult next = testing::RunCommand(cli({"grade", "--date", "2025-02-21"}));
    ++runs_started;
    EXPECT_EQ(next.exit_code, 0) << next.out << next.err.substr(0, 2000);
    std::vector<testing::Section> seen = testing::Sections(next.err);
    sections.insert(sections.end(), seen.begin(), seen.end());
    EXPECT_EQ(testing::RunCommand(cli({"breaker", "status"})).exit_code, 0);  // closed again
  }
  // The restarts make steps fail (unavailable) past the threshold: the breaker must open.
  EXPECT_GT(breaker_opened, 0) << "the breaker never opened although runs failed "
                               << failed_cleanly << " times";
  testing::SectionViolations v = testing::Violations(sections);
  EXPECT_EQ(v.overlaps, 0) << "two runs were inside a write section at once";
  EXPECT_EQ(v.non_increasing, 0) << "committed fence tokens did not strictly increase";
  std::cerr << "[ R5 postgres restart ] " << trials << " trials: " << succeeded
            << " runs succeeded, " << failed_cleanly << " failed cleanly (exit 3); the breaker "
            << "opened after " << breaker_opened << " of them and closed after its trial\n";
  testing::ScenarioReport r;
  r.scenario = "R5";
  r.title = "PostgreSQL restarted (pg_ctl restart -m fast) while two 21-date grading runs write";
  r.combination = "postgres+" + lock_name;
  r.size = std::to_string(trials) + " trials";
  r.runs = runs_started;
  r.faults = std::to_string(trials) + " PostgreSQL restarts";
  r.duplicate_groups = duplicate_rows;
  r.lost_rows = lost_rows;
  r.fence_violations = v.non_increasing;
  r.overlaps = v.overlaps;
  r.outcome = std::to_string(succeeded) + " runs succeeded, " + std::to_string(failed_cleanly) +
              " failed cleanly (exit 3); the breaker opened " + std::to_string(breaker_opened) +
              " times, refused runs, and closed after its half-open trial";
  r.passed = !::testing::Test::HasFailure();
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  testing::RecordScenario(r);
  testing::DropPgSchema(base.c_str(), schema);
}

// The lock services run one after the other: both restart the same server.
TEST(PostgresRestartTest, R5_RunsSucceedOrFailCleanlyAndNothingIsDuplicatedOrLost) {
  if (Env("PROPGRADE_TEST_PG_RESTART_URL").empty() || Env("PROPGRADE_TEST_PG_RESTART_DATA").empty() ||
      Env("PROPGRADE_TEST_PG_RESTART_BIN").empty()) {
    PROPGRADE_SKIP_WITHOUT("PROPGRADE_TEST_PG_RESTART_URL/_DATA/_BIN are not set");
  }
  Trials("db");
  if (Env("PROPGRADE_TEST_ETCD").empty()) {
    PROPGRADE_SKIP_WITHOUT("PROPGRADE_TEST_ETCD is not set: the etcd half is skipped");
  }
  Trials("etcd");
}

}  // namespace
}  // namespace propgrade

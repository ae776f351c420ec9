// R8: consolidations of one date run together over staged batches that share business keys:
// afterwards player_prop_predictions holds exactly one row per business key, the newest of
// every key, and nothing staged for the date is left. A consolidation killed mid-way leaves its
// batches for the next run. For every store and lock service available (lock none too: the
// transaction alone must hold); PostgreSQL with PROPGRADE_TEST_PG_URL, etcd with
// PROPGRADE_TEST_ETCD. Size: PROPGRADE_RACE_PROCESSES x PROPGRADE_RACE_ROUNDS (default 4 x 20).
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <thread>

#include "testing/pg.h"
#include "testing/queries.h"
#include "testing/write_sections.h"
#include "testing/reliability_report.h"
#include "testing/subprocess.h"
#include "testing/temp_dir.h"
#include "testing/skip.h"

namespace propgrade {
namespace {

using testing::Child;
using testing::CommandResult;

// The parameter is "<store>_<lock>": sqlite_db, sqlite_etcd, sqlite_none, postgres_db, ...
class ConsolidationRaceTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    const std::string param = GetParam();
    store_ = param.substr(0, param.find('_'));
    lock_ = param.substr(param.find('_') + 1);
    std::string lock_url = lock_;
    if (lock_ == "etcd") {
      std::string e = testing::EnvString("PROPGRADE_TEST_ETCD");
      if (e.empty()) PROPGRADE_SKIP_WITHOUT("PROPGRADE_TEST_ETCD is not set");
      lock_url = "etcd://" + e;
    }
    db_ = "sqlite:" + dir_.path() + "/r8.db";
    if (store_ == "postgres") {
      std::string pg = testing::EnvString("PROPGRADE_TEST_PG_URL");
      if (pg.empty()) PROPGRADE_SKIP_WITHOUT("PROPGRADE_TEST_PG_URL is not set");
      schema_ = "r8_" + testing::RandomSchemaSuffix();
      db_ = pg + "?schema=" + schema_;
    }
    config_ = dir_.path() + "/propgrade.toml";
    std::ofstream(config_) << "lock = \"" << lock_url << "\"\n[lock_policy]\nttl_seconds = 2\n"
                           << "renew_every_seconds = 0.5\nmax_wait_seconds = 60\n[breaker]\n"
                           << "state_file = \"" << dir_.path() << "/b.json\"\n";
  }
  void TearDown() override {
    if (!schema_.empty()) testing::DropPgSchema(std::getenv("PROPGRADE_TEST_PG_URL"), schema_);
  }
  std::vector<std::string> Args(std::vector<std::string> a) const {
    a.insert(a.begin(), {testing::PropgradeBinary(), "--db", db_, "--config", config_,
                         "--log-format", "json"});
    return a;
  }
  // Batch b of round r: 120 players x 1 system, every batch with the same keys, created r
  // minutes and b seconds after midnight (r < 1440, b < 60), so the last batch of the latest
  // round must win every key.
  std::string WriteBatch(int round, int b) {
    char created_at[32];
    std::snprintf(created_at, sizeof created_at, "2026-01-16T%02d:%02d:%02dZ", round / 60,
                  round % 60, b);
    std::string file = dir_.path() + "/batch-" + std::to_string(round) + "-" + std::to_string(b) + ".csv";
    std::ofstream out(file);
    out << "prediction_id,game_date,game_id,player_lookup,system_id,predicted_points,line_value,created_at\n";
    for (int p = 0; p < 120; ++p) {
      out << "r" << round << "-b" << b << "-p" << p << ",2026-01-16,20260116_LAL_BOS,player" << p
          << ",ensemble_v1," << (10 + b) << "," << (10.5 + p % 7) << "," << created_at << "\n";
    }
    return file;
  }
  std::string Scalar(const std::string& sql) { return *testing::DbQuery(db_, sql).begin(); }

  testing::TempDir dir_;
  std::string store_, lock_, db_, schema_, config_;
};

TEST_P(ConsolidationRaceTest, R8_ConcurrentConsolidationsLeaveOneRowPerKey) {
  const int processes = testing::EnvInt("PROPGRADE_RACE_PROCESSES", 4);
  const int rounds = testing::EnvInt("PROPGRADE_RACE_ROUNDS", 20);
  const auto started = std::chrono::steady_clock::now();
  int64_t duplicate_groups = 0, lost = 0, rounds_run = 0;
  std::vector<testing::Section> sections;  // every consolidation's write section
  const std::string per_key =
      "SELECT count(*) FROM (SELECT 1 FROM player_prop_predictions WHERE game_date = '2026-01-16' "
      "GROUP BY player_lookup, game_id, system_id, round(line_value * 100) HAVING count(*) > 1) AS d";
  for (int round = 0; round < rounds; ++round) {
    ++rounds_run;
    for (int b = 0; b < processes; ++b) {
      CommandResult staged = testing::RunCommand(
          Args({"stage", "predictions", WriteBatch(round, b), "--batch",
                "r" + std::to_string(round) + "-b" + std::to_string(b)}));
      ASSERT_EQ(staged.exit_code, 0) << staged.err;
    }
    std::vector<std::unique_ptr<Child>> runs;
    for (int p = 0; p < processes; ++p) {
      runs.push_back(std::make_unique<Child>(Args({"consolidate", "--date", "2026-01-16"})));
    }
    for (auto& r : runs) {
      CommandResult done = r->Wait();
      EXPECT_EQ(done.exit_code, 0) << "round " << round << ": " << done.err.substr(0, 2000);
      std::vector<testing::Section> seen = testing::Sections(done.err);
      sections.insert(sections.end(), seen.begin(), seen.end());
    }
    const std::string dups = Scalar(per_key);
    EXPECT_EQ(dups, "0") << "duplicate business keys after round " << round;
    duplicate_groups += std::atoll(dups.c_str());
    EXPECT_EQ(Scalar("SELECT count(*) FROM player_prop_predictions WHERE game_date = '2026-01-16'"),
              "120");
    // The newest staged row of every key won: the last batch of this round.
    const std::string newest =
        Scalar("SELECT count(*) FROM player_prop_predictions WHERE prediction_id LIKE 'r" +
               std::to_string(round) + "-b" + std::to_string(processes - 1) + "-%'");
    EXPECT_EQ(newest, "120") << "round " << round;
    lost += 120 - std::atoll(newest.c_str());
    EXPECT_EQ(Scalar("SELECT count(*) FROM prediction_staging"), "0");
    if (HasFailure()) break;
  }
  testing::ScenarioReport r;
  // Every consolidation enters the write section once (an empty one too).
  EXPECT_EQ(static_cast<int64_t>(sections.size()), rounds_run * processes);
  if (lock_ != "none") {  // without a lock the consolidations may overlap (the key still holds)
    testing::SectionViolations v = testing::Violations(sections);
    EXPECT_EQ(v.overlaps, 0) << "two consolidations were inside a write section at once";
    EXPECT_EQ(v.non_increasing, 0) << "committed fence tokens did not strictly increase";
    r.overlaps = v.overlaps;
    r.fence_violations = v.non_increasing;
  }
  r.scenario = "R8";
  r.title = "concurrent consolidations of one date over staged batches sharing every key";
  r.combination = store_ + "+" + lock_;
  r.size = std::to_string(processes) + " processes x " + std::to_string(rounds) + " rounds";
  r.runs = rounds_run * processes;
  r.faults = "none";
  r.duplicate_groups = duplicate_groups;
  r.lost_rows = lost;
  r.outcome = "one row per business key, the newest staged one, after every round";
  r.passed = !HasFailure();
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  testing::RecordScenario(r);
}

// R8, staging during consolidation: while the consolidations of a round run, workers stage more
// batches of the date (newer than every earlier one, so they must win every key). Each
// consolidation pauses inside its transaction after reading the staged rows, so batches land
// in that window. A consolidation may only consume the rows it read: after one more
// consolidation nothing is left in staging, and every key holds the newest staged row.
TEST_P(ConsolidationRaceTest, R8_BatchesStagedDuringConsolidationsAreNeverLost) {
  const int processes = testing::EnvInt("PROPGRADE_RACE_PROCESSES", 4);
  // A round pauses every consolidation 150 ms: PROPGRADE_R8_STAGING_ROUNDS (default 10).
  const int rounds = testing::EnvInt("PROPGRADE_R8_STAGING_ROUNDS", 10);
  const auto started = std::chrono::steady_clock::now();
  int64_t duplicate_groups = 0, lost = 0, rounds_run = 0, runs = 0, staged_during = 0;
  std::vector<testing::Section> sections;
  const std::string per_key =
      "SELECT count(*) FROM (SELECT 1 FROM player_prop_predictions WHERE game_date = '2026-01-16' "
      "GROUP BY player_lookup, game_id, system_id, round(line_value * 100) HAVING count(*) > 1) AS d";
  auto batch_name = [](int round, int b) {
    return "r" + std::to_string(round) + "-b" + std::to_string(b);
  };
  for (int round = 0; round < rounds; ++round) {
    ++rounds_run;
    for (int b = 0; b < processes; ++b) {
      CommandResult staged = testing::RunCommand(
          Args({"stage", "predictions", WriteBatch(round, b), "--batch", batch_name(round, b)}));
      ASSERT_EQ(staged.exit_code, 0) << staged.err;
    }
    std::vector<std::unique_ptr<Child>> runs_now;
    for (int p = 0; p < processes; ++p) {
      runs_now.push_back(std::make_unique<Child>(Args({"consolidate", "--date", "2026-01-16"}),
                                                 std::map<std::string, std::string>{
                                                     {"PROPGRADE_TEST_PAUSE_IN_TRANSACTION_MS", "150"}}));
    }
    // The later batches, staged while those run (each stage waits for a consolidation that
    // holds the date, but must never be lost to it).
    for (int b = processes; b < 2 * processes; ++b) {
      std::this_thread::sleep_for(std::chrono::milliseconds(60));
      CommandResult staged = testing::RunCommand(
          Args({"stage", "predictions", WriteBatch(round, b), "--batch", batch_name(round, b)}));
      ASSERT_EQ(staged.exit_code, 0) << staged.err;
      ++staged_during;
    }
    for (auto& r : runs_now) {
      CommandResult done = r->Wait();
      EXPECT_EQ(done.exit_code, 0) << "round " << round << ": " << done.err.substr(0, 2000);
      std::vector<testing::Section> seen = testing::Sections(done.err);
      sections.insert(sections.end(), seen.begin(), seen.end());
    }
    CommandResult last = testing::RunCommand(Args({"consolidate", "--date", "2026-01-16"}));
    EXPECT_EQ(last.exit_code, 0) << last.err.substr(0, 2000);
    std::vector<testing::Section> seen = testing::Sections(last.err);
    sections.insert(sections.end(), seen.begin(), seen.end());
    runs += processes + 1;
    const std::string dups = Scalar(per_key);
    EXPECT_EQ(dups, "0") << "duplicate business keys after round " << round;
    duplicate_groups += std::atoll(dups.c_str());
    EXPECT_EQ(Scalar("SELECT count(*) FROM player_prop_predictions WHERE game_date = '2026-01-16'"),
              "120");
    const std::string newest =
        Scalar("SELECT count(*) FROM player_prop_predictions WHERE prediction_id LIKE '" +
               batch_name(round, 2 * processes - 1) + "-%'");
    EXPECT_EQ(newest, "120") << "round " << round << ": the newest batch, staged during the "
                             << "consolidations, lost rows";
    lost += 120 - std::atoll(newest.c_str());
    EXPECT_EQ(Scalar("SELECT count(*) FROM prediction_staging"), "0");
    if (HasFailure()) break;
  }
  testing::ScenarioReport r;
  if (lock_ != "none") {
    testing::SectionViolations v = testing::Violations(sections);
    EXPECT_EQ(v.overlaps, 0) << "two consolidations were inside a write section at once";
    EXPECT_EQ(v.non_increasing, 0) << "committed fence tokens did not strictly increase";
    r.overlaps = v.overlaps;
    r.fence_violations = v.non_increasing;
  }
  r.scenario = "R8";
  r.title = "batches staged while consolidations of their date run (each paused 150 ms inside "
            "its transaction after reading the staged rows)";
  r.combination = store_ + "+" + lock_;
  r.size = std::to_string(processes) + " processes x " + std::to_string(rounds) + " rounds";
  r.runs = runs;
  r.faults = std::to_string(staged_during) + " batches staged during consolidations";
  r.duplicate_groups = duplicate_groups;
  r.lost_rows = lost;
  r.outcome = "every staged row merged or superseded; the newest batch won every key";
  r.passed = !HasFailure();
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  testing::RecordScenario(r);
}

TEST_P(ConsolidationRaceTest, R8_AKilledConsolidationLeavesItsBatchesForTheNextRun) {
  ASSERT_EQ(testing::RunCommand(Args({"stage", "predictions", WriteBatch(0, 0), "--batch", "a"})).exit_code, 0);
  ASSERT_EQ(testing::RunCommand(Args({"stage", "predictions", WriteBatch(0, 1), "--batch", "b"})).exit_code, 0);
  // The run pauses after taking its lock, before its transaction, and is killed there.
  Child doomed(Args({"consolidate", "--date", "2026-01-16"}),
               {{"PROPGRADE_TEST_PAUSE_AFTER_ACQUIRE_MS", "3000"}});
  ASSERT_TRUE(testing::WaitForStderr(doomed, "\"phase\":\"enter\""));
  doomed.Signal(SIGKILL);
  EXPECT_EQ(doomed.Wait().exit_code, 128 + SIGKILL);
  EXPECT_EQ(Scalar("SELECT count(*) FROM prediction_staging"), "240");
  EXPECT_EQ(Scalar("SELECT count(*) FROM player_prop_predictions"), "0");
  // The next run (after the dead holder's lease ran out) consumes them.
  CommandResult next = testing::RunCommand(Args({"consolidate", "--date", "2026-01-16"}));
  EXPECT_EQ(next.exit_code, 0) << next.err.substr(0, 2000);
  EXPECT_EQ(Scalar("SELECT count(*) FROM prediction_staging"), "0");
  EXPECT_EQ(Scalar("SELECT count(*) FROM player_prop_predictions WHERE prediction_id LIKE 'r0-b1-%'"), "120");
}

INSTANTIATE_TEST_SUITE_P(Locks, ConsolidationRaceTest,
                         ::testing::Values("sqlite_db", "sqlite_etcd", "sqlite_none", "postgres_db",
                                           "postgres_etcd"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace propgrade

// R8: consolidations of one date run together over staged batches that share business keys:
// afterwards player_prop_predictions holds exactly one row per business key, the newest of
// every key, and nothing staged for the date is left. A consolidation killed mid-way leaves its
// batches for the next run. For the db lock and for none (the transaction alone must hold).
// Size: PROPGRADE_RACE_PROCESSES x PROPGRADE_RACE_ROUNDS (default 4 x 20).
#include <gtest/gtest.h>
#include <signal.h>

#include <fstream>
#include <map>
#include <memory>
#include <set>

#include "testing/queries.h"
#include "testing/subprocess.h"
#include "testing/temp_dir.h"

namespace propgrade {
namespace {

using testing::Child;
using testing::CommandResult;

class ConsolidationRaceTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    path_ = dir_.path() + "/r8.db";
    config_ = dir_.path() + "/propgrade.toml";
    std::ofstream(config_) << "lock = \"" << GetParam() << "\"\n[lock_policy]\nttl_seconds = 2\n"
                           << "renew_every_seconds = 0.5\nmax_wait_seconds = 60\n[breaker]\n"
                           << "state_file = \"" << dir_.path() << "/b.json\"\n";
  }
  std::vector<std::string> Args(std::vector<std::string> a) const {
    a.insert(a.begin(), {testing::PropgradeBinary(), "--db", "sqlite:" + path_, "--config", config_,
                         "--log-format", "json"});
    return a;
  }
  // Batch b of round r: 120 players x 1 system, every batch with the same keys, created at
  // r:b o'clock, so the last batch of the latest round must win every key.
  std::string WriteBatch(int round, int b) {
    std::string file = dir_.path() + "/batch-" + std::to_string(round) + "-" + std::to_string(b) + ".csv";
    std::ofstream out(file);
    out << "prediction_id,game_date,game_id,player_lookup,system_id,predicted_points,line_value,created_at\n";
    for (int p = 0; p < 120; ++p) {
      out << "r" << round << "-b" << b << "-p" << p << ",2026-01-16,20260116_LAL_BOS,player" << p
          << ",ensemble_v1," << (10 + b) << "," << (10.5 + p % 7) << ",2026-01-16T"
          << (round < 10 ? "0" : "") << round % 24 << ":" << (b < 10 ? "0" : "") << b << ":00Z\n";
    }
    return file;
  }
  std::string Scalar(const std::string& sql) { return *testing::SqliteQuery(path_, sql).begin(); }

  testing::TempDir dir_;
  std::string path_, config_;
};

TEST_P(ConsolidationRaceTest, R8_ConcurrentConsolidationsLeaveOneRowPerKey) {
  const int processes = testing::EnvInt("PROPGRADE_RACE_PROCESSES", 4);
  const int rounds = testing::EnvInt("PROPGRADE_RACE_ROUNDS", 20);
  const std::string per_key =
      "SELECT count(*) FROM (SELECT 1 FROM player_prop_predictions WHERE game_date = '2026-01-16' "
      "GROUP BY player_lookup, game_id, system_id, round(line_value, 2) HAVING count(*) > 1)";
  for (int round = 0; round < rounds; ++round) {
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
    }
    EXPECT_EQ(Scalar(per_key), "0") << "duplicate business keys after round " << round;
    EXPECT_EQ(Scalar("SELECT count(*) FROM player_prop_predictions WHERE game_date = '2026-01-16'"),
              "120");
    // The newest staged row of every key won: the last batch of this round.
    EXPECT_EQ(Scalar("SELECT count(*) FROM player_prop_predictions WHERE prediction_id LIKE 'r" +
                     std::to_string(round) + "-b" + std::to_string(processes - 1) + "-%'"),
              "120") << "round " << round;
    EXPECT_EQ(Scalar("SELECT count(*) FROM prediction_staging"), "0");
    if (HasFailure()) break;
  }
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

INSTANTIATE_TEST_SUITE_P(Locks, ConsolidationRaceTest, ::testing::Values("db", "none"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace propgrade

// A correct write that would lose rows (issue "Never lose rows"): concurrent re-grades of one
// date while its box scores are being re-imported the way a loader outside propgrade does it:
// the date's rows deleted in one transaction, then inserted again in two halves. Graders start
// in each of those states and the next change of the actuals lands while they run. For SQLite
// and PostgreSQL. The checker samples the graded partition all along: it may never hold fewer
// rows than its last complete grade (the coverage gate refuses the half-loaded box scores, the
// shrink guard what would get through), never a key twice, and after the last load the date
// grades back to exactly its rows. The sensitivity run turns both guards off and shows the
// checker catching the shrink they prevent. Sizes: PROPGRADE_REIMPORT_ROUNDS (default 3) x
// PROPGRADE_REIMPORT_GRADERS (default 3 processes per state).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <random>
#include <sstream>
#include <thread>

#include "testing/pg.h"
#include "testing/queries.h"
#include "testing/reliability_report.h"
#include "testing/skip.h"
#include "testing/subprocess.h"
#include "testing/temp_dir.h"

namespace propgrade {
namespace {

using testing::Child;
using testing::CommandResult;
using testing::EnvInt;

constexpr const char* kDate = "2026-01-16";
constexpr int kPlayers = 60;  // in two games
constexpr int kSystems = 2;

// The parameter is the store, with "_unguarded" for the sensitivity run.
class RegradeReimportTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    store_ = GetParam().substr(0, GetParam().find('_'));
    guarded_ = GetParam().find("_unguarded") == std::string::npos;
    db_ = "sqlite:" + dir_.path() + "/reimport.db";
    if (store_ == "postgres") {
      const char* pg = std::getenv("PROPGRADE_TEST_PG_URL");
      if (!pg || !*pg) PROPGRADE_SKIP_WITHOUT("PROPGRADE_TEST_PG_URL is not set");
      pg_url_ = pg;
      schema_ = "r_" + testing::RandomSchemaSuffix();
      db_ = pg_url_ + "?schema=" + schema_;
    }
    config_ = dir_.path() + "/propgrade.toml";
    std::ofstream(config_) << "[lock_policy]\nmax_wait_seconds = 120\n"
                           << (guarded_
                                   ? ""
                                   : "[grading]\nmin_player_coverage = 0\n"
                                     "min_game_coverage = 0\n[writes]\nmax_shrink_ratio = 1\n");
    std::ofstream p(dir_.path() + "/p.csv"), a(dir_.path() + "/a.csv");
    p << "prediction_id,game_date,game_id,player_lookup,system_id,predicted_points,"
         "confidence_score,recommendation,line_value,created_at\n";
    a << "game_date,game_id,player_lookup,team_abbr,opponent_team_abbr,points,minutes_played\n";
    for (int i = 0; i < kPlayers; ++i) {
      const std::string game = i % 2 ? "20260116_LAL_BOS" : "20260116_MIA_NYK";
      const std::string player = "p" + std::to_string(100 + i);
      for (int s = 0; s < kSystems; ++s) {
        p << player << "-" << s << "," << kDate << "," << game << "," << player << ",sys" << s
          << "," << 10 + i % 7 << ".5,0.6,OVER,12.5,2026-01-16T12:00:00Z\n";
      }
      a << kDate << "," << game << "," << player << ",LAL,BOS," << i % 25 << ",30\n";
      std::ostringstream insert;
      insert << "INSERT INTO player_game_summary (game_date, game_id, player_lookup, team_abbr, "
                "opponent_team_abbr, points, minutes_played) VALUES ('"
             << kDate << "', '" << game << "', '" << player << "', 'LAL', 'BOS', " << i % 25
             << ", 30);\n";
      (i < kPlayers / 2 ? first_half_ : second_half_) += insert.str();
    }
    p.close();
    a.close();
    for (const char* kind : {"predictions", "actuals"}) {
      CommandResult r = testing::RunCommand(
          Cli({"import", kind, dir_.path() + (kind[0] == 'p' ? "/p.csv" : "/a.csv")}));
      ASSERT_EQ(r.exit_code, 0) << r.err;
    }
    CommandResult graded = testing::RunCommand(Cli({"grade", "--date", kDate}));
    ASSERT_EQ(graded.exit_code, 0) << graded.out << graded.err;
    ASSERT_EQ(Count(), kPlayers * kSystems);
  }

  void TearDown() override {
    if (!schema_.empty()) testing::DropPgSchema(pg_url_.c_str(), schema_);
  }

  std::vector<std::string> Cli(std::vector<std::string> args) const {
    args.insert(args.begin(), {testing::PropgradeBinary(), "--db", db_, "--config", config_,
                               "--log-format", "json"});
    return args;
  }

  // The graded rows of the date; -1 when the query failed.
  int64_t Count() const {
    auto rows = testing::DbQuery(
        db_,
        std::string("SELECT count(*) FROM prediction_accuracy WHERE game_date = '") + kDate + "'");
    if (rows.size() != 1 || rows.begin()->rfind("ERROR", 0) == 0) return -1;
    return std::stoll(*rows.begin());
  }
  int64_t DuplicateKeys() const {
    auto rows = testing::DbQuery(
        db_,
        "SELECT count(*) FROM (SELECT 1 FROM prediction_accuracy GROUP BY game_date, "
        "player_lookup, game_id, system_id, line_value HAVING count(*) > 1) d");
    return rows.size() == 1 ? std::stoll(*rows.begin()) : -1;
  }

  std::string store_, db_, pg_url_, schema_, config_;
  std::string first_half_, second_half_;
  bool guarded_ = true;
  testing::TempDir dir_;
};

TEST_P(RegradeReimportTest, APartitionNeverShrinksBelowItsLastCompleteGrade) {
  const int rounds = EnvInt("PROPGRADE_REIMPORT_ROUNDS", 3);
  const int graders = EnvInt("PROPGRADE_REIMPORT_GRADERS", 3);
  const int64_t complete = kPlayers * kSystems;
  const auto started = std::chrono::steady_clock::now();

  // The checker: samples the partition until told to stop.
  std::atomic<bool> stop{false};
  std::atomic<int64_t> smallest{complete}, samples{0}, failed_samples{0};
  std::thread checker([&] {
    while (!stop.load()) {
      const int64_t n = Count();
      if (n < 0) {
        ++failed_samples;
      } else {
        ++samples;
        if (n < smallest.load()) smallest = n;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  });

  // The loader's three states, one transaction each.
  const std::vector<std::string> steps = {
      std::string("DELETE FROM player_game_summary WHERE game_date = '") + kDate + "';",
      "BEGIN;\n" + first_half_ + "COMMIT;", "BEGIN;\n" + second_half_ + "COMMIT;"};
  std::mt19937 random(static_cast<unsigned>(std::random_device{}()));
  std::map<int, int> exits;
  int64_t runs = 0;
  for (int round = 0; round < rounds; ++round) {
    for (const std::string& step : steps) {
      std::vector<std::unique_ptr<Child>> running;
      for (int g = 0; g < graders; ++g) {
        running.push_back(std::make_unique<Child>(Cli({"grade", "--date", kDate})));
      }
      // The actuals change while the graders read and write.
      std::this_thread::sleep_for(std::chrono::milliseconds(random() % 40));
      ASSERT_EQ(testing::DbExec(db_, step), "ok");
      for (auto& child : running) {
        ++exits[child->Wait().exit_code];
        ++runs;
      }
      // And one grader after the change, so every state is graded at least once.
      ++exits[testing::RunCommand(Cli({"grade", "--date", kDate})).exit_code];
      ++runs;
    }
  }
  // Loaded in full again: a last grade gives the complete partition back.
  CommandResult last = testing::RunCommand(Cli({"grade", "--date", kDate}));
  stop = true;
  checker.join();
  const int64_t final_rows = Count();
  const int64_t duplicates = DuplicateKeys();

  std::string endings;
  for (const auto& [code, n] : exits) {
    endings += (endings.empty() ? "" : ", ") + std::to_string(n) + " exit " + std::to_string(code);
  }
  testing::ScenarioReport r;
  r.scenario = "R10";
  r.title = guarded_ ? "re-grades while the box scores are deleted and re-imported in halves"
                     : "sensitivity: the same without the coverage gate and the shrink guard";
  r.combination = store_ + "+db";
  r.size = std::to_string(rounds) + " rounds x 3 loader states x " + std::to_string(graders + 1) +
           " graders";
  r.runs = runs + 1;
  r.faults = std::to_string(rounds * 3) + " box-score changes mid-run";
  r.duplicate_groups = duplicates;
  r.lost_rows = complete - smallest.load();
  r.outcome = endings + "; smallest partition seen " + std::to_string(smallest.load()) + " of " +
              std::to_string(complete) + " rows in " + std::to_string(samples.load()) + " samples";
  r.sensitivity = !guarded_;
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();

  EXPECT_EQ(last.exit_code, 0) << last.out << last.err;
  EXPECT_EQ(final_rows, complete);
  EXPECT_EQ(duplicates, 0);
  EXPECT_EQ(failed_samples.load(), 0);
  EXPECT_GT(samples.load(), 0);
  for (const auto& [code, n] : exits) {
    EXPECT_TRUE(code == 0 || code == 3) << n << " graders exited " << code;
  }
  if (guarded_) {
    EXPECT_EQ(smallest.load(), complete) << "a re-grade shrank the partition";
  } else {
    // Without the guards a grade of the half-loaded date goes through: the checker sees it.
    EXPECT_LT(smallest.load(), complete) << "the checker missed the shrink";
  }
  r.passed = !HasFailure();
  testing::RecordScenario(r);
}

INSTANTIATE_TEST_SUITE_P(Stores, RegradeReimportTest,
                         ::testing::Values(std::string("sqlite"), std::string("postgres"),
                                           std::string("sqlite_unguarded")),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace propgrade

// Reliability scenarios R1–R3 (spec/reliability.md) against real processes, for each store and
// lock service available to the run: SQLite with db, etcd (PROPGRADE_TEST_ETCD) and none;
// PostgreSQL (PROPGRADE_TEST_PG_URL) with db and etcd.
// The checkers, after every round: no duplicate keys; each partition holds exactly the expected
// keys; with a lock, the tokens of committed writes to a partition strictly increase and no
// two runs were inside a partition's write section at once (each run logs enter/exit with its
// token). Sizes: PROPGRADE_RACE_PROCESSES x PROPGRADE_RACE_ROUNDS (default 4 x 20),
// PROPGRADE_R3_TRIALS (default 10).
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include "common/strings.h"
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
using testing::SqliteQuery;
using testing::Section;
using testing::Sections;
using testing::Violations;

// The parameter is "<store>_<lock>": sqlite_db, sqlite_etcd, sqlite_none, postgres_db, ...
class LockRaceTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    const std::string param = GetParam();
    store_ = param.substr(0, param.find('_'));
    backend_ = param.substr(param.find('_') + 1);
    if (backend_ == "etcd") {
      const char* e = std::getenv("PROPGRADE_TEST_ETCD");
      if (!e || !*e) PROPGRADE_SKIP_WITHOUT("PROPGRADE_TEST_ETCD is not set");
      lock_url_ = std::string("etcd://") + e;
    } else {
      lock_url_ = backend_;
    }
    path_ = dir_.path() + "/race.db";
    db_ = "sqlite:" + path_;
    if (store_ == "postgres") {
      const char* pg = std::getenv("PROPGRADE_TEST_PG_URL");
      if (!pg || !*pg) PROPGRADE_SKIP_WITHOUT("PROPGRADE_TEST_PG_URL is not set");
      schema_ = "r_" + testing::RandomSchemaSuffix();
      db_ = std::string(pg) + "?schema=" + schema_;
    }
    config_ = dir_.path() + "/propgrade.toml";
    // Short leases so a killed holder frees its key quickly.
    std::ofstream(config_) << "[lock_policy]\nttl_seconds = 2\nrenew_every_seconds = 0.5\n"
                              "max_wait_seconds = 120\n";
    const std::string in = testing::GoldenDir() + "/inputs/";
    for (const char* kind : {"predictions", "actuals", "injuries", "archetypes"}) {
      CommandResult r = testing::RunCommand(Cli({"import", kind, in + kind + ".csv"}));
      ASSERT_EQ(r.exit_code, 0) << r.err;
    }
    auto t0 = std::chrono::steady_clock::now();
    CommandResult first = testing::RunCommand(Cli({"grade", "--date", kDate}));
    ASSERT_EQ(first.exit_code, 0) << first.err;
    run_ms_ = std::chrono::duration_cast<std::chrono::milliseconds>(
                  std::chrono::steady_clock::now() - t0).count();
    for (const auto& [name, sql] : PartitionQueries()) expected_[name] = Query(sql);
    ASSERT_EQ(expected_["accuracy"].size(), 1339u);
  }

  void TearDown() override {
    if (!schema_.empty()) testing::DropPgSchema(std::getenv("PROPGRADE_TEST_PG_URL"), schema_);
  }

  // A read of the store under test, independent of propgrade's Store code for SQLite.
  std::multiset<std::string> Query(const std::string& sql) {
    auto rows = testing::DbQuery(db_, sql);
    EXPECT_FALSE(rows.size() == 1 && rows.begin()->rfind("ERROR: ", 0) == 0) << *rows.begin();
    return rows;
  }

  std::vector<std::string> Cli(std::vector<std::string> args) const {
    args.insert(args.begin(), {testing::PropgradeBinary(), "--db", db_, "--lock",
                               lock_url_, "--config", config_, "--log-format", "json"});
    return args;
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

  // The duplicate and lost-row checkers over every partition of the date; their findings
  // add up in duplicates_ and lost_ (and are returned: duplicates + lost rows found now). A
  // sensitivity run counts without asserting (`expect_clean` false).
  int64_t CheckPartitions(const std::string& when, bool expect_clean = true) {
    int64_t found = 0;
    for (const auto& [name, sql] : PartitionQueries()) {
      auto got = Query(sql);
      std::set<std::string> distinct(got.begin(), got.end());
      int64_t dups = static_cast<int64_t>(got.size() - distinct.size()), lost = 0;
      const auto& want = expected_[name];
      for (const std::string& k : want) lost += got.count(k) == 0;
      for (const std::string& k : distinct) lost += want.count(k) == 0;
      duplicates_ += dups;
      lost_ += lost;
      found += dups + lost;
      if (expect_clean) {
        EXPECT_EQ(distinct.size(), got.size()) << name << ": duplicates " << when;
        EXPECT_EQ(got, want) << name << ": not the expected rows " << when;
      }
    }
    return found;
  }

  // The scenario's figures for docs/RELIABILITY.md.
  void Record(const std::string& scenario, const std::string& title, const std::string& size,
              int64_t runs, const std::string& faults, const std::vector<Section>* sections,
              const std::string& outcome, bool exclusion_applies = true,
              bool sensitivity = false) {
    testing::ScenarioReport r;
    r.scenario = scenario;
    r.title = title;
    r.combination = store_ + "+" + backend_;
    r.size = size;
    r.runs = runs;
    r.faults = faults;
    r.duplicate_groups = duplicates_;
    r.lost_rows = lost_;
    if (sections && backend_ != "none") {
      testing::SectionViolations v = Violations(*sections);
      if (exclusion_applies) r.overlaps = v.overlaps;
      r.fence_violations = v.non_increasing;
    }
    r.outcome = outcome;
    r.sensitivity = sensitivity;
    r.passed = !HasFailure();
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
    testing::RecordScenario(r);
  }

  void CheckSections(const std::vector<Section>& all, double kill_fraction) {
    auto [overlaps, non_increasing] = Violations(all);
    if (backend_ != "none") {
      EXPECT_EQ(overlaps, 0) << "two runs were inside a write section at once";
      EXPECT_EQ(non_increasing, 0) << "committed fence tokens did not strictly increase";
    } else if (kill_fraction == 0) {
      // Without a lock the runs do overlap: proof that the exclusion checker can fail.
      EXPECT_GT(overlaps, 0) << "the mutual-exclusion checker saw no overlap even without a lock";
    }
  }

  // R1/R2: rounds of N processes grading the date at once; with `kill_fraction`, that share
  // of the runs gets SIGKILL at a random moment of a run's usual span (inside the write
  // transaction too).
  void Race(double kill_fraction) {
    const int processes = EnvInt("PROPGRADE_RACE_PROCESSES", 4);
    const int rounds = EnvInt("PROPGRADE_RACE_ROUNDS", 20);
    std::mt19937 rng(12345 + getpid());
    // A random kill_fraction of all the runs, each killed at a random moment of a run's span
    // (every process of a round lives at least that long: they start together and wait for
    // the lock in turn).
    std::uniform_int_distribution<int> delay_ms(0, static_cast<int>(run_ms_));
    std::vector<bool> doomed(static_cast<size_t>(rounds * processes), false);
    size_t kills = kill_fraction > 0
                       ? std::max<size_t>(1, static_cast<size_t>(kill_fraction * doomed.size() + 0.5))
                       : 0;
    std::fill(doomed.begin(), doomed.begin() + std::min(kills, doomed.size()), true);
    std::shuffle(doomed.begin(), doomed.end(), rng);
    std::vector<Section> all;
    int killed = 0, killed_in_transaction = 0, rounds_run = 0, doomed_seen = 0;
    for (int round = 0; round < rounds; ++round) {
      ++rounds_run;
      std::vector<std::unique_ptr<Child>> children;
      std::vector<int> kill_after_ms;
      std::vector<bool> in_transaction;  // killed inside its write transaction, by design
      for (int p = 0; p < processes; ++p) {
        const bool doom = doomed[round * processes + p];
        // Every other doomed run pauses inside its write transaction and is killed there (a
        // random moment alone rarely lands in the few milliseconds of a commit).
        const bool inside = doom && doomed_seen++ % 2 == 1;
        std::map<std::string, std::string> env;
        if (inside) env["PROPGRADE_TEST_PAUSE_IN_TRANSACTION_MS"] = "3000";
        children.push_back(std::make_unique<Child>(Cli({"grade", "--date", kDate}), env));
        kill_after_ms.push_back(doom && !inside ? delay_ms(rng) : -1);
        in_transaction.push_back(inside);
      }
      auto start = std::chrono::steady_clock::now();
      std::vector<int> order(processes);
      for (int p = 0; p < processes; ++p) order[p] = p;
      std::sort(order.begin(), order.end(),
                [&](int a, int b) { return kill_after_ms[a] < kill_after_ms[b]; });
      for (int p : order) {
        if (kill_after_ms[p] < 0) continue;
        std::this_thread::sleep_until(start + std::chrono::milliseconds(kill_after_ms[p]));
        children[p]->Signal(SIGKILL);
      }
      for (int p = 0; p < processes; ++p) {
        if (!in_transaction[p]) continue;
        // It writes (and pauses) once it holds the lock: after the others ahead of it.
        EXPECT_TRUE(testing::WaitForStderr(*children[p], "\"at\":\"in_transaction\"", 60000))
            << "round " << round << ": the run never reached its write transaction";
        children[p]->Signal(SIGKILL);
        ++killed_in_transaction;
      }
      for (int p = 0; p < processes; ++p) {
        CommandResult r = children[p]->Wait();
        std::vector<Section> sections = Sections(r.err);
        all.insert(all.end(), sections.begin(), sections.end());
        if (r.exit_code == 128 + SIGKILL) {
          ++killed;
          continue;
        }
        EXPECT_EQ(r.exit_code, 0) << "round " << round << ": " << r.err.substr(0, 3000);
      }
      CheckPartitions("after round " + std::to_string(round));
      if (kill_fraction > 0) {
        // No lock outlives its TTL: the next run gets every lock within TTL + slack.
        auto t0 = std::chrono::steady_clock::now();
        CommandResult next = testing::RunCommand(Cli({"grade", "--date", kDate}));
        double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        EXPECT_EQ(next.exit_code, 0) << next.err.substr(0, 2000);
        EXPECT_LT(seconds, 2 * 3 + 10) << "locks outlived their TTL";
        std::vector<Section> sections = Sections(next.err);
        all.insert(all.end(), sections.begin(), sections.end());
        CheckPartitions("after the run following round " + std::to_string(round));
      }
      if (HasFailure()) break;
    }
    CheckSections(all, kill_fraction);
    if (kill_fraction > 0) {
      EXPECT_GT(killed, 0) << "no run was killed: the scenario did not run";
      EXPECT_GT(killed_in_transaction, 0) << "no kill landed inside a write transaction";
    }
    std::cerr << "[ " << GetParam() << " ] " << rounds_run << " rounds x " << processes
              << " processes, " << killed << " killed (" << killed_in_transaction
              << " inside the write transaction), " << all.size() << " write sections\n";
    int64_t runs = static_cast<int64_t>(rounds_run) * processes + (kill_fraction > 0 ? rounds_run : 0);
    Record(kill_fraction > 0 ? "R2" : "R1",
           kill_fraction > 0 ? "concurrent grades of one date, 10% SIGKILLed at random moments"
                             : "concurrent grades of one date",
           std::to_string(processes) + " processes x " + std::to_string(rounds) + " rounds", runs,
           kill_fraction > 0 ? std::to_string(killed) + " SIGKILLs (" +
                                   std::to_string(killed_in_transaction) +
                                   " inside the write transaction)"
                             : "none",
           &all,
           std::to_string(runs - killed) + " runs exited 0" +
               (kill_fraction > 0 ? "; after each round the next run got every lock in time" : ""));
  }

  static constexpr const char* kDate = "2025-02-01";
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
  int64_t duplicates_ = 0, lost_ = 0;  // the checkers' findings so far
  testing::TempDir dir_;
  std::string store_, backend_, lock_url_, path_, db_, schema_, config_;
  int64_t run_ms_ = 500;  // how long one grade of the date takes here
  std::map<std::string, std::multiset<std::string>> expected_;
};

TEST_P(LockRaceTest, R1_ConcurrentGradesOfOneDate) { Race(0); }

TEST_P(LockRaceTest, R2_ConcurrentGradesWithRandomKills) { Race(0.1); }

// R3: the holder is stopped past its TTL, another run completes, the holder resumes and must
// write nothing. With `fence_only`, the holder's lease check is switched off, so only the fence
// inside the write transaction can stop it.
class StalledHolderTest : public LockRaceTest {
 protected:
  // The stale holder's ending: "lock_lost" or "fenced_out" (counted in endings_).
  std::map<std::string, int> endings_;
  std::vector<Section> sections_;

  void Trial(int trial, bool fence_only) {
    std::map<std::string, std::string> env = {{"PROPGRADE_TEST_PAUSE_AFTER_ACQUIRE_MS", "1500"}};
    if (fence_only) env["PROPGRADE_TEST_DISABLE_LEASE_CHECK"] = "1";
    Child holder(Cli({"grade", "--date", kDate, "--no-aggregate"}), env);
    // Wait until it holds the lock (it then pauses 1.5 s before writing), then stop it.
    ASSERT_TRUE(testing::WaitForStderr(holder, "\"phase\":\"enter\""))
        << "trial " << trial << ": the holder never acquired the lock";
    ASSERT_EQ(kill(holder.pid(), SIGSTOP), 0);
    std::this_thread::sleep_for(std::chrono::milliseconds(2600));  // past the 2 s TTL
    CommandResult second = testing::RunCommand(Cli({"grade", "--date", kDate, "--no-aggregate"}));
    EXPECT_EQ(second.exit_code, 0) << second.err.substr(0, 2000);
    auto winner = Query("SELECT DISTINCT run_id FROM prediction_accuracy WHERE game_date = '" +
                        std::string(kDate) + "'");
    ASSERT_EQ(kill(holder.pid(), SIGCONT), 0);
    CommandResult stale = holder.Wait();
    EXPECT_EQ(stale.exit_code, 3) << "trial " << trial << ": " << stale.err.substr(0, 3000);
    bool lost = stale.out.find("grading lock_lost") != std::string::npos;
    bool fenced = stale.out.find("grading fenced_out") != std::string::npos;
    ++endings_[fenced ? "fenced_out" : lost ? "lock_lost" : "other"];
    for (const CommandResult* r : {&second, &stale}) {
      std::vector<Section> s = Sections(r->err);
      sections_.insert(sections_.end(), s.begin(), s.end());
    }
    EXPECT_TRUE(fence_only ? fenced : (lost || fenced)) << stale.out;
    // The second run's rows stand, untouched.
    EXPECT_EQ(Query("SELECT DISTINCT run_id FROM prediction_accuracy WHERE game_date = '" +
                    std::string(kDate) + "'"),
              winner);
    EXPECT_EQ(winner.size(), 1u);
    CheckPartitions("after R3 trial " + std::to_string(trial));
  }
};

std::string Endings(const std::map<std::string, int>& endings) {
  std::string out;
  for (const auto& [name, n] : endings) {
    out += (out.empty() ? "" : ", ") + std::to_string(n) + " " + name;
  }
  return "the resumed holder wrote nothing (" + out + "); the second run's rows stood";
}

TEST_P(StalledHolderTest, R3_HolderStoppedPastItsTtlWritesNothing) {
  if (backend_ == "none") GTEST_SKIP() << "no lease to lose without a lock";
  const int trials = EnvInt("PROPGRADE_R3_TRIALS", 10);
  int done = 0;
  for (int i = 0; i < trials && !HasFailure(); ++i, ++done) Trial(i, false);
  Record("R3", "lock holder SIGSTOPped past its 2 s TTL, a second run completes, holder resumed",
         std::to_string(trials) + " trials", 2 * done, std::to_string(done) + " SIGSTOPs",
         &sections_, Endings(endings_), /*exclusion_applies=*/false);
}

TEST_P(StalledHolderTest, R3_FenceAloneRejectsTheStaleWrite) {
  if (backend_ == "none") GTEST_SKIP() << "no fence without a lock";
  const int trials = std::max(1, EnvInt("PROPGRADE_R3_TRIALS", 10) / 5);
  int done = 0;
  for (int i = 0; i < trials && !HasFailure(); ++i, ++done) Trial(i, true);
  Record("R3", "as R3 with the holder's lease check switched off: the fence alone must stop it",
         std::to_string(trials) + " trials", 2 * done, std::to_string(done) + " SIGSTOPs",
         &sections_, Endings(endings_), /*exclusion_applies=*/false);
}

// R4, the other checkers' sensitivity runs: deliberately broken writers (test switches of the
// store) that each checker must catch, as R4's non-atomic write proves the duplicate checker.
class SensitivityRaceTest : public LockRaceTest {};

// A writer that drops the last row of every partition it writes: the lost-row checker must
// report missing rows after every round.
TEST_P(SensitivityRaceTest, R4_TheLostRowCheckerCatchesAWriterThatDropsRows) {
  const int processes = EnvInt("PROPGRADE_RACE_PROCESSES", 4);
  const int rounds = std::min(EnvInt("PROPGRADE_RACE_ROUNDS", 20), 10);
  int caught = 0;
  std::vector<Section> all;
  for (int round = 0; round < rounds; ++round) {
    std::vector<std::unique_ptr<Child>> children;
    for (int p = 0; p < processes; ++p) {
      children.push_back(std::make_unique<Child>(
          Cli({"grade", "--date", kDate}),
          std::map<std::string, std::string>{{"PROPGRADE_TEST_LOSE_A_ROW", "1"}}));
    }
    for (auto& c : children) {
      CommandResult r = c->Wait();
      EXPECT_EQ(r.exit_code, 0) << r.err.substr(0, 2000);
      std::vector<Section> sections = Sections(r.err);
      all.insert(all.end(), sections.begin(), sections.end());
    }
    int64_t found = CheckPartitions("after sensitivity round " + std::to_string(round), false);
    EXPECT_GT(found, 0) << "round " << round << ": the lost-row checker missed the dropped rows";
    caught += found > 0;
  }
  // The same checker passes again once the writer is whole.
  ASSERT_EQ(testing::RunCommand(Cli({"grade", "--date", kDate})).exit_code, 0);
  const int64_t lost_seen = lost_;
  EXPECT_EQ(CheckPartitions("after a correct grade", false), 0);
  lost_ = lost_seen;
  duplicates_ = 0;
  Record("R4", "sensitivity: a writer that drops the last row of every partition write (test "
               "switch); the lost-row checker must find rows missing",
         std::to_string(processes) + " processes x " + std::to_string(rounds) + " rounds",
         static_cast<int64_t>(rounds) * processes + 1, "one row dropped per write (TEST_ switch)",
         &all,
         "rows found missing in " + std::to_string(caught) + " of " + std::to_string(rounds) +
             " rounds; none after a correct grade",
         /*exclusion_applies=*/true, /*sensitivity=*/true);
}

// A holder stopped past its TTL that ignores both its lease check and the fence: when resumed it
// commits with an older token than the run that wrote meanwhile. The fence-monotonicity checker
// must see the committed tokens go down.
TEST_P(SensitivityRaceTest, R4_TheFenceCheckerCatchesAWriterThatIgnoresTheFence) {
  const int trials = std::max(1, EnvInt("PROPGRADE_R3_TRIALS", 10) / 5);
  std::vector<Section> all;
  int caught = 0;
  for (int trial = 0; trial < trials; ++trial) {
    Child holder(Cli({"grade", "--date", kDate, "--no-aggregate"}),
                 {{"PROPGRADE_TEST_PAUSE_AFTER_ACQUIRE_MS", "1500"},
                  {"PROPGRADE_TEST_DISABLE_LEASE_CHECK", "1"},
                  {"PROPGRADE_TEST_SKIP_FENCE_CHECK", "1"}});
    ASSERT_TRUE(testing::WaitForStderr(holder, "\"phase\":\"enter\""));
    ASSERT_EQ(kill(holder.pid(), SIGSTOP), 0);
    std::this_thread::sleep_for(std::chrono::milliseconds(2600));  // past the 2 s TTL
    CommandResult second = testing::RunCommand(Cli({"grade", "--date", kDate, "--no-aggregate"}));
    EXPECT_EQ(second.exit_code, 0) << second.err.substr(0, 2000);
    ASSERT_EQ(kill(holder.pid(), SIGCONT), 0);
    CommandResult stale = holder.Wait();
    EXPECT_EQ(stale.exit_code, 0) << "the broken writer was expected to commit: "
                                  << stale.err.substr(0, 2000);
    std::vector<Section> trial_sections;
    for (const CommandResult* r : {&second, &stale}) {
      std::vector<Section> s = Sections(r->err);
      trial_sections.insert(trial_sections.end(), s.begin(), s.end());
    }
    int violations = Violations(trial_sections).non_increasing;
    EXPECT_GT(violations, 0) << "trial " << trial << ": the fence checker missed a stale commit";
    caught += violations > 0;
    all.insert(all.end(), trial_sections.begin(), trial_sections.end());
  }
  duplicates_ = 0;
  lost_ = 0;
  Record("R4", "sensitivity: a stopped holder that ignores its lease check and the fence "
               "(test switches) commits after a newer run; the fence checker must see tokens "
               "go down",
         std::to_string(trials) + " trials", 2 * trials,
         std::to_string(trials) + " SIGSTOPs past the TTL", &all,
         "committed tokens went down in " + std::to_string(caught) + " of " +
             std::to_string(trials) + " trials",
         /*exclusion_applies=*/false, /*sensitivity=*/true);
}

INSTANTIATE_TEST_SUITE_P(Locks, SensitivityRaceTest, ::testing::Values("sqlite_db", "postgres_etcd"),
                         [](const auto& info) { return info.param; });

INSTANTIATE_TEST_SUITE_P(Locks, LockRaceTest,
                         ::testing::Values("sqlite_db", "sqlite_etcd", "sqlite_none", "postgres_db",
                                           "postgres_etcd"),
                         [](const auto& info) { return info.param; });
INSTANTIATE_TEST_SUITE_P(Locks, StalledHolderTest,
                         ::testing::Values("sqlite_db", "sqlite_etcd", "postgres_db",
                                           "postgres_etcd"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace propgrade

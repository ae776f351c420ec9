// R9: the inputs change between and during runs (spec/reliability.md; the lost update of a
// lock-guarded read-modify-write). Each round:
//   1. run A reads the date's inputs and pauses before asking for its lock; the box scores
//      are corrected; run B grades the corrected ones and commits; A resumes (and gets a newer
//      token than B). A must not overwrite B's rows with rows graded from the old box scores;
//   2. N runs grade the date at once while the box scores are corrected twice at random moments.
// The checkers, after every round: no duplicate keys; the accuracy partition holds exactly the
// expected keys; every partition written after the last change to its inputs holds exactly the
// rows its inputs imply now (testing/implied.h); with a lock, committed tokens strictly
// increase and no two runs overlapped in a write section. For every store and lock service
// available (PostgreSQL with PROPGRADE_TEST_PG_URL, etcd with PROPGRADE_TEST_ETCD). Size:
// PROPGRADE_RACE_PROCESSES x PROPGRADE_R9_ROUNDS (default 4 x 5: a round takes about 6 s).
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include "common/civil_date.h"
#include "common/strings.h"
#include "store/store.h"
#include "testing/implied.h"
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
using testing::EnvInt;
using testing::Section;

constexpr const char* kDate = "2025-02-01";  // a date of the golden fixture

class InputChangeTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    const std::string param = GetParam();
    store_ = param.substr(0, param.find('_'));
    backend_ = param.substr(param.find('_') + 1);
    lock_url_ = backend_;
    if (backend_ == "etcd") {
      std::string e = testing::EnvString("PROPGRADE_TEST_ETCD");
      if (e.empty()) PROPGRADE_SKIP_WITHOUT("PROPGRADE_TEST_ETCD is not set");
      lock_url_ = "etcd://" + e;
    }
    db_ = "sqlite:" + dir_.path() + "/r9.db";
    if (store_ == "postgres") {
      std::string pg = testing::EnvString("PROPGRADE_TEST_PG_URL");
      if (pg.empty()) PROPGRADE_SKIP_WITHOUT("PROPGRADE_TEST_PG_URL is not set");
      schema_ = "r9_" + testing::RandomSchemaSuffix();
      db_ = pg + "?schema=" + schema_;
    }
    config_ = dir_.path() + "/propgrade.toml";
    std::ofstream(config_) << "[lock_policy]\nttl_seconds = 2\nrenew_every_seconds = 0.5\n"
                              "max_wait_seconds = 120\n";
    const std::string in = testing::GoldenDir() + "/inputs/";
    for (const char* kind : {"predictions", "actuals", "injuries", "archetypes"}) {
      CommandResult r = testing::RunCommand(Cli({"import", kind, in + kind + ".csv"}));
      ASSERT_EQ(r.exit_code, 0) << r.err;
    }
    ReadActuals(in + "actuals.csv");
    CommandResult first = testing::RunCommand(Cli({"grade", "--date", kDate}));
    ASSERT_EQ(first.exit_code, 0) << first.err;
    keys_ = Keys();
    ASSERT_GT(keys_.size(), 1000u);
    auto store = Store::Open(db_, StoreOptions{});
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    checker_ = std::move(store).value();
  }
  void TearDown() override {
    checker_.reset();
    if (!schema_.empty()) testing::DropPgSchema(std::getenv("PROPGRADE_TEST_PG_URL"), schema_);
  }

  std::vector<std::string> Cli(std::vector<std::string> args) const {
    args.insert(args.begin(), {testing::PropgradeBinary(), "--db", db_, "--lock", lock_url_,
                               "--config", config_, "--log-format", "json"});
    return args;
  }

  // The date's lines of the golden actuals, to write corrected versions of.
  void ReadActuals(const std::string& path) {
    std::ifstream in(path);
    std::string line;
    std::getline(in, header_);
    while (std::getline(in, line)) {
      if (line.rfind(kDate, 0) == 0) actual_lines_.push_back(line);
    }
  }

  // Version `v` of the date's box scores: every scored player's points moved by v % 5 - 2.
  std::string CorrectedActuals(int v) {
    std::string path = dir_.path() + "/actuals-" + std::to_string(v) + ".csv";
    std::ofstream out(path);
    out << header_ << "\n";
    for (const std::string& line : actual_lines_) {
      std::vector<std::string> f;
      for (std::string_view p : Split(line, ',')) f.emplace_back(p);
      if (f.size() > 5 && !f[5].empty()) {
        f[5] = std::to_string(std::max<int64_t>(0, ParseInt64(f[5]).value_or(0) + v % 5 - 2));
      }
      out << Join(f, ",") << "\n";
    }
    return path;
  }

  void Correct() {
    CommandResult r = testing::RunCommand(Cli({"import", "actuals", CorrectedActuals(++version_)}));
    EXPECT_EQ(r.exit_code, 0) << r.err.substr(0, 2000);
  }

  std::multiset<std::string> Keys() {
    return testing::DbQuery(
        db_, "SELECT player_lookup || '|' || game_id || '|' || system_id || '|' || "
             "coalesce(CAST(line_value AS TEXT), 'NULL') FROM prediction_accuracy WHERE game_date "
             "= '" + std::string(kDate) + "'");
  }

  // The checkers after a round (see the file comment).
  void Check(const std::string& when) {
    std::multiset<std::string> got = Keys();
    std::set<std::string> distinct(got.begin(), got.end());
    duplicates_ += static_cast<int64_t>(got.size() - distinct.size());
    for (const std::string& k : keys_) lost_ += got.count(k) == 0;
    EXPECT_EQ(got, keys_) << "accuracy keys " << when;
    testing::ImpliedCheck implied = testing::CheckImpliedByInputs(checker_.get(), *CivilDay::Parse(kDate));
    checked_ += implied.checked;
    stale_ += implied.stale;
    mismatched_ += static_cast<int64_t>(implied.mismatches.size());
    EXPECT_TRUE(implied.mismatches.empty())
        << when << ": a partition written after its inputs changed does not hold what they imply: "
        << Join(implied.mismatches, "; ");
  }

  void Collect(const CommandResult& r, const std::string& who) {
    EXPECT_EQ(r.exit_code, 0) << who << ": " << r.err.substr(0, 3000);
    std::vector<Section> s = testing::Sections(r.err);
    sections_.insert(sections_.end(), s.begin(), s.end());
    for (size_t at = 0; (at = r.err.find("\"inputs_changed\"", at)) != std::string::npos; ++at) {
      ++refusals_;
    }
  }

  testing::TempDir dir_;
  std::string store_, backend_, lock_url_, db_, schema_, config_, header_;
  std::vector<std::string> actual_lines_;
  std::multiset<std::string> keys_;
  std::unique_ptr<Store> checker_;
  int version_ = 0;
  int64_t duplicates_ = 0, lost_ = 0, checked_ = 0, stale_ = 0, mismatched_ = 0, refusals_ = 0;
  std::vector<Section> sections_;
};

TEST_P(InputChangeTest, R9_InputsChangeBetweenAndDuringRuns) {
  const int processes = EnvInt("PROPGRADE_RACE_PROCESSES", 4);
  const int rounds = EnvInt("PROPGRADE_R9_ROUNDS", 5);
  const auto started = std::chrono::steady_clock::now();
  std::mt19937 rng(4242 + getpid());
  int runs = 0, rounds_run = 0;
  for (int round = 0; round < rounds && !HasFailure(); ++round) {
    ++rounds_run;
    // 1. Between runs: A read the old box scores, B graded the corrected ones first.
    Child a(Cli({"grade", "--date", kDate}), {{"PROPGRADE_TEST_PAUSE_BEFORE_ACQUIRE_MS", "1200"}});
    ASSERT_TRUE(testing::WaitForStderr(a, "\"test_pause\"", 30000)) << "round " << round;
    Correct();
    Collect(testing::RunCommand(Cli({"grade", "--date", kDate})), "run B");
    Collect(a.Wait(), "run A (resumed)");
    runs += 2;
    Check("after A resumed in round " + std::to_string(round));
    // 2. During runs: N grades at once, the box scores corrected twice meanwhile.
    std::vector<std::unique_ptr<Child>> children;
    std::uniform_int_distribution<int> pause_ms(0, 300), at_ms(0, 1500);
    for (int p = 0; p < processes; ++p) {
      children.push_back(std::make_unique<Child>(
          Cli({"grade", "--date", kDate}),
          std::map<std::string, std::string>{
              {"PROPGRADE_TEST_PAUSE_BEFORE_ACQUIRE_MS", std::to_string(pause_ms(rng))}}));
    }
    std::vector<int> corrections = {at_ms(rng), at_ms(rng)};
    std::sort(corrections.begin(), corrections.end());
    auto t0 = std::chrono::steady_clock::now();
    for (int ms : corrections) {
      std::this_thread::sleep_until(t0 + std::chrono::milliseconds(ms));
      Correct();
    }
    for (size_t p = 0; p < children.size(); ++p) {
      Collect(children[p]->Wait(), "concurrent run " + std::to_string(p));
    }
    runs += processes;
    Check("after the concurrent runs of round " + std::to_string(round));
  }
  testing::SectionViolations v = testing::Violations(sections_);
  if (backend_ != "none") {
    EXPECT_EQ(v.overlaps, 0) << "two runs were inside a write section at once";
    EXPECT_EQ(v.non_increasing, 0) << "committed fence tokens did not strictly increase";
  }
  EXPECT_GT(refusals_, 0) << "no write was ever refused: the inputs never changed under a run";
  EXPECT_GT(checked_, 0) << "no partition was ever compared with its inputs";
  testing::ScenarioReport r;
  r.scenario = "R9";
  r.title = "inputs change between and during runs (a run that read them before they changed "
            "resumes after a fresher run committed; box scores corrected while N runs grade)";
  r.combination = store_ + "+" + backend_;
  r.size = std::to_string(processes) + " processes x " + std::to_string(rounds) + " rounds";
  r.runs = runs;
  r.faults = std::to_string(version_) + " box-score corrections";
  r.duplicate_groups = duplicates_;
  r.lost_rows = lost_;
  if (backend_ != "none") {
    r.overlaps = v.overlaps;
    r.fence_violations = v.non_increasing;
  }
  r.outcome = std::to_string(checked_) + " partitions matched their inputs at commit (" +
              std::to_string(mismatched_) + " did not; " + std::to_string(stale_) +
              " were older than a later correction); " + std::to_string(refusals_) +
              " writes refused and recomputed because their inputs changed";
  r.passed = !HasFailure();
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  testing::RecordScenario(r);
}

INSTANTIATE_TEST_SUITE_P(Locks, InputChangeTest,
                         ::testing::Values("sqlite_db", "sqlite_etcd", "sqlite_none", "postgres_db",
                                           "postgres_etcd"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace propgrade

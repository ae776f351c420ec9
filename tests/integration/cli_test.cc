// The command line as users meet it: help, exit codes, imports that are all-or-nothing and
// idempotent, regrades that replace, dates without box scores, reports and exports.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <sstream>

#include <nlohmann/json.hpp>

#include "lock/lock_service.h"
#include "testing/queries.h"
#include "testing/subprocess.h"
#include "testing/temp_dir.h"

namespace propgrade {
namespace {

using testing::CommandResult;

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override { db_ = "sqlite:" + dir_.path() + "/cli.db"; }

  CommandResult Cli(std::vector<std::string> args) {
    args.insert(args.begin(), {testing::PropgradeBinary(), "--db", db_, "--log-format", "json"});
    return testing::RunCommand(args);
  }
  std::string Write(const std::string& name, const std::string& text) {
    std::string path = dir_.path() + "/" + name;
    std::ofstream(path) << text;
    return path;
  }
  int CountLines(const std::string& text) {
    return static_cast<int>(std::count(text.begin(), text.end(), '\n'));
  }
  // A tiny date: two predictions, one box score row each.
  void LoadSmallDate() {
    auto p = Write("p.csv",
                   "prediction_id,game_date,game_id,player_lookup,system_id,predicted_points,"
                   "confidence_score,recommendation,line_value,created_at\n"
                   "p1,2026-01-16,20260116_LAL_BOS,a,ensemble_v1,24.5,0.7,OVER,20.5,"
                   "2026-01-16T12:00:00Z\n"
                   "p2,2026-01-16,20260116_LAL_BOS,b,ensemble_v1,8.5,0.6,UNDER,10.5,"
                   "2026-01-16T12:00:00Z\n");
    auto a = Write("a.csv",
                   "game_date,game_id,player_lookup,team_abbr,opponent_team_abbr,points,"
                   "minutes_played\n"
                   "2026-01-16,20260116_LAL_BOS,a,LAL,BOS,25,31:30\n"
                   "2026-01-16,20260116_LAL_BOS,b,BOS,LAL,12,20.5\n");
    ASSERT_EQ(Cli({"import", "predictions", p}).exit_code, 0);
    ASSERT_EQ(Cli({"import", "actuals", a}).exit_code, 0);
  }

  testing::TempDir dir_;
  std::string db_;
};

TEST_F(CliTest, HelpHasExamples) {
  CommandResult r = Cli({"--help"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("Examples:"), std::string::npos);
  for (const char* sub : {"init", "import", "grade", "aggregate", "summarize", "report", "export",
                          "demo"}) {
    CommandResult h = Cli({sub, "--help"});
    EXPECT_EQ(h.exit_code, 0) << sub;
    EXPECT_NE(h.out.find("Example"), std::string::npos) << sub;
  }
}

// init says what an acknowledged commit survives: FULL by default (a commit acknowledged to the
// user survives a power loss), NORMAL only when configured.
TEST_F(CliTest, InitSaysWhatACommitSurvives) {
  CommandResult full = Cli({"init"});
  ASSERT_EQ(full.exit_code, 0) << full.err;
  EXPECT_NE(full.out.find("synchronous=FULL"), std::string::npos) << full.out;
  auto config = Write("normal.toml", "[sqlite]\nsynchronous = \"normal\"\n");
  CommandResult normal = Cli({"--config", config, "init"});
  ASSERT_EQ(normal.exit_code, 0) << normal.err;
  EXPECT_NE(normal.out.find("synchronous=NORMAL"), std::string::npos) << normal.out;
  auto bad = Write("bad.toml", "[sqlite]\nsynchronous = \"off\"\n");
  EXPECT_EQ(Cli({"--config", bad, "init"}).exit_code, 2);
}

// A read-only command run with enforce_unique_keys = false (a config meant for a legacy import)
// leaves the database's unique index alone; only init changes it, and says so.
TEST_F(CliTest, OnlyInitChangesTheUniqueIndex) {
  ASSERT_EQ(Cli({"init"}).exit_code, 0);
  auto loose = Write("loose.toml", "[grading]\nenforce_unique_keys = false\n");
  auto indexes = [&] {
    return *testing::SqliteQuery(dir_.path() + "/cli.db",
                                 "SELECT group_concat(name, ',') FROM (SELECT name FROM "
                                 "sqlite_master WHERE type = 'index' AND name LIKE "
                                 "'%prediction_accuracy_key' ORDER BY name)")
                .begin();
  };
  EXPECT_EQ(Cli({"--config", loose, "report", "accuracy"}).exit_code, 0);
  EXPECT_EQ(indexes(), "ux_prediction_accuracy_key") << "a report dropped the unique index";
  CommandResult relaxed = Cli({"--config", loose, "init"});
  ASSERT_EQ(relaxed.exit_code, 0) << relaxed.err;
  EXPECT_NE(relaxed.out.find("prediction_accuracy: key index made non-unique"), std::string::npos)
      << relaxed.out;
  EXPECT_NE(relaxed.err.find("key_index_changed"), std::string::npos) << "the change is logged";
  EXPECT_EQ(indexes(), "ix_prediction_accuracy_key");
  EXPECT_EQ(Cli({"report", "accuracy"}).exit_code, 0);
  EXPECT_EQ(indexes(), "ix_prediction_accuracy_key");
  EXPECT_EQ(Cli({"init"}).exit_code, 0);
  EXPECT_EQ(indexes(), "ux_prediction_accuracy_key");
}

// Fault injection is for the reliability suites only: the binary ignores the PROPGRADE_TEST_*
// variables (and says so) unless --enable-test-hooks is given, which is logged CRITICAL.
TEST_F(CliTest, TestHooksNeedTheirFlagAndAreLoggedCritical) {
  LoadSmallDate();
  const std::string bin = testing::PropgradeBinary();
  // Started through env(1), so the harness does not add the flag.
  CommandResult ignored = testing::RunCommand(
      {"env", "PROPGRADE_TEST_PAUSE_BEFORE_ACQUIRE_MS=10", bin, "--db", db_, "--log-format",
       "json", "grade", "--date", "2026-01-16"});
  EXPECT_EQ(ignored.exit_code, 0) << ignored.err;
  EXPECT_NE(ignored.err.find("test_hooks_ignored"), std::string::npos) << ignored.err;
  EXPECT_EQ(ignored.err.find("\"test_pause\""), std::string::npos) << "the hook took effect";
  CommandResult enabled = testing::RunCommand(
      {"env", "PROPGRADE_TEST_PAUSE_BEFORE_ACQUIRE_MS=10", bin, "--enable-test-hooks", "--db", db_,
       "--log-format", "json", "grade", "--date", "2026-01-16"});
  EXPECT_EQ(enabled.exit_code, 0) << enabled.err;
  EXPECT_NE(enabled.err.find("\"test_pause\""), std::string::npos) << enabled.err;
  EXPECT_NE(enabled.err.find("\"severity\":\"CRITICAL\",\"message\":\"test_hooks_enabled"),
            std::string::npos)
      << enabled.err;
  EXPECT_EQ(Cli({"--help"}).out.find("enable-test-hooks"), std::string::npos) << "not advertised";
  // lock = none warns on every run that writes.
  CommandResult none = Cli({"--lock", "none", "grade", "--date", "2026-01-16"});
  EXPECT_EQ(none.exit_code, 0) << none.err;
  EXPECT_NE(none.err.find("lock_none"), std::string::npos) << none.err;
}

TEST_F(CliTest, UsageErrorsExitTwo) {
  EXPECT_EQ(Cli({}).exit_code, 2);
  EXPECT_EQ(Cli({"frobnicate"}).exit_code, 2);
  CommandResult bad_date = Cli({"grade", "--date", "2026-02-30"});
  EXPECT_EQ(bad_date.exit_code, 2);
  EXPECT_NE(bad_date.err.find("2026-02-30"), std::string::npos);
  EXPECT_EQ(Cli({"grade", "--date", "2026-01-16'; DROP TABLE prediction_accuracy; --"}).exit_code, 2);
  EXPECT_EQ(Cli({"grade", "--date", "2026-01-16", "--yesterday"}).exit_code, 2);
  EXPECT_EQ(Cli({"grade", "--from", "2026-01-16"}).exit_code, 2);
  EXPECT_EQ(Cli({"report", "nonsense"}).exit_code, 2);
  EXPECT_EQ(Cli({"export", "no_such_table"}).exit_code, 2);
}

// A mistyped --db: only the commands that bring data or a schema create a database; every
// other command says the database does not exist (exit 2) and creates nothing.
TEST_F(CliTest, AMissingDatabaseIsAnErrorAndIsNotCreated) {
  for (const std::string& path :
       {dir_.path() + "/typo.db", dir_.path() + "/no/such/dir/typo.db"}) {
    const std::string db = "sqlite:" + path;
    for (std::vector<std::string> a : std::vector<std::vector<std::string>>{
             {"report", "accuracy"},
             {"export", "prediction_accuracy"},
             {"check"},
             {"locks", "list"},
             {"locks", "sweep"},
             {"locks", "release", "grading/2026-01-16", "--reason", "r"},
             {"locks", "reset-fence", "prediction_accuracy", "2026-01-16", "--reason", "r"},
             {"dedupe", "--table", "prediction_accuracy"},
             {"aggregate", "--date", "2026-01-16"},
             {"summarize", "--as-of", "2026-01-16"},
             {"consolidate", "--date", "2026-01-16"},
             {"consolidate", "--cleanup-orphans"}}) {
      const std::string command = a[0] + (a.size() > 1 ? " " + a[1] : "");
      a.insert(a.begin(), {testing::PropgradeBinary(), "--db", db, "--log-format", "json"});
      CommandResult r = testing::RunCommand(a);
      EXPECT_EQ(r.exit_code, 2) << command << ": " << r.out << r.err;
      EXPECT_NE(r.err.find("no such database: " + db + " (run `propgrade init` or check --db)"),
                std::string::npos)
          << command << ": " << r.err;
      EXPECT_FALSE(std::filesystem::exists(path)) << command << " created " << path;
    }
  }
  // breaker status reads the breaker state file, not the database.
  const std::string path = dir_.path() + "/typo.db";
  testing::RunCommand({testing::PropgradeBinary(), "--db", "sqlite:" + path, "breaker", "status"});
  EXPECT_FALSE(std::filesystem::exists(path));
  // init creates it; then the reports answer.
  db_ = "sqlite:" + path;
  ASSERT_EQ(Cli({"init"}).exit_code, 0);
  CommandResult report = Cli({"report", "accuracy"});
  EXPECT_EQ(report.exit_code, 0) << report.err;
  EXPECT_NE(report.out.find("No graded predictions yet"), std::string::npos) << report.out;
}

// Read-only commands do not migrate: an older schema is an error saying to run init, which
// migrates it; a file without propgrade's schema is an error too.
TEST_F(CliTest, ReadOnlyCommandsNeedTheCurrentSchemaAndChangeNothing) {
  const std::string path = dir_.path() + "/cli.db";
  ASSERT_EQ(Cli({"init"}).exit_code, 0);
  auto set_version = [&](int v) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, ("PRAGMA user_version = " + std::to_string(v)).c_str(), nullptr,
                           nullptr, nullptr),
              SQLITE_OK);
    sqlite3_close(db);
  };
  auto version = [&] { return *testing::SqliteQuery(path, "PRAGMA user_version").begin(); };
  const std::string current = version();
  set_version(5);
  for (std::vector<std::string> a : std::vector<std::vector<std::string>>{
           {"report", "accuracy"}, {"export", "prediction_accuracy"}, {"locks", "list"}}) {
    CommandResult r = Cli(a);
    EXPECT_EQ(r.exit_code, 2) << a[0] << ": " << r.err;
    EXPECT_NE(r.err.find("sqlite:" + path + " has schema version 5, older than this propgrade's (" +
                         current + "): run `propgrade init` to migrate it"),
              std::string::npos)
        << r.err;
    EXPECT_EQ(version(), "5") << a[0] << " migrated the schema";
  }
  ASSERT_EQ(Cli({"init"}).exit_code, 0);
  EXPECT_EQ(version(), current);
  EXPECT_EQ(Cli({"report", "accuracy"}).exit_code, 0);

  Write("empty.db", "");
  db_ = "sqlite:" + dir_.path() + "/empty.db";
  CommandResult empty = Cli({"export", "prediction_accuracy"});
  EXPECT_EQ(empty.exit_code, 2) << empty.err;
  EXPECT_NE(empty.err.find("empty.db holds no propgrade schema (run `propgrade init`"),
            std::string::npos)
      << empty.err;
  EXPECT_EQ(std::filesystem::file_size(dir_.path() + "/empty.db"), 0u);
}

// Reports and exports read a database file this user cannot write: here root's 0444 file in
// root's 0755 directory, read by `nobody` (who cannot create the -shm file beside it either).
// A command that writes is still refused, exit 3.
TEST_F(CliTest, ReportsAndExportsReadAFileThisUserCannotWrite) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root (runuser -u nobody)";
  CommandResult probe = testing::RunCommand(
      {"runuser", "-u", "nobody", "--", "test", "-x", testing::PropgradeBinary()});
  if (probe.exit_code != 0) {
    GTEST_SKIP() << "nobody cannot run " << testing::PropgradeBinary() << ": " << probe.err;
  }
  LoadSmallDate();
  ASSERT_EQ(Cli({"grade", "--date", "2026-01-16"}).exit_code, 0);
  const std::string path = dir_.path() + "/cli.db";
  const std::string report = Cli({"report", "accuracy", "--format", "json"}).out;
  const std::string exported = Cli({"export", "prediction_accuracy"}).out;
  ASSERT_NE(report.find("ensemble_v1"), std::string::npos) << report;
  ASSERT_EQ(CountLines(exported), 3) << exported;
  // A writer's close takes the -wal and -shm files away (a reader leaves them).
  ASSERT_EQ(Cli({"init"}).exit_code, 0);
  ASSERT_FALSE(std::filesystem::exists(path + "-wal"));
  ASSERT_FALSE(std::filesystem::exists(path + "-shm"));

  const std::string home = dir_.path() + "/nobody";
  ASSERT_EQ(testing::RunCommand({"sh", "-c", "chmod 0755 '" + dir_.path() + "' && mkdir '" +
                                                 home + "' && chown nobody '" + home +
                                                 "' && chmod 0444 '" + path + "'"})
                .exit_code,
            0);
  const std::string config = home + "/propgrade.toml";
  std::ofstream(config) << "[breaker]\nstate_file = \"" << home << "/breakers.json\"\n";
  auto as_nobody = [&](std::vector<std::string> a) {
    a.insert(a.begin(), {"runuser", "-u", "nobody", "--", "env", "HOME=" + home,
                         testing::PropgradeBinary(), "--db", db_, "--config", config,
                         "--log-format", "json"});
    return testing::RunCommand(a);
  };
  std::ifstream before_file(path, std::ios::binary);
  const std::string before((std::istreambuf_iterator<char>(before_file)),
                           std::istreambuf_iterator<char>());

  CommandResult r = as_nobody({"report", "accuracy", "--format", "json"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, report);
  r = as_nobody({"export", "prediction_accuracy"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, exported);
  r = as_nobody({"report", "systems"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  r = as_nobody({"grade", "--date", "2026-01-16"});
  EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
  std::ifstream after_file(path, std::ios::binary);
  const std::string after((std::istreambuf_iterator<char>(after_file)),
                          std::istreambuf_iterator<char>());
  EXPECT_TRUE(before == after) << "the file changed";
  EXPECT_FALSE(std::filesystem::exists(path + "-wal"));

  // With the -wal and -shm files a reader of the owner's left behind.
  ASSERT_EQ(Cli({"report", "accuracy"}).exit_code, 0);
  ASSERT_TRUE(std::filesystem::exists(path + "-shm"));
  r = as_nobody({"export", "prediction_accuracy"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, exported);
}

// A declared table from the command line: load (and what it refuses, writing nothing), the
// data-quality suite, and dedupe of one partition of a text-partitioned table.
TEST_F(CliTest, ADeclaredTableIsLoadedRefusedCheckedAndDeduped) {
  const std::string cfg = Write("propgrade.toml",
                                "[tables.bets_export]\n"
                                "partition_column = \"batch\"\n"
                                "key = [\"bet_id\"]\n"
                                "columns = [\n"
                                "  { name = \"batch\", type = \"text\" },\n"
                                "  { name = \"bet_id\", type = \"integer\", required = true },\n"
                                "  { name = \"stake\", type = \"real\" },\n"
                                "  { name = \"placed_at\", type = \"timestamp\" },\n"
                                "]\n"
                                "keep = { column = \"placed_at\", wins = \"latest\" }\n");
  auto cli = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {"--config", cfg});
    return Cli(std::move(args));
  };
  const std::string good = Write("good.csv",
                                 "batch,bet_id,stake,placed_at\n"
                                 "b-1,1,10,2026-01-16T18:00:00Z\n"
                                 "b-1,2,5.5,2026-01-16T18:05:00Z\n");
  CommandResult r = cli({"load", "bets_export", "--partition", "b-1", good});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("success"), std::string::npos) << r.out;
  r = cli({"load", "bets_export", "--partition", "b-1", good});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("unchanged"), std::string::npos) << r.out;
  auto rows = [&] {
    return testing::DbQuery(db_, "SELECT bet_id || ':' || stake FROM bets_export ORDER BY 1");
  };
  const std::multiset<std::string> loaded = {"1:10.0", "2:5.5"};
  ASSERT_EQ(rows(), loaded);

  // Bad input: exit 2, a message naming the place, nothing written.
  const std::vector<std::tuple<std::string, std::string, std::string>> bad = {
      {"unknown", "batch,bet_id\nb-1,1\n", "unknown"},
      {"bets_export", "batch,bet_id,stake\nb-1,1,ten\n", "bad.csv:2"},
      {"bets_export", "batch,bet_id\nb-2,1\n", "not the partition being loaded"},
      {"bets_export", "batch,stake\nb-1,3\n", "bet_id"},
      {"bets_export", "batch,bet_id,stake\nb-1,,3\n", "bad.csv:2"},
  };
  for (const auto& [table, text, says] : bad) {
    r = cli({"load", table, "--partition", "b-1", Write("bad.csv", text)});
    EXPECT_EQ(r.exit_code, 2) << text << r.out << r.err;
    EXPECT_NE(r.err.find(says), std::string::npos) << text << r.err;
    EXPECT_EQ(rows(), loaded) << text;
  }

  // --sql: the partition from a query, inside the write; a query that names a column the
  // table lacks exits 2 and writes nothing.
  ASSERT_EQ(testing::DbExec(db_,
                            "CREATE TABLE bets (b TEXT, id INTEGER, stake REAL); INSERT INTO "
                            "bets VALUES ('b-2', 7, 1.25), ('b-2', 8, 3)"),
            "ok");
  r = cli({"load", "bets_export", "--partition", "b-2", "--sql",
           "SELECT b AS batch, id AS bet_id, stake FROM bets WHERE b = $1"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("success"), std::string::npos) << r.out;
  r = cli({"load", "bets_export", "--partition", "b-3", "--sql", "SELECT b AS lot FROM bets"});
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_NE(r.out.find("invalid_input"), std::string::npos) << r.out;
  EXPECT_EQ(testing::DbQuery(db_, "SELECT count(*) FROM bets_export WHERE batch <> 'b-1'"),
            (std::multiset<std::string>{"2"}));
  ASSERT_EQ(testing::DbExec(db_, "DELETE FROM bets_export WHERE batch = 'b-2'"), "ok");

  r = cli({"tables", "list"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("bets_export"), std::string::npos) << r.out;
  r = cli({"check", "--format", "json"});
  for (const char* check : {"table_duplicates", "table_freshness", "table_volume"}) {
    EXPECT_NE(r.out.find(check), std::string::npos) << check << r.out;
  }

  // A row that reached the table around propgrade (its key index dropped): with the index
  // the database does not open; with enforce_unique_keys = false (as for the grading tables),
  // dedupe of that partition keeps the latest placed_at and quarantines the other, and init
  // with the setting back on rebuilds the unique index.
  ASSERT_EQ(testing::DbExec(db_,
                            "DROP INDEX ux_bets_export_key; INSERT INTO bets_export VALUES "
                            "('b-1', 2, 7.0, '2026-01-16T18:09:00.000000Z')"),
            "ok");
  r = cli({"check"});
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_NE(r.err.find("cannot enforce unique keys on bets_export"), std::string::npos) << r.err;
  std::ifstream declared(cfg);
  const std::string relaxed_cfg =
      Write("relaxed.toml", "[grading]\nenforce_unique_keys = false\n" +
                                std::string(std::istreambuf_iterator<char>(declared), {}));
  auto relaxed = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {"--config", relaxed_cfg});
    return Cli(std::move(args));
  };
  r = relaxed({"check", "--format", "json"});
  EXPECT_NE(r.out.find("bets_export b-1"), std::string::npos) << r.out;  // table_duplicates
  r = relaxed({"dedupe", "--table", "bets_export", "--partition", "b-1", "--dry-run"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  r = relaxed({"dedupe", "--table", "bets_export", "--partition", "b-1"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("bets_export b-1: 3 rows, 1 duplicate key groups, 1 surplus rows moved"),
            std::string::npos)
      << r.out;
  EXPECT_EQ(rows(), (std::multiset<std::string>{"1:10.0", "2:7.0"}));
  EXPECT_EQ(testing::DbQuery(db_, "SELECT count(*) FROM remediation_quarantine"),
            (std::multiset<std::string>{"1"}));
  r = cli({"init"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(
      testing::DbQuery(db_, "SELECT name FROM sqlite_master WHERE name LIKE '%bets_export_key'"),
      (std::multiset<std::string>{"ux_bets_export_key"}));
  r = cli({"dedupe", "--table", "bets_export", "--partition", "b-1", "--date", "2026-01-16"});
  EXPECT_EQ(r.exit_code, 2) << r.err;  // one partition flag or the other
}

TEST_F(CliTest, UnknownConfigKeyIsNamed) {
  auto cfg = Write("propgrade.toml", "[lock_policy]\nttl_secs = 5\n");
  CommandResult r = Cli({"--config", cfg, "init"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("lock_policy.ttl_secs"), std::string::npos) << r.err;
}

TEST_F(CliTest, RejectedFileImportsNothingAndNamesLineAndColumn) {
  LoadSmallDate();
  auto bad = Write("bad.csv",
                   "game_date,game_id,player_lookup,points,minutes_played\n"
                   "2026-01-17,20260117_LAL_BOS,a,25,30\n"
                   "2026-02-30,20260117_LAL_BOS,b,25,30\n");
  CommandResult r = Cli({"import", "actuals", bad});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("bad.csv:3"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("game_date"), std::string::npos) << r.err;
  CommandResult exported = Cli({"export", "player_game_summary"});
  EXPECT_EQ(CountLines(exported.out), 3);  // header + the two rows loaded before
}

TEST_F(CliTest, ImportingTwiceAndRegradingNeverDuplicates) {
  LoadSmallDate();
  LoadSmallDate();
  CommandResult again = Cli({"export", "player_prop_predictions"});
  EXPECT_EQ(CountLines(again.out), 3);
  for (int i = 0; i < 3; ++i) {
    CommandResult g = Cli({"grade", "--date", "2026-01-16"});
    ASSERT_EQ(g.exit_code, 0) << g.err;
    EXPECT_NE(g.out.find("grading success graded=2"), std::string::npos) << g.out;
  }
  EXPECT_EQ(CountLines(Cli({"export", "prediction_accuracy"}).out), 3);
  EXPECT_EQ(CountLines(Cli({"export", "system_daily_performance"}).out), 2);
  CommandResult runs = Cli({"export", "grading_runs", "--format", "jsonl"});
  EXPECT_EQ(CountLines(runs.out), 9);  // three runs of three steps
}

// A re-grade on a half-loaded box score: the coverage gate refuses it; with the gate lowered
// the shrink guard does, until --allow-shrink; history lists every write and refusal, diff
// names the keys, and rollback brings back the rows of the first grade byte for byte.
TEST_F(CliTest, HistoryDiffAndRollbackOfAPartitionThatShrank) {
  LoadSmallDate();
  ASSERT_EQ(Cli({"grade", "--date", "2026-01-16"}).exit_code, 0);
  const std::string graded = Cli({"export", "prediction_accuracy", "--date", "2026-01-16"}).out;
  ASSERT_EQ(CountLines(graded), 3);
  CommandResult first =
      Cli({"history", "prediction_accuracy", "--partition", "2026-01-16", "--format", "json"});
  ASSERT_EQ(first.exit_code, 0) << first.err;
  const std::string first_run =
      nlohmann::json::parse(first.out)["writes"][0]["run_id"].get<std::string>();
  // Row lineage: each graded row carries the token of the write that stored it (last column).
  const int64_t token = nlohmann::json::parse(first.out)["writes"][0]["fence_token"];
  const std::string first_row = graded.substr(graded.find('\n') + 1);
  EXPECT_EQ(first_row.substr(0, first_row.find('\n'))
                .substr(first_row.find('\n') - std::to_string(token).size() - 1),
            "," + std::to_string(token));

  // b's box score is gone (being re-loaded): coverage 0.5 < 0.7, exit 3, nothing written.
  ASSERT_EQ(testing::DbExec(db_, "DELETE FROM player_game_summary WHERE player_lookup = 'b'"),
            "ok");
  CommandResult gate = Cli({"grade", "--date", "2026-01-16"});
  EXPECT_EQ(gate.exit_code, 3);
  EXPECT_NE(gate.out.find("insufficient_actuals"), std::string::npos) << gate.out;
  const std::string loose = Write("loose.toml", "[grading]\nmin_player_coverage = 0.5\n");
  CommandResult shrink = Cli({"--config", loose, "grade", "--date", "2026-01-16"});
  EXPECT_EQ(shrink.exit_code, 3);
  EXPECT_NE(shrink.out.find("shrink_refused"), std::string::npos) << shrink.out;
  EXPECT_EQ(Cli({"export", "prediction_accuracy", "--date", "2026-01-16"}).out, graded);

  CommandResult dry = Cli(
      {"--config", loose, "diff", "prediction_accuracy", "--partition", "2026-01-16", "--dry-run"});
  ASSERT_EQ(dry.exit_code, 0) << dry.err;
  EXPECT_NE(dry.out.find("0 keys added, 1 removed, 0 changed"), std::string::npos) << dry.out;
  EXPECT_NE(dry.out.find("  - 2026-01-16|b|20260116_LAL_BOS|ensemble_v1|10.5"), std::string::npos)
      << dry.out;

  CommandResult allowed =
      Cli({"--config", loose, "grade", "--date", "2026-01-16", "--allow-shrink"});
  ASSERT_EQ(allowed.exit_code, 0) << allowed.out << allowed.err;
  EXPECT_EQ(CountLines(Cli({"export", "prediction_accuracy", "--date", "2026-01-16"}).out), 2);

  CommandResult history =
      Cli({"history", "prediction_accuracy", "--partition", "2026-01-16", "--format", "json"});
  auto h = nlohmann::json::parse(history.out);
  ASSERT_EQ(h["writes"].size(), 2u);
  EXPECT_EQ(h["writes"][0]["rows_before"], 2);
  EXPECT_EQ(h["writes"][0]["rows_after"], 1);
  EXPECT_EQ(h["writes"][0]["keys_removed"], 1);
  ASSERT_EQ(h["refused"].size(), 2u);
  EXPECT_EQ(h["refused"][0]["status"], "shrink_refused");  // newest first
  EXPECT_EQ(h["refused"][0]["keys_removed"], 1);
  EXPECT_EQ(h["refused"][1]["status"], "insufficient_actuals");

  CommandResult last =
      Cli({"diff", "prediction_accuracy", "--partition", "2026-01-16", "--format", "json"});
  auto d = nlohmann::json::parse(last.out);
  EXPECT_EQ(d["removed"],
            nlohmann::json::array({"2026-01-16|b|20260116_LAL_BOS|ensemble_v1|10.5"}));

  CommandResult back =
      Cli({"rollback", "prediction_accuracy", "--partition", "2026-01-16", "--to", first_run});
  ASSERT_EQ(back.exit_code, 0) << back.out << back.err;
  EXPECT_EQ(Cli({"export", "prediction_accuracy", "--date", "2026-01-16"}).out, graded);
  EXPECT_NE(Cli({"export", "system_daily_performance", "--date", "2026-01-16", "--format", "jsonl"})
                .out.find("\"predictions_count\":2"),
            std::string::npos);
  EXPECT_EQ(
      Cli({"rollback", "prediction_accuracy", "--partition", "2026-01-16", "--to", "no-such-run"})
          .exit_code,
      2);
}

// An import upserts the columns its file has: a file without predicted_points leaves the
// stored forecasts alone (a CSV header or JSONL keys without it), while a file with the
// column and an empty cell sets NULL, since the file mentions it.
TEST_F(CliTest, ImportKeepsTheStoredValuesOfColumnsTheFileDoesNotHave) {
  LoadSmallDate();
  auto stored = [&] {
    std::map<std::string, nlohmann::json> by_id;
    std::istringstream lines(Cli({"export", "player_prop_predictions", "--format", "jsonl"}).out);
    for (std::string line; std::getline(lines, line);) {
      auto row = nlohmann::json::parse(line);
      by_id[row["prediction_id"].get<std::string>()] = row;
    }
    return by_id;
  };
  auto relined = Write("relined.csv",
                       "prediction_id,game_date,game_id,player_lookup,system_id,line_value,"
                       "created_at\n"
                       "p1,2026-01-16,20260116_LAL_BOS,a,ensemble_v1,21.5,2026-01-16T12:00:00Z\n"
                       "p2,2026-01-16,20260116_LAL_BOS,b,ensemble_v1,11.5,2026-01-16T12:00:00Z\n");
  CommandResult r = Cli({"import", "predictions", relined});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("(0 inserted, 2 replaced)"), std::string::npos) << r.out;
  auto rows = stored();
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows["p1"]["line_value"], 21.5);
  EXPECT_EQ(rows["p1"]["predicted_points"], 24.5) << rows["p1"].dump();
  EXPECT_EQ(rows["p2"]["predicted_points"], 8.5) << rows["p2"].dump();
  EXPECT_EQ(rows["p1"]["confidence_score"], 0.7);
  EXPECT_EQ(rows["p2"]["recommendation"], "UNDER");

  auto jsonl = Write("relined.jsonl",
                     R"({"prediction_id":"p1","game_date":"2026-01-16","game_id":"20260116_LAL_BOS",)"
                     R"("player_lookup":"a","system_id":"ensemble_v1","line_value":22.5,)"
                     R"("created_at":"2026-01-16T12:00:00Z"})"
                     "\n");
  ASSERT_EQ(Cli({"import", "predictions", jsonl}).exit_code, 0);
  rows = stored();
  EXPECT_EQ(rows["p1"]["line_value"], 22.5);
  EXPECT_EQ(rows["p1"]["predicted_points"], 24.5) << rows["p1"].dump();

  auto blanked = Write("blanked.csv",
                       "prediction_id,game_date,game_id,player_lookup,system_id,predicted_points,"
                       "created_at\n"
                       "p1,2026-01-16,20260116_LAL_BOS,a,ensemble_v1,,2026-01-16T12:00:00Z\n");
  r = Cli({"import", "predictions", blanked});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("(0 inserted, 1 replaced)"), std::string::npos) << r.out;
  rows = stored();
  EXPECT_TRUE(rows["p1"]["predicted_points"].is_null()) << rows["p1"].dump();
  EXPECT_EQ(rows["p1"]["line_value"], 22.5);
  EXPECT_EQ(rows["p2"]["predicted_points"], 8.5);
}

TEST_F(CliTest, AggregateTakesADateOrARange) {
  LoadSmallDate();
  ASSERT_EQ(Cli({"grade", "--date", "2026-01-16", "--no-aggregate"}).exit_code, 0);
  EXPECT_EQ(CountLines(Cli({"export", "system_daily_performance"}).out), 1);  // header only
  CommandResult range = Cli({"aggregate", "--from", "2026-01-15", "--to", "2026-01-17"});
  ASSERT_EQ(range.exit_code, 0) << range.err;
  EXPECT_EQ(CountLines(range.out), 3) << range.out;  // one summary line per date
  EXPECT_NE(range.out.find("2026-01-16 daily_performance success rows=1"), std::string::npos)
      << range.out;
  EXPECT_EQ(CountLines(Cli({"export", "system_daily_performance"}).out), 2);
  EXPECT_EQ(Cli({"aggregate"}).exit_code, 2);
  EXPECT_EQ(Cli({"aggregate", "--from", "2026-01-17", "--to", "2026-01-15"}).exit_code, 2);
  EXPECT_EQ(Cli({"aggregate", "--date", "2026-01-16", "--from", "2026-01-15"}).exit_code, 2);
}

TEST_F(CliTest, ADateWithoutActualsDeletesNothing) {
  LoadSmallDate();
  ASSERT_EQ(Cli({"grade", "--date", "2026-01-16"}).exit_code, 0);
  // The same date's predictions now point at a game without a box score.
  auto moved = Write("moved.csv",
                     "prediction_id,game_date,game_id,player_lookup,system_id,created_at\n"
                     "p1,2026-01-16,20260116_MIA_NYK,a,ensemble_v1,2026-01-16T13:00:00Z\n"
                     "p2,2026-01-16,20260116_MIA_NYK,b,ensemble_v1,2026-01-16T13:00:00Z\n");
  ASSERT_EQ(Cli({"import", "predictions", moved}).exit_code, 0);
  CommandResult g = Cli({"grade", "--date", "2026-01-16", "--format", "json"});
  EXPECT_EQ(g.exit_code, 0) << g.err;
  EXPECT_NE(g.out.find("\"status\":\"no_actuals\""), std::string::npos) << g.out;
  EXPECT_EQ(CountLines(Cli({"export", "prediction_accuracy"}).out), 3);
  CommandResult empty = Cli({"grade", "--date", "2026-03-01"});
  EXPECT_EQ(empty.exit_code, 0);
  EXPECT_NE(empty.out.find("no_predictions"), std::string::npos);
}

TEST_F(CliTest, ReportsAndExportsInEveryFormat) {
  LoadSmallDate();
  ASSERT_EQ(Cli({"grade", "--date", "2026-01-16"}).exit_code, 0);
  CommandResult table = Cli({"report", "accuracy"});
  EXPECT_EQ(table.exit_code, 0);
  EXPECT_NE(table.out.find("ensemble_v1"), std::string::npos);
  CommandResult json = Cli({"report", "accuracy", "--format", "json"});
  EXPECT_NE(json.out.find("\"win_rate\":0.5"), std::string::npos) << json.out;  // a hit, a miss
  CommandResult csv = Cli({"report", "calibration", "--format", "csv", "--days", "7"});
  EXPECT_EQ(csv.exit_code, 0);
  EXPECT_EQ(csv.out.rfind("system_id,decile,decided,mean_confidence,hit_rate\n", 0), 0u);
  EXPECT_EQ(Cli({"report", "systems"}).exit_code, 0);
  EXPECT_EQ(Cli({"report", "players"}).exit_code, 0);
  CommandResult jsonl = Cli({"export", "prediction_accuracy", "--date", "2026-01-16", "--format",
                             "jsonl"});
  EXPECT_EQ(CountLines(jsonl.out), 2);
  EXPECT_NE(jsonl.out.find("\"prediction_correct\":true"), std::string::npos) << jsonl.out;
  EXPECT_NE(jsonl.out.find("\"minutes_played\":31.5"), std::string::npos) << jsonl.out;
  auto out = dir_.path() + "/acc.csv";
  EXPECT_EQ(Cli({"export", "prediction_accuracy", "--output", out}).exit_code, 0);
  std::ifstream f(out);
  std::string header;
  std::getline(f, header);
  EXPECT_EQ(header.rfind("prediction_id,player_lookup,game_id,game_date,", 0), 0u);
}

TEST_F(CliTest, LegacyAccuracyWithDuplicateKeysIsRejected) {
  std::string header =
      "prediction_id,player_lookup,game_id,game_date,system_id,line_value,is_voided\n";
  auto legacy = Write("legacy.csv", header +
                                        "x1,a,20260116_LAL_BOS,2026-01-16,s,20.5,false\n"
                                        "x2,a,20260116_LAL_BOS,2026-01-16,s,20.5,false\n");
  CommandResult r = Cli({"import", "accuracy", legacy});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("legacy.csv:3"), std::string::npos) << r.err;
  EXPECT_EQ(CountLines(Cli({"export", "prediction_accuracy"}).out), 1);
}

// A legacy table with 3 surplus copies among 8 rows (37.5 %, as the legacy table's 38 %):
// impact gives the figures with and without them, the same before and after dedupe (which
// moves the copies into quarantine). By hand, system A: without the copies k1..k4 decide 2 of
// 4 (0.5), errors 2, -4, 1, -3 (MAE 2.5, bias -1); with them 4 of 7 (0.571), errors
// 2, 2, 2, -4, -4, 1, -3 (MAE 2.571, bias -0.571): +7.1 points, MAE +0.07, bias +0.43.
TEST_F(CliTest, ImpactOfALegacyTableWithDuplicatesIsWhatAHandCountGives) {
  const std::string loose = Write("loose.toml", "[grading]\nenforce_unique_keys = false\n");
  ASSERT_EQ(Cli({"--config", loose, "init"}).exit_code, 0);
  std::string csv =
      "prediction_id,player_lookup,game_id,game_date,system_id,line_value,prediction_correct,"
      "absolute_error,signed_error,is_voided,graded_at\n";
  auto row = [&](const std::string& id, const std::string& player, const std::string& system,
                 bool correct, int error, int hour) {
    csv += id + "," + player + ",g," + "2026-01-16," + system + ",20.5," +
           (correct ? "true" : "false") + "," + std::to_string(std::abs(error)) + "," +
           std::to_string(error) + ",false,2026-01-17T0" + std::to_string(hour) + ":00:00Z\n";
  };
  row("a1", "k1", "A", true, 2, 1);
  row("a1-copy", "k1", "A", true, 2, 2);
  row("a1-copy2", "k1", "A", true, 2, 3);
  row("a2", "k2", "A", false, -4, 1);
  row("a2-copy", "k2", "A", false, -4, 2);
  row("a3", "k3", "A", true, 1, 1);
  row("a4", "k4", "A", false, -3, 1);
  row("b1", "k1", "B", true, 1, 1);
  ASSERT_EQ(Cli({"--config", loose, "import", "accuracy", Write("legacy.csv", csv)}).exit_code, 0);

  const std::string headline =
      "A rolling_7d win rate +7.1 points, MAE +0.07, bias +0.43 from 3 surplus rows";
  CommandResult before =
      Cli({"impact", "--from", "2026-01-10", "--to", "2026-01-16", "--format", "json"});
  ASSERT_EQ(before.exit_code, 0) << before.err;
  auto json = nlohmann::json::parse(before.out);
  bool found = false;
  for (const auto& r : json["rows"]) {
    if (r["system_id"] != "A" || r["period"] != "rolling_7d") continue;
    found = true;
    EXPECT_EQ(r["rows"], 7);
    EXPECT_EQ(r["surplus_rows"], 3);
    EXPECT_EQ(r["win_rate"], 0.571);
    EXPECT_EQ(r["win_rate_without"], 0.5);
    EXPECT_EQ(r["win_rate_delta_points"], 7.1);
    EXPECT_EQ(r["mae"], 2.57);
    EXPECT_EQ(r["mae_without"], 2.5);
    EXPECT_EQ(r["bias_without"], -1);
    EXPECT_EQ(r["bias_delta"], 0.43);
  }
  EXPECT_TRUE(found) << before.out;
  CommandResult text = Cli({"impact", "--from", "2026-01-10", "--to", "2026-01-16"});
  EXPECT_NE(text.out.find(headline), std::string::npos) << text.out;

  ASSERT_EQ(Cli({"--config", loose, "dedupe", "--table", "prediction_accuracy"}).exit_code, 0);
  EXPECT_EQ(CountLines(Cli({"export", "prediction_accuracy"}).out), 6);  // header + 5 keys
  CommandResult after = Cli({"impact", "--from", "2026-01-10", "--to", "2026-01-16"});
  EXPECT_NE(after.out.find(headline), std::string::npos) << after.out;
  EXPECT_NE(after.out.find("3 of them taken back from remediation_quarantine"), std::string::npos)
      << after.out;
}

TEST_F(CliTest, FencesAreNamespacedByLockServiceAndCanBeReset) {
  LoadSmallDate();
  // Lock db: one token counter for the file; a grade takes three locks (grading, daily
  // performance, summary), so the accuracy partition is written with token 1, then 4.
  ASSERT_EQ(Cli({"grade", "--date", "2026-01-16"}).exit_code, 0);
  ASSERT_EQ(Cli({"grade", "--date", "2026-01-16"}).exit_code, 0);
  auto fences = [&] { return Cli({"export", "partition_fence"}).out; };
  EXPECT_NE(fences().find("db,prediction_accuracy,2026-01-16,4,"), std::string::npos) << fences();
  // A write without a lock leaves the db namespace's token alone.
  ASSERT_EQ(Cli({"--lock", "none", "grade", "--date", "2026-01-16"}).exit_code, 0);
  EXPECT_NE(fences().find("db,prediction_accuracy,2026-01-16,4,"), std::string::npos) << fences();
  EXPECT_NE(fences().find("none,prediction_accuracy,2026-01-16,,"), std::string::npos) << fences();
  CommandResult reset = Cli({"locks", "reset-fence", "prediction_accuracy", "2026-01-16",
                             "--reason", "moved lock service"});
  EXPECT_EQ(reset.exit_code, 0) << reset.err;
  EXPECT_EQ(fences().find("db,prediction_accuracy,2026-01-16"), std::string::npos) << fences();
  EXPECT_NE(Cli({"export", "lock_events"}).out.find("fence_reset"), std::string::npos);
  // The lock's own counter goes on, so the next write stores a fresh, higher token.
  ASSERT_EQ(Cli({"grade", "--date", "2026-01-16", "--no-aggregate"}).exit_code, 0);
  EXPECT_NE(fences().find("db,prediction_accuracy,2026-01-16,7,"), std::string::npos) << fences();
}

TEST_F(CliTest, LocksCommands) {
  ASSERT_EQ(Cli({"init"}).exit_code, 0);  // locks commands need a database
  CommandResult list = Cli({"locks", "list"});
  EXPECT_EQ(list.exit_code, 0) << list.err;
  EXPECT_NE(list.out.find("no locks held"), std::string::npos);
  EXPECT_EQ(Cli({"locks", "list", "--format", "json"}).out, "[]\n");
  EXPECT_EQ(Cli({"locks", "sweep"}).exit_code, 0);
  EXPECT_EQ(Cli({"locks", "release", "grading/2026-01-16"}).exit_code, 2);  // --reason required
  CommandResult release = Cli({"locks", "release", "grading/2026-01-16", "--reason", "test"});
  EXPECT_EQ(release.exit_code, 0);
  EXPECT_NE(release.out.find("is not held"), std::string::npos);
  // A held lock: released by the token listed, recorded with its holder.
  LockOptions lo;
  lo.store_url = db_;
  lo.holder_id = "host-x:1:held";
  auto locks = LockService::Open("db", lo);
  ASSERT_TRUE(locks.ok()) << locks.status().ToString();
  auto held = (*locks)->Acquire("grading/2026-01-16", 300 * 1000000LL, 0);
  ASSERT_TRUE(held.ok()) << held.status().ToString();
  release = Cli({"locks", "release", "grading/2026-01-16", "--reason", "host died"});
  EXPECT_EQ(release.exit_code, 0) << release.err;
  EXPECT_NE(release.out.find("released grading/2026-01-16 (holder host-x:1:held, token " +
                             std::to_string(*held->token) + ")"),
            std::string::npos)
      << release.out;
  EXPECT_EQ((*locks)->Renew(&*held).reason(), StatusReason::kLockLost);
  std::string events = Cli({"export", "lock_events"}).out;
  EXPECT_NE(events.find("force_released,host-x:1:held"), std::string::npos) << events;
  EXPECT_EQ(Cli({"--lock", "zookeeper://x", "locks", "list"}).exit_code, 2);
  EXPECT_EQ(Cli({"locks", "reset-fence", "player_archetypes", "x", "--reason", "r"}).exit_code, 2);
}

TEST_F(CliTest, DemoGradesAGeneratedSeasonThatPassesTheChecks) {
  CommandResult r = Cli({"demo", "--seed", "3"});  // the season ends yesterday
  ASSERT_EQ(r.exit_code, 0) << r.err.substr(0, 2000);
  EXPECT_NE(r.out.find("accuracy report"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("0 duplicate rows"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("catboost_v8"), std::string::npos);

  // The data-quality suite passes; the demo's deliberate source duplicates warn.
  CommandResult check = Cli({"check"});
  EXPECT_EQ(check.exit_code, 0) << check.out;
  EXPECT_NE(check.out.find("source_duplicates     warn"), std::string::npos) << check.out;
  EXPECT_NE(check.out.find("13 checks: 12 pass, 1 warn, 0 fail"), std::string::npos) << check.out;
  CommandResult before = Cli({"check", "--format", "json"});
  auto report = nlohmann::json::parse(before.out);
  int64_t duplicates_before = 0;
  for (const auto& c : report["checks"]) {
    if (c["name"] == "source_duplicates") duplicates_before = c["value"].get<int64_t>();
  }
  // A duplicated source file: 50 of yesterday's predictions again, under new ids and older.
  std::string yesterday = report["summary"]["yesterday"];
  CommandResult rows = Cli({"export", "player_prop_predictions", "--date", yesterday, "--format", "jsonl"});
  std::istringstream lines(rows.out);
  std::string line, csv = "prediction_id,game_date,game_id,player_lookup,system_id,line_value,created_at\n";
  for (int i = 0; i < 50 && std::getline(lines, line); ++i) {
    auto p = nlohmann::json::parse(line);
    csv += p["prediction_id"].get<std::string>() + "-dup," + p["game_date"].get<std::string>() +
           "," + p["game_id"].get<std::string>() + "," + p["player_lookup"].get<std::string>() +
           "," + p["system_id"].get<std::string>() + "," +
           (p["line_value"].is_null() ? "" : p["line_value"].dump()) + ",2000-01-01T00:00:00Z\n";
  }
  ASSERT_EQ(Cli({"import", "predictions", Write("dup.csv", csv)}).exit_code, 0);
  CommandResult after = Cli({"check", "--format", "json"});
  EXPECT_EQ(after.exit_code, 0) << "warnings alone exit 0";
  for (const auto& c : nlohmann::json::parse(after.out)["checks"]) {
    if (c["name"] != "source_duplicates") continue;
    EXPECT_EQ(c["status"], "warn");
    EXPECT_EQ(c["value"].get<int64_t>(), duplicates_before + 50);
  }
  EXPECT_EQ(Cli({"check", "--strict"}).exit_code, 1) << "--strict: warnings exit 1";
}

}  // namespace
}  // namespace propgrade

// Detection and response through the CLI, against a real local HTTP receiver for alerts:
// every alert type a test can trigger arrives with its fields (a receiver that is down or
// slow is R7, in tests/reliability/alert_sink_test.cc); the circuit breaker opens across
// processes and refuses runs; the legacy clean-up path (import duplicates, dedupe, verify);
// metrics pass promtool; and no secret ever appears in any output.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include "testing/http_receiver.h"
#include "testing/pg.h"
#include "testing/queries.h"
#include "testing/subprocess.h"
#include "testing/temp_dir.h"
#include "testing/skip.h"

namespace propgrade {
namespace {

using testing::Child;
using testing::CommandResult;

class ResponseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = "sqlite:" + dir_.path() + "/r.db";
    config_ = dir_.path() + "/propgrade.toml";
    WriteConfig("");
  }
  void WriteConfig(const std::string& extra) {
    std::ofstream(config_) << "[breaker]\nfailure_threshold = 3\nopen_seconds = 2\nstate_file = \""
                           << dir_.path() << "/breakers.json\"\n[alerts]\nmin_interval_seconds = 0\n"
                           << extra;
  }
  std::map<std::string, std::string> Env() const {
    return {{"PROPGRADE_ALERT_WEBHOOK_URL", receiver_.url("/hook/" + kHookSecret)},
            {"PROPGRADE_SLACK_WEBHOOK_URL", receiver_.url("/services/" + kSlackSecret)}};
  }
  std::vector<std::string> Args(std::vector<std::string> args, const std::string& db = "") const {
    args.insert(args.begin(), {testing::PropgradeBinary(), "--db", db.empty() ? db_ : db,
                               "--config", config_, "--log-format", "json"});
    return args;
  }
  CommandResult Cli(std::vector<std::string> args, const std::string& db = "") {
    return testing::RunCommand(Args(std::move(args), db), Env());
  }
  void ImportGolden(const std::string& db = "") {
    const std::string in = testing::GoldenDir() + "/inputs/";
    for (const char* kind : {"predictions", "actuals", "injuries", "archetypes"}) {
      CommandResult r = Cli({"import", kind, in + kind + ".csv"}, db);
      ASSERT_EQ(r.exit_code, 0) << r.err;
    }
  }
  // The generic-webhook alerts received so far, by type.
  std::map<std::string, std::vector<nlohmann::json>> Alerts() {
    std::map<std::string, std::vector<nlohmann::json>> out;
    for (const auto& r : receiver_.requests()) {
      if (r.path.rfind("/hook/", 0) != 0) continue;
      auto j = nlohmann::json::parse(r.body);
      out[j["type"].get<std::string>()].push_back(j);
    }
    return out;
  }

  const std::string kHookSecret = "hook-SECRET-5b1f";
  const std::string kSlackSecret = "T000/B000/slack-SECRET-9e2d";
  testing::TempDir dir_;
  testing::HttpReceiver receiver_;
  std::string db_, config_;
};

TEST_F(ResponseTest, InputWarningsAndSourceDuplicatesAreAlerted) {
  ImportGolden();
  CommandResult r = Cli({"grade", "--date", "2025-02-01", "--no-aggregate"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto alerts = Alerts();
  ASSERT_EQ(alerts["source_duplicates"].size(), 1u) << r.err;
  auto& sd = alerts["source_duplicates"][0];
  EXPECT_EQ(sd["severity"], "WARNING");
  EXPECT_EQ(sd["table"], "player_prop_predictions");
  EXPECT_EQ(sd["partition"], "2025-02-01");
  EXPECT_EQ(sd["fields"]["source_duplicates"], 15);  // the golden fixture's count
  ASSERT_EQ(alerts["input_warnings"].size(), 1u);
  EXPECT_EQ(alerts["input_warnings"][0]["fields"]["invalid_recommendations"], 4);
  EXPECT_EQ(alerts["input_warnings"][0]["fields"]["invalid_confidence"], 8);
  // The Slack form went out too, with its fallback text and blocks.
  int slack = 0;
  for (const auto& req : receiver_.requests()) {
    if (req.path.rfind("/services/", 0) != 0) continue;
    auto j = nlohmann::json::parse(req.body);
    EXPECT_TRUE(j.contains("text") && j.contains("blocks"));
    ++slack;
  }
  EXPECT_EQ(slack, 2);
}

TEST_F(ResponseTest, LockTimeoutAndAStuckLockAreAlerted) {
  ImportGolden();
  WriteConfig("[lock_policy]\nttl_seconds = 2\nrenew_every_seconds = 0.5\nmax_wait_seconds = 0\n"
              "stuck_alert_after_seconds = 0.5\nstuck_release_after_seconds = 0\n");
  // A holder that pauses after acquiring keeps the lock for a while.
  auto env = Env();
  env["PROPGRADE_TEST_PAUSE_AFTER_ACQUIRE_MS"] = "3000";
  env["PROPGRADE_TEST_DISABLE_LEASE_CHECK"] = "1";
  Child holder(Args({"grade", "--date", "2025-02-01", "--no-aggregate"}), env);
  ASSERT_TRUE(testing::WaitForStderr(holder, "\"phase\":\"enter\""));
  std::this_thread::sleep_for(std::chrono::milliseconds(600));
  CommandResult sweep = Cli({"locks", "sweep"});
  EXPECT_EQ(sweep.exit_code, 1) << sweep.err;  // found a stuck lock (and did not release it)
  CommandResult refused = Cli({"grade", "--date", "2025-02-01", "--no-aggregate"});
  EXPECT_EQ(refused.exit_code, 3) << refused.err;
  EXPECT_NE(refused.out.find("lock_timeout"), std::string::npos) << refused.out;
  CommandResult holder_result = holder.Wait();
  auto alerts = Alerts();
  ASSERT_EQ(alerts["stuck_lock"].size(), 1u);
  EXPECT_EQ(alerts["stuck_lock"][0]["fields"]["key"], "grading/2025-02-01");
  EXPECT_EQ(alerts["stuck_lock"][0]["fields"]["force_released"], false);
  ASSERT_EQ(alerts["lock_acquisition_failed"].size(), 1u);
  EXPECT_EQ(alerts["lock_acquisition_failed"][0]["severity"], "CRITICAL");
  EXPECT_EQ(alerts["lock_acquisition_failed"][0]["fields"]["wrote"], false);
  // The holder kept renewing (its keeper runs during the pause) and wrote; nobody took over.
  EXPECT_EQ(holder_result.exit_code, 0) << holder_result.err.substr(0, 2000);
}

TEST_F(ResponseTest, AFencedOutWriterIsAlertedAsLockLost) {
  ImportGolden();
  WriteConfig("[lock_policy]\nttl_seconds = 2\nrenew_every_seconds = 0.5\nmax_wait_seconds = 30\n");
  auto env = Env();
  env["PROPGRADE_TEST_PAUSE_AFTER_ACQUIRE_MS"] = "1500";
  env["PROPGRADE_TEST_DISABLE_LEASE_CHECK"] = "1";
  Child holder(Args({"grade", "--date", "2025-02-01", "--no-aggregate"}), env);
  ASSERT_TRUE(testing::WaitForStderr(holder, "\"phase\":\"enter\""));
  ASSERT_EQ(kill(holder.pid(), SIGSTOP), 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(2600));
  CommandResult second = Cli({"grade", "--date", "2025-02-01", "--no-aggregate"});
  EXPECT_EQ(second.exit_code, 0) << second.err.substr(0, 2000);
  kill(holder.pid(), SIGCONT);
  CommandResult stale = holder.Wait();
  EXPECT_EQ(stale.exit_code, 3);
  auto alerts = Alerts();
  ASSERT_EQ(alerts["lock_lost"].size(), 1u);
  EXPECT_EQ(alerts["lock_lost"][0]["fields"]["key"], "grading/2025-02-01");
  EXPECT_NE(alerts["lock_lost"][0]["summary"].get<std::string>().find("fenced out"),
            std::string::npos);
}

TEST_F(ResponseTest, ABreakerOpensAcrossProcessesAndHalfOpensLater) {
  const std::string down = "postgresql://nobody:" + kHookSecret + "@127.0.0.1:1/none";
  for (int i = 0; i < 3; ++i) {
    CommandResult r = Cli({"grade", "--date", "2025-02-01", "--no-aggregate"}, down);
    EXPECT_EQ(r.exit_code, 3) << r.err;
    EXPECT_NE(r.out.find("unavailable"), std::string::npos) << r.out;
  }
  auto refused = Cli({"grade", "--date", "2025-02-01", "--no-aggregate"}, down);
  EXPECT_EQ(refused.exit_code, 3);
  EXPECT_NE(refused.out.find("circuit_open"), std::string::npos) << refused.out;
  CommandResult status = Cli({"breaker", "status"});
  EXPECT_EQ(status.exit_code, 1);
  EXPECT_NE(status.out.find("grading  open  consecutive_failures=3"), std::string::npos)
      << status.out;
  auto alerts = Alerts();
  EXPECT_EQ(alerts["dependency_unavailable"].size(), 3u);
  ASSERT_EQ(alerts["circuit_open"].size(), 1u);
  EXPECT_EQ(alerts["circuit_open"][0]["fields"]["name"], "grading");
  // After open_seconds one trial goes through; it fails, so the breaker opens again.
  std::this_thread::sleep_for(std::chrono::milliseconds(2100));
  CommandResult trial = Cli({"grade", "--date", "2025-02-01", "--no-aggregate"}, down);
  EXPECT_NE(trial.out.find("unavailable"), std::string::npos) << trial.out;
  EXPECT_NE(Cli({"grade", "--date", "2025-02-01", "--no-aggregate"}, down).out.find("circuit_open"),
            std::string::npos);
  ASSERT_EQ(Cli({"breaker", "reset", "grading"}).exit_code, 0);
  EXPECT_EQ(Cli({"breaker", "status"}).exit_code, 0);
}

TEST_F(ResponseTest, MetricsPassPromtool) {
  if (testing::RunCommand({"sh", "-c", "command -v promtool"}).exit_code != 0) {
    PROPGRADE_SKIP_WITHOUT("promtool is not installed");
  }
  ImportGolden();
  std::string metrics = dir_.path() + "/m.prom";
  ASSERT_EQ(Cli({"--metrics-file", metrics, "grade", "--date", "2025-02-01"}).exit_code, 0);
  CommandResult check = testing::RunCommand({"sh", "-c", "promtool check metrics < " + metrics});
  EXPECT_EQ(check.exit_code, 0) << check.out << check.err;
}

TEST_F(ResponseTest, LegacyCleanUpPath) {
  WriteConfig("[grading]\nenforce_unique_keys = false\n");
  // A legacy table that is 38% duplicates: 3,100 rows, then 1,900 of them again.
  std::ifstream golden(testing::GoldenDir() + "/expected/prediction_accuracy.csv");
  std::string header, line;
  std::getline(golden, header);
  std::vector<std::string> rows;
  while (rows.size() < 3100 && std::getline(golden, line)) rows.push_back(line);
  std::ofstream legacy(dir_.path() + "/legacy.csv");
  legacy << header << "\n";
  for (const auto& r : rows) legacy << r << "\n";
  for (size_t i = 0; i < 1900; ++i) legacy << rows[i * 3 % rows.size()] << "\n";
  legacy.close();
  CommandResult imported = Cli({"import", "accuracy", dir_.path() + "/legacy.csv"});
  ASSERT_EQ(imported.exit_code, 0) << imported.err;
  EXPECT_NE(imported.out.find("5000 inserted"), std::string::npos) << imported.out;
  CommandResult dry = Cli({"dedupe", "--table", "prediction_accuracy", "--dry-run"});
  EXPECT_EQ(dry.exit_code, 1);
  EXPECT_NE(dry.out.find("1900 surplus rows would be moved"), std::string::npos) << dry.out;
  CommandResult done = Cli({"dedupe", "--table", "prediction_accuracy"});
  EXPECT_EQ(done.exit_code, 0) << done.err;
  EXPECT_NE(done.out.find("1900 surplus rows moved"), std::string::npos) << done.out;
  EXPECT_NE(done.out.find("0 duplicates left"), std::string::npos);
  const std::string path = dir_.path() + "/r.db";
  auto count = [&](const std::string& sql) { return *testing::SqliteQuery(path, sql).begin(); };
  EXPECT_EQ(count("SELECT count(*) FROM (SELECT 1 FROM prediction_accuracy GROUP BY game_date, "
                  "player_lookup, game_id, system_id, line_value HAVING count(*) > 1)"),
            "0");
  EXPECT_EQ(count("SELECT (SELECT count(*) FROM prediction_accuracy) + (SELECT count(*) FROM "
                  "remediation_quarantine)"),
            "5000");  // quarantined + remaining = imported
  EXPECT_EQ(count("SELECT count(*) FROM prediction_accuracy"), "3100");
  // The undo: `dedupe --restore RUN` puts that run's rows back, through the fenced write path,
  // and the post-write check reports the duplicates they bring back.
  const size_t at = done.out.find("(run ");
  ASSERT_NE(at, std::string::npos) << done.out;
  const std::string run = done.out.substr(at + 5, done.out.find(')', at) - at - 5);
  CommandResult preview = Cli({"dedupe", "--restore", run, "--dry-run"});
  EXPECT_EQ(preview.exit_code, 0) << preview.err;
  EXPECT_EQ(count("SELECT count(*) FROM prediction_accuracy"), "3100") << "a dry run changed rows";
  CommandResult restored = Cli({"dedupe", "--restore", run});
  EXPECT_EQ(restored.exit_code, 0) << restored.err;
  EXPECT_NE(restored.out.find("rows restored"), std::string::npos) << restored.out;
  EXPECT_EQ(count("SELECT count(*) FROM prediction_accuracy"), "5000");
  EXPECT_EQ(count("SELECT count(*) FROM remediation_quarantine"), "0");
  EXPECT_NE(restored.err.find("duplicates_detected"), std::string::npos) << "the check reports them";
  EXPECT_EQ(Cli({"dedupe", "--restore", run}).exit_code, 2) << "nothing left to restore";
  // With unique keys enforced again the same restore is refused and nothing changes.
  ASSERT_EQ(Cli({"dedupe", "--table", "prediction_accuracy"}).exit_code, 0);
  WriteConfig("");
  ASSERT_EQ(Cli({"init"}).exit_code, 0);
  std::string again_run = *testing::SqliteQuery(path, "SELECT max(run_id) FROM remediation_quarantine").begin();
  CommandResult refused = Cli({"dedupe", "--restore", again_run});
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_NE(refused.out.find("NOT restored"), std::string::npos) << refused.out;
  EXPECT_EQ(count("SELECT count(*) FROM prediction_accuracy"), "3100");
  EXPECT_EQ(count("SELECT count(*) FROM remediation_quarantine"), "1900");
}

TEST_F(ResponseTest, SecretsNeverAppearInAnyOutput) {
  auto env = Env();
  const std::string token = "trigger-SECRET-77aa";
  env["PROPGRADE_TRIGGER_TOKEN"] = token;
  std::vector<std::string> secrets = {kHookSecret, kSlackSecret, token};
  std::string db = db_;
  const char* pg = std::getenv("PROPGRADE_TEST_PG_URL");
  if (pg && *pg) {
    db = std::string(pg) + "?schema=s_" + std::to_string(getpid());
    secrets.push_back(testing::PgPassword(pg));
  }
  ImportGolden(db);
  std::string metrics = dir_.path() + "/m.prom";
  std::string all;
  for (std::vector<std::string> args :
       std::vector<std::vector<std::string>>{
           {"init"},
           {"--metrics-file", metrics, "grade", "--from", "2025-02-01", "--to", "2025-02-02"},
           {"report", "accuracy"},
           {"locks", "list"},
           {"breaker", "status"},
           {"export", "alerts"},
           {"export", "grading_runs"},
           {"export", "lock_events"}}) {
    CommandResult r = testing::RunCommand(Args(args, db), env);
    all += r.out + r.err;
  }
  // An unreachable server's error must not echo its password either.
  CommandResult down = testing::RunCommand(
      Args({"grade", "--date", "2025-02-01"}, "postgresql://u:" + token + "@127.0.0.1:1/x"), env);
  all += down.out + down.err;
  std::ifstream in(metrics);
  std::stringstream m;
  m << in.rdbuf();
  all += m.str();
  for (const auto& req : receiver_.requests()) all += req.body;
  ASSERT_GT(all.size(), 10000u);
  for (const std::string& secret : secrets) {
    EXPECT_EQ(all.find(secret), std::string::npos) << "secret leaked: " << secret.substr(0, 6);
  }
  if (pg && *pg) testing::DropPgSchema(pg, "s_" + std::to_string(getpid()));
}

}  // namespace
}  // namespace propgrade

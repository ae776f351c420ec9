// R7: the alert webhook is down, or answers only after the delivery timeout. The run still
// succeeds; each alert is tried three times per sink, recorded undelivered in the alerts table
// and counted as failed in propgrade_alerts_sent_total.
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <sstream>

#include "testing/http_receiver.h"
#include "testing/queries.h"
#include "testing/reliability_report.h"
#include "testing/subprocess.h"
#include "testing/temp_dir.h"

namespace propgrade {
namespace {

using testing::CommandResult;

// The parameter: "down" (the receiver stopped) or "slow" (it answers after 6 s; the delivery
// timeout is 5 s).
class AlertSinkTest : public ::testing::TestWithParam<std::string> {};

TEST_P(AlertSinkTest, R7_AnAlertReceiverThatFailsDoesNotFailTheRun) {
  const auto started = std::chrono::steady_clock::now();
  testing::TempDir dir;
  testing::HttpReceiver receiver;
  const std::string path = dir.path() + "/r7.db";
  const std::string config = dir.path() + "/propgrade.toml";
  std::ofstream(config) << "[alerts]\nmin_interval_seconds = 0\n[breaker]\nstate_file = \""
                        << dir.path() << "/b.json\"\n";
  const std::map<std::string, std::string> env = {
      {"PROPGRADE_ALERT_WEBHOOK_URL", receiver.url("/hook")}};
  auto cli = [&](std::vector<std::string> a) {
    a.insert(a.begin(), {testing::PropgradeBinary(), "--db", "sqlite:" + path, "--config",
                         config, "--log-format", "json"});
    return testing::RunCommand(a, env);
  };
  const std::string in = testing::GoldenDir() + "/inputs/";
  for (const char* kind : {"predictions", "actuals", "injuries", "archetypes"}) {
    ASSERT_EQ(cli({"import", kind, in + kind + ".csv"}).exit_code, 0);
  }
  if (GetParam() == "down") {
    receiver.Stop();
  } else {
    receiver.set_delay_ms(6000);
  }
  const std::string metrics = dir.path() + "/m.prom";
  CommandResult r = cli({"--metrics-file", metrics, "grade", "--date", "2025-02-01", "--no-aggregate"});
  EXPECT_EQ(r.exit_code, 0) << r.err.substr(0, 3000);
  std::ifstream file(metrics);
  std::stringstream text;
  text << file.rdbuf();
  // The date raises source_duplicates and input_warnings: both fail to arrive.
  EXPECT_NE(text.str().find("propgrade_alerts_sent_total{type=\"source_duplicates\",result=\"failed\"} 1"),
            std::string::npos) << text.str();
  EXPECT_NE(text.str().find("propgrade_runs_total{processor=\"grading\",status=\"success\"} 1"),
            std::string::npos);
  auto delivered = testing::SqliteQuery(
      path, "SELECT delivered || ':' || attempts FROM alerts WHERE type = 'source_duplicates'");
  EXPECT_EQ(delivered, std::multiset<std::string>{"0:3"});  // three tries, none delivered
  EXPECT_EQ(*testing::SqliteQuery(path, "SELECT count(*) FROM prediction_accuracy").begin(), "1339");

  testing::ScenarioReport report;
  report.scenario = "R7";
  report.title = GetParam() == "down" ? "the alert webhook is down"
                                      : "the alert webhook answers after 6 s (timeout 5 s)";
  report.combination = "sqlite+db";
  report.size = "1 run";
  report.runs = 1;
  report.faults = GetParam() == "down" ? "receiver stopped" : "receiver delayed 6 s";
  report.outcome = "the run succeeded (1,339 rows); each alert tried 3 times, recorded "
                   "undelivered and counted failed in propgrade_alerts_sent_total";
  report.passed = !HasFailure();
  report.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  testing::RecordScenario(report);
}

INSTANTIATE_TEST_SUITE_P(Receivers, AlertSinkTest, ::testing::Values("down", "slow"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace propgrade

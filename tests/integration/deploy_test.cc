// The deploy/ examples are checked like code: the systemd units pass `systemd-analyze verify`
// (with ExecStart pointing at the binary under test), the Prometheus rules pass `promtool check
// rules`, the scrape config (bearer token for a protected /metrics) passes `promtool check
// config`, the Grafana dashboard is valid JSON with queries, every propgrade_* metric the rules
// and the dashboard use is one propgrade exports, and the example config loads.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>

#include "observe/metrics.h"
#include "config/config.h"
#include "testing/subprocess.h"
#include "testing/temp_dir.h"
#include "testing/skip.h"

namespace propgrade {
namespace {

std::string Read(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string Deploy(const std::string& file) { return testing::SourceDir() + "/deploy/" + file; }

bool Have(const std::string& tool) {
  return testing::RunCommand({"sh", "-c", "command -v " + tool}).exit_code == 0;
}

TEST(DeployTest, SystemdUnitsVerify) {
  if (!Have("systemd-analyze")) PROPGRADE_SKIP_WITHOUT("systemd-analyze is not installed");
  testing::TempDir dir;
  std::vector<std::string> argv = {"systemd-analyze", "verify", "--man=no"};
  for (const char* unit : {"propgrade-serve.service", "propgrade-grade.service",
                           "propgrade-grade.timer"}) {
    std::string text = Read(Deploy(unit));
    ASSERT_FALSE(text.empty()) << unit;
    text = std::regex_replace(text, std::regex("/usr/local/bin/propgrade"),
                              testing::PropgradeBinary());
    std::ofstream(dir.path() + "/" + unit) << text;
    argv.push_back(dir.path() + "/" + unit);
  }
  testing::CommandResult r = testing::RunCommand(argv);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "") << "systemd-analyze warns about the units";
}

TEST(DeployTest, PrometheusRulesPassPromtool) {
  if (!Have("promtool")) PROPGRADE_SKIP_WITHOUT("promtool is not installed (Debian: prometheus)");
  testing::CommandResult r =
      testing::RunCommand({"promtool", "check", "rules", Deploy("prometheus-rules.yml")});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("SUCCESS"), std::string::npos) << r.out;
}

TEST(DeployTest, PrometheusScrapeConfigPassesPromtool) {
  if (!Have("promtool")) PROPGRADE_SKIP_WITHOUT("promtool is not installed (Debian: prometheus)");
  // promtool checks that the token file exists: point it at one of this test's.
  testing::TempDir dir;
  const std::string kTokenFile = "/etc/prometheus/propgrade-token";
  std::string config = Read(Deploy("prometheus-scrape.yml"));
  ASSERT_NE(config.find("credentials_file: " + kTokenFile), std::string::npos);
  ASSERT_NE(config.find("type: Bearer"), std::string::npos);
  config.replace(config.find("credentials_file: " + kTokenFile) + 18, kTokenFile.size(),
                 dir.path() + "/token");
  std::ofstream(dir.path() + "/token") << "token\n";
  std::ofstream(dir.path() + "/prometheus-scrape.yml") << config;
  std::filesystem::copy_file(Deploy("prometheus-rules.yml"), dir.path() + "/prometheus-rules.yml");
  testing::CommandResult r =
      testing::RunCommand({"promtool", "check", "config", dir.path() + "/prometheus-scrape.yml"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("is valid prometheus config file syntax"), std::string::npos) << r.out;
}

TEST(DeployTest, RulesAndDashboardUseOnlyExportedMetrics) {
  std::set<std::string> exported;
  std::string text = Metrics().PrometheusText();
  const std::regex type_line("# TYPE (propgrade_[a-z_]+) (\\w+)");
  for (auto it = std::sregex_iterator(text.begin(), text.end(), type_line);
       it != std::sregex_iterator(); ++it) {
    exported.insert((*it)[1]);
    if ((*it)[2] == "histogram") {
      for (const char* suffix : {"_bucket", "_sum", "_count"}) exported.insert((*it)[1].str() + suffix);
    }
  }
  ASSERT_GT(exported.size(), 15u);
  nlohmann::json dashboard = nlohmann::json::parse(Read(Deploy("grafana-dashboard.json")));
  int queries = 0;
  for (const auto& panel : dashboard["panels"]) {
    for (const auto& target : panel.value("targets", nlohmann::json::array())) {
      if (target.contains("expr")) ++queries;
    }
  }
  EXPECT_GE(queries, 8);
  const std::regex metric_name("propgrade_[a-z_]+");
  for (const char* file : {"prometheus-rules.yml", "grafana-dashboard.json"}) {
    std::string body = Read(Deploy(file));
    int used = 0;
    for (auto it = std::sregex_iterator(body.begin(), body.end(), metric_name);
         it != std::sregex_iterator(); ++it, ++used) {
      EXPECT_TRUE(exported.count(it->str())) << file << " uses " << it->str()
                                             << ", which propgrade does not export";
    }
    EXPECT_GT(used, 5) << file;
  }
}

TEST(DeployTest, ExampleConfigLoads) {
  auto config = LoadConfigFile(Deploy("propgrade.toml"));
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_TRUE(ValidateConfig(*config).ok());
  EXPECT_EQ(config->server.token_env, "PROPGRADE_TRIGGER_TOKEN");
  EXPECT_EQ(config->server.protect_reads, "auto");
}

}  // namespace
}  // namespace propgrade

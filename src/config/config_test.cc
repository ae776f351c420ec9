#include "config/config.h"

#include <gtest/gtest.h>

#include <map>

namespace propgrade {
namespace {

TEST(ConfigTest, DefaultsMatchTheSpec) {
  auto c = ParseConfig("", "empty.toml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->db, "sqlite:propgrade.db");
  EXPECT_EQ(c->lock, "db");
  EXPECT_EQ(c->timezone, "America/New_York");
  EXPECT_EQ(c->lock_policy.ttl_seconds, 300);
  EXPECT_EQ(c->lock_policy.on_lock_timeout, "fail");
  EXPECT_EQ(c->breaker.failure_threshold, 3);
  EXPECT_EQ(c->remediation.max_rows, 1000);
  EXPECT_EQ(c->grading.real_line_sources.size(), 3u);
  EXPECT_TRUE(c->grading.enforce_unique_keys);
  EXPECT_EQ(c->checks.daily_predictions_max, 5000);
  EXPECT_EQ(c->server.listen, "127.0.0.1:8080");
}

TEST(ConfigTest, ParsesTheDocumentedFile) {
  auto c = ParseConfig(R"(
db = "sqlite:/var/lib/propgrade/props.db"
lock = "none"
timezone = "America/Chicago"
[lock_policy]
ttl_seconds = 60
max_wait_seconds = 0
renew_every_seconds = 20
on_lock_timeout = "proceed"
[grading]
real_line_sources = ["ACTUAL_PROP"]
enforce_unique_keys = false
[remediation]
auto = false
max_rows = 10
[checks]
duplicate_trend_warn_ratio = 1.5
)",
                       "propgrade.toml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->db, "sqlite:/var/lib/propgrade/props.db");
  EXPECT_EQ(c->lock, "none");
  EXPECT_EQ(c->lock_policy.max_wait_seconds, 0);
  EXPECT_EQ(c->lock_policy.on_lock_timeout, "proceed");
  EXPECT_EQ(c->grading.real_line_sources, std::vector<std::string>{"ACTUAL_PROP"});
  EXPECT_FALSE(c->grading.enforce_unique_keys);
  EXPECT_FALSE(c->remediation.auto_remediate);
  EXPECT_EQ(c->checks.duplicate_trend_warn_ratio, 1.5);
}

TEST(ConfigTest, ErrorsNameTheKey) {
  auto unknown = ParseConfig("[lock_policy]\nttl = 5\n", "p.toml");
  EXPECT_EQ(unknown.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(unknown.status().message().find("lock_policy.ttl"), std::string::npos);
  auto top = ParseConfig("databse = \"x\"\n", "p.toml");
  EXPECT_NE(top.status().message().find("databse"), std::string::npos);
  auto type = ParseConfig("[breaker]\nfailure_threshold = \"three\"\n", "p.toml");
  EXPECT_NE(type.status().message().find("breaker.failure_threshold"), std::string::npos);
  auto syntax = ParseConfig("db = \n", "p.toml");
  EXPECT_NE(syntax.status().message().find("p.toml:1"), std::string::npos);
  auto policy = ParseConfig("[lock_policy]\non_lock_timeout = \"maybe\"\n", "p.toml");
  EXPECT_FALSE(policy.ok());
  auto tz = ParseConfig("timezone = \"Mars/Base\"\n", "p.toml");
  EXPECT_FALSE(tz.ok());
}

// Found by tests/fuzz/config_fuzzer: NaN, infinite or huge numbers were accepted and reached
// the int64 microsecond conversions of the lock, breaker and alert code.
TEST(ConfigTest, RejectsNumbersThatAreNotFiniteOrDurationsOutOfRange) {
  for (const char* text : {"[lock_policy]\nttl_seconds = nan\n",
                           "[lock_policy]\nttl_seconds = inf\n",
                           "[lock_policy]\nmax_wait_seconds = 1e300\n",
                           "[lock_policy]\nstuck_alert_after_seconds = -1\n",
                           "[lock_policy]\nstuck_release_after_seconds = nan\n",
                           "[breaker]\nopen_seconds = inf\n",
                           "[alerts]\nmin_interval_seconds = 1e19\n",
                           "[checks]\nstale_hours_warn = +inf\n",
                           "[checks]\nstale_hours_fail = nan\n",
                           "[checks]\nduplicate_trend_warn_ratio = -nan\n"}) {
    auto c = ParseConfig(text, "p.toml");
    ASSERT_FALSE(c.ok()) << text;
    EXPECT_EQ(c.status().code(), StatusCode::kInvalidArgument) << text;
    EXPECT_EQ(c.status().message().rfind("p.toml: ", 0), 0u) << c.status().message();
  }
  auto edge = ParseConfig("[lock_policy]\nmax_wait_seconds = 1e9\nstuck_release_after_seconds = 0\n",
                          "p.toml");
  EXPECT_TRUE(edge.ok()) << edge.status().ToString();
}

// An integer that does not fit its field is an error, not silently cut (4294967297 became 1).
TEST(ConfigTest, RejectsIntegersOutOfTheirFieldsRange) {
  auto threshold = ParseConfig("[breaker]\nfailure_threshold = 4294967297\n", "p.toml");
  ASSERT_FALSE(threshold.ok());
  EXPECT_NE(threshold.status().message().find("breaker.failure_threshold"), std::string::npos);
  auto systems = ParseConfig("[checks]\nexpected_systems = -4294967290\n", "p.toml");
  EXPECT_FALSE(systems.ok());
  auto rows = ParseConfig("[remediation]\nmax_rows = 9223372036854775807\n", "p.toml");
  EXPECT_TRUE(rows.ok()) << rows.status().ToString();
}

TEST(ConfigTest, ServerReadProtectionAndWaitTimeout) {
  auto defaults = ParseConfig("", "p.toml");
  ASSERT_TRUE(defaults.ok());
  EXPECT_EQ(defaults->server.protect_reads, "auto");
  EXPECT_EQ(defaults->server.wait_timeout_seconds, 55);
  auto set = ParseConfig("[server]\nprotect_reads = \"always\"\nwait_timeout_seconds = 0.5\n",
                         "p.toml");
  ASSERT_TRUE(set.ok()) << set.status().ToString();
  EXPECT_EQ(set->server.protect_reads, "always");
  EXPECT_EQ(set->server.wait_timeout_seconds, 0.5);
  EXPECT_TRUE(ParseConfig("[server]\nprotect_reads = \"never\"\n", "p.toml").ok());
  for (const char* text : {"[server]\nprotect_reads = \"yes\"\n",
                           "[server]\nprotect_reads = \"Always\"\n",
                           "[server]\nprotect_reads = true\n"}) {
    auto c = ParseConfig(text, "p.toml");
    ASSERT_FALSE(c.ok()) << text;
    EXPECT_NE(c.status().message().find("server.protect_reads"), std::string::npos)
        << c.status().message();
  }
  for (const char* text : {"[server]\nwait_timeout_seconds = 0\n",
                           "[server]\nwait_timeout_seconds = -5\n",
                           "[server]\nwait_timeout_seconds = 3601\n",
                           "[server]\nwait_timeout_seconds = nan\n",
                           "[server]\nwait_timeout_seconds = \"1\"\n"}) {
    auto c = ParseConfig(text, "p.toml");
    ASSERT_FALSE(c.ok()) << text;
    EXPECT_NE(c.status().message().find("server.wait_timeout_seconds"), std::string::npos)
        << c.status().message();
  }
  auto unknown = ParseConfig("[server]\nprotect = \"always\"\n", "p.toml");
  EXPECT_NE(unknown.status().message().find("server.protect"), std::string::npos);
}

TEST(ConfigTest, EnvironmentOverridesTheFile) {
  Config c;
  std::map<std::string, std::string> env = {{"PROPGRADE_DB", "sqlite:/tmp/x.db"}};
  ApplyEnvironment(
      [&](const char* name) -> const char* {
        auto it = env.find(name);
        return it == env.end() ? nullptr : it->second.c_str();
      },
      &c);
  EXPECT_EQ(c.db, "sqlite:/tmp/x.db");
  EXPECT_EQ(c.lock, "db");
}


TEST(ConfigTest, TheShippedExampleConfigParses) {
  auto c = LoadConfigFile(std::string(PROPGRADE_SOURCE_DIR) + "/deploy/propgrade.toml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->db.rfind("postgresql://", 0), 0u);
  EXPECT_EQ(c->lock.rfind("etcd://", 0), 0u);
}

TEST(ConfigTest, DatabaseWaitsAreBounded) {
  auto d = ParseConfig("", "p.toml");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->database.lock_timeout_seconds, 60);
  EXPECT_EQ(d->database.statement_timeout_seconds, 900);
  EXPECT_EQ(d->database.idle_in_transaction_timeout_seconds, 60);
  auto c = ParseConfig(
      "[database]\nlock_timeout_seconds = 2.5\nstatement_timeout_seconds = 0\n"
      "idle_in_transaction_timeout_seconds = 30\n",
      "p.toml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->database.lock_timeout_seconds, 2.5);
  EXPECT_EQ(c->database.statement_timeout_seconds, 0);
  EXPECT_EQ(c->database.idle_in_transaction_timeout_seconds, 30);
  for (const char* bad : {"[database]\nlock_timeout_seconds = 0\n",
                          "[database]\nstatement_timeout_seconds = -1\n",
                          "[database]\nidle_in_transaction_timeout_seconds = 3e6\n",
                          "[database]\nlock_wait = 5\n"}) {
    auto r = ParseConfig(bad, "p.toml");
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_NE(r.status().message().find("database."), std::string::npos) << r.status().ToString();
  }
}

TEST(ConfigTest, ParsesDeclaredTables) {
  auto c = ParseConfig(R"(
[tables.player_form_daily]
partition_column = "as_of_date"
key = ["player_lookup"]
columns = [
  { name = "as_of_date", type = "date" },
  { name = "player_lookup", type = "text", required = true },
  { name = "form", type = "real" },
  { name = "version", type = "integer" },
]
keep = { column = "version", wins = "latest" }

[tables.bets_export]
processor = "exports"
partition_column = "game_date"
key = ["bet_id"]
columns = "introspect"
manage_schema = false
)",
                       "t.toml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  ASSERT_EQ(c->tables.size(), 2u);
  const TableDeclaration& exports = c->tables[0];  // by name
  EXPECT_EQ(exports.name, "bets_export");
  EXPECT_EQ(exports.processor, "exports");
  EXPECT_TRUE(exports.introspect);
  EXPECT_FALSE(exports.manage_schema);
  const TableDeclaration& form = c->tables[1];
  EXPECT_EQ(form.name, "player_form_daily");
  EXPECT_EQ(form.partition_column, "as_of_date");
  EXPECT_EQ(form.key, std::vector<std::string>{"player_lookup"});
  ASSERT_EQ(form.columns.size(), 4u);
  EXPECT_EQ(form.columns[1].type, ColumnType::kText);
  EXPECT_TRUE(form.columns[1].required);
  EXPECT_EQ(form.columns[3].type, ColumnType::kInteger);
  ASSERT_TRUE(form.keep.has_value());
  EXPECT_EQ(form.keep->time_column, "version");
  EXPECT_TRUE(form.keep->latest);
  EXPECT_TRUE(form.manage_schema);
}

TEST(ConfigTest, BadTableDeclarationsNameTheKey) {
  const std::map<std::string, std::string> cases = {
      {"[tables.t]\npartition_column = \"d\"\nkey = [\"k\"]\ncolumns = \"all\"\n",
       "'tables.t.columns' is a list"},
      {"[tables.t]\npartition_column = \"d\"\nkey = [\"k\"]\n", "columns' is required"},
      {"[tables.t]\ncolumns = [{ name = \"d\", type = \"money\" }]\n",
       "'tables.t.columns[0].type': unknown column type 'money'"},
      {"[tables.t]\ncolumns = [{ name = \"d\", type = \"date\", size = 3 }]\n",
       "unknown key 'tables.t.columns[0].size'"},
      {"[tables.t]\ncolumns = \"introspect\"\nkeep = { column = \"at\", wins = \"first\" "
       "}\n",
       "wins = \"latest\" or \"earliest\""},
      {"[tables.t]\ncolumns = \"introspect\"\npartition = \"d\"\n",
       "unknown key 'tables.t.partition'"},
      {"tables = 3\n", "'tables' must be a [section]"},
  };
  for (const auto& [text, message] : cases) {
    auto c = ParseConfig(text, "t.toml");
    ASSERT_FALSE(c.ok()) << text;
    EXPECT_NE(c.status().message().find(message), std::string::npos)
        << text << " -> " << c.status().ToString();
  }
}

}  // namespace
}  // namespace propgrade

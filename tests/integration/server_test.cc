// `propgrade serve` as a real process, driven over HTTP: auth, strict trigger validation (400
// per malformed trigger), the 1 MiB cap (413), run status, single flight while another process
// holds the date's lock (100 concurrent triggers → one run id, one run), ?wait=true status
// codes, readiness, refusal to listen beyond loopback without a token, and a SIGTERM that lets
// the running run commit.
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "common/strings.h"
#include "testing/queries.h"
#include "testing/subprocess.h"
#include "testing/temp_dir.h"

namespace propgrade {
namespace {

using json = nlohmann::json;
using testing::Child;
using testing::CommandResult;

constexpr const char* kToken = "trigger-SECRET-31c7";
constexpr const char* kDate = "2025-02-01";  // a date of the golden fixture

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = dir_.path() + "/s.db";
    db_ = "sqlite:" + path_;
    config_ = dir_.path() + "/propgrade.toml";
    std::ofstream(config_) << "[breaker]\nstate_file = \"" << dir_.path()
                           << "/breakers.json\"\n[lock_policy]\nmax_wait_seconds = 60\n";
    const std::string in = testing::GoldenDir() + "/inputs/";
    for (const char* kind : {"predictions", "actuals", "injuries", "archetypes"}) {
      CommandResult r = Cli({"import", kind, in + kind + ".csv"});
      ASSERT_EQ(r.exit_code, 0) << r.err;
    }
  }
  void TearDown() override {
    if (server_) {
      server_->Signal(SIGTERM);
      server_->Wait();
    }
  }

  std::vector<std::string> Args(std::vector<std::string> args) const {
    args.insert(args.begin(), {testing::PropgradeBinary(), "--db", db_, "--config", config_,
                               "--log-format", "json"});
    return args;
  }
  CommandResult Cli(std::vector<std::string> args,
                    const std::map<std::string, std::string>& env = {}) {
    return testing::RunCommand(Args(std::move(args)), env);
  }

  // Starts the server on `listen_` (a free loopback port unless a test says otherwise) and
  // waits until it listens.
  void Start(const std::map<std::string, std::string>& env = {{"PROPGRADE_TRIGGER_TOKEN", kToken}},
             std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"serve", "--listen", listen_};
    args.insert(args.end(), extra.begin(), extra.end());
    server_ = std::make_unique<Child>(Args(args), env);
    ASSERT_TRUE(testing::WaitForStderr(*server_, "\"event\":\"listening\"", 15000))
        << ReadFile(server_->err_path());
    std::smatch m;
    std::string err = ReadFile(server_->err_path());
    ASSERT_TRUE(std::regex_search(
        err, m, std::regex("http://(?:127\\.0\\.0\\.1|0\\.0\\.0\\.0):([0-9]+)/")));
    port_ = std::stoi(m[1]);
  }
  void WriteConfig(const std::string& extra) {
    std::ofstream(config_) << "[breaker]\nstate_file = \"" << dir_.path()
                           << "/breakers.json\"\n[lock_policy]\nmax_wait_seconds = 60\n" << extra;
  }
  httplib::Client Client(const std::string& token = kToken) const {
    httplib::Client c("127.0.0.1", port_);
    c.set_read_timeout(120, 0);
    if (!token.empty()) c.set_bearer_token_auth(token);
    return c;
  }
  // GET `path`: the HTTP status, or -1 when there was no answer.
  int GetStatus(const std::string& path, const std::string& token = kToken) const {
    auto r = Client(token).Get(path);
    return r ? r->status : -1;
  }
  // POST /v1/runs; returns {status, body}.
  std::pair<int, std::string> Trigger(const std::string& body, const std::string& query = "",
                                      const std::string& token = kToken) const {
    auto r = Client(token).Post("/v1/runs" + query, body, "application/json");
    return r ? std::make_pair(r->status, r->body)
             : std::make_pair(-1, "client error: " + httplib::to_string(r.error()));
  }
  // A CLI run that holds grading/<date> for `hold_ms` once it has the lock (it has it on return).
  std::unique_ptr<Child> HoldLock(const std::string& date, int hold_ms) {
    auto holder = std::make_unique<Child>(
        Args({"grade", "--date", date, "--no-aggregate"}),
        std::map<std::string, std::string>{
            {"PROPGRADE_TEST_PAUSE_AFTER_ACQUIRE_MS", std::to_string(hold_ms)}});
    EXPECT_TRUE(testing::WaitForStderr(*holder, "\"lock_acquired\"", 15000))
        << ReadFile(holder->err_path());
    return holder;
  }
  int64_t GradingRowsOf(const std::string& run_id) {
    return static_cast<int64_t>(
        testing::SqliteQuery(path_, "SELECT run_id FROM grading_runs WHERE processor = 'grading' "
                                    "AND run_id = '" + run_id + "'")
            .size());
  }

  testing::TempDir dir_;
  std::string path_, db_, config_;
  std::unique_ptr<Child> server_;
  std::string listen_ = "127.0.0.1:0";  // Start() listens here (clients connect to 127.0.0.1)
  int port_ = 0;
};

TEST_F(ServerTest, EveryV1CallNeedsTheBearerToken) {
  Start();
  EXPECT_EQ(Trigger(R"({"target_date": "2025-02-01"})", "", "").first, 401);
  auto wrong = Trigger(R"({"target_date": "2025-02-01"})", "", "trigger-SECRET-31c8");
  EXPECT_EQ(wrong.first, 401);
  EXPECT_EQ(json::parse(wrong.second)["error"]["code"], "UNAUTHENTICATED");
  auto no_auth = Client("").Get("/v1/runs?date=2025-02-01");
  ASSERT_TRUE(no_auth);
  EXPECT_EQ(no_auth->status, 401);
  EXPECT_EQ(no_auth->get_header_value("WWW-Authenticate"), "Bearer realm=\"propgrade\"");
  httplib::Client basic("127.0.0.1", port_);
  basic.set_basic_auth("user", kToken);
  EXPECT_EQ(basic.Get("/v1/runs?date=2025-02-01")->status, 401);
  EXPECT_EQ(Client().Get("/v1/runs?date=2025-02-01")->status, 200);
  // Health, metrics and the dashboard stay open (no /v1).
  EXPECT_EQ(Client("").Get("/healthz")->status, 200);
  EXPECT_EQ(Client("").Get("/metrics")->status, 200);
  auto page = Client("").Get("/");
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200);
  EXPECT_NE(page->body.find("/assets/uPlot.iife.min.js"), std::string::npos);
  EXPECT_EQ(Client("").Get("/assets/uPlot.iife.min.js")->status, 200);
  // The token never reaches the log.
  server_->Signal(SIGTERM);
  EXPECT_EQ(server_->Wait().exit_code, 0);
  std::string log = ReadFile(server_->err_path());
  EXPECT_EQ(log.find("SECRET"), std::string::npos) << log;
  EXPECT_NE(log.find("\"status\":401"), std::string::npos);
  server_.reset();
}

// The read-only endpoints that show the store's data: protected when reads are.
const std::vector<std::string> kProtectedReads = {
    "/metrics",         "/api/summary", "/api/performance?days=7", "/api/calibration",
    "/api/duplicates",  "/api/lock_waits", "/api/locks",           "/api/runs?limit=5",
    "/api/alerts",      "/api/breakers"};
// What stays open whatever the setting: probes and the dashboard's page and files.
const std::vector<std::string> kAlwaysOpen = {"/healthz", "/readyz", "/", "/assets/app.js",
                                              "/assets/app.css", "/assets/uPlot.iife.min.js"};

TEST_F(ServerTest, ProtectedReadsNeedTheTokenWhileProbesAndThePageStayOpen) {
  WriteConfig("[server]\nprotect_reads = \"always\"\n");
  ASSERT_NO_FATAL_FAILURE(Start());  // loopback, but "always"
  for (const std::string& path : kProtectedReads) {
    auto none = Client("").Get(path);
    ASSERT_TRUE(none) << path;
    EXPECT_EQ(none->status, 401) << path;
    EXPECT_EQ(none->get_header_value("WWW-Authenticate"), "Bearer realm=\"propgrade\"") << path;
    EXPECT_EQ(json::parse(none->body)["error"]["code"], "UNAUTHENTICATED") << path;
    EXPECT_EQ(GetStatus(path, "trigger-SECRET-31c8"), 401) << path;
    httplib::Client basic("127.0.0.1", port_);
    basic.set_basic_auth("user", kToken);
    EXPECT_EQ(basic.Get(path) ? basic.Get(path)->status : -1, 401) << path;
    EXPECT_EQ(GetStatus(path), 200) << path;
  }
  EXPECT_EQ(GetStatus("/api/no_such_thing", ""), 401);  // no probing without the token
  for (const std::string& path : kAlwaysOpen) {
    auto r = Client("").Get(path);
    ASSERT_TRUE(r) << path;
    EXPECT_EQ(r->status, 200) << path << " " << r->body;
  }
  EXPECT_NE(ReadFile(server_->err_path()).find("\"reads_protected\":true"), std::string::npos);
}

TEST_F(ServerTest, ReadsAreProtectedByDefaultBeyondLoopback) {
  listen_ = "0.0.0.0:0";
  ASSERT_NO_FATAL_FAILURE(Start());
  for (const std::string& path : kProtectedReads) {
    EXPECT_EQ(GetStatus(path, ""), 401) << path;
    EXPECT_EQ(GetStatus(path), 200) << path;
  }
  for (const std::string& path : kAlwaysOpen) EXPECT_EQ(GetStatus(path, ""), 200) << path;
}

TEST_F(ServerTest, ReadsStayOpenOnLoopbackByDefaultAndWithNever) {
  ASSERT_NO_FATAL_FAILURE(Start());  // loopback, protect_reads = "auto"
  for (const std::string& path : kProtectedReads) {
    EXPECT_EQ(GetStatus(path, ""), 200) << path;
  }
  server_->Signal(SIGTERM);
  server_->Wait();
  WriteConfig("[server]\nprotect_reads = \"never\"\n");
  listen_ = "0.0.0.0:0";
  ASSERT_NO_FATAL_FAILURE(Start());
  for (const std::string& path : kProtectedReads) {
    EXPECT_EQ(GetStatus(path, ""), 200) << path;
  }
  EXPECT_EQ(Trigger(R"({"target_date": "2025-02-01"})", "", "").first, 401);  // /v1 still needs it
}

TEST_F(ServerTest, ProtectReadsTakesAutoAlwaysOrNeverAndAlwaysNeedsAToken) {
  WriteConfig("[server]\nprotect_reads = \"sometimes\"\n");
  CommandResult bad = Cli({"serve", "--listen", "127.0.0.1:0"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("server.protect_reads"), std::string::npos) << bad.err;
  WriteConfig("[server]\nprotect_reads = true\n");
  bad = Cli({"serve", "--listen", "127.0.0.1:0"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("server.protect_reads"), std::string::npos) << bad.err;
  WriteConfig("[server]\nprotect_reads = \"always\"\n");
  CommandResult no_token =
      Cli({"serve", "--listen", "127.0.0.1:0"}, {{"PROPGRADE_TRIGGER_TOKEN", ""}});
  EXPECT_EQ(no_token.exit_code, 2);
  EXPECT_NE(no_token.err.find("protect_reads"), std::string::npos) << no_token.err;
}

TEST_F(ServerTest, WaitGivesUpAfterWaitTimeoutAndAnswers202WithTheRunToPoll) {
  WriteConfig("[server]\nwait_timeout_seconds = 1\n");
  ASSERT_NO_FATAL_FAILURE(Start());
  auto holder = HoldLock(kDate, 8000);  // the triggered run waits for this lock
  auto r = Client().Post("/v1/runs?wait=true", R"({"target_date": "2025-02-01"})",
                         "application/json");
  ASSERT_TRUE(r);
  // Answered while the other process still held the lock: the run could not have finished.
  EXPECT_EQ(ReadFile(holder->err_path()).find("\"lock_released\""), std::string::npos);
  EXPECT_EQ(r->status, 202) << r->body;
  json body = json::parse(r->body);
  EXPECT_EQ(body["status"], "running") << r->body;
  EXPECT_EQ(body["target_date"], kDate);
  const std::string run_id = body["run_id"];
  EXPECT_EQ(r->get_header_value("Location"), "/v1/runs/" + run_id);
  auto during = json::parse(Client().Get("/v1/runs/" + run_id)->body);
  EXPECT_NE(during["state"], "finished") << during.dump();

  EXPECT_EQ(holder->Wait().exit_code, 0);
  json done;
  for (int i = 0; i < 600; ++i) {  // up to 60 s
    done = json::parse(Client().Get("/v1/runs/" + run_id)->body);
    if (done["state"] == "finished") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(done["state"], "finished");
  EXPECT_EQ(done["status"], "success");
  // A run that finishes within the timeout still answers with its summary.
  auto [status, text] = Trigger(R"({"target_date": "2025-02-02"})", "?wait=true");
  EXPECT_EQ(status, 200) << text;
  EXPECT_EQ(json::parse(text)["state"], "finished");
}

TEST_F(ServerTest, WaitTimeoutSecondsIsValidated) {
  for (const char* bad : {"-1", "0", "3601", "\"soon\""}) {
    WriteConfig(std::string("[server]\nwait_timeout_seconds = ") + bad + "\n");
    CommandResult r = Cli({"serve", "--listen", "127.0.0.1:0"});
    EXPECT_EQ(r.exit_code, 2) << bad;
    EXPECT_NE(r.err.find("server.wait_timeout_seconds"), std::string::npos) << bad << r.err;
  }
}

TEST_F(ServerTest, MalformedTriggersAre400AndLargeBodies413) {
  Start();
  std::vector<std::string> bad = {
      "",
      "not json",
      "[]",
      "{}",
      R"({"target_date": 20250201})",
      R"({"target_date": "2025-02-30"})",
      R"({"target_date": "02/01/2025"})",
      R"({"target_date": "2025-02-01' OR '1'='1"})",
      R"({"target_date": "2025-02-01", "run_aggregation": "no"})",
      R"({"target_date": "2025-02-01", "correlation_id": 7})",
      R"({"message": {"data": "!!!"}})",
      R"({"message": {"data": ")" + Base64Encode("{\"target_date\": \"tomorrow\"}") + "\"}}",
      R"({"message": {"data": ")" + Base64Encode("not json") + "\"}}",
  };
  for (const std::string& body : bad) {
    auto [status, text] = Trigger(body);
    EXPECT_EQ(status, 400) << body << " -> " << text;
    json err = json::parse(text, nullptr, false);
    ASSERT_FALSE(err.is_discarded()) << text;
    EXPECT_EQ(err["error"]["code"], "INVALID_ARGUMENT") << text;
    EXPECT_FALSE(err["error"]["message"].get<std::string>().empty());
  }
  EXPECT_EQ(Trigger(R"({"target_date": "2025-02-01"})", "?wait=maybe").first, 400);
  EXPECT_EQ(Client().Get("/v1/runs")->status, 400);
  EXPECT_EQ(Client().Get("/v1/runs?date=yesterday")->status, 400);
  // Nothing ran.
  EXPECT_TRUE(testing::SqliteQuery(path_, "SELECT run_id FROM grading_runs").empty());

  std::string big = R"({"target_date": "2025-02-01", "pad": ")" + std::string(1 << 20, 'x') + "\"}";
  auto [status, text] = Trigger(big);
  EXPECT_EQ(status, 413);
  EXPECT_EQ(json::parse(text)["error"]["code"], "PAYLOAD_TOO_LARGE");
  // Just under the cap is read (and rejected only for what it says).
  std::string fits = R"({"target_date": "x", "pad": ")" + std::string((1 << 20) - 64, 'x') + "\"}";
  EXPECT_EQ(Trigger(fits).first, 400);
}

// PUT /v1/tables/T/partitions/P: bad input is a 400 and a body over the load cap (64 MiB) a
// 413, each writing nothing; a good body answers the run summary.
TEST_F(ServerTest, ADeclaredTableRefusesBadBodiesWithNothingWritten) {
  WriteConfig(
      "[tables.bets_export]\npartition_column = \"batch\"\nkey = [\"bet_id\"]\ncolumns = [\n"
      "  { name = \"batch\", type = \"text\" },\n"
      "  { name = \"bet_id\", type = \"integer\", required = true },\n"
      "  { name = \"stake\", type = \"real\" },\n]\n");
  Start();
  auto put = [&](const std::string& table, const std::string& body) {
    auto r = Client().Put("/v1/tables/" + table + "/partitions/b-1", body, "text/csv");
    return r ? std::make_pair(r->status, r->body)
             : std::make_pair(-1, "client error: " + httplib::to_string(r.error()));
  };
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"nope", "batch,bet_id\nb-1,1\n"},                   // unknown table
      {"bets_export", "batch,bet_id,stake\nb-1,1,ten\n"},  // a type mismatch
      {"bets_export", "batch,bet_id\nb-2,1\n"},            // another partition
      {"bets_export", "batch,stake\nb-1,1\n"},             // the key column missing
      {"bets_export", "batch,bet_id,stake\nb-1,,1\n"},     // a NULL key
  };
  for (const auto& [table, body] : bad) {
    auto [status, text] = put(table, body);
    EXPECT_EQ(status, 400) << body << " -> " << text;
    EXPECT_EQ(json::parse(text)["error"]["code"], "INVALID_ARGUMENT") << text;
  }
  std::string big = "batch,bet_id,stake\n";
  while (big.size() <= (size_t{64} << 20)) big += "b-1,1,1.0000000000000000000000000000000\n";
  auto [status, text] = put("bets_export", big);
  EXPECT_EQ(status, 413) << text.substr(0, 200);
  EXPECT_EQ(testing::SqliteQuery(path_, "SELECT count(*) FROM bets_export"),
            (std::multiset<std::string>{"0"}));
  auto [ok, summary] = put("bets_export", "batch,bet_id,stake\nb-1,1,2.5\n");
  EXPECT_EQ(ok, 200) << summary;
  EXPECT_EQ(json::parse(summary)["status"], "success") << summary;
}

TEST_F(ServerTest, WaitReturnsTheSummaryAndRunsAreQueryable) {
  Start();
  std::string envelope = R"({"message": {"data": ")" +
                         Base64Encode(R"({"target_date": "2025-02-01", "correlation_id": "c-77"})") +
                         R"(", "messageId": "m-1"}, "subscription": "s"})";
  auto [status, text] = Trigger(envelope, "?wait=true");
  ASSERT_EQ(status, 200) << text;
  json run = json::parse(text);
  EXPECT_EQ(run["state"], "finished");
  EXPECT_EQ(run["status"], "success");
  EXPECT_EQ(run["game_date"], kDate);
  EXPECT_EQ(run["trigger_source"], "pubsub");
  EXPECT_EQ(run["correlation_id"], "c-77");
  EXPECT_EQ(run["exit_code"], 0);
  EXPECT_GT(run["graded"].get<int>(), 0);
  EXPECT_EQ(run["steps"].size(), 3u);  // grading, daily performance, summary
  EXPECT_TRUE(run["error"].is_null());

  auto one = Client().Get("/v1/runs/" + run["run_id"].get<std::string>());
  ASSERT_TRUE(one);
  EXPECT_EQ(one->status, 200);
  EXPECT_EQ(json::parse(one->body)["graded"], run["graded"]);
  EXPECT_EQ(Client().Get("/v1/runs/20990101T000000Z-00000000")->status, 404);
  EXPECT_EQ(Client().Get("/v1/runs/..%2F..%2Fetc")->status, 404);

  // A CLI run of the same date shows up too (from grading_runs), newest first.
  ASSERT_EQ(Cli({"grade", "--date", kDate}).exit_code, 0);
  auto list = Client().Get("/v1/runs?date=2025-02-01");
  ASSERT_TRUE(list);
  json runs = json::parse(list->body)["runs"];
  ASSERT_EQ(runs.size(), 2u);
  EXPECT_EQ(runs[0]["trigger_source"], "cli");
  EXPECT_EQ(runs[1]["run_id"], run["run_id"]);
  // Runs started by other processes are found by id as well.
  auto cli_run = Client().Get("/v1/runs/" + runs[0]["run_id"].get<std::string>());
  EXPECT_EQ(cli_run->status, 200);
  EXPECT_EQ(json::parse(cli_run->body)["steps"].size(), 3u);
}

TEST_F(ServerTest, ConcurrentTriggersWhileAnotherProcessHoldsTheLockJoinOneRun) {
  Start();
  auto holder = HoldLock(kDate, 3000);
  constexpr int kCallers = 100;
  std::vector<std::thread> callers;
  std::mutex mu;
  std::map<std::string, int> ids;
  std::vector<int> statuses;
  std::string failures;
  for (int i = 0; i < kCallers; ++i) {
    callers.emplace_back([&, i] {
      auto [status, text] = Trigger(R"({"target_date": "2025-02-01", "correlation_id": "c-)" +
                                    std::to_string(i) + "\"}");
      std::lock_guard<std::mutex> lock(mu);
      statuses.push_back(status);
      if (status != 202) failures += std::to_string(status) + " " + text + "\n";
      json j = json::parse(text, nullptr, false);
      if (!j.is_discarded() && j.contains("run_id")) ++ids[j["run_id"].get<std::string>()];
    });
  }
  for (auto& t : callers) t.join();
  EXPECT_EQ(std::count(statuses.begin(), statuses.end(), 202), kCallers) << failures;
  ASSERT_EQ(ids.size(), 1u) << "every caller must get the same run id";
  const std::string run_id = ids.begin()->first;
  EXPECT_EQ(ids.begin()->second, kCallers);
  // The run waits for the lock: not finished while the other process holds it.
  auto during = json::parse(Client().Get("/v1/runs/" + run_id)->body);
  EXPECT_NE(during["state"], "finished") << during.dump();
  EXPECT_EQ(during["joined"], kCallers - 1);

  EXPECT_EQ(holder->Wait().exit_code, 0);
  json first;
  for (int i = 0; i < 600; ++i) {  // up to 60 s
    first = json::parse(Client().Get("/v1/runs/" + run_id)->body);
    if (first["state"] == "finished") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(first["state"], "finished");
  EXPECT_EQ(first["status"], "success");
  EXPECT_GT(first["lock_wait_seconds"].get<double>(), 0.5);  // it really waited
  EXPECT_EQ(GradingRowsOf(run_id), 1) << "exactly one run executed for the 100 triggers";
  EXPECT_EQ(testing::SqliteQuery(path_, "SELECT count(*) FROM grading_runs WHERE processor = "
                                        "'grading' AND trigger_source = 'http'"),
            (std::multiset<std::string>{"1"}));
  // Once it finished, a new trigger starts a new run.
  auto [status, text] = Trigger(R"({"target_date": "2025-02-01"})", "?wait=true");
  EXPECT_EQ(status, 200) << text;
  EXPECT_NE(json::parse(text)["run_id"], run_id);
}

TEST_F(ServerTest, WaitAnswersWithTheStatusHttpCode) {
  std::ofstream(config_) << "[breaker]\nstate_file = \"" << dir_.path()
                         << "/breakers.json\"\n[lock_policy]\nmax_wait_seconds = 1\n";
  Start();
  auto holder = HoldLock(kDate, 4000);
  auto [status, text] = Trigger(R"({"target_date": "2025-02-01"})", "?wait=true");
  EXPECT_EQ(status, 503) << text;
  EXPECT_EQ(json::parse(text)["status"], "lock_timeout");
  EXPECT_EQ(json::parse(text)["exit_code"], 3);
  holder->Wait();
}

TEST_F(ServerTest, ReadinessReportsAnUnreachableStoreWhileHealthStaysUp) {
  db_ = "postgresql://propgrade@127.0.0.1:1/nothing";  // nothing listens on port 1
  Start();
  auto health = Client().Get("/healthz");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  auto ready = Client().Get("/readyz");
  ASSERT_TRUE(ready);
  EXPECT_EQ(ready->status, 503);
  json j = json::parse(ready->body);
  EXPECT_FALSE(j["ready"].get<bool>());
  ASSERT_FALSE(j["reasons"].empty());
  EXPECT_NE(j["reasons"][0].get<std::string>().find("store"), std::string::npos) << j.dump();
  // A trigger still answers: the run ends `unavailable` (503) instead of hanging.
  auto [status, text] = Trigger(R"({"target_date": "2025-02-01"})", "?wait=true");
  EXPECT_EQ(status, 503) << text;
  EXPECT_EQ(json::parse(text)["status"], "unavailable");
}

TEST_F(ServerTest, TheBreakerTimerHalfOpensWithoutARun) {
  std::ofstream(config_) << "[breaker]\nstate_file = \"" << dir_.path()
                         << "/breakers.json\"\nfailure_threshold = 1\nopen_seconds = 1\n";
  db_ = "postgresql://propgrade@127.0.0.1:1/nothing";
  Start();
  auto [status, text] = Trigger(R"({"target_date": "2025-02-01"})", "?wait=true");
  EXPECT_EQ(status, 503) << text;
  auto ready = json::parse(Client().Get("/readyz")->body);
  EXPECT_NE(ready.dump().find("breaker grading is open"), std::string::npos) << ready.dump();
  std::string state, body;
  for (int i = 0; i < 150 && state != "half_open"; ++i) {  // the timer ticks every 5 s
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    body = Client().Get("/api/breakers")->body;
    const json breakers = json::parse(body)["breakers"];
    for (const auto& b : breakers) {
      if (b["name"] == "grading") state = b["state"].get<std::string>();
    }
  }
  EXPECT_EQ(state, "half_open") << body;
}

TEST_F(ServerTest, TheSweeperFreesAStuckLockForTheNextRunAndFencesTheStuckHolder) {
  std::ofstream(config_) << "[breaker]\nstate_file = \"" << dir_.path()
                         << "/breakers.json\"\n[lock_policy]\nstuck_alert_after_seconds = 1\n"
                            "stuck_release_after_seconds = 2\n";
  Start();
  auto stuck = HoldLock(kDate, 8000);  // holds grading/2025-02-01 for 8 s, then writes
  // A second run waits for the lock; the server's sweep frees it after 2 s.
  auto next = std::make_unique<Child>(Args({"grade", "--date", kDate, "--no-aggregate"}));
  CommandResult second = next->Wait();
  EXPECT_EQ(second.exit_code, 0) << second.err;
  CommandResult first = stuck->Wait();
  EXPECT_EQ(first.exit_code, 3) << first.err;
  EXPECT_NE(first.err.find("fenced_out"), std::string::npos) << first.err;
  EXPECT_EQ(testing::SqliteQuery(path_, "SELECT event FROM lock_events WHERE key = "
                                        "'grading/2025-02-01' AND event = 'force_released'")
                .size(),
            1u);
  // The partition holds the second run's rows once: no duplicates, nothing lost.
  EXPECT_EQ(testing::SqliteQuery(path_, "SELECT count(*) - count(DISTINCT prediction_id || "
                                        "system_id) FROM prediction_accuracy"),
            (std::multiset<std::string>{"0"}));
  EXPECT_EQ(testing::SqliteQuery(path_, "SELECT count(*) FROM prediction_accuracy"),
            (std::multiset<std::string>{"1339"}));
  for (int i = 0; i < 50; ++i) {  // the alerter records asynchronously
    if (!testing::SqliteQuery(path_, "SELECT type FROM alerts WHERE type = 'stuck_lock'").empty()) {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_FALSE(
      testing::SqliteQuery(path_, "SELECT type FROM alerts WHERE type = 'stuck_lock'").empty());
}

TEST_F(ServerTest, RefusesNonLoopbackWithoutAToken) {
  CommandResult r = Cli({"serve", "--listen", "0.0.0.0:0"}, {{"PROPGRADE_TRIGGER_TOKEN", ""}});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("refusing to listen on 0.0.0.0:0 without a trigger token"),
            std::string::npos)
      << r.err;
  CommandResult bad = Cli({"serve", "--listen", "localhost"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("host:port"), std::string::npos) << bad.err;
}

TEST_F(ServerTest, SigtermLetsTheRunningRunCommit) {
  Start();
  auto holder = HoldLock(kDate, 2000);
  auto [status, text] = Trigger(R"({"target_date": "2025-02-01"})");
  ASSERT_EQ(status, 202) << text;
  std::string run_id = json::parse(text)["run_id"];
  server_->Signal(SIGTERM);  // while the run waits for the lock
  EXPECT_EQ(holder->Wait().exit_code, 0);
  CommandResult stopped = server_->Wait();
  server_.reset();
  EXPECT_EQ(stopped.exit_code, 0) << stopped.err;
  EXPECT_NE(stopped.err.find("\"event\":\"shutting_down\""), std::string::npos);
  // The run finished inside the grace period and its steps committed.
  EXPECT_EQ(testing::SqliteQuery(path_, "SELECT status FROM grading_runs WHERE run_id = '" +
                                            run_id + "' ORDER BY processor"),
            (std::multiset<std::string>{"success", "success", "success"}));
}

}  // namespace
}  // namespace propgrade

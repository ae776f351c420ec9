// Security (spec/reliability.md, "Security"): SQL-looking, quoting, backslash and unicode text
// goes through every text column of every import kind (and a staged batch id, a lock-event
// reason, a trigger's correlation id) and comes back literally, on SQLite and on PostgreSQL,
// through grading too, with every table still there; the same strings as dates, day counts
// or lock keys, on the command line and over HTTP, are rejected (exit 2 / 400) without
// changing anything; no secret (webhook URLs, the trigger token, database passwords) appears
// in any output of a full run, a failing run or the service; slow clients do not hold up
// others and are dropped.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>

#include "common/strings.h"
#include "schema/schema.h"
#include "server/trigger.h"
#include "testing/http_receiver.h"
#include "testing/pg.h"
#include "testing/queries.h"
#include "testing/subprocess.h"
#include "testing/temp_dir.h"
#include "testing/skip.h"

namespace propgrade {
namespace {

using json = nlohmann::json;
using testing::Child;
using testing::CommandResult;

constexpr const char* kDay = "2026-01-16";  // the date of the injected rows

// Text that would change a statement if it were spliced into SQL (or into COPY's text format:
// backslashes, \N, \.), break naive CSV or JSON quoting, or trip up encodings. Distinct,
// free of control characters (which imports reject) and of edge spaces.
const std::vector<std::string>& Payloads() {
  static const std::vector<std::string> p = {
      "2026-01-16'; DROP TABLE prediction_accuracy; --",
      "x\" OR \"1\"=\"1",
      "Robert'); DROP TABLE player_prop_predictions;--",
      "%' --",
      "back\\slash \\' \\\" \\\\ \\N \\x41 end\\",
      "\\.",
      "\\N",
      "NULL",
      "'; DELETE FROM grading_runs WHERE '1'='1",
      "1; ATTACH DATABASE '/tmp/pwned.db' AS x; --",
      "$1 ? ?1 :name @p ${x} %s %n {}",
      "\"quoted\",\"csv\",,'",
      "-- comment /* block */ */ #",
      "ünïcødé ✓ 漢字 🏀 Ω Ｓｅｌｅｃｔ",
      "e'\\x41' U&'\\0041' $$dollar$$",
      std::string(300, '\''),
  };
  return p;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string CsvField(const std::string& v) {
  if (v.find_first_of(",\"\r\n") == std::string::npos) return v;
  std::string out = "\"";
  for (char c : v) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

// Percent-encodes everything but unreserved characters.
std::string UrlEncode(const std::string& v) {
  std::string out;
  for (unsigned char c : v) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      out += buf;
    }
  }
  return out;
}

// Every row of every table, each row as its columns' text joined by '\x1f' (NULL as "\x1e"),
// in storage order: what "nothing changed" compares. Plain SQLite, read-only.
std::map<std::string, std::vector<std::string>> Everything(const std::string& path) {
  std::map<std::string, std::vector<std::string>> out;
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    sqlite3_close(db);
    out["ERROR"].push_back("cannot open " + path);
    return out;
  }
  for (const TableDef* t : AllTables()) {
    std::string sql = "SELECT * FROM \"" + t->name + "\" ORDER BY rowid";
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK) {
      out[t->name].push_back(std::string("ERROR: ") + sqlite3_errmsg(db));
      continue;
    }
    auto& rows = out[t->name];
    while (sqlite3_step(stmt) == SQLITE_ROW) {
      std::string row;
      for (int i = 0; i < sqlite3_column_count(stmt); ++i) {
        const unsigned char* v = sqlite3_column_text(stmt, i);
        row += (v ? std::string(reinterpret_cast<const char*>(v)) : "\x1e") + "\x1f";
      }
      rows.push_back(row);
    }
    sqlite3_finalize(stmt);
  }
  sqlite3_close(db);
  return out;
}

// The tables of the catalogue missing from a SQLite file.
std::vector<std::string> MissingTables(const std::string& path) {
  auto present = testing::SqliteQuery(path, "SELECT name FROM sqlite_master WHERE type = 'table'");
  std::vector<std::string> missing;
  for (const TableDef* t : AllTables()) {
    if (!present.count(t->name)) missing.push_back(t->name);
  }
  return missing;
}

// A process's whole output, for grepping.
std::string All(const CommandResult& r) { return r.out + "\n" + r.err + "\n"; }

// ---------------------------------------------------------------------------------------------
// Text fields: stored and returned literally, on SQLite and on PostgreSQL.

class TextFieldTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "postgres") {
      const char* pg = std::getenv("PROPGRADE_TEST_PG_URL");
      if (!pg || !*pg) PROPGRADE_SKIP_WITHOUT("PROPGRADE_TEST_PG_URL is not set");
      pg_base_ = pg;
      schema_ = "sec_" + testing::RandomSchemaSuffix();
      db_ = pg_base_ + "?schema=" + schema_;
    } else {
      path_ = dir_.path() + "/t.db";
      db_ = "sqlite:" + path_;
    }
    config_ = dir_.path() + "/propgrade.toml";
    std::ofstream(config_) << "[breaker]\nstate_file = \"" << dir_.path()
                           << "/breakers.json\"\n[alerts]\nmin_interval_seconds = 0\n";
  }
  void TearDown() override {
    if (!schema_.empty()) testing::DropPgSchema(pg_base_.c_str(), schema_);
  }

  CommandResult Cli(std::vector<std::string> args) {
    args.insert(args.begin(), {testing::PropgradeBinary(), "--db", db_, "--config", config_,
                               "--log-format", "json"});
    return testing::RunCommand(args);
  }
  std::string Write(const std::string& name, const std::string& text) {
    std::string path = dir_.path() + "/" + name;
    std::ofstream(path, std::ios::binary) << text;
    return path;
  }

  // Row i of `table`: text column c holds Payloads()[(i + offset(c)) % n], the offset fixed per
  // column name, so the keys the grader joins on (game_id, player_lookup) line up across the
  // inputs and every text column holds every payload exactly once. Other columns hold valid
  // values. `gradable` leaves invalidation_reason empty (NULL), which grading requires.
  static std::vector<std::vector<std::string>> Rows(const TableDef& table, bool gradable = false) {
    static const std::vector<std::string> kNames = {
        "prediction_id", "game_id",     "player_lookup", "system_id",     "recommendation",
        "line_source",   "model_version", "filter_reason", "injury_status_at_prediction",
        "invalidation_reason", "team_abbr", "opponent_team_abbr", "dnp_reason", "injury_status",
        "reason",        "archetype"};
    const auto& p = Payloads();
    std::vector<std::vector<std::string>> rows;
    for (size_t i = 0; i < p.size(); ++i) {
      std::vector<std::string> row;
      for (const ColumnDef& c : table.columns) {
        switch (c.type) {
          case ColumnType::kText: {
            if (gradable && c.name == "invalidation_reason") {
              row.push_back("");
              break;
            }
            size_t offset = std::find(kNames.begin(), kNames.end(), c.name) - kNames.begin();
            row.push_back(p[(i + offset) % p.size()]);
            break;
          }
          case ColumnType::kDate: row.push_back(kDay); break;
          case ColumnType::kTimestamp: row.push_back("2026-01-15T12:00:00.000000Z"); break;
          case ColumnType::kReal: row.push_back(c.name == "predicted_points" ? "14.2" : "12.5"); break;
          case ColumnType::kInteger: row.push_back(c.name == "points" ? "17" : "3"); break;
          case ColumnType::kBool: row.push_back(c.name == "is_dnp" ? "false" : "true"); break;
        }
      }
      rows.push_back(row);
    }
    return rows;
  }
  std::string Csv(const TableDef& table, bool gradable = false) {
    std::string text;
    for (size_t i = 0; i < table.columns.size(); ++i) text += (i ? "," : "") + table.columns[i].name;
    text += "\n";
    for (const auto& row : Rows(table, gradable)) {
      for (size_t i = 0; i < row.size(); ++i) text += (i ? "," : "") + CsvField(row[i]);
      text += "\n";
    }
    return text;
  }
  std::string Jsonl(const TableDef& table) {
    std::string text;
    for (const auto& row : Rows(table)) {
      json o = json::object();
      for (size_t i = 0; i < row.size(); ++i) o[table.columns[i].name] = row[i];
      text += o.dump() + "\n";
    }
    return text;
  }

  // column → the values `propgrade export TABLE` returns for it ("<null>" for null).
  std::map<std::string, std::multiset<std::string>> Exported(const std::string& table) {
    CommandResult r = Cli({"export", table, "--format", "jsonl"});
    EXPECT_EQ(r.exit_code, 0) << table << ": " << r.err;
    std::map<std::string, std::multiset<std::string>> out;
    std::istringstream lines(r.out);
    for (std::string line; std::getline(lines, line);) {
      json row = json::parse(line, nullptr, false);
      EXPECT_FALSE(row.is_discarded()) << table << ": " << line;
      if (row.is_discarded()) continue;
      for (auto& [k, v] : row.items()) {
        out[k].insert(v.is_null() ? "<null>" : v.is_string() ? v.get<std::string>() : v.dump());
      }
    }
    return out;
  }

  // Every table of the catalogue is still there (an export of a missing table fails).
  void ExpectEveryTable() {
    if (!path_.empty()) {
      EXPECT_TRUE(MissingTables(path_).empty()) << "dropped: " << MissingTables(path_)[0];
      return;
    }
    for (const TableDef* t : AllTables()) {
      CommandResult r = Cli({"export", t->name});
      EXPECT_EQ(r.exit_code, 0) << t->name << ": " << r.err;
    }
  }

  testing::TempDir dir_;
  std::string pg_base_, schema_, db_, path_, config_;
};

TEST_P(TextFieldTest, EveryTextFieldOfEveryImportIsStoredAndReturnedLiterally) {
  const std::multiset<std::string> payloads(Payloads().begin(), Payloads().end());
  struct Kind {
    const char* kind;
    const TableDef* table;
  };
  const std::vector<Kind> kinds = {{"predictions", &tables::Predictions()},
                                   {"actuals", &tables::Actuals()},
                                   {"injuries", &tables::Injuries()},
                                   {"archetypes", &tables::Archetypes()}};
  for (const Kind& k : kinds) {
    // CSV first, then the same rows as JSONL (an upsert of identical rows).
    CommandResult csv = Cli({"import", k.kind, Write(std::string(k.kind) + ".csv", Csv(*k.table))});
    ASSERT_EQ(csv.exit_code, 0) << k.kind << ": " << csv.err;
    EXPECT_NE(csv.out.find(std::to_string(Payloads().size()) + " inserted"), std::string::npos)
        << csv.out;
    CommandResult jsonl =
        Cli({"import", k.kind, Write(std::string(k.kind) + ".jsonl", Jsonl(*k.table))});
    ASSERT_EQ(jsonl.exit_code, 0) << k.kind << ": " << jsonl.err;
    EXPECT_NE(jsonl.out.find(std::to_string(Payloads().size()) + " replaced"), std::string::npos)
        << jsonl.out;
  }
  ExpectEveryTable();
  int text_columns = 0;
  for (const Kind& k : kinds) {
    auto exported = Exported(k.table->name);
    for (const ColumnDef& c : k.table->columns) {
      if (c.type != ColumnType::kText) continue;
      ++text_columns;
      EXPECT_EQ(exported[c.name], payloads) << k.table->name << "." << c.name << " (export)";
      if (!path_.empty()) {  // and in the file itself, read with plain SQLite
        EXPECT_EQ(testing::SqliteQuery(path_, "SELECT CASE WHEN \"" + c.name +
                                                  "\" IS NULL THEN '<null>' ELSE \"" + c.name +
                                                  "\" END FROM \"" + k.table->name + "\""),
                  payloads)
            << k.table->name << "." << c.name << " (file)";
      }
    }
  }
  EXPECT_EQ(text_columns, 10 + 5 + 4 + 2);  // every text column of the four kinds

  // Grading joins on these strings and writes them out again through the partition write
  // (multi-row INSERT on SQLite, COPY on PostgreSQL). Invalidated predictions are not graded,
  // so the predictions come again without an invalidation_reason.
  CommandResult gradable =
      Cli({"import", "predictions", Write("gradable.csv", Csv(tables::Predictions(), true))});
  ASSERT_EQ(gradable.exit_code, 0) << gradable.err;
  CommandResult graded = Cli({"grade", "--date", kDay});
  EXPECT_EQ(graded.exit_code, 0) << graded.out << graded.err.substr(0, 3000);
  auto accuracy = Exported("prediction_accuracy");
  for (const char* column : {"prediction_id", "player_lookup", "game_id", "system_id",
                             "team_abbr", "opponent_team_abbr", "model_version"}) {
    EXPECT_EQ(accuracy[column], payloads) << "prediction_accuracy." << column;
  }
  std::set<std::string> systems;
  auto daily = Exported("system_daily_performance");  // a local: the loops below read into it
  for (const std::string& s : daily["system_id"]) systems.insert(s);
  EXPECT_EQ(systems, std::set<std::string>(payloads.begin(), payloads.end()));
  // The summary (archetype slices need 10 rows each: none here) keys its rows by system too.
  std::set<std::string> summary_systems;
  auto summary = Exported("prediction_performance_summary");
  for (const std::string& s : summary["system_id"]) summary_systems.insert(s);
  EXPECT_EQ(summary_systems, std::set<std::string>(payloads.begin(), payloads.end()));

  // Free text elsewhere: a staged batch id and a lock-event reason.
  const std::string staged =
      Write("stage.csv", "prediction_id,game_date,game_id,player_lookup,system_id,line_value,"
                         "created_at\np-1,2026-01-17,g,pl,sys,10.5,2026-01-16T10:00:00Z\n");
  for (const std::string& p : Payloads()) {
    CommandResult s = Cli({"stage", "predictions", staged, "--batch=" + p});
    EXPECT_EQ(s.exit_code, 0) << p << ": " << s.err;
    CommandResult reset =
        Cli({"locks", "reset-fence", "prediction_accuracy", kDay, "--reason=" + p});
    EXPECT_EQ(reset.exit_code, 0) << p << ": " << reset.err;
  }
  EXPECT_EQ(Exported("prediction_staging")["batch_id"], payloads);
  std::multiset<std::string> reasons;
  auto events = Exported("lock_events");
  for (const std::string& d : events["detail"]) {
    if (d.rfind("db: ", 0) == 0) reasons.insert(d.substr(4));
  }
  EXPECT_EQ(reasons, payloads);
  ExpectEveryTable();
}

INSTANTIATE_TEST_SUITE_P(Backends, TextFieldTest, ::testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

// ---------------------------------------------------------------------------------------------
// Dates, day counts and keys: rejected without changing anything.

class ParameterTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    // One graded golden date, shared (read-only) by the tests of this suite.
    dir_ = new testing::TempDir;
    const std::string in = testing::GoldenDir() + "/inputs/";
    for (const char* kind : {"predictions", "actuals", "injuries", "archetypes"}) {
      CommandResult r = Run({"import", kind, in + kind + ".csv"});
      ASSERT_EQ(r.exit_code, 0) << r.err;
    }
    CommandResult r = Run({"grade", "--date", "2025-02-01"});
    ASSERT_EQ(r.exit_code, 0) << r.err.substr(0, 2000);
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }
  static std::string Path() { return dir_->path() + "/p.db"; }
  static std::string Config() {
    std::string path = dir_->path() + "/propgrade.toml";
    if (!std::filesystem::exists(path)) {
      std::ofstream(path) << "[breaker]\nstate_file = \"" << dir_->path() << "/breakers.json\"\n";
    }
    return path;
  }
  static std::vector<std::string> Args(std::vector<std::string> args) {
    args.insert(args.begin(), {testing::PropgradeBinary(), "--db", "sqlite:" + Path(), "--config",
                               Config(), "--log-format", "json"});
    return args;
  }
  static CommandResult Run(std::vector<std::string> args,
                           const std::map<std::string, std::string>& env = {}) {
    return testing::RunCommand(Args(std::move(args)), env);
  }

  static testing::TempDir* dir_;
};
testing::TempDir* ParameterTest::dir_ = nullptr;

// Bad dates: every payload, and plausible near-misses.
std::vector<std::string> BadDates() {
  std::vector<std::string> bad = Payloads();
  for (const char* d : {"2026-02-30", "2026-1-16", "2026-01-16 ", " 2026-01-16", "2026-01-16T00:00",
                        "20260116", "yesterday", "2026-01-16\xef\xbc\x8d", "0000-01-01"}) {
    bad.push_back(d);
  }
  return bad;
}

TEST_F(ParameterTest, BadDatesDayCountsAndKeysOnTheCommandLineExit2AndChangeNothing) {
  const auto before = Everything(Path());
  ASSERT_GT(before.at("prediction_accuracy").size(), 1000u);
  int commands = 0;
  auto expect_usage = [&](std::vector<std::string> args, const std::string& message) {
    ++commands;
    CommandResult r = Run(args);
    std::string shown;
    for (const auto& a : args) shown += a + " ";
    EXPECT_EQ(r.exit_code, 2) << shown << "\n" << r.out << r.err;
    EXPECT_NE(r.err.find(message), std::string::npos) << shown << "\n" << r.err;
  };
  const std::string not_a_date = "is not a valid date (YYYY-MM-DD)";
  for (const std::string& d : BadDates()) {
    // --flag=value: a value that starts with "-" is taken as it is, not as another flag.
    expect_usage({"grade", "--date=" + d}, "--date '" + d + "' " + not_a_date);
    expect_usage({"grade", "--from=" + d, "--to", "2025-02-02"}, "--from '" + d + "' " + not_a_date);
    expect_usage({"grade", "--from", "2025-02-01", "--to=" + d}, "--to '" + d + "' " + not_a_date);
    expect_usage({"aggregate", "--date=" + d}, "--date '" + d + "' " + not_a_date);
    expect_usage({"summarize", "--as-of=" + d}, "--as-of '" + d + "' " + not_a_date);
    expect_usage({"export", "prediction_accuracy", "--date=" + d},
                 "--date '" + d + "' " + not_a_date);
    expect_usage({"dedupe", "--table", "prediction_accuracy", "--date=" + d},
                 "--date '" + d + "' " + not_a_date);
    expect_usage({"consolidate", "--date=" + d}, "--date '" + d + "' " + not_a_date);
    expect_usage({"consolidate", "--cleanup-orphans", "--date=" + d}, not_a_date);
    expect_usage({"demo", "--today=" + d}, "--today '" + d + "' " + not_a_date);
    expect_usage({"locks", "reset-fence", "--reason", "r", "prediction_accuracy", "--", d},
                 "PARTITION '" + d + "' " + not_a_date);
    expect_usage({"locks", "release", "--reason", "r", "--", "grading/" + d},
                 "is not PROCESSOR/YYYY-MM-DD");
    expect_usage({"locks", "release", "--reason", "r", "--", d}, "is not PROCESSOR/YYYY-MM-DD");
    expect_usage({"breaker", "reset", "--", d}, "no breaker named");
    expect_usage({"report", "accuracy", "--days=" + d}, "--days");
    expect_usage({"check", "--days=" + d}, "--days");
  }
  for (const char* days : {"0", "-1", "1e3", "99999999999999999999", "7; DROP TABLE alerts"}) {
    expect_usage({"report", "accuracy", "--days", days}, "days");
  }
  EXPECT_GT(commands, 300);
  const auto after = Everything(Path());
  for (const auto& [table, rows] : before) {
    EXPECT_TRUE(after.at(table) == rows) << table << " changed";
  }
  EXPECT_TRUE(MissingTables(Path()).empty());
}

// `propgrade serve` on the shared database, listening on a free loopback port.
class Server {
 public:
  Server(std::vector<std::string> args, const std::map<std::string, std::string>& env) {
    args.insert(args.end(), {"serve", "--listen", "127.0.0.1:0"});
    child_ = std::make_unique<Child>(args, env);
    EXPECT_TRUE(testing::WaitForStderr(*child_, "\"event\":\"listening\"", 15000))
        << ReadFile(child_->err_path());
    std::smatch m;
    std::string err = ReadFile(child_->err_path());
    if (std::regex_search(err, m, std::regex("http://127\\.0\\.0\\.1:([0-9]+)/"))) {
      port_ = std::stoi(m[1]);
    }
  }
  ~Server() { Stop(); }
  int port() const { return port_; }
  httplib::Client Client(const std::string& token) const {
    httplib::Client c("127.0.0.1", port_);
    c.set_read_timeout(120, 0);
    if (!token.empty()) c.set_bearer_token_auth(token.c_str());
    return c;
  }
  // SIGTERM; returns everything the server wrote.
  CommandResult Stop() {
    if (!child_) return result_;
    child_->Signal(SIGTERM);
    result_ = child_->Wait();
    child_.reset();
    return result_;
  }

 private:
  std::unique_ptr<Child> child_;
  CommandResult result_;
  int port_ = 0;
};

TEST_F(ParameterTest, BadDatesAndCountsOverHttpAre400AndChangeNothing) {
  const auto before = Everything(Path());
  const std::string token = "security-test-token";
  Server server(Args({}), {{"PROPGRADE_TRIGGER_TOKEN", token}});
  ASSERT_GT(server.port(), 0);
  auto c = server.Client(token);
  auto expect_400 = [&](const httplib::Result& r, const std::string& what) {
    ASSERT_TRUE(r) << what << ": " << httplib::to_string(r.error());
    EXPECT_EQ(r->status, 400) << what << " -> " << r->body;
    json err = json::parse(r->body, nullptr, false);
    ASSERT_FALSE(err.is_discarded()) << what << " -> " << r->body;
    EXPECT_EQ(err["error"]["code"], "INVALID_ARGUMENT") << what;
    EXPECT_FALSE(err["error"]["message"].get<std::string>().empty()) << what;
  };
  for (const std::string& d : BadDates()) {
    if (d != "yesterday") {  // a valid target_date (though not a valid ?date=)
      json trigger = {{"target_date", d}};
      expect_400(c.Post("/v1/runs", trigger.dump(), "application/json"), "POST target_date " + d);
      expect_400(c.Post("/v1/runs?wait=true", trigger.dump(), "application/json"),
                 "POST ?wait=true target_date " + d);
      json envelope = {{"message", {{"data", Base64Encode(trigger.dump())}, {"messageId", "m-1"}}},
                       {"subscription", "s"}};
      expect_400(c.Post("/v1/runs", envelope.dump(), "application/json"),
                 "Pub/Sub target_date " + d);
    }
    expect_400(c.Get(("/v1/runs?date=" + UrlEncode(d)).c_str()), "GET /v1/runs?date=" + d);
    // Run ids are not dates: an unknown id is 404.
    auto by_id = c.Get(("/v1/runs/" + UrlEncode(d)).c_str());
    ASSERT_TRUE(by_id);
    EXPECT_EQ(by_id->status, 404) << d << " -> " << by_id->body;
    EXPECT_FALSE(json::parse(by_id->body, nullptr, false).is_discarded()) << by_id->body;
    for (const char* api : {"/api/performance?days=", "/api/calibration?days=",
                            "/api/duplicates?days=", "/api/lock_waits?days=", "/api/runs?limit=",
                            "/api/alerts?limit="}) {
      expect_400(c.Get((api + UrlEncode(d)).c_str()), api + d);
    }
  }
  for (const char* n : {"0", "-1", "1e3", "99999999999999999999", "7%3B%20DROP%20TABLE%20alerts"}) {
    expect_400(c.Get((std::string("/api/performance?days=") + n).c_str()), n);
    expect_400(c.Get((std::string("/api/runs?limit=") + n).c_str()), n);
  }
  server.Stop();
  const auto after = Everything(Path());
  for (const auto& [table, rows] : before) {
    EXPECT_TRUE(after.at(table) == rows) << table << " changed";
  }
  EXPECT_TRUE(MissingTables(Path()).empty());
}

TEST_F(ParameterTest, TriggerTextIsStoredLiterallyAndShownAsValidJson) {
  // Works on a copy: these runs write.
  testing::TempDir copy;
  const std::string path = copy.path() + "/c.db";
  ASSERT_EQ(testing::RunCommand({"cp", Path(), path}).exit_code, 0);
  std::vector<std::string> args = {testing::PropgradeBinary(), "--db", "sqlite:" + path,
                                   "--config", Config(), "--log-format", "json"};
  const std::string token = "security-test-token";
  Server server(args, {{"PROPGRADE_TRIGGER_TOKEN", token}});
  ASSERT_GT(server.port(), 0);
  auto c = server.Client(token);
  std::multiset<std::string> sent;
  for (const std::string& p : Payloads()) {
    json trigger = {{"target_date", "2025-02-01"}, {"correlation_id", p},
                    {"trigger_source", p}, {"run_aggregation", false}};
    auto r = c.Post("/v1/runs?wait=true", trigger.dump(), "application/json");
    ASSERT_TRUE(r);
    if (p.size() > server::kMaxTriggerTextBytes) {  // refused whole, naming the limit; nothing runs
      EXPECT_EQ(r->status, 400) << r->body;
      EXPECT_NE(r->body.find(std::to_string(server::kMaxTriggerTextBytes) + " bytes"), std::string::npos)
          << r->body;
      continue;
    }
    EXPECT_EQ(r->status, 200) << r->body;
    json run = json::parse(r->body, nullptr, false);
    ASSERT_FALSE(run.is_discarded()) << r->body;
    EXPECT_EQ(run["correlation_id"], p);
    sent.insert(p);
  }
  EXPECT_EQ(testing::SqliteQuery(path, "SELECT correlation_id FROM grading_runs WHERE "
                                       "correlation_id IS NOT NULL"),
            sent);
  EXPECT_EQ(testing::SqliteQuery(path, "SELECT trigger_source FROM grading_runs WHERE "
                                       "correlation_id IS NOT NULL"),
            sent);
  // The dashboard's JSON carries them escaped (it parses) and unchanged.
  auto runs = c.Get("/api/runs?limit=100");
  ASSERT_TRUE(runs);
  json j = json::parse(runs->body, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << runs->body.substr(0, 2000);
  std::multiset<std::string> shown;
  for (const auto& r : j["runs"]) {
    if (r.contains("correlation_id") && r["correlation_id"].is_string() &&
        sent.count(r["correlation_id"].get<std::string>())) {
      shown.insert(r["correlation_id"].get<std::string>());
    }
  }
  EXPECT_EQ(shown, sent) << runs->body.substr(0, 2000);
  server.Stop();
  EXPECT_TRUE(MissingTables(path).empty());
  EXPECT_EQ(testing::SqliteQuery(path, "SELECT count(*) FROM prediction_accuracy"),
            std::multiset<std::string>{"1339"});
}

// ---------------------------------------------------------------------------------------------
// Secrets never appear in any output.

TEST(SecretsTest, NoSecretInAnyOutputOfAFullRunAFailingRunOrTheService) {
  testing::TempDir dir;
  testing::HttpReceiver receiver;
  const std::string hook_secret = "hook-SECRET-c41d";
  const std::string slack_secret = "T0SEC/B0SEC/slack-SECRET-7f3e";
  const std::string token = "trigger-SECRET-a9b2";
  const std::string down_password = "SECRETPW-0e1f";
  const std::string down_db = "postgresql://grader:" + down_password + "@127.0.0.1:1/props";
  std::vector<std::string> secrets = {hook_secret, slack_secret, token, down_password};
  const std::map<std::string, std::string> env = {
      {"PROPGRADE_ALERT_WEBHOOK_URL", receiver.url("/hook/" + hook_secret)},
      {"PROPGRADE_SLACK_WEBHOOK_URL", receiver.url("/services/" + slack_secret)},
      {"PROPGRADE_TRIGGER_TOKEN", token}};
  const std::string config = dir.path() + "/propgrade.toml";
  std::ofstream(config) << "[breaker]\nstate_file = \"" << dir.path()
                        << "/breakers.json\"\n[alerts]\nmin_interval_seconds = 0\n";
  std::string sqlite_path = dir.path() + "/s.db";
  std::string db = "sqlite:" + sqlite_path, pg_base, schema;
  if (const char* pg = std::getenv("PROPGRADE_TEST_PG_URL"); pg && *pg) {
    pg_base = pg;
    schema = "sec_" + testing::RandomSchemaSuffix();
    db = pg_base + "?schema=" + schema;
    if (!testing::PgPassword(pg_base).empty()) secrets.push_back(testing::PgPassword(pg_base));
    sqlite_path.clear();
  }
  auto args = [&](std::vector<std::string> a, const std::string& url) {
    a.insert(a.begin(), {testing::PropgradeBinary(), "--db", url, "--config", config,
                         "--log-format", "json"});
    return a;
  };
  std::string all;  // everything any process or endpoint said
  auto run = [&](std::vector<std::string> a, const std::string& url = "") {
    CommandResult r = testing::RunCommand(args(std::move(a), url.empty() ? db : url), env);
    all += All(r);
    return r;
  };

  // A full run: imports, grading with alerts, checks, reports, exports, locks, breakers.
  const std::string metrics = dir.path() + "/m.prom";
  const std::string in = testing::GoldenDir() + "/inputs/";
  ASSERT_EQ(run({"init"}).exit_code, 0);
  for (const char* kind : {"predictions", "actuals", "injuries", "archetypes"}) {
    ASSERT_EQ(run({"import", kind, in + std::string(kind) + ".csv"}).exit_code, 0);
  }
  CommandResult graded =
      run({"--metrics-file", metrics, "grade", "--from", "2025-02-01", "--to", "2025-02-02"});
  EXPECT_EQ(graded.exit_code, 0) << graded.err.substr(0, 2000);
  all += ReadFile(metrics);
  run({"check"});
  run({"check", "--format", "json", "--strict"});
  for (const char* kind : {"accuracy", "calibration", "players", "systems"}) {
    EXPECT_EQ(run({"report", kind, "--format", "json"}).exit_code, 0) << kind;
    run({"report", kind});
  }
  for (const TableDef* t : AllTables()) EXPECT_EQ(run({"export", t->name}).exit_code, 0);
  run({"locks", "list"});
  run({"locks", "list", "--format", "json"});
  run({"locks", "sweep"});
  run({"breaker", "status"});
  // Alerts that cannot be delivered: the failure is logged and counted, without the URL.
  receiver.set_status(500);
  const std::string failed_metrics = dir.path() + "/failed.prom";
  run({"--metrics-file", failed_metrics, "grade", "--date", "2025-02-03", "--no-aggregate"});
  all += ReadFile(failed_metrics);
  receiver.set_status(200);

  // Failing runs: a database that does not answer, its password in the URL (and in the env).
  const std::string down_metrics = dir.path() + "/down.prom";
  CommandResult down =
      run({"--metrics-file", down_metrics, "grade", "--date", "2025-02-01"}, down_db);
  EXPECT_EQ(down.exit_code, 3) << down.out << down.err.substr(0, 2000);
  EXPECT_NE(down.out.find("unavailable"), std::string::npos) << down.out;
  all += ReadFile(down_metrics);
  for (std::vector<std::string> a : std::vector<std::vector<std::string>>{
           {"init"}, {"check"}, {"report", "accuracy"}, {"export", "alerts"}, {"locks", "list"},
           {"import", "archetypes", in + "archetypes.csv"}, {"consolidate", "--date", "2025-02-01"},
           {"dedupe", "--table", "prediction_accuracy"}, {"demo", "--today", "2026-01-20"}}) {
    EXPECT_EQ(run(a, down_db).exit_code, 3) << a[0];
  }
  {
    auto env_db = env;
    env_db["PROPGRADE_DB"] = down_db;
    CommandResult r = testing::RunCommand(
        {testing::PropgradeBinary(), "--config", config, "--log-format", "text", "grade",
         "--date", "2025-02-01"},
        env_db);
    EXPECT_EQ(r.exit_code, 3);
    all += All(r);
  }

  // The service: every endpoint, the right token, a wrong one, none.
  auto serve = [&](const std::string& url) {
    std::map<std::string, std::string> serve_env = env;
    Server server(args({}, url), serve_env);
    EXPECT_GT(server.port(), 0);
    auto c = server.Client(token);
    for (const char* path : {"/healthz", "/readyz", "/metrics", "/", "/api/summary",
                             "/api/performance", "/api/calibration", "/api/duplicates",
                             "/api/lock_waits", "/api/locks", "/api/runs", "/api/alerts",
                             "/api/breakers", "/v1/runs?date=2025-02-01", "/v1/runs/nope",
                             "/no/such/path"}) {
      auto r = c.Get(path);
      if (r) all += r->body + "\n";
      for (const auto& [k, v] : r ? r->headers : httplib::Headers{}) all += k + ": " + v + "\n";
    }
    auto triggered = c.Post("/v1/runs?wait=true", R"({"target_date": "2025-02-01"})",
                            "application/json");
    if (triggered) {
      all += triggered->body + "\n";
      json run = json::parse(triggered->body, nullptr, false);
      if (!run.is_discarded() && run.contains("run_id")) {
        auto one = c.Get(("/v1/runs/" + run["run_id"].get<std::string>()).c_str());
        if (one) all += one->body + "\n";
      }
    }
    for (const std::string& bad : {std::string("wrong-token"), std::string()}) {
      auto r = server.Client(bad).Post("/v1/runs", R"({"target_date": "2025-02-01"})",
                                       "application/json");
      EXPECT_TRUE(r && r->status == 401);
      if (r) all += r->body + "\n";
    }
    all += All(server.Stop());
    return triggered ? triggered->status : -1;
  };
  EXPECT_EQ(serve(db), 200);
  EXPECT_EQ(serve(down_db), 503);

  // What was delivered and recorded.
  int delivered = 0;
  for (const auto& req : receiver.requests()) {
    all += req.body + "\n";
    ++delivered;
  }
  EXPECT_GT(delivered, 8) << "alerts must have fired for the test to mean anything";
  if (!sqlite_path.empty()) {
    all += ReadFile(sqlite_path);  // every table, byte for byte
    for (const std::string& s : testing::SqliteQuery(
             sqlite_path, "SELECT type || ' ' || summary || ' ' || coalesce(fields_json, '') "
                          "FROM alerts")) {
      all += s + "\n";
    }
  }
  all += ReadFile(dir.path() + "/breakers.json");
  if (!schema.empty()) testing::DropPgSchema(pg_base.c_str(), schema);

  ASSERT_GT(all.size(), 100000u);
  EXPECT_NE(all.find("source_duplicates"), std::string::npos);
  for (const std::string& secret : secrets) {
    size_t at = all.find(secret);
    EXPECT_EQ(at, std::string::npos)
        << "secret leaked: " << secret.substr(0, 6) << "... in: "
        << (at == std::string::npos ? "" : all.substr(at > 300 ? at - 300 : 0, 600));
  }
  // Every secret above holds "SECRET": a log that cut one short would still show this.
  size_t at = all.find("SECRET");
  EXPECT_EQ(at, std::string::npos)
      << "found SECRET in: " << (at == std::string::npos ? "" : all.substr(at > 300 ? at - 300 : 0, 600));
}

// Database and lock URLs in messages show the user and the host but never the password, and
// redacting it leaves the rest of the message as it was (a password "a" or "1" must not turn
// every "a" or "1" of the message into "***").
TEST(SecretsTest, UrlPasswordsAreRedactedWithoutGarblingTheRestOfTheMessage) {
  testing::TempDir dir;
  auto run = [&](const std::string& db, std::vector<std::string> extra = {}) {
    std::vector<std::string> argv = {testing::PropgradeBinary(), "--db", db, "--log-format",
                                     "text"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return testing::RunCommand(argv, {{"HOME", dir.path()}});
  };
  // Nothing listens on port 1: libpq says so, and its message must survive intact.
  for (const char* password : {"a", "1", "t", "o"}) {
    CommandResult r = run(std::string("postgresql://grader:") + password + "@127.0.0.1:1/props",
                          {"init"});
    EXPECT_EQ(r.exit_code, 3) << r.err;
    EXPECT_NE(r.err.find("postgresql://grader@127.0.0.1:1/props: connecting: connection to "
                         "server at \"127.0.0.1\", port 1 failed: Connection refused"),
              std::string::npos)
        << password << ": " << r.err;
    EXPECT_NE(r.err.find("Is the server running on that host and accepting TCP/IP connections?"),
              std::string::npos)
        << password << ": " << r.err;
    EXPECT_EQ(r.err.find("***"), std::string::npos) << password << ": " << r.err;
  }
  // Percent-encoded passwords: a valid escape, and one libpq rejects (and quotes in its message),
  // in the URL's userinfo or as its password parameter.
  for (const std::string url :
       {"postgresql://grader:pw-SECRET%40x@127.0.0.1:1/props",
        "postgresql://grader:pw-SECRET%zz@127.0.0.1:1/props",
        "postgresql://grader@127.0.0.1:1/props?password=pw-SECRET%zz",
        "postgresql://grader@127.0.0.1:1/props?sslmode=prefer&password=pw-SECRET%40x"}) {
    CommandResult r = run(url, {"init"});
    EXPECT_EQ(r.exit_code, 3) << r.err;
    EXPECT_EQ(All(r).find("SECRET"), std::string::npos) << All(r);
    EXPECT_NE(r.err.find("postgresql://grader@127.0.0.1:1/props"), std::string::npos) << r.err;
  }
  // A URL given where propgrade does not expect one is echoed with its password redacted.
  ASSERT_EQ(run("sqlite:" + dir.path() + "/s.db", {"init"}).exit_code, 0);
  CommandResult lock = run("sqlite:" + dir.path() + "/s.db",
                           {"--lock", "postgresql://grader:lock-SECRET-9d@db.internal:5432/props",
                            "locks", "list"});
  EXPECT_EQ(lock.exit_code, 2) << lock.err;
  EXPECT_EQ(All(lock).find("SECRET"), std::string::npos) << All(lock);
  EXPECT_NE(lock.err.find("'postgresql://grader:***@db.internal:5432/props'"), std::string::npos)
      << lock.err;
  // libpq also takes the password as a parameter of the URL.
  lock = run("sqlite:" + dir.path() + "/s.db",
             {"--lock", "postgresql://grader@db.internal:5432/props?sslmode=require&password="
                        "lock-SECRET-9e",
              "locks", "list"});
  EXPECT_EQ(lock.exit_code, 2) << lock.err;
  EXPECT_EQ(All(lock).find("SECRET"), std::string::npos) << All(lock);
  EXPECT_NE(lock.err.find("'postgresql://grader@db.internal:5432/props?sslmode=require&password=***"),
            std::string::npos)
      << lock.err;
}

// `demo` against PostgreSQL, the password given both ways a URL can carry it (user:PW@ and
// ?password=PW): the "Next:" lines name the database to use, never its password, and neither do
// stdout, stderr (the JSON log) or the metrics. The smallest demo there is (--scale 1).
TEST(SecretsTest, DemoOnPostgresShowsThePasswordNowhere) {
  const char* pg = std::getenv("PROPGRADE_TEST_PG_URL");
  if (!pg || !*pg) GTEST_SKIP() << "PROPGRADE_TEST_PG_URL is not set";
  const std::string password = testing::PgPassword(pg);
  if (password.empty()) GTEST_SKIP() << "PROPGRADE_TEST_PG_URL has no password to look for";
  testing::TempDir dir;
  const std::string schema = "demo_" + testing::RandomSchemaSuffix();
  const std::string db = std::string(pg) + "?schema=" + schema + "&password=" + UrlEncode(password);
  const std::string config = dir.path() + "/propgrade.toml";
  std::ofstream(config) << "[breaker]\nstate_file = \"" << dir.path() << "/breakers.json\"\n";
  const std::string metrics = dir.path() + "/demo.prom";
  CommandResult r = testing::RunCommand(
      {testing::PropgradeBinary(), "--db", db, "--config", config, "--log-format", "json",
       "--metrics-file", metrics, "demo", "--scale", "1", "--today", "2026-01-20"},
      {{"HOME", dir.path()}});
  testing::DropPgSchema(pg, schema);
  ASSERT_EQ(r.exit_code, 0) << r.out.substr(0, 2000) << r.err.substr(0, 2000);
  EXPECT_NE(r.err.find("\"event\":\"lock_acquired\""), std::string::npos) << "the JSON log ran";
  const size_t next = r.out.find("\nNext: propgrade report calibration");
  ASSERT_NE(next, std::string::npos) << r.out;
  EXPECT_NE(r.out.find(":***@127.0.0.1:", next), std::string::npos) << r.out.substr(next);
  EXPECT_NE(r.out.find("?schema=" + schema + "&password=***'", next), std::string::npos)
      << r.out.substr(next);
  for (const auto& [what, text] : std::vector<std::pair<std::string, std::string>>{
           {"stdout", r.out}, {"stderr", r.err}, {"metrics", ReadFile(metrics)}}) {
    const size_t at = text.find(password);
    EXPECT_EQ(at, std::string::npos)
        << "the password is in " << what << ": "
        << (at == std::string::npos ? "" : text.substr(at > 300 ? at - 300 : 0, 600));
  }
}

// ---------------------------------------------------------------------------------------------
// Slow clients.

// A raw TCP connection to 127.0.0.1:port.
class RawConnection {
 public:
  explicit RawConnection(int port) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = fd_ >= 0 && connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  }
  ~RawConnection() {
    if (fd_ >= 0) close(fd_);
  }
  bool connected() const { return connected_; }
  bool Send(const std::string& data) {
    return send(fd_, data.data(), data.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(data.size());
  }
  // Waits up to `timeout_ms` for the server to answer or close; returns what it sent before
  // closing, or nullopt when the connection is still open at the deadline.
  std::optional<std::string> WaitForClose(int timeout_ms) {
    std::string got;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    for (;;) {
      int left = static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                      deadline - std::chrono::steady_clock::now())
                                      .count());
      if (left <= 0) return std::nullopt;
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, left) <= 0) continue;
      char buf[4096];
      ssize_t n = recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) return got;
      got.append(buf, static_cast<size_t>(n));
    }
  }

 private:
  int fd_ = -1;
  bool connected_ = false;
};

TEST_F(ParameterTest, SlowClientsDoNotHoldUpOthersAndIdleOnesAreDropped) {
  testing::TempDir copy;
  const std::string path = copy.path() + "/c.db";
  ASSERT_EQ(testing::RunCommand({"cp", Path(), path}).exit_code, 0);
  Server server({testing::PropgradeBinary(), "--db", "sqlite:" + path, "--config", Config(),
                 "--log-format", "json"},
                {});
  ASSERT_GT(server.port(), 0);
  // Fewer than the server's worker threads (32): each slow connection holds one until its
  // read timeout (30 s, not configurable).
  std::vector<std::unique_ptr<RawConnection>> slow;
  for (int i = 0; i < 8; ++i) {
    auto conn = std::make_unique<RawConnection>(server.port());
    ASSERT_TRUE(conn->connected());
    switch (i % 3) {
      case 0:  // headers never finished
        ASSERT_TRUE(conn->Send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "));
        break;
      case 1:  // a body that never arrives in full
        ASSERT_TRUE(conn->Send("POST /v1/runs HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
                               "application/json\r\nContent-Length: 1000\r\n\r\n{\"target_"));
        break;
      default:  // connected, silent
        break;
    }
    slow.push_back(std::move(conn));
  }
  auto c = server.Client("");
  for (int i = 0; i < 20; ++i) {
    auto health = c.Get("/healthz");
    ASSERT_TRUE(health) << httplib::to_string(health.error());
    EXPECT_EQ(health->status, 200);
  }
  auto list = c.Get("/v1/runs?date=2025-02-01");
  ASSERT_TRUE(list);
  EXPECT_EQ(list->status, 200);
  auto run = c.Post("/v1/runs?wait=true", R"({"target_date": "2025-02-01", "run_aggregation": false})",
                    "application/json");
  ASSERT_TRUE(run);
  EXPECT_EQ(run->status, 200) << run->body;
  EXPECT_EQ(json::parse(run->body)["status"], "success");
  // A silent connection is dropped (keep-alive timeout, 5 s) without an answer.
  auto idle = slow[2]->WaitForClose(60000);
  ASSERT_TRUE(idle.has_value()) << "a silent connection stayed open for 60 s";
  EXPECT_EQ(*idle, "");
}

// A partial request is answered 400 and closed once the read timeout (30 s) passes. Slow:
// runs only with PROPGRADE_TEST_SLOW_CLIENT_TIMEOUT=1.
TEST_F(ParameterTest, PartialRequestsAreClosedAtTheReadTimeout) {
  if (testing::EnvString("PROPGRADE_TEST_SLOW_CLIENT_TIMEOUT") != "1") {
    GTEST_SKIP() << "takes the server's 30 s read timeout; set PROPGRADE_TEST_SLOW_CLIENT_TIMEOUT=1";
  }
  Server server(Args({}), {});
  ASSERT_GT(server.port(), 0);
  RawConnection headers(server.port()), body(server.port());
  ASSERT_TRUE(headers.Send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "));
  ASSERT_TRUE(body.Send("POST /v1/runs HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
                        "application/json\r\nContent-Length: 1000\r\n\r\n{\"target_"));
  for (RawConnection* conn : {&headers, &body}) {
    auto answer = conn->WaitForClose(90000);
    ASSERT_TRUE(answer.has_value()) << "a partial request stayed open for 90 s";
    EXPECT_TRUE(answer->empty() || answer->rfind("HTTP/1.1 400", 0) == 0) << *answer;
  }
}

}  // namespace
}  // namespace propgrade

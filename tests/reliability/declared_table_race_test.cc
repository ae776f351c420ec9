// R1 and R3 (spec/reliability.md) on a table declared in propgrade.toml, through each door a
// user writes it by (docs/own-tables.md): `propgrade load`; `propgrade lock run` wrapping a
// shell script that does its own DELETE + INSERT behind the SQL fence; and PUT
// /v1/tables/... against one `propgrade serve`. For SQLite and PostgreSQL, with the db and the
// etcd lock. R4's sensitivity run shows the checkers catching the same script without the fence.
//
// Every writer of a round writes a complete version of one partition (50 keys, each row tagged
// with the writer). The checkers, after every round: no key twice; the partition holds exactly
// the 50 keys, all of ONE writer's version (a mix is a lost write); no two writes of the
// partition inside their write sections at once; the tokens of committed writes strictly
// increasing. Sizes: PROPGRADE_RACE_PROCESSES x PROPGRADE_RACE_ROUNDS (default 4 x 20; a tenth
// of the writers is SIGKILLed at a random moment), PROPGRADE_R3_TRIALS (default 10).
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
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

#include "testing/pg.h"
#include "testing/queries.h"
#include "testing/reliability_report.h"
#include "testing/skip.h"
#include "testing/subprocess.h"
#include "testing/temp_dir.h"
#include "testing/write_sections.h"

namespace propgrade {
namespace {

using testing::Child;
using testing::CommandResult;
using testing::EnvInt;
using testing::Section;
using testing::Sections;

constexpr const char* kDate = "2026-01-16";
constexpr int kKeys = 50;

// The script `lock run` wraps: it logs its write section as propgrade's own writers do, then
// runs its own transaction, behind the SQL fence unless FENCE=off.
constexpr const char* kScript = R"SH(#!/bin/sh
# usage: write.sh ROWS.sql ; env: STORE (sqlite|postgres), DB_PATH or PG_URL + PG_SCHEMA,
# PAUSE_FILE (wait for it before writing), FENCE (off: no fence)
now() { date +%s%6N; }
section() {
  echo "{\"event\":\"write_section\",\"phase\":\"$1\",\"key\":\"$PROPGRADE_LOCK_KEY\",\"token\":${PROPGRADE_FENCE_TOKEN:-null}$2,\"at_micros\":$(now)}" >&2
}
section enter ""
if [ -n "$PAUSE_FILE" ]; then
  echo '{"event":"script_paused"}' >&2
  while [ ! -e "$PAUSE_FILE" ]; do sleep 0.05; done
fi
if [ "$STORE" = sqlite ]; then
  fence="INSERT INTO propgrade_fence (lock_namespace, table_name, partition, token) VALUES ('$PROPGRADE_FENCE_NAMESPACE', 'player_form_daily', '2026-01-16', $PROPGRADE_FENCE_TOKEN);"
  [ "$FENCE" = off ] && fence=""
  { echo ".timeout 30000"; echo "BEGIN IMMEDIATE;"; echo "$fence";
    echo "DELETE FROM player_form_daily WHERE as_of_date = '2026-01-16';"; cat "$1"; echo "COMMIT;"; } \
    | sqlite3 -bail "$DB_PATH" >/dev/null
else
  fence="SELECT propgrade_fence_advance('player_form_daily', '2026-01-16', $PROPGRADE_FENCE_TOKEN, '$PROPGRADE_FENCE_NAMESPACE');"
  [ "$FENCE" = off ] && fence=""
  { echo "BEGIN;"; echo "$fence";
    echo "DELETE FROM player_form_daily WHERE as_of_date = '2026-01-16';"; cat "$1"; echo "COMMIT;"; } \
    | PGOPTIONS="-c search_path=$PG_SCHEMA" psql -q -X -v ON_ERROR_STOP=1 "$PG_URL" >/dev/null
fi
status=$?
if [ $status = 0 ]; then section exit ",\"committed\":true"; else section exit ",\"committed\":false"; fi
exit $status
)SH";

// The parameter is "<store>_<lock>_<door>": sqlite_db_load, postgres_etcd_lockrun, ...
class DeclaredTableRaceTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    std::stringstream parts(GetParam());
    std::getline(parts, store_, '_');
    std::getline(parts, backend_, '_');
    std::getline(parts, door_, '_');
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
      pg_url_ = pg;
      schema_ = "d_" + testing::RandomSchemaSuffix();
      db_ = pg_url_ + "?schema=" + schema_;
    }
    config_ = dir_.path() + "/propgrade.toml";
    std::ofstream(config_) << "[lock_policy]\nttl_seconds = 2\nrenew_every_seconds = 0.5\n"
                              "max_wait_seconds = 120\n"
                              "[tables.player_form_daily]\npartition_column = \"as_of_date\"\n"
                              "key = [\"player_lookup\"]\ncolumns = [\n"
                              "  { name = \"as_of_date\", type = \"date\" },\n"
                              "  { name = \"player_lookup\", type = \"text\", required = true },\n"
                              "  { name = \"form\", type = \"real\" },\n"
                              "  { name = \"writer\", type = \"text\" },\n]\n";
    script_ = dir_.path() + "/write.sh";
    std::ofstream(script_) << kScript;
    CommandResult init = testing::RunCommand(Cli({"init"}));
    ASSERT_EQ(init.exit_code, 0) << init.err;
    if (door_ == "http") StartServer();
  }

  void TearDown() override {
    if (server_) {
      server_->Signal(SIGTERM);
      server_->Wait();
    }
    if (!schema_.empty()) testing::DropPgSchema(pg_url_.c_str(), schema_);
  }

  std::vector<std::string> Cli(std::vector<std::string> args) const {
    args.insert(args.begin(), {testing::PropgradeBinary(), "--db", db_, "--lock", lock_url_,
                               "--config", config_, "--log-format", "json"});
    return args;
  }

  void StartServer() {
    const int port = FreePort();
    url_ = "http://127.0.0.1:" + std::to_string(port);
    std::map<std::string, std::string> env = {{"PROPGRADE_TRIGGER_TOKEN", "race-token"}};
    if (server_pause_) env["PROPGRADE_TEST_PAUSE_AFTER_ACQUIRE_MS"] = "1500";
    server_ = std::make_unique<Child>(
        Cli({"serve", "--listen", "127.0.0.1:" + std::to_string(port)}), env);
    ASSERT_TRUE(testing::WaitForStderr(*server_, "\"event\":\"listening\"", 30000))
        << "propgrade serve did not start";
  }

  static int FreePort() {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t len = sizeof a;
    getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    close(fd);
    return ntohs(a.sin_port);
  }

  // One writer's version of the partition: its CSV (load, http) and SQL (lock run) files.
  std::string Version(const std::string& tag) {
    const std::string csv = dir_.path() + "/" + tag + ".csv",
                      sql = dir_.path() + "/" + tag + ".sql";
    std::ofstream c(csv), s(sql);
    c << "as_of_date,player_lookup,form,writer\n";
    for (int k = 0; k < kKeys; ++k) {
      char player[16];
      std::snprintf(player, sizeof player, "p%03d", k);
      c << kDate << "," << player << "," << k << ".5," << tag << "\n";
      s << "INSERT INTO player_form_daily (as_of_date, player_lookup, form, writer) VALUES ('"
        << kDate << "', '" << player << "', " << k << ".5, '" << tag << "');\n";
    }
    return tag;
  }

  std::map<std::string, std::string> ScriptEnv() const {
    std::map<std::string, std::string> env = {{"STORE", store_}, {"DB_PATH", path_}};
    if (store_ == "postgres") {
      env["PG_URL"] = pg_url_;
      env["PG_SCHEMA"] = schema_;
    }
    return env;
  }

  // Starts one writer of version `tag` through this test's door.
  std::unique_ptr<Child> Writer(const std::string& tag,
                                std::map<std::string, std::string> extra_env = {}) {
    const std::string csv = dir_.path() + "/" + tag + ".csv";
    if (door_ == "load") {
      return std::make_unique<Child>(Cli({"load", "player_form_daily", csv, "--partition", kDate}),
                                     extra_env);
    }
    if (door_ == "lockrun") {
      std::map<std::string, std::string> env = ScriptEnv();
      env.insert(extra_env.begin(), extra_env.end());
      return std::make_unique<Child>(
          Cli({"lock", "run", std::string("player_form_daily/") + kDate, "--", "/bin/sh", script_,
               dir_.path() + "/" + tag + ".sql"}),
          env);
    }
    return std::make_unique<Child>(std::vector<std::string>{
        "curl", "-s", "-S", "--max-time", "300", "-o", "/dev/null", "-w", "%{http_code}", "-X",
        "PUT", "-H", "Authorization: Bearer race-token", "-H", "Content-Type: text/csv",
        "--data-binary", "@" + csv, url_ + "/v1/tables/player_form_daily/partitions/" + kDate});
  }

  // A writer's success: exit 0, and for curl an HTTP 200.
  bool Succeeded(const CommandResult& r) const {
    return r.exit_code == 0 && (door_ != "http" || r.out == "200");
  }

  // The write sections of a writer (the server's, for HTTP, are read once at the end).
  void Collect(const CommandResult& r) {
    std::vector<Section> s = Sections(r.err);
    sections_.insert(sections_.end(), s.begin(), s.end());
  }
  void CollectServer() {
    if (!server_) return;
    std::ifstream in(server_->err_path());
    std::stringstream log;
    log << in.rdbuf();
    std::vector<Section> s = Sections(log.str());
    sections_.insert(sections_.end(), s.begin(), s.end());
  }

  // The checkers of the file comment over the partition now. Returns the findings (duplicate
  // keys + keys missing or extra + a mixed version); they add up in duplicates_ / lost_. The
  // version that stands is returned in `*tag`.
  int64_t CheckPartition(const std::string& when, bool expect_clean = true,
                         std::string* tag = nullptr) {
    const std::string where =
        std::string(" FROM player_form_daily WHERE as_of_date = '") + kDate + "'";
    auto keys = testing::DbQuery(db_, "SELECT player_lookup" + where);
    auto writers = testing::DbQuery(db_, "SELECT DISTINCT writer" + where);
    std::set<std::string> distinct(keys.begin(), keys.end());
    int64_t dups = static_cast<int64_t>(keys.size() - distinct.size());
    int64_t lost = std::abs(static_cast<int64_t>(distinct.size()) - kKeys);
    if (writers.size() > 1) lost += static_cast<int64_t>(writers.size()) - 1;  // a mix
    duplicates_ += dups;
    lost_ += lost;
    if (expect_clean) {
      EXPECT_EQ(dups, 0) << "duplicate keys " << when;
      EXPECT_EQ(distinct.size(), static_cast<size_t>(kKeys)) << "keys missing " << when;
      EXPECT_EQ(writers.size(), 1u) << "a mix of versions " << when;
    }
    if (tag && !writers.empty()) *tag = *writers.begin();
    return dups + lost;
  }

  void Record(const std::string& scenario, const std::string& title, const std::string& size,
              int64_t runs, const std::string& faults, const std::string& outcome,
              bool exclusion_applies, bool sensitivity = false) {
    testing::ScenarioReport r;
    r.scenario = scenario;
    r.title = title + " (declared table, " + DoorName() + ")";
    r.combination = store_ + "+" + backend_;
    r.size = size;
    r.runs = runs;
    r.faults = faults;
    r.duplicate_groups = duplicates_;
    r.lost_rows = lost_;
    testing::SectionViolations v = testing::Violations(sections_);
    if (exclusion_applies) r.overlaps = v.overlaps;
    r.fence_violations = v.non_increasing;
    r.outcome = outcome;
    r.sensitivity = sensitivity;
    r.passed = !HasFailure();
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
    testing::RecordScenario(r);
  }

  // How many write sections the server has entered so far.
  int ServerEntries() const {
    std::ifstream in(server_->err_path());
    std::string line;
    int n = 0;
    while (std::getline(in, line)) n += line.find("\"phase\":\"enter\"") != std::string::npos;
    return n;
  }

  // The ending of the server's stale load of R3 trial `trial` (its step_finished log line).
  std::string StaleServerOutcome(int trial) const {
    std::ifstream in(server_->err_path());
    std::string line, last;
    const std::string tag = "t" + std::to_string(trial) + "stale";
    while (std::getline(in, line)) {
      if (line.find("\"step_finished\"") != std::string::npos &&
          line.find("player_form_daily") != std::string::npos) {
        last = line;
      }
    }
    return last.find("fenced_out") != std::string::npos  ? "fenced_out"
           : last.find("lock_lost") != std::string::npos ? "lock_lost"
                                                         : last;
  }

  std::string DoorName() const {
    return door_ == "load"      ? "propgrade load"
           : door_ == "lockrun" ? "lock run + a script with the SQL fence"
                                : "HTTP PUT";
  }

  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
  int64_t duplicates_ = 0, lost_ = 0;
  std::vector<Section> sections_;
  testing::TempDir dir_;
  std::string store_, backend_, door_, lock_url_, path_, db_, pg_url_, schema_, config_, script_,
      url_;
  std::unique_ptr<Child> server_;
  bool server_pause_ = false;  // the server pauses each load after acquiring (R3)
};

// R1 with R2's faults: rounds of N writers of one partition at once, a tenth of them SIGKILLed
// at a random moment (for HTTP, the client: the server's write goes on or not, atomically).
TEST_P(DeclaredTableRaceTest, R1_ConcurrentWritersOfOnePartitionWithRandomKills) {
  const int processes = EnvInt("PROPGRADE_RACE_PROCESSES", 4);
  const int rounds = EnvInt("PROPGRADE_RACE_ROUNDS", 20);
  std::mt19937 rng(777 + getpid());
  std::uniform_int_distribution<int> delay_ms(0, 400);
  std::uniform_real_distribution<double> coin(0, 1);
  int killed = 0, ok = 0, runs = 0;
  for (int round = 0; round < rounds && !HasFailure(); ++round) {
    std::vector<std::unique_ptr<Child>> writers;
    std::vector<int> kill_after;
    for (int p = 0; p < processes; ++p) {
      writers.push_back(Writer(Version("r" + std::to_string(round) + "w" + std::to_string(p))));
      kill_after.push_back(coin(rng) < 0.1 ? delay_ms(rng) : -1);
      ++runs;
    }
    auto start = std::chrono::steady_clock::now();
    for (int p = 0; p < processes; ++p) {
      if (kill_after[p] < 0) continue;
      std::this_thread::sleep_until(start + std::chrono::milliseconds(kill_after[p]));
      writers[p]->Signal(SIGKILL);
    }
    for (int p = 0; p < processes; ++p) {
      CommandResult r = writers[p]->Wait();
      Collect(r);
      if (r.exit_code == 128 + SIGKILL) {
        ++killed;
        continue;
      }
      EXPECT_TRUE(Succeeded(r)) << "round " << round << " writer " << p << ": exit " << r.exit_code
                                << " " << r.out << " " << r.err.substr(0, 2000);
      ok += Succeeded(r);
    }
    // A killed writer's lease runs out within its TTL: the next write gets the key in time.
    if (std::count_if(kill_after.begin(), kill_after.end(), [](int k) { return k >= 0; }) > 0) {
      CommandResult next = Writer(Version("r" + std::to_string(round) + "next"))->Wait();
      Collect(next);
      ++runs;
      EXPECT_TRUE(Succeeded(next)) << next.out << " " << next.err.substr(0, 2000);
      ok += Succeeded(next);
    }
    // lock run's command dies with it (parent-death signal); its last statement may still be
    // finishing: give a killed sqlite3/psql a moment.
    std::this_thread::sleep_for(std::chrono::milliseconds(door_ == "lockrun" ? 300 : 0));
    CheckPartition("after round " + std::to_string(round));
  }
  CollectServer();
  testing::SectionViolations v = testing::Violations(sections_);
  EXPECT_EQ(v.overlaps, 0) << "two writers were inside the partition's write section at once";
  EXPECT_EQ(v.non_increasing, 0) << "committed fence tokens did not strictly increase";
  EXPECT_GT(sections_.size(), 0u) << "no write section was logged: the checkers saw nothing";
  Record("R1", "concurrent writers of one partition, ~10% SIGKILLed at random moments",
         std::to_string(processes) + " writers x " + std::to_string(rounds) + " rounds", runs,
         std::to_string(killed) + " SIGKILLs",
         std::to_string(ok) + " writes succeeded; one whole version stood after every round",
         /*exclusion_applies=*/true);
}

// R3: a writer holding the lease is stopped past its 2 s TTL, another writer completes, the
// first resumes and must write nothing.
TEST_P(DeclaredTableRaceTest, R3_AWriterStoppedPastItsTtlWritesNothing) {
  const int trials = std::max(1, EnvInt("PROPGRADE_R3_TRIALS", 10) / 2);
  std::map<std::string, int> endings;
  int runs = 0;
  for (int trial = 0; trial < trials && !HasFailure(); ++trial) {
    const std::string stale_tag = Version("t" + std::to_string(trial) + "stale");
    const std::string fresh_tag = Version("t" + std::to_string(trial) + "fresh");
    const std::string go = dir_.path() + "/go" + std::to_string(trial);
    std::unique_ptr<Child> stale;
    pid_t stop_pid = -1;
    if (door_ == "lockrun") {
      // The script waits for `go` after taking the lease; `lock run` (its renewals) is stopped.
      stale = Writer(stale_tag, {{"PAUSE_FILE", go}});
      ASSERT_TRUE(testing::WaitForStderr(*stale, "script_paused", 30000));
      stop_pid = stale->pid();
    } else if (door_ == "load") {
      stale = Writer(stale_tag, {{"PROPGRADE_TEST_PAUSE_AFTER_ACQUIRE_MS", "1500"}});
      ASSERT_TRUE(testing::WaitForStderr(*stale, "\"phase\":\"enter\"", 30000));
      stop_pid = stale->pid();
    } else {
      // HTTP: the server is the writer; it pauses after acquiring, and is stopped there.
      if (trial == 0) {
        server_->Signal(SIGTERM);
        server_->Wait();
        server_pause_ = true;
        StartServer();
      }
      const int entered = ServerEntries();
      stale = Writer(stale_tag);
      for (int i = 0; i < 600 && ServerEntries() == entered; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
      ASSERT_GT(ServerEntries(), entered) << "the server's load never acquired the lease";
      stop_pid = server_->pid();
    }
    ASSERT_EQ(kill(stop_pid, SIGSTOP), 0);
    std::this_thread::sleep_for(std::chrono::milliseconds(2600));  // past the 2 s TTL
    // The second writer: through the same door, or for HTTP (its server stopped) `load`.
    CommandResult fresh =
        (door_ == "http" ? std::make_unique<Child>(
                               Cli({"load", "player_form_daily",
                                    dir_.path() + "/" + fresh_tag + ".csv", "--partition", kDate}))
                         : Writer(fresh_tag))
            ->Wait();
    Collect(fresh);
    EXPECT_TRUE(door_ == "http" ? fresh.exit_code == 0 : Succeeded(fresh))
        << fresh.err.substr(0, 2000);
    std::ofstream(go).put('1');  // the paused script goes on writing (its `lock run` stopped)
    if (door_ == "lockrun") {
      std::this_thread::sleep_for(std::chrono::milliseconds(1500));  // its stale try
    }
    ASSERT_EQ(kill(stop_pid, SIGCONT), 0);
    CommandResult r = stale->Wait();
    Collect(r);
    runs += 2;
    if (door_ == "http") {
      EXPECT_EQ(r.out, "409") << "trial " << trial << ": the stale load's answer";
      r.out = StaleServerOutcome(trial);
    } else {
      EXPECT_EQ(r.exit_code, 3) << "trial " << trial << ": " << r.out << r.err.substr(0, 3000);
    }
    // lock run: the script's own write is refused by the SQL fence, then `lock run` reports
    // the lease lost; load: its lease check (lock_lost) or the store's fence (fenced_out).
    const bool sql_fence = r.err.find("propgrade: fenced out") != std::string::npos;
    if (door_ == "lockrun") {
      EXPECT_TRUE(sql_fence) << r.err.substr(0, 3000);
    }
    ++endings[sql_fence                                       ? "refused by the SQL fence"
              : r.out.find("fenced_out") != std::string::npos ? "fenced_out"
              : r.out.find("lock_lost") != std::string::npos  ? "lock_lost"
                                                              : "other"];
    std::string stood;
    CheckPartition("after R3 trial " + std::to_string(trial), true, &stood);
    EXPECT_EQ(stood, fresh_tag) << "the stale writer's version replaced the fresh one";
  }
  testing::SectionViolations v = testing::Violations(sections_);
  EXPECT_EQ(v.non_increasing, 0) << "committed fence tokens did not strictly increase";
  std::string out;
  for (const auto& [name, n] : endings)
    out += (out.empty() ? "" : ", ") + std::to_string(n) + " " + name;
  Record("R3", "writer SIGSTOPped past its 2 s TTL, a second writer completes, the first resumed",
         std::to_string(trials) + " trials", runs, std::to_string(trials) + " SIGSTOPs",
         "the resumed writer wrote nothing (" + out + "); the second writer's version stood",
         /*exclusion_applies=*/false);
}

// R4: the same script without the fence. Resumed past its TTL, it commits over the newer
// writer: the fence-monotonicity checker sees the committed tokens go down, and the version
// checker sees the stale version stand.
class UnfencedScriptTest : public DeclaredTableRaceTest {};

TEST_P(UnfencedScriptTest, R4_TheCheckersCatchTheScriptWithoutTheFence) {
  const int trials = std::max(1, EnvInt("PROPGRADE_R3_TRIALS", 10) / 5);
  int caught = 0;
  for (int trial = 0; trial < trials; ++trial) {
    const std::string stale_tag = Version("u" + std::to_string(trial) + "stale");
    const std::string go = dir_.path() + "/ugo" + std::to_string(trial);
    std::unique_ptr<Child> stale = Writer(stale_tag, {{"PAUSE_FILE", go}, {"FENCE", "off"}});
    ASSERT_TRUE(testing::WaitForStderr(*stale, "script_paused", 30000));
    ASSERT_EQ(kill(stale->pid(), SIGSTOP), 0);
    std::this_thread::sleep_for(std::chrono::milliseconds(2600));
    CommandResult fresh = Writer(Version("u" + std::to_string(trial) + "fresh"))->Wait();
    Collect(fresh);
    std::ofstream(go).put('1');
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    ASSERT_EQ(kill(stale->pid(), SIGCONT), 0);
    Collect(stale->Wait());
    std::string stood;
    CheckPartition("after the unfenced trial", false, &stood);
    caught += stood == stale_tag;
  }
  testing::SectionViolations v = testing::Violations(sections_);
  EXPECT_GT(v.non_increasing, 0) << "the fence checker missed the unfenced stale commit";
  EXPECT_EQ(caught, trials) << "the stale version was expected to stand without the fence";
  lost_ += caught;  // the fresh writer's version, lost to the stale one
  Record("R4", "sensitivity: the lock run script without the SQL fence, resumed past its TTL",
         std::to_string(trials) + " trials", 2 * trials, std::to_string(trials) + " SIGSTOPs",
         "the stale version overwrote the fresh one in " + std::to_string(caught) + " of " +
             std::to_string(trials) + " trials; committed tokens went down " +
             std::to_string(v.non_increasing) + " times",
         /*exclusion_applies=*/false, /*sensitivity=*/true);
}

std::vector<std::string> Params(std::vector<const char*> doors) {
  std::vector<std::string> out;
  for (const char* store : {"sqlite", "postgres"}) {
    for (const char* lock : {"db", "etcd"}) {
      for (const char* door : doors) out.push_back(std::string(store) + "_" + lock + "_" + door);
    }
  }
  return out;
}

INSTANTIATE_TEST_SUITE_P(Doors, DeclaredTableRaceTest,
                         ::testing::ValuesIn(Params({"load", "lockrun", "http"})),
                         [](const auto& info) { return info.param; });
// The unfenced script is the lock run door's.
INSTANTIATE_TEST_SUITE_P(Doors, UnfencedScriptTest, ::testing::ValuesIn(Params({"lockrun"})),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace propgrade

// The same inputs graded on SQLite and on PostgreSQL give identical tables.
#include <gtest/gtest.h>

#include <csignal>
#include <cstdlib>
#include <fstream>
#include <future>
#include <set>
#include <sstream>
#include <thread>

#include "io/csv.h"
#include "db/pg_conn.h"
#include "testing/pg.h"
#include "testing/subprocess.h"
#include "testing/temp_dir.h"
#include "testing/skip.h"

namespace propgrade {
namespace {

using testing::CommandResult;
using Steady = std::chrono::steady_clock;

// The rows of a CSV export with the per-run columns (graded_at, computed_at, run_id) blanked.
std::multiset<std::string> Lines(const std::string& text) {
  csv::CsvReader reader(text);
  std::vector<bool> drop;
  std::multiset<std::string> out;
  while (reader.Next() == csv::CsvReader::Result::kRecord) {
    const auto& fields = reader.fields();
    if (drop.empty()) {
      for (std::string_view col : fields) {
        drop.push_back(col == "graded_at" || col == "computed_at" || col == "run_id" ||
                       col == "fence_token");
      }
      continue;
    }
    std::string row;
    for (size_t i = 0; i < fields.size(); ++i) {
      row += (i < drop.size() && drop[i] ? std::string_view() : fields[i]);
      row += '\x1f';
    }
    out.insert(row);
  }
  return out;
}

TEST(BackendsTest, SqliteAndPostgresGradeIdentically) {
  const char* pg = std::getenv("PROPGRADE_TEST_PG_URL");
  if (!pg || !*pg) PROPGRADE_SKIP_WITHOUT("PROPGRADE_TEST_PG_URL is not set");
  testing::TempDir dir;
  const std::string schema = "b_" + testing::RandomSchemaSuffix();
  const std::vector<std::string> dbs = {"sqlite:" + dir.path() + "/b.db",
                                        std::string(pg) + "?schema=" + schema};
  std::vector<std::map<std::string, std::multiset<std::string>>> exported(2);
  for (size_t i = 0; i < dbs.size(); ++i) {
    auto cli = [&](std::vector<std::string> args) {
      args.insert(args.begin(), {testing::PropgradeBinary(), "--db", dbs[i], "--log-format", "json"});
      return testing::RunCommand(args);
    };
    const std::string in = testing::GoldenDir() + "/inputs/";
    for (const char* kind : {"predictions", "actuals", "injuries", "archetypes"}) {
      CommandResult r = cli({"import", kind, in + kind + ".csv"});
      ASSERT_EQ(r.exit_code, 0) << r.err;
    }
    CommandResult g = cli({"grade", "--from", "2025-02-01", "--to", "2025-02-22"});
    ASSERT_EQ(g.exit_code, 0) << g.err.substr(0, 3000);
    for (const char* table : {"prediction_accuracy", "system_daily_performance",
                              "prediction_performance_summary"}) {
      CommandResult e = cli({"export", table});
      ASSERT_EQ(e.exit_code, 0) << e.err;
      exported[i][table] = Lines(e.out);
    }
  }
  testing::DropPgSchema(pg, schema);
  for (const auto& [table, lines] : exported[0]) {
    EXPECT_GT(lines.size(), 100u) << table;
    EXPECT_TRUE(lines == exported[1][table]) << table << " differs between SQLite and PostgreSQL";
  }
}


// A grade whose partition another session keeps locked on PostgreSQL (lock `none`, so only the
// store's advisory lock of prediction_accuracy/<date> stands in its way).
class PgWaitTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* pg = std::getenv("PROPGRADE_TEST_PG_URL");
    if (!pg || !*pg) PROPGRADE_SKIP_WITHOUT("PROPGRADE_TEST_PG_URL is not set");
    base_ = pg;
    schema_ = "w_" + testing::RandomSchemaSuffix();
    db_ = base_ + "?schema=" + schema_;
    const std::string in = testing::GoldenDir() + "/inputs/";
    for (const char* kind : {"predictions", "actuals"}) {
      CommandResult r = testing::RunCommand(
          {testing::PropgradeBinary(), "--db", db_, "import", kind, in + kind + ".csv"});
      ASSERT_EQ(r.exit_code, 0) << r.err;
    }
    auto url = ParsePgUrl(db_);
    ASSERT_TRUE(url.ok());
    auto conn = PgConn::Connect(*url);
    ASSERT_TRUE(conn.ok()) << conn.status().ToString();
    holder_ = std::move(*conn);
    ASSERT_TRUE(holder_->Exec("BEGIN").ok());
    ASSERT_TRUE(holder_->Exec("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))",
                              {std::string("prediction_accuracy/2025-02-01")})
                    .ok());
  }
  void TearDown() override {
    Release();
    if (!schema_.empty()) testing::DropPgSchema(base_.c_str(), schema_);
  }
  void Release() {
    if (holder_ && holder_->in_transaction()) holder_->Exec("ROLLBACK").status().IgnoreError();
  }
  // Waits at most 30 s for `child`; on code that waits unbounded, releases the lock (so the
  // child ends) and reports the hang through `hung`.
  CommandResult WaitBounded(testing::Child* child, bool* hung, Steady::duration* took) {
    const auto start = Steady::now();
    auto done = std::async(std::launch::async, [child] { return child->Wait(); });
    *hung = done.wait_for(std::chrono::seconds(30)) != std::future_status::ready;
    if (*hung) Release();
    CommandResult r = done.get();
    *took = Steady::now() - start;
    return r;
  }
  std::vector<std::string> Grade(const std::string& config) {
    return {testing::PropgradeBinary(), "--db", db_, "--lock", "none", "--config", config,
            "--log-format", "json", "grade", "--date", "2025-02-01"};
  }

  std::string base_, schema_, db_;
  std::unique_ptr<PgConn> holder_;
  testing::TempDir dir_;
};

TEST_F(PgWaitTest, AWaitForAPartitionLockEndsAtTheConfiguredLockTimeout) {
  const std::string config = dir_.path() + "/propgrade.toml";
  std::ofstream(config) << "[database]\nlock_timeout_seconds = 1\n";
  testing::Child child(Grade(config));
  bool hung = false;
  Steady::duration took{};
  CommandResult r = WaitBounded(&child, &hung, &took);
  ASSERT_FALSE(hung) << "the grade waited for the partition's lock past 30 s";
  EXPECT_EQ(r.exit_code, 3) << r.err.substr(0, 3000);
  EXPECT_NE(r.err.find("lock timeout"), std::string::npos) << r.err.substr(0, 3000);
  EXPECT_NE(r.err.find("\"status\":\"unavailable\""), std::string::npos)
      << r.err.substr(0, 3000);
}

TEST_F(PgWaitTest, SigtermCancelsAWaitForAPartitionLock) {
  const std::string config = dir_.path() + "/propgrade.toml";
  std::ofstream(config) << "[database]\nlock_timeout_seconds = 600\n";
  testing::Child child(Grade(config));
  // The grade has read its inputs and waits in its write transaction.
  ASSERT_TRUE(testing::WaitForStderr(child, "lock_none", 20000)) << "the grade did not start";
  std::this_thread::sleep_for(std::chrono::milliseconds(2000));
  child.Signal(SIGTERM);
  bool hung = false;
  Steady::duration took{};
  CommandResult r = WaitBounded(&child, &hung, &took);
  ASSERT_FALSE(hung) << "SIGTERM did not end the wait for the partition's lock within 30 s";
  EXPECT_EQ(r.exit_code, 130) << r.err.substr(0, 3000);
  EXPECT_LT(took, std::chrono::seconds(15));
  // Nothing of the date was written.
  auto url = ParsePgUrl(db_);
  auto conn = PgConn::Connect(*url);
  ASSERT_TRUE(conn.ok());
  auto rows = (*conn)->Exec("SELECT count(*) FROM prediction_accuracy");
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  EXPECT_EQ(rows->text(0, 0), "0");
}

}  // namespace
}  // namespace propgrade

// R6: the SQLite file becomes read-only (made immutable, its directory made immutable, or the
// process runs as `nobody` on root's file) or the disk fills up (a small tmpfs, nearly full and
// then completely full). Each run must end `unavailable` with exit 3 and an error that names
// the database file and the cause, the partition graded before must be exactly as it was (same
// rows, same run ids), and once the fault is gone the next run must succeed.
// Needs root (chattr, mount, runuser); skipped, with the reason, when a step is not permitted.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <fcntl.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <vector>

#include "testing/queries.h"
#include "testing/reliability_report.h"
#include "testing/subprocess.h"
#include "testing/temp_dir.h"
#include "testing/skip.h"

namespace propgrade {
namespace {

using testing::CommandResult;

constexpr const char* kDate = "2025-02-01";  // a date of the golden fixture

CommandResult Sh(const std::string& command) { return testing::RunCommand({"sh", "-c", command}); }

// Every row of `table` whose `column` is `value` (all rows when `column` is empty), each row
// as its columns' text joined by '|', in storage order. Read with plain SQLite. The connection
// is read-write only so that, closing last, it checkpoints and removes the -wal and -shm files
// (a read-only one leaves them behind, and they would let writes through an immutable
// directory); it runs nothing but SELECT.
std::vector<std::string> Rows(const std::string& path, const std::string& table,
                              const std::string& column = "", const std::string& value = "") {
  std::vector<std::string> out;
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) {
    sqlite3_close(db);
    return {"ERROR: cannot open " + path};
  }
  std::string sql = "SELECT * FROM \"" + table + "\"" +
                    (column.empty() ? "" : " WHERE \"" + column + "\" = ?1") + " ORDER BY rowid";
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK) {
    out.push_back(std::string("ERROR: ") + sqlite3_errmsg(db));
  } else {
    if (!column.empty()) sqlite3_bind_text(stmt, 1, value.c_str(), -1, SQLITE_TRANSIENT);
    while (sqlite3_step(stmt) == SQLITE_ROW) {
      std::string row;
      for (int i = 0; i < sqlite3_column_count(stmt); ++i) {
        const unsigned char* t = sqlite3_column_text(stmt, i);
        row += (i ? "|" : "") + std::string(t ? reinterpret_cast<const char*>(t) : "NULL");
      }
      out.push_back(row);
    }
  }
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return out;
}

// The outputs of one graded date and the fence tokens: what a failed run must not change.
struct Partition {
  std::vector<std::string> accuracy, daily, summary, fences;
  bool operator==(const Partition& o) const {
    return accuracy == o.accuracy && daily == o.daily && summary == o.summary &&
           fences == o.fences;
  }
};

Partition Snapshot(const std::string& path) {
  return {Rows(path, "prediction_accuracy", "game_date", kDate),
          Rows(path, "system_daily_performance", "game_date", kDate),
          Rows(path, "prediction_performance_summary", "as_of_date", kDate),
          Rows(path, "partition_fence")};
}

// `chattr +i PATH` for the object's lifetime (undone even when a test fails).
class Immutable {
 public:
  explicit Immutable(std::string path) : path_(std::move(path)) {
    CommandResult r = Sh("chattr +i '" + path_ + "' 2>&1");
    ok_ = r.exit_code == 0;
    error_ = r.out + r.err;
  }
  ~Immutable() { Undo(); }
  Immutable(const Immutable&) = delete;
  Immutable& operator=(const Immutable&) = delete;
  void Undo() {
    if (ok_) Sh("chattr -i '" + path_ + "'");
    ok_ = false;
  }
  bool ok() const { return ok_; }
  const std::string& error() const { return error_; }

 private:
  std::string path_;
  bool ok_ = false;
  std::string error_;
};

// A tmpfs of `size` mounted on DIR for the object's lifetime.
class Tmpfs {
 public:
  Tmpfs(std::string dir, const std::string& size) : dir_(std::move(dir)) {
    CommandResult r = Sh("mkdir -p '" + dir_ + "' && mount -t tmpfs -o size=" + size +
                         ",mode=0755 tmpfs '" + dir_ + "' 2>&1");
    ok_ = r.exit_code == 0;
    error_ = r.out + r.err;
  }
  ~Tmpfs() {
    if (ok_ && Sh("umount '" + dir_ + "'").exit_code != 0) Sh("umount -l '" + dir_ + "'");
  }
  Tmpfs(const Tmpfs&) = delete;
  Tmpfs& operator=(const Tmpfs&) = delete;
  bool ok() const { return ok_; }
  const std::string& error() const { return error_; }

 private:
  std::string dir_;
  bool ok_ = false;
  std::string error_;
};

// Bytes an unprivileged writer may still allocate on the file system holding `dir`.
int64_t FreeBytes(const std::string& dir) {
  struct statvfs s;
  if (statvfs(dir.c_str(), &s) != 0) return -1;
  return static_cast<int64_t>(s.f_bavail) * static_cast<int64_t>(s.f_frsize);
}

// Appends zeros to `path` until the disk has at most `leave_bytes` free (or is full).
void Fill(const std::string& path, int64_t leave_bytes, const std::string& dir) {
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  ASSERT_GE(fd, 0) << path;
  std::vector<char> zeros(64 * 1024, 0);
  for (;;) {
    int64_t room = FreeBytes(dir) - leave_bytes;
    if (room <= 0) break;
    ssize_t n = write(fd, zeros.data(), static_cast<size_t>(std::min<int64_t>(room, zeros.size())));
    if (n <= 0) break;  // ENOSPC: full
  }
  fsync(fd);
  close(fd);
}

class StorageFaultTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) PROPGRADE_SKIP_WITHOUT("R6 needs root (chattr, mount, runuser)");
    // The database lives in a directory of its own, so the directory can be made immutable
    // or become a tmpfs while the config and the breaker state stay writable.
    db_dir_ = dir_.path() + "/db";
    ASSERT_EQ(Sh("mkdir -p '" + db_dir_ + "'").exit_code, 0);
    path_ = db_dir_ + "/r6.db";
    config_ = dir_.path() + "/propgrade.toml";
    // Failures must not open the breaker: every run here has to reach the store.
    std::ofstream(config_) << "[breaker]\nfailure_threshold = 100\nstate_file = \"" << dir_.path()
                           << "/breakers.json\"\n[alerts]\nmin_interval_seconds = 0\n";
  }

  std::vector<std::string> Args(std::vector<std::string> args) const {
    args.insert(args.begin(), {testing::PropgradeBinary(), "--db", "sqlite:" + path_, "--config",
                               config_, "--log-format", "json"});
    return args;
  }
  CommandResult Cli(std::vector<std::string> args) {
    ++runs_;
    return testing::RunCommand(Args(std::move(args)));
  }
  CommandResult Grade() { return Cli({"grade", "--date", kDate}); }

  // Imports the golden inputs and grades kDate; returns the partition it wrote.
  Partition GradeOnce() {
    const std::string in = testing::GoldenDir() + "/inputs/";
    for (const char* kind : {"predictions", "actuals", "injuries", "archetypes"}) {
      CommandResult r = Cli({"import", kind, in + kind + ".csv"});
      EXPECT_EQ(r.exit_code, 0) << r.err;
    }
    CommandResult r = Grade();
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err.substr(0, 2000);
    Partition p = Snapshot(path_);
    EXPECT_EQ(p.accuracy.size(), 1339u);  // the golden fixture's graded rows
    EXPECT_FALSE(p.daily.empty());
    EXPECT_FALSE(p.summary.empty());
    EXPECT_FALSE(p.fences.empty());
    return p;
  }

  // The run ended `unavailable` with exit 3 and said what to check (and, when the store
  // rather than the lock table met the fault, which file). `step` names the step that met it
  // as the run's line does: "2025-02-01 grading", or "; daily_performance" after it.
  void ExpectRefused(const CommandResult& r, const std::string& cause, bool names_file = true,
                     const std::string& step = std::string(kDate) + " grading") {
    EXPECT_EQ(r.exit_code, 3) << r.out << r.err.substr(0, 3000);
    EXPECT_NE(r.out.find(step + " unavailable"), std::string::npos) << r.out;
    if (names_file) {
      EXPECT_NE(r.out.find("sqlite:" + path_), std::string::npos) << "names the file: " << r.out;
    }
    EXPECT_NE(r.out.find(cause), std::string::npos) << "says why: " << r.out;
    EXPECT_NE(r.err.find("\"dependency_unavailable\""), std::string::npos) << r.err.substr(0, 3000);
  }

  // After the fault: the partition is untouched, and a new run succeeds and commits its write
  // (the same inputs give the same rows, which it leaves in place: its fence token is what
  // shows it wrote).
  void ExpectIntactAndRecovers(const Partition& before) {
    Partition after = Snapshot(path_);
    EXPECT_TRUE(after == before) << "the failed run changed the partition graded before";
    CommandResult again = Grade();
    EXPECT_EQ(again.exit_code, 0) << again.out << again.err.substr(0, 3000);
    Partition regraded = Snapshot(path_);
    EXPECT_EQ(regraded.accuracy.size(), before.accuracy.size());
    EXPECT_EQ(regraded.accuracy, before.accuracy);
    EXPECT_NE(regraded.fences, before.fences) << "the recovered run committed no write";
    EXPECT_EQ(testing::SqliteQuery(
                  path_, "SELECT count(*) FROM (SELECT 1 FROM prediction_accuracy GROUP BY "
                         "game_date, player_lookup, game_id, system_id, line_value HAVING "
                         "count(*) > 1)"),
              std::multiset<std::string>{"0"});
  }

  // The scenario record of docs/RELIABILITY.md. The partition compared equal before and
  // after, so nothing was duplicated or lost.
  void Record(const std::string& title, const std::string& faults, const std::string& outcome) {
    testing::ScenarioReport r;
    r.scenario = "R6";
    r.title = title;
    r.combination = "sqlite+db";
    r.size = "1";
    r.faults = faults;
    r.runs = runs_;
    r.duplicate_groups = 0;
    r.lost_rows = 0;
    r.outcome = outcome;
    r.passed = !HasFailure();
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
    testing::RecordScenario(r);
  }

  testing::TempDir dir_;
  std::string db_dir_, path_, config_;
  int64_t runs_ = 0;  // propgrade processes this test started
  const std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
};

TEST_F(StorageFaultTest, R6_AnImmutableDatabaseFileIsRefusedWithExit3) {
  const Partition before = GradeOnce();
  Immutable frozen(path_);
  if (!frozen.ok()) PROPGRADE_SKIP_WITHOUT("chattr +i is not permitted here: " << frozen.error());
  ExpectRefused(Grade(), "is read-only");
  // An import is refused the same way (nothing is half-written).
  CommandResult imported =
      Cli({"import", "archetypes", testing::GoldenDir() + "/inputs/archetypes.csv"});
  EXPECT_EQ(imported.exit_code, 3) << imported.err;
  EXPECT_NE(imported.err.find("is read-only"), std::string::npos) << imported.err;
  frozen.Undo();
  ExpectIntactAndRecovers(before);
  Record("the database file made immutable", "chattr +i on the file",
         "grade and import exit 3 naming the file; the partition intact; the next run "
         "succeeded");
}

TEST_F(StorageFaultTest, R6_AnImmutableDirectoryIsRefusedWithExit3) {
  const Partition before = GradeOnce();
  // The file stays writable, but SQLite cannot create its -wal and -shm files beside it.
  ASSERT_FALSE(std::filesystem::exists(path_ + "-wal"));
  ASSERT_FALSE(std::filesystem::exists(path_ + "-shm"));
  Immutable frozen(db_dir_);
  if (!frozen.ok()) PROPGRADE_SKIP_WITHOUT("chattr +i is not permitted here: " << frozen.error());
  ExpectRefused(Grade(), "and its directory are writable");
  frozen.Undo();
  ExpectIntactAndRecovers(before);
  Record("the database directory made immutable (no -wal/-shm files)", "chattr +i on the "
         "directory", "exit 3 naming the file and its directory; the partition intact; the "
         "next run succeeded");
}

TEST_F(StorageFaultTest, R6_AProcessWithoutWriteAccessIsRefusedWithExit3) {
  const Partition before = GradeOnce();
  // `nobody` may read root's 0644 file in root's 0755 directory, not write it. Its config and
  // breaker state sit in a directory of its own.
  const std::string home = dir_.path() + "/nobody";
  ASSERT_EQ(Sh("chmod 0755 '" + dir_.path() + "' && mkdir -p '" + home + "' && chown nobody '" +
               home + "' && chmod 0644 '" + path_ + "'")
                .exit_code,
            0);
  const std::string config = home + "/propgrade.toml";
  std::ofstream(config) << "[breaker]\nfailure_threshold = 100\nstate_file = \"" << home
                        << "/breakers.json\"\n";
  std::vector<std::string> as_nobody = {"runuser", "-u", "nobody", "--", "env", "HOME=" + home};
  CommandResult probe = testing::RunCommand(
      {"runuser", "-u", "nobody", "--", "test", "-x", testing::PropgradeBinary()});
  if (probe.exit_code != 0) {
    PROPGRADE_SKIP_WITHOUT("nobody cannot run " << testing::PropgradeBinary() << " (runuser exit "
                 << probe.exit_code << ": " << probe.err << ")");
  }
  for (const std::string& a : {testing::PropgradeBinary(), std::string("--db"), "sqlite:" + path_,
                               std::string("--config"), config, std::string("--log-format"),
                               std::string("json"), std::string("grade"), std::string("--date"),
                               std::string(kDate)}) {
    as_nobody.push_back(a);
  }
  ++runs_;
  ExpectRefused(testing::RunCommand(as_nobody), "is read-only");
  ExpectIntactAndRecovers(before);
  Record("the database file not writable by the process (run as nobody)", "runuser -u nobody",
         "exit 3 naming the file and what to check; the partition intact; the next run "
         "succeeded");
}

TEST_F(StorageFaultTest, R6_AFullDiskIsRefusedWithExit3AndTheNextRunSucceedsOnceThereIsRoom) {
  // 64 MiB holds the imported inputs (about 10 MiB, twice that while the WAL is checkpointed)
  // and graded dates; the filler then takes the rest.
  Tmpfs disk(db_dir_, "64m");
  if (!disk.ok()) PROPGRADE_SKIP_WITHOUT("cannot mount a tmpfs here: " << disk.error());
  const Partition before = GradeOnce();
  const std::string filler = db_dir_ + "/filler";

  // Nearly full: the run gets as far as the room lets it (taking its lock, or writing a
  // partition, whose transaction then rolls back) and stops there. The grading step, whose
  // rows are already stored, needs almost no room and may commit; a later step meets the
  // full disk.
  Fill(filler, 128 * 1024, db_dir_);
  CommandResult nearly = Grade();
  ExpectRefused(nearly, "is full", false,
                nearly.out.find(std::string(kDate) + " grading success") == std::string::npos
                    ? std::string(kDate) + " grading"
                    : std::string("; daily_performance"));
  std::cerr << "[ R6 ] nearly full: " << nearly.out.substr(0, nearly.out.find('\n')) << "\n";
  const Partition nearly_after = Snapshot(path_);
  EXPECT_EQ(nearly_after.accuracy, before.accuracy) << "the failed run changed the graded rows";
  EXPECT_EQ(nearly_after.daily, before.daily) << "the failed write changed the partition";
  EXPECT_EQ(nearly_after.summary, before.summary) << "the failed write changed the partition";
  EXPECT_TRUE(testing::SqliteQuery(path_, "SELECT key FROM locks WHERE holder_id IS NOT NULL AND "
                                          "holder_id <> ''")
                  .empty())
      << "the failed run released its lock";

  // Completely full: not even SQLite's shared-memory file can grow.
  Fill(filler, 0, db_dir_);
  ASSERT_LT(FreeBytes(db_dir_), 64 * 1024);
  CommandResult full = Grade();
  ExpectRefused(full, "is full", false);
  std::cerr << "[ R6 ] full: " << full.out.substr(0, full.out.find('\n')) << "\n";
  // Another date fails as cleanly: nothing of it appears.
  CommandResult other = Cli({"grade", "--date", "2025-02-02"});
  EXPECT_EQ(other.exit_code, 3) << other.out;
  EXPECT_NE(other.out.find("2025-02-02 grading unavailable"), std::string::npos) << other.out;

  ASSERT_EQ(unlink(filler.c_str()), 0);
  ExpectIntactAndRecovers(nearly_after);
  EXPECT_EQ(testing::SqliteQuery(path_, "SELECT count(*) FROM prediction_accuracy WHERE "
                                        "game_date = '2025-02-02'"),
            std::multiset<std::string>{"0"});
  Record("the disk full (a 64 MiB tmpfs filled up)", "tmpfs nearly full, then full",
         "exit 3 saying the disk is full, lock released, partition intact; the next run "
         "succeeded once there was room");
}

}  // namespace
}  // namespace propgrade

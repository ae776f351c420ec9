#include "safety/safe_writer.h"

#include <gtest/gtest.h>

#include <sstream>

#include "testing/fake_clock.h"
#include "testing/temp_dir.h"
#include "store/ledgers.h"

namespace propgrade {
namespace {

constexpr int64_t kSecond = 1000000;

class SafeWriterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = dir_.path() + "/w.db";
    StoreOptions so;
    so.clock = &clock_;
    store_ = std::move(Store::Open("sqlite:" + path_, so)).value();
    LockOptions lo;
    lo.clock = &clock_;
    lo.store_url = "sqlite:" + path_;
    lo.holder_id = "writer";
    locks_ = std::move(LockService::Open("db", lo)).value();
    lo.holder_id = "other";
    other_ = std::move(LockService::Open("db", lo)).value();
    policy_.ttl_seconds = 30;
    policy_.renew_every_seconds = 10;
    policy_.max_wait_seconds = 5;
    alerter_ = std::make_unique<Alerter>(store_.get(), std::vector<std::unique_ptr<AlertSink>>{},
                                         &metrics_, &log_, &clock_, AlerterOptions{});
  }
  void TearDown() override { alerter_.reset(); }

  SafeWriterDeps Deps(LockService* locks, const SafeWriterTestHooks* hooks = nullptr) {
    SafeWriterDeps d;
    d.store = store_.get();
    d.locks = locks;
    d.policy = &policy_;
    d.remediation = remediation_;
    d.log = &log_;
    d.metrics = &metrics_;
    d.alerts = alerter_.get();
    d.clock = &clock_;
    d.hooks = hooks;
    return d;
  }

  WriteRequest Request(const std::string& player) {
    WriteRequest r;
    r.processor = "grading";
    r.table = &tables::Accuracy();
    r.partition = "2026-01-16";
    Row row(acc::kNumColumns);
    row[acc::prediction_id] = Value::Text(player);
    row[acc::player_lookup] = Value::Text(player);
    row[acc::game_id] = Value::Text("20260116_LAL_BOS");
    row[acc::game_date] = Value::Text("2026-01-16");
    row[acc::system_id] = Value::Text("s");
    r.rows.push_back(row);
    r.run_id = "run-" + player;
    r.run_record = Row(runs::kNumColumns);
    r.run_record[runs::run_id] = Value::Text(r.run_id);
    r.run_record[runs::processor] = Value::Text("grading");
    r.run_record[runs::game_date] = Value::Text("2026-01-16");
    r.run_record[runs::status] = Value::Text("success");
    return r;
  }
  std::vector<std::string> Players() {
    std::vector<std::string> out;
    for (const Row& r : *store_->ReadPartition(tables::Accuracy(), "2026-01-16")) {
      out.push_back(r[acc::player_lookup].as_text());
    }
    return out;
  }
  std::vector<std::string> Events() {
    std::vector<std::string> out;
    store_->Scan(tables::LockEvents(), ScanSpec{}, [&](Row&& r) {
      out.push_back(r[lockev::event].as_text());
      return OkStatus();
    }).IgnoreError();
    return out;
  }

  testing::TempDir dir_;
  testing::FakeClock clock_;
  std::string path_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<LockService> locks_, other_;
  LockPolicy policy_;
  RemediationPolicy remediation_;
  Metrics metrics_;
  std::unique_ptr<Alerter> alerter_;
  std::ostringstream log_text_;
  Logger log_{&log_text_, LogFormat::kJson, &clock_};
};

TEST_F(SafeWriterTest, WritesUnderALeaseAndRecordsItsToken) {
  SafeWriter writer(Deps(locks_.get()));
  auto out = writer.Replace(Request("a"));
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(out->fence_token, 1);
  EXPECT_EQ(out->lock_backend, "db");
  EXPECT_EQ(out->duplicates.groups, 0);
  EXPECT_EQ(Players(), std::vector<std::string>{"a"});
  EXPECT_EQ(*store_->fences().FenceToken("db", tables::Accuracy(), "2026-01-16"), 1);
  auto runs = store_->ReadPartition(tables::GradingRuns(), "2026-01-16");
  ASSERT_EQ(runs->size(), 1u);
  EXPECT_EQ((*runs)[0][runs::fence_token].as_int(), 1);
  EXPECT_EQ((*runs)[0][runs::lock_backend].as_text(), "db");
  EXPECT_TRUE(locks_->List()->empty());  // released
  EXPECT_NE(log_text_.str().find("\"phase\":\"enter\""), std::string::npos);
  EXPECT_NE(log_text_.str().find("\"phase\":\"exit\""), std::string::npos);
  WriteRequest other = Request("b");
  other.allow_shrink = true;  // a's key goes
  auto again = writer.Replace(std::move(other));
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->fence_token, 2);
}

TEST_F(SafeWriterTest, LockTimeoutWritesNothingByDefault) {
  auto held = other_->Acquire("grading/2026-01-16", 600 * kSecond, 0);
  ASSERT_TRUE(held.ok());
  SafeWriter writer(Deps(locks_.get()));
  auto out = writer.Replace(Request("a"));
  EXPECT_EQ(out.status().reason(), StatusReason::kLockTimeout);
  EXPECT_TRUE(Players().empty());
  EXPECT_EQ(Events(), std::vector<std::string>{"acquire_timeout"});
  EXPECT_NE(log_text_.str().find("\"event\":\"lock_timeout\""), std::string::npos);
  EXPECT_NE(log_text_.str().find("\"alert_type\":\"lock_acquisition_failed\""), std::string::npos);
  EXPECT_EQ(metrics_.Value("lock_acquire_total", {"db", "timeout"}), 1);
}

TEST_F(SafeWriterTest, ProceedWritesUnderADrawnTokenAndAdvancesTheFence) {
  SafeWriter first(Deps(locks_.get()));
  ASSERT_TRUE(first.Replace(Request("a")).ok());  // fence token 1 stored
  auto held = other_->Acquire("grading/2026-01-16", 600 * kSecond, 0);
  ASSERT_TRUE(held.ok());
  policy_.on_lock_timeout = "proceed";
  SafeWriter writer(Deps(locks_.get()));
  WriteRequest other = Request("b");
  other.allow_shrink = true;  // a's key goes
  auto out = writer.Replace(std::move(other));
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_TRUE(out->proceeded_without_lock);
  ASSERT_TRUE(out->fence_token.has_value());
  EXPECT_GT(*out->fence_token, *held->token);
  EXPECT_EQ(Players(), std::vector<std::string>{"b"});
  EXPECT_EQ(*store_->fences().FenceToken("db", tables::Accuracy(), "2026-01-16"), *out->fence_token);
}

// A proceed-writer that lands late: it gave up waiting and proceeded, then (delayed) a fenced
// writer took the lock after it and wrote. Without a token the late proceed-write overwrote the
// newer fenced write; with the token drawn when it proceeded, it is fenced out.
TEST_F(SafeWriterTest, ALateProceedWriteCannotOverwriteANewerFencedWrite) {
  auto held = other_->Acquire("grading/2026-01-16", 600 * kSecond, 0);
  ASSERT_TRUE(held.ok());
  policy_.on_lock_timeout = "proceed";
  bool fenced_write_done = false;
  SafeWriterTestHooks hooks;
  hooks.TEST_after_acquire = [&] {
    ASSERT_TRUE(other_->Release(*held).ok());
    SafeWriter fenced(Deps(other_.get()));
    auto newer = fenced.Replace(Request("newer"));
    ASSERT_TRUE(newer.ok()) << newer.status().ToString();
    fenced_write_done = true;
  };
  SafeWriter late(Deps(locks_.get(), &hooks));
  auto out = late.Replace(Request("late"));
  ASSERT_TRUE(fenced_write_done);
  EXPECT_EQ(out.status().reason(), StatusReason::kFencedOut) << out.status().ToString();
  EXPECT_EQ(Players(), std::vector<std::string>{"newer"});
}

TEST_F(SafeWriterTest, AHolderPausedPastItsTtlWritesNothing) {
  SafeWriter seed(Deps(locks_.get()));
  ASSERT_TRUE(seed.Replace(Request("a")).ok());
  SafeWriterTestHooks hooks;
  hooks.TEST_pause_after_acquire_micros = 60 * kSecond;  // twice the TTL, no renewal runs
  SafeWriter paused(Deps(locks_.get(), &hooks));
  auto out = paused.Replace(Request("stale"));
  EXPECT_EQ(out.status().reason(), StatusReason::kLockLost);
  EXPECT_EQ(Players(), std::vector<std::string>{"a"});
  EXPECT_EQ(Events(), std::vector<std::string>{"lock_lost"});
}

TEST_F(SafeWriterTest, TheFenceAloneRejectsAStaleWriter) {
  // A newer holder already committed with a higher token (as after a takeover); this writer's
  // fresh db lease has a lower token. With the lease check switched off, only the fence inside
  // the transaction stands between the stale writer and the data.
  WriteSpec newer;
  newer.fence_token = 100;
  newer.lock_namespace = "db";
  ASSERT_TRUE(store_->ReplacePartition(tables::Accuracy(), "2026-01-16",
                                       Request("newer").rows, newer).ok());
  SafeWriterTestHooks hooks;
  hooks.TEST_disable_lease_check = true;
  SafeWriter stale(Deps(locks_.get(), &hooks));
  auto out = stale.Replace(Request("stale"));
  EXPECT_EQ(out.status().reason(), StatusReason::kFencedOut);
  EXPECT_EQ(Players(), std::vector<std::string>{"newer"});
  EXPECT_EQ(Events(), std::vector<std::string>{"fenced_out"});
  EXPECT_TRUE(store_->ReadPartition(tables::GradingRuns(), "2026-01-16")->empty());
}

TEST_F(SafeWriterTest, DuplicatesAreAuditedRemediatedAndAlerted) {
  // With unique keys off, a write that carries two rows of one key gets through layer 0.
  StoreOptions loose;
  loose.enforce_unique_keys = false;
  loose.clock = &clock_;
  alerter_.reset();
  store_ = std::move(Store::Open("sqlite:" + path_, loose)).value();
  ASSERT_TRUE(store_->ApplyKeyUniqueness(false).ok());  // what `propgrade init` does
  alerter_ = std::make_unique<Alerter>(store_.get(), std::vector<std::unique_ptr<AlertSink>>{},
                                       &metrics_, &log_, &clock_, AlerterOptions{});
  for (bool auto_remediate : {false, true}) {
    remediation_.auto_remediate = auto_remediate;
    WriteRequest r = Request("a");
    r.rows.push_back(r.rows[0]);
    r.rows.back()[acc::prediction_id] = Value::Text("a-copy");
    SafeWriter writer(Deps(locks_.get()));
    auto out = writer.Replace(std::move(r));
    ASSERT_TRUE(out.ok()) << out.status().ToString();
    EXPECT_EQ(out->duplicates.groups, 1);
    EXPECT_EQ(out->duplicates.surplus_rows, 1);
    EXPECT_EQ(out->remediated_rows, auto_remediate ? 1 : 0);
    EXPECT_EQ(out->remediation_verified, auto_remediate);
    EXPECT_EQ(Players().size(), auto_remediate ? 1u : 2u);
  }
  alerter_->Flush(5000000);
  int audits = 0, quarantined = 0, alerts = 0;
  store_->Scan(tables::DuplicateAudit(), ScanSpec{}, [&](Row&& row) {
    ++audits;
    EXPECT_EQ(row[audit::occurrences].as_int(), 2);
    EXPECT_NE(row[audit::key_json].as_text().find("\"player_lookup\":\"a\""), std::string::npos);
    EXPECT_NE(row[audit::sample_json].as_text().find("a-copy"), std::string::npos);
    return OkStatus();
  }).IgnoreError();
  store_->Scan(tables::Quarantine(), ScanSpec{}, [&](Row&&) {
    ++quarantined;
    return OkStatus();
  }).IgnoreError();
  store_
      ->Scan(tables::Alerts(), ScanSpec{},
             [&](Row&& row) {
               if (row[alertcol::type].as_text() != "duplicates_detected") return OkStatus();
               ++alerts;
               // The headline distortion rides on the alert (these rows decide nothing).
               EXPECT_NE(
                   row[alertcol::summary].as_text().find("; ALL window nothing decided from 1 "
                                                         "surplus rows"),
                   std::string::npos)
                   << row[alertcol::summary].as_text();
               return OkStatus();
             })
      .IgnoreError();
  EXPECT_EQ(audits, 2);
  EXPECT_EQ(quarantined, 1);
  EXPECT_EQ(alerts, 2);  // recorded both times (the second folded)
  EXPECT_EQ(metrics_.Value("duplicates_detected_total", {"prediction_accuracy"}), 2);
  EXPECT_EQ(metrics_.Value("remediated_rows_total", {"prediction_accuracy"}), 1);
  EXPECT_NE(log_text_.str().find("moved 1 rows to remediation_quarantine; re-check clean"),
            std::string::npos);
}

TEST_F(SafeWriterTest, LockNoneWritesWithoutToken) {
  auto none = std::move(LockService::Open("none", LockOptions{})).value();
  SafeWriter writer(Deps(none.get()));
  auto out = writer.Replace(Request("a"));
  ASSERT_TRUE(out.ok());
  EXPECT_FALSE(out->fence_token.has_value());
  EXPECT_EQ(out->lock_backend, "none");
}

}  // namespace
}  // namespace propgrade

// PgConn's session bounds and cancellation against a real PostgreSQL (PROPGRADE_TEST_PG_URL).
// Every wait runs on a thread the test watches: on code that does not bound the wait, the test
// releases the lock it holds and fails instead of hanging.
#include "db/pg_conn.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <future>
#include <memory>
#include <optional>
#include <thread>

#include "testing/skip.h"

namespace propgrade {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using Steady = std::chrono::steady_clock;

constexpr const char* kLockSql = "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))";

class PgConnTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* url = std::getenv("PROPGRADE_TEST_PG_URL");
    if (!url || !*url) PROPGRADE_SKIP_WITHOUT("PostgreSQL (PROPGRADE_TEST_PG_URL)");
    auto parsed = ParsePgUrl(url);
    ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
    url_ = *parsed;
    auto holder = PgConn::Connect(url_);
    ASSERT_TRUE(holder.ok()) << holder.status().ToString();
    holder_ = std::move(*holder);
    key_ = "pg_conn_test/" + std::to_string(Steady::now().time_since_epoch().count());
    ASSERT_TRUE(holder_->Exec("BEGIN").ok());
    ASSERT_TRUE(holder_->Exec(kLockSql, {key_}).ok());  // held until Release()
  }
  void TearDown() override { Release(); }
  void Release() {
    if (holder_ && holder_->in_transaction()) holder_->Exec("ROLLBACK").status().IgnoreError();
  }

  // Runs `sql` on a new connection of `url` on a thread; waits at most `limit` for it. When it
  // is still waiting then, releases the lock so it ends, and returns nullopt.
  std::optional<Status> WaitingExec(PgUrl url, const std::string& sql, PgParams params,
                                    Steady::duration limit, Steady::duration* took) {
    auto conn = PgConn::Connect(url);
    if (!conn.ok()) return conn.status();
    std::shared_ptr<PgConn> c = std::move(*conn);
    const auto start = Steady::now();
    auto done = std::async(std::launch::async, [c, sql, params] {
      return c->Exec(sql, params).status();
    });
    if (done.wait_for(limit) != std::future_status::ready) {
      Release();
      done.wait();
      return std::nullopt;
    }
    *took = Steady::now() - start;
    return done.get();
  }

  PgUrl url_;
  std::unique_ptr<PgConn> holder_;
  std::string key_;
};

TEST_F(PgConnTest, ALockWaitEndsAtLockTimeoutAsUnavailable) {
  PgUrl url = url_;
  url.lock_timeout_ms = 500;
  Steady::duration took{};
  auto status = WaitingExec(url, kLockSql, {key_}, seconds(20), &took);
  ASSERT_TRUE(status.has_value()) << "the lock wait was not bounded (still waiting after 20 s)";
  EXPECT_EQ(status->code(), StatusCode::kUnavailable) << status->ToString();
  EXPECT_NE(status->message().find("lock timeout"), std::string::npos) << status->ToString();
  EXPECT_GE(took, milliseconds(400));
}

TEST_F(PgConnTest, AStatementEndsAtStatementTimeoutAsUnavailable) {
  Release();  // nothing to wait for: the statement itself is long
  PgUrl url = url_;
  url.statement_timeout_ms = 300;
  auto conn = PgConn::Connect(url);
  ASSERT_TRUE(conn.ok()) << conn.status().ToString();
  const auto start = Steady::now();
  Status s = (*conn)->Exec("SELECT pg_sleep(10)").status();
  EXPECT_LT(Steady::now() - start, seconds(8)) << "pg_sleep(10) ran out: no statement_timeout";
  EXPECT_EQ(s.code(), StatusCode::kUnavailable) << s.ToString();
  EXPECT_NE(s.message().find("statement_timeout_seconds"), std::string::npos) << s.ToString();
  // The session stays usable.
  EXPECT_TRUE((*conn)->Exec("SELECT 1").ok());
}

TEST_F(PgConnTest, ACancelledTokenCancelsAWaitingStatementAfterItsGrace) {
  CancelToken cancel;
  PgUrl url = url_;
  url.cancel = &cancel;  // no lock_timeout: only the token ends the wait
  std::thread canceller([&] {
    std::this_thread::sleep_for(milliseconds(200));
    cancel.Cancel();
  });
  Steady::duration took{};
  auto status = WaitingExec(url, kLockSql, {key_}, seconds(20), &took);
  canceller.join();
  ASSERT_TRUE(status.has_value()) << "the cancelled statement was still waiting after 20 s";
  EXPECT_EQ(status->code(), StatusCode::kCancelled) << status->ToString();
  EXPECT_GE(took, milliseconds(kCancelGraceMs));  // a short statement would have finished
}

TEST_F(PgConnTest, ACancelledTokenLetsShortStatementsFinish) {
  CancelToken cancel;
  cancel.Cancel();
  PgUrl url = url_;
  url.cancel = &cancel;
  auto conn = PgConn::Connect(url);
  ASSERT_TRUE(conn.ok()) << conn.status().ToString();
  for (int i = 0; i < 20; ++i) {
    auto r = (*conn)->Exec("SELECT $1::int + 1", {std::to_string(i)});
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->text(0, 0), std::to_string(i + 1));
  }
  EXPECT_TRUE((*conn)->Exec("BEGIN").ok());
  EXPECT_TRUE((*conn)->Exec("ROLLBACK").ok());
}

TEST_F(PgConnTest, TheSessionSaysItsBounds) {
  PgUrl url = url_;
  url.lock_timeout_ms = 1500;
  url.statement_timeout_ms = 2500;
  url.idle_in_transaction_timeout_ms = 3500;
  auto conn = PgConn::Connect(url);
  ASSERT_TRUE(conn.ok()) << conn.status().ToString();
  auto r = (*conn)->Exec(
      "SELECT current_setting('lock_timeout'), current_setting('statement_timeout'), "
      "current_setting('idle_in_transaction_session_timeout')");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->text(0, 0), "1500ms");
  EXPECT_EQ(r->text(0, 1), "2500ms");
  EXPECT_EQ(r->text(0, 2), "3500ms");
}

TEST_F(PgConnTest, ASessionIdleInATransactionIsEndedAndItsLocksReleased) {
  Release();
  PgUrl url = url_;
  url.idle_in_transaction_timeout_ms = 300;
  auto idle = PgConn::Connect(url);
  ASSERT_TRUE(idle.ok()) << idle.status().ToString();
  ASSERT_TRUE((*idle)->Exec("BEGIN").ok());
  ASSERT_TRUE((*idle)->Exec(kLockSql, {key_}).ok());
  // Another session waits for the lock the silent one holds: the server ends the silent one.
  // Should it not, the test closes the silent session after 20 s and fails.
  auto waiter = PgConn::Connect(url_);
  ASSERT_TRUE(waiter.ok()) << waiter.status().ToString();
  std::shared_ptr<PgConn> w = std::move(*waiter);
  ASSERT_TRUE(w->Exec("BEGIN").ok());
  const std::string key = key_;
  auto done = std::async(std::launch::async, [w, key] { return w->Exec(kLockSql, {key}).status(); });
  const bool ended = done.wait_for(seconds(20)) == std::future_status::ready;
  if (!ended) idle->reset();  // closing the session releases its lock
  Status s = done.get();
  EXPECT_TRUE(ended) << "the idle session kept its lock for 20 s";
  EXPECT_TRUE(s.ok()) << s.ToString();
  w->Exec("ROLLBACK").status().IgnoreError();
}

}  // namespace
}  // namespace propgrade

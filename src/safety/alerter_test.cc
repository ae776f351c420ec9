#include "safety/alerter.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <sstream>

#include "testing/fake_clock.h"
#include "testing/http_receiver.h"
#include "testing/temp_dir.h"

namespace propgrade {
namespace {

class AlerterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    StoreOptions so;
    so.clock = &clock_;
    store_ = std::move(Store::Open("sqlite:" + dir_.path() + "/a.db", so)).value();
  }
  std::unique_ptr<Alerter> Make(bool slack, bool webhook) {
    std::vector<std::unique_ptr<AlertSink>> sinks;
    HttpRequestOptions o;
    o.timeout_ms = 2000;
    if (slack) sinks.push_back(NewSlackSink(receiver_.url("/slack/T000/SECRET"), NewCurlHttpClient(), o));
    if (webhook) sinks.push_back(NewWebhookSink(receiver_.url("/hook"), NewCurlHttpClient(), o));
    return std::make_unique<Alerter>(store_.get(), std::move(sinks), &metrics_, &log_, &clock_,
                                     AlerterOptions{});
  }
  std::vector<Row> AlertRows() {
    std::vector<Row> rows;
    store_->Scan(tables::Alerts(), ScanSpec{}, [&](Row&& r) {
      rows.push_back(std::move(r));
      return OkStatus();
    }).IgnoreError();
    return rows;
  }
  Alert Duplicates() {
    return MakeAlert("duplicates_detected", "prediction_accuracy", "2026-01-16",
                     "3 surplus rows in 2 key groups",
                     {{"duplicate_groups", Value::Int(2)}, {"duplicate_rows", Value::Int(3)},
                      {"remediated", Value::Bool(true)}});
  }

  testing::TempDir dir_;
  testing::FakeClock clock_;
  testing::HttpReceiver receiver_;
  std::unique_ptr<Store> store_;
  Metrics metrics_;
  std::ostringstream log_text_;
  Logger log_{&log_text_, LogFormat::kJson, &clock_};
};

TEST_F(AlerterTest, SlackAndWebhookPayloadsArriveWithTheirFields) {
  auto alerter = Make(true, true);
  alerter->Raise(Duplicates());
  alerter->Flush(5000000);
  auto got = receiver_.requests();
  ASSERT_EQ(got.size(), 2u);
  auto slack = nlohmann::json::parse(got[0].body);
  EXPECT_EQ(got[0].path, "/slack/T000/SECRET");
  EXPECT_EQ(got[0].content_type, "application/json");
  EXPECT_EQ(slack["text"], "CRITICAL duplicates_detected prediction_accuracy/2026-01-16: 3 surplus rows in 2 key groups");
  EXPECT_EQ(slack["blocks"][0]["type"], "header");
  EXPECT_EQ(slack["blocks"][1]["type"], "section");
  EXPECT_NE(slack["blocks"][1]["fields"].dump().find("*duplicate_rows*\\n3"), std::string::npos);
  EXPECT_EQ(slack["blocks"][2]["type"], "context");
  auto hook = nlohmann::json::parse(got[1].body);
  EXPECT_EQ(hook["type"], "duplicates_detected");
  EXPECT_EQ(hook["severity"], "CRITICAL");
  EXPECT_EQ(hook["table"], "prediction_accuracy");
  EXPECT_EQ(hook["partition"], "2026-01-16");
  EXPECT_EQ(hook["fields"]["duplicate_groups"], 2);
  EXPECT_EQ(hook["fields"]["remediated"], true);
  EXPECT_EQ(hook["folded_count"], 0);
  EXPECT_EQ(hook["occurred_at"], "2026-01-16T11:00:00.000000Z");
  auto rows = AlertRows();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_TRUE(rows[0][alertcol::delivered].as_bool());
  EXPECT_EQ(rows[0][alertcol::subject].as_text(), "prediction_accuracy/2026-01-16");
  EXPECT_EQ(metrics_.Value("alerts_sent_total", {"duplicates_detected", "sent"}), 2);
  EXPECT_NE(log_text_.str().find("\"event\":\"alert\""), std::string::npos);
}

TEST_F(AlerterTest, RepeatsWithinTheIntervalAreFoldedAcrossProcesses) {
  auto first = Make(false, true);
  auto second = Make(false, true);  // another process sharing the alerts table
  first->Raise(Duplicates());
  first->Flush(5000000);
  clock_.AdvanceSeconds(10);
  second->Raise(Duplicates());
  second->Flush(5000000);
  clock_.AdvanceSeconds(10);
  first->Raise(Duplicates());
  first->Flush(5000000);
  EXPECT_EQ(receiver_.requests().size(), 1u);
  EXPECT_EQ(metrics_.Value("alerts_sent_total", {"duplicates_detected", "folded"}), 2);
  // Another subject is not folded.
  Alert other = Duplicates();
  other.partition = "2026-01-17";
  other.subject = "prediction_accuracy/2026-01-17";
  second->Raise(other);
  second->Flush(5000000);
  EXPECT_EQ(receiver_.requests().size(), 2u);
  // Past the interval the next one goes out carrying the folded count.
  clock_.AdvanceSeconds(300);
  second->Raise(Duplicates());
  second->Flush(5000000);
  ASSERT_EQ(receiver_.requests().size(), 3u);
  EXPECT_EQ(nlohmann::json::parse(receiver_.requests()[2].body)["folded_count"], 2);
  auto rows = AlertRows();
  EXPECT_EQ(rows.size(), 5u);  // every alert is recorded, folded or sent
}

TEST_F(AlerterTest, AReceiverThatIsDownIsRetriedAndCountedAsFailed) {
  receiver_.set_status(503);
  auto alerter = Make(false, true);
  alerter->Raise(Duplicates());
  alerter->Flush(5000000);
  EXPECT_EQ(receiver_.requests().size(), 3u);  // three attempts
  EXPECT_EQ(metrics_.Value("alerts_sent_total", {"duplicates_detected", "failed"}), 1);
  auto rows = AlertRows();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_FALSE(rows[0][alertcol::delivered].as_bool());
  EXPECT_EQ(rows[0][alertcol::attempts].as_int(), 3);
  receiver_.Stop();  // now nobody listens at all
  clock_.AdvanceSeconds(600);
  alerter->Raise(Duplicates());
  alerter->Flush(10000000);
  EXPECT_EQ(metrics_.Value("alerts_sent_total", {"duplicates_detected", "failed"}), 2);
  EXPECT_NE(log_text_.str().find("alert_delivery_failed"), std::string::npos);
  EXPECT_EQ(log_text_.str().find("SECRET"), std::string::npos);  // the URL path is a secret
}

TEST_F(AlerterTest, HttpsDeliveryVerifiesTheCertificate) {
  testing::HttpReceiver https(/*tls=*/true);
  ASSERT_EQ(https.url().rfind("https://", 0), 0u);
  for (bool trusted : {false, true}) {
    HttpRequestOptions o;
    o.timeout_ms = 3000;
    if (trusted) o.ca_file = https.ca_file();
    std::vector<std::unique_ptr<AlertSink>> sinks;
    sinks.push_back(NewWebhookSink(https.url("/hook"), NewCurlHttpClient(), o));
    AlerterOptions ao;
    ao.min_interval_seconds = 0;
    Alerter alerter(nullptr, std::move(sinks), &metrics_, &log_, &clock_, ao);
    alerter.Raise(Duplicates());
    alerter.Flush(10000000);
  }
  // An untrusted certificate is refused (three attempts, nothing received); trusted, it arrives.
  EXPECT_EQ(https.requests().size(), 1u);
  EXPECT_EQ(metrics_.Value("alerts_sent_total", {"duplicates_detected", "failed"}), 1);
  EXPECT_EQ(metrics_.Value("alerts_sent_total", {"duplicates_detected", "sent"}), 1);
}

}  // namespace
}  // namespace propgrade

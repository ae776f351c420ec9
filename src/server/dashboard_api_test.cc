#include "server/dashboard_api.h"

#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>

#include "common/civil_date.h"
#include "schema/schema.h"
#include "testing/declared_tables.h"
#include "testing/fake_clock.h"
#include "testing/temp_dir.h"

namespace propgrade::server {
namespace {

using json = nlohmann::json;

class DashboardApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    StoreOptions so;
    so.clock = &clock_;
    store_ = std::move(Store::Open("sqlite:" + dir_.path() + "/d.db", so)).value();
  }

  // A row of `t` with the given cells, NULL elsewhere.
  static Row Make(const TableDef& t, const std::map<std::string, Value>& cells) {
    Row r(t.columns.size());
    for (const auto& [name, v] : cells) {
      int i = t.ColumnIndex(name);
      EXPECT_GE(i, 0) << name;
      if (i >= 0) r[i] = v;
    }
    return r;
  }
  void Load(const TableDef& t, const std::vector<Row>& rows,
            ImportMode mode = ImportMode::kUpsert) {
    auto s = store_->Import(t, rows, {}, "test", mode);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
  }
  static json Parse(const StatusOr<std::string>& s) {
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? json::parse(*s) : json();
  }

  testing::TempDir dir_;
  testing::FakeClock clock_;
  std::unique_ptr<Store> store_;
};

TEST_F(DashboardApiTest, EmptyStoreGivesEmptySeries) {
  EXPECT_TRUE(Parse(PerformanceJson(store_.get(), 90))["dates"].empty());
  EXPECT_TRUE(Parse(CalibrationJson(store_.get(), 90))["systems"].empty());
  EXPECT_TRUE(Parse(DuplicatesJson(store_.get(), 90))["dates"].empty());
  EXPECT_TRUE(Parse(RunsJson(store_.get(), 50))["runs"].empty());
  json summary = Parse(SummaryJson(store_.get(), "db", &clock_));
  EXPECT_TRUE(summary["latest_date"].is_null());
  EXPECT_EQ(summary["generated_at"], "2026-01-16T11:00:00.000000Z");
}

TEST_F(DashboardApiTest, PerformanceAlignsSystemsOnDatesWithGapsAndHonoursTheWindow) {
  const TableDef& t = tables::DailyPerformance();
  Load(t, {Make(t, {{"game_date", Value::Text("2026-01-14")}, {"system_id", Value::Text("a")},
                    {"win_rate", Value::Real(0.5)}, {"mae", Value::Real(4.5)}}),
           Make(t, {{"game_date", Value::Text("2026-01-15")}, {"system_id", Value::Text("a")},
                    {"win_rate", Value::Real(0.6)}, {"mae", Value::Real(4.25)}}),
           Make(t, {{"game_date", Value::Text("2026-01-16")}, {"system_id", Value::Text("a")},
                    {"win_rate", Value::Real(0.55)}, {"mae", Value::Real(5.0)}}),
           Make(t, {{"game_date", Value::Text("2026-01-16")}, {"system_id", Value::Text("b")},
                    {"win_rate", Value::Null()}, {"mae", Value::Real(3.0)}})});
  json all = Parse(PerformanceJson(store_.get(), 90));
  EXPECT_EQ(all["dates"], json({"2026-01-14", "2026-01-15", "2026-01-16"}));
  ASSERT_EQ(all["systems"].size(), 2u);
  EXPECT_EQ(all["systems"][0]["system_id"], "a");
  EXPECT_EQ(all["systems"][0]["win_rate"], json({0.5, 0.6, 0.55}));
  EXPECT_EQ(all["systems"][1]["mae"], json({nullptr, nullptr, 3.0}));
  EXPECT_TRUE(all["systems"][1]["win_rate"][2].is_null());
  json two = Parse(PerformanceJson(store_.get(), 2));
  EXPECT_EQ(two["dates"], json({"2026-01-15", "2026-01-16"}));
  json summary = Parse(SummaryJson(store_.get(), "db", &clock_));
  EXPECT_EQ(summary["latest_date"], "2026-01-16");
  EXPECT_EQ(summary["systems"], json({"a", "b"}));
  EXPECT_EQ(summary["dates"], 3);
}

TEST_F(DashboardApiTest, DuplicatesCountRowsBeyondTheFirstPerGradedDate) {
  const TableDef& acc = tables::Accuracy();
  std::vector<Row> graded;
  for (const char* d : {"2026-01-15", "2026-01-16"}) {
    graded.push_back(Make(acc, {{"prediction_id", Value::Text(std::string("p") + d)},
                                {"game_date", Value::Text(d)},
                                {"player_lookup", Value::Text("x")},
                                {"game_id", Value::Text("g")},
                                {"system_id", Value::Text("a")},
                                {"confidence_score", Value::Real(0.72)},
                                {"confidence_decile", Value::Int(8)},
                                {"prediction_correct", Value::Bool(true)},
                                {"is_voided", Value::Bool(false)}}));
  }
  Load(acc, graded, ImportMode::kInsert);
  const TableDef& audit = tables::DuplicateAudit();
  Load(audit, {Make(audit, {{"detected_at", Value::Text("2026-01-16T11:00:00Z")},
                            {"table_name", Value::Text("prediction_accuracy")},
                            {"partition", Value::Text("2026-01-16")},
                            {"key_json", Value::Text("[\"p\"]")},
                            {"occurrences", Value::Int(3)}})});
  json dup = Parse(DuplicatesJson(store_.get(), 90));
  EXPECT_EQ(dup["dates"], json({"2026-01-15", "2026-01-16"}));
  EXPECT_EQ(dup["duplicate_rows"], json({0, 2}));
  EXPECT_EQ(dup["audit_groups"], json({0, 1}));

  json cal = Parse(CalibrationJson(store_.get(), 90));
  ASSERT_EQ(cal["systems"].size(), 1u);
  EXPECT_EQ(cal["systems"][0]["deciles"], json({8}));
  EXPECT_EQ(cal["systems"][0]["hit_rate"], json({1.0}));
  EXPECT_EQ(cal["systems"][0]["decided"], json({2}));
}

TEST_F(DashboardApiTest, RunsAndAlertsNewestFirstWithLimitAndLockWaitsInTheWindow) {
  const TableDef& runs = tables::GradingRuns();
  std::vector<Row> rows;
  for (int i = 0; i < 5; ++i) {
    std::string start = "2026-01-1" + std::to_string(i) + "T10:00:00Z";
    rows.push_back(Make(runs, {{"run_id", Value::Text("r" + std::to_string(i))},
                               {"processor", Value::Text("grading")},
                               {"partition", Value::Text("2026-01-1" + std::to_string(i))},
                               {"game_date", Value::Text("2026-01-1" + std::to_string(i))},
                               {"status", Value::Text(i == 4 ? "lock_timeout" : "success")},
                               {"started_at", Value::Text(start)},
                               {"finished_at", Value::Text("2026-01-1" + std::to_string(i) +
                                                           "T10:00:02.5Z")},
                               {"lock_wait_seconds", Value::Real(0.25 * i)}}));
  }
  Load(runs, rows);
  json r = Parse(RunsJson(store_.get(), 3));
  ASSERT_EQ(r["runs"].size(), 3u);
  EXPECT_EQ(r["runs"][0]["run_id"], "r4");
  EXPECT_EQ(r["runs"][0]["status"], "lock_timeout");
  EXPECT_EQ(r["runs"][0]["duration_seconds"], 2.5);
  EXPECT_EQ(r["runs"][2]["run_id"], "r2");
  // The clock is at 2026-01-16T11:00Z: a 4-day window starts 2026-01-12T11:00Z.
  json waits = Parse(LockWaitsJson(store_.get(), &clock_, 4));
  ASSERT_EQ(waits["points"].size(), 2u);
  EXPECT_EQ(waits["points"][0]["wait_seconds"], 0.75);
  EXPECT_EQ(waits["points"][1]["at"], *ParseTimestampMicros("2026-01-14T10:00:00Z") / 1000000);
  EXPECT_EQ(waits["points"][1]["processor"], "grading");

  const TableDef& alerts = tables::Alerts();
  Load(alerts, {Make(alerts, {{"at", Value::Text("2026-01-16T10:00:00Z")},
                              {"type", Value::Text("duplicates_detected")},
                              {"severity", Value::Text("CRITICAL")},
                              {"subject", Value::Text("prediction_accuracy/2026-01-16")},
                              {"summary", Value::Text("<b>3</b> duplicate rows")},
                              {"delivered", Value::Bool(true)}}),
                Make(alerts, {{"at", Value::Text("2026-01-16T09:00:00Z")},
                              {"type", Value::Text("stuck_lock")},
                              {"severity", Value::Text("WARNING")},
                              {"subject", Value::Text("grading/2026-01-16")},
                              {"summary", Value::Text("held")}})});
  json a = Parse(AlertsJson(store_.get(), 50));
  ASSERT_EQ(a["alerts"].size(), 2u);
  EXPECT_EQ(a["alerts"][0]["type"], "duplicates_detected");
  EXPECT_EQ(a["alerts"][0]["summary"], "<b>3</b> duplicate rows");  // the page escapes it
  EXPECT_EQ(a["alerts"][0]["delivered"], true);
  EXPECT_TRUE(a["alerts"][1]["delivered"].is_null());
}

TEST_F(DashboardApiTest, DeclaredTablesWithTheirNewestPartitionLastWriteRunAndDuplicates) {
  EXPECT_TRUE(Parse(TablesJson(store_.get(), &clock_))["tables"].empty());  // none declared
  StoreOptions so;
  so.clock = &clock_;
  so.declared_tables = {testing::PlayerFormDaily()};
  store_ = std::move(Store::Open("sqlite:" + dir_.path() + "/d.db", so)).value();
  const TableDef* form = store_->catalogue().Find("player_form_daily");
  ASSERT_NE(form, nullptr);
  json tables = Parse(TablesJson(store_.get(), &clock_))["tables"];
  ASSERT_EQ(tables.size(), 1u);
  EXPECT_EQ(tables[0]["partitions"], 0);
  EXPECT_TRUE(tables[0]["newest_partition"].is_null());
  EXPECT_TRUE(tables[0]["last_written_at"].is_null());

  auto row = [](const char* d, const char* p) {
    return Row{Value::Text(d), Value::Text(p), Value::Real(1)};
  };
  ASSERT_TRUE(
      store_->ReplacePartition(*form, "2026-01-14", {row("2026-01-14", "a")}, WriteSpec{}).ok());
  ASSERT_TRUE(store_
                  ->ReplacePartition(*form, "2026-01-15",
                                     {row("2026-01-15", "a"), row("2026-01-15", "b")}, WriteSpec{})
                  .ok());
  const TableDef& runs = tables::GradingRuns();
  for (const auto& [id, status, at] :
       std::vector<std::tuple<const char*, const char*, const char*>>{
           {"r1", "success", "2026-01-15T09:00:00Z"},
           {"r2", "lock_timeout", "2026-01-16T09:00:00Z"}}) {
    ASSERT_TRUE(store_
                    ->UpsertRun(Make(runs, {{"run_id", Value::Text(id)},
                                            {"processor", Value::Text("player_form_daily")},
                                            {"partition", Value::Text("2026-01-15")},
                                            {"game_date", Value::Text("2026-01-15")},
                                            {"status", Value::Text(status)},
                                            {"started_at", Value::Text(at)},
                                            {"finished_at", Value::Text(at)}}))
                    .ok());
  }
  const TableDef& audit = tables::DuplicateAudit();
  for (const char* at : {"2026-01-15T11:00:00Z", "2026-01-01T11:00:00Z"}) {  // the second: too old
    Load(audit, {Make(audit, {{"detected_at", Value::Text(at)},
                              {"table_name", Value::Text("player_form_daily")},
                              {"partition", Value::Text("2026-01-15")},
                              {"key_json", Value::Text("[\"a\"]")},
                              {"occurrences", Value::Int(2)}})});
  }
  tables = Parse(TablesJson(store_.get(), &clock_))["tables"];
  ASSERT_EQ(tables.size(), 1u);
  const json& t = tables[0];
  EXPECT_EQ(t["name"], "player_form_daily");
  EXPECT_EQ(t["processor"], "player_form_daily");
  EXPECT_EQ(t["partition_column"], "as_of_date");
  EXPECT_EQ(t["partitions"], 2);
  EXPECT_EQ(t["newest_partition"], "2026-01-15");
  EXPECT_EQ(t["newest_rows"], 2);
  EXPECT_EQ(t["last_written_at"], "2026-01-16T11:00:00.000000Z");  // the clock at the write
  EXPECT_EQ(t["last_run"]["status"], "lock_timeout");
  EXPECT_EQ(t["duplicate_rows_7d"], 1);
}

TEST_F(DashboardApiTest, HistoryHasTheRowsOfEachKeptWriteAndTheRefusedRuns) {
  const TableDef& acc = tables::Accuracy();
  auto graded = [&](int players, const std::string& run) {
    std::vector<Row> rows;
    for (int i = 0; i < players; ++i) {
      rows.push_back(Make(acc, {{"game_date", Value::Text("2026-01-15")},
                                {"prediction_id", Value::Text("id" + std::to_string(i))},
                                {"player_lookup", Value::Text("p" + std::to_string(i))},
                                {"game_id", Value::Text("g")},
                                {"system_id", Value::Text("s")},
                                {"run_id", Value::Text(run)}}));
    }
    WriteSpec spec;
    spec.run_id = run;
    spec.history_keep_runs = 5;
    auto written = store_->ReplacePartition(acc, "2026-01-15", rows, spec);
    ASSERT_TRUE(written.ok()) << written.status().ToString();
  };
  graded(10, "r1");
  graded(8, "r2");
  Load(tables::GradingRuns(),
       {Make(tables::GradingRuns(), {{"run_id", Value::Text("r3")},
                                     {"processor", Value::Text("grading")},
                                     {"partition", Value::Text("2026-01-15")},
                                     {"status", Value::Text("shrink_refused")},
                                     {"started_at", Value::Text("2026-01-16T07:00:00Z")},
                                     {"rows_before", Value::Int(8)},
                                     {"keys_removed", Value::Int(6)}}),
        Make(tables::GradingRuns(), {{"run_id", Value::Text("r0")},
                                     {"processor", Value::Text("grading")},
                                     {"partition", Value::Text("2026-01-15")},
                                     {"status", Value::Text("success")}})});
  json h = Parse(HistoryJson(store_.get(), 14));
  ASSERT_EQ(h["partitions"].size(), 1u);
  const json& p = h["partitions"][0];
  EXPECT_EQ(p["partition"], "2026-01-15");
  EXPECT_EQ(p["rows_now"], 8);
  ASSERT_EQ(p["writes"].size(), 2u);
  EXPECT_EQ(p["writes"][0]["run_id"], "r1");
  EXPECT_EQ(p["writes"][0]["rows_after"], 10);
  EXPECT_EQ(p["writes"][1]["rows_after"], 8);
  EXPECT_EQ(p["writes"][1]["keys_removed"], 2);
  ASSERT_EQ(h["refused"].size(), 1u);  // the successful run is not a refusal
  EXPECT_EQ(h["refused"][0]["run_id"], "r3");
  EXPECT_EQ(h["refused"][0]["keys_removed"], 6);
  EXPECT_TRUE(Parse(HistoryJson(store_.get(), 0))["partitions"].empty());
}

TEST_F(DashboardApiTest, LocksAndBreakers) {
  LockOptions lo;
  lo.clock = &clock_;
  lo.store_url = "sqlite:" + dir_.path() + "/d.db";
  lo.holder_id = "worker-1";
  auto locks = std::move(LockService::Open("db", lo)).value();
  ASSERT_TRUE(locks->Acquire("grading/2026-01-16", 300000000, 0).ok());
  clock_.AdvanceSeconds(20);
  json l = Parse(LocksJson(locks.get(), &clock_));
  ASSERT_EQ(l["locks"].size(), 1u);
  EXPECT_EQ(l["locks"][0]["key"], "grading/2026-01-16");
  EXPECT_EQ(l["locks"][0]["holder_id"], "worker-1");
  EXPECT_EQ(l["locks"][0]["held_seconds"], 20.0);
  EXPECT_EQ(l["locks"][0]["expires_in_seconds"], 280.0);
  EXPECT_TRUE(l["locks"][0]["token"].is_number());

  CircuitBreaker breaker(dir_.path() + "/b.json", 1, 60, &clock_);
  ASSERT_TRUE(breaker.Record("grading", RunStatus::kUnavailable).ok());
  json b = Parse(BreakersJson(&breaker));
  ASSERT_EQ(b["breakers"].size(), 1u);
  EXPECT_EQ(b["breakers"][0]["state"], "open");
  EXPECT_EQ(b["breakers"][0]["opened_at"], "2026-01-16T11:00:20.000000Z");
}

}  // namespace
}  // namespace propgrade::server

#include "observe/metrics.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "testing/temp_dir.h"

namespace propgrade {
namespace {

TEST(MetricsTest, ExpositionFormat) {
  Metrics m;
  m.Inc("runs_total", {"grading", "success"});
  m.Inc("runs_total", {"grading", "success"});
  m.Inc("runs_total", {"grading", "lock_timeout"});
  m.Set("breaker_state", {"grading"}, 2);
  m.Observe("lock_wait_seconds", {"db"}, 0.003);
  m.Observe("lock_wait_seconds", {"db"}, 7);
  m.Inc("lock_lost_total");
  m.Inc("rows_written_total", {"pre\"dic\\tion\naccuracy"}, 1339);
  std::string text = m.PrometheusText();
  EXPECT_NE(text.find("# TYPE propgrade_runs_total counter\n"), std::string::npos);
  EXPECT_NE(text.find("propgrade_runs_total{processor=\"grading\",status=\"success\"} 2\n"),
            std::string::npos) << text;
  EXPECT_NE(text.find("propgrade_breaker_state{name=\"grading\"} 2\n"), std::string::npos);
  EXPECT_NE(text.find("propgrade_lock_wait_seconds_bucket{backend=\"db\",le=\"0.001\"} 0\n"),
            std::string::npos);
  EXPECT_NE(text.find("propgrade_lock_wait_seconds_bucket{backend=\"db\",le=\"0.005\"} 1\n"),
            std::string::npos);
  EXPECT_NE(text.find("propgrade_lock_wait_seconds_bucket{backend=\"db\",le=\"10\"} 2\n"),
            std::string::npos) << text;
  EXPECT_NE(text.find("propgrade_lock_wait_seconds_bucket{backend=\"db\",le=\"+Inf\"} 2\n"),
            std::string::npos);
  EXPECT_NE(text.find("propgrade_lock_wait_seconds_count{backend=\"db\"} 2\n"), std::string::npos);
  EXPECT_NE(text.find("propgrade_lock_lost_total 1\n"), std::string::npos);
  EXPECT_NE(text.find("table=\"pre\\\"dic\\\\tion\\naccuracy\"} 1339"), std::string::npos) << text;
  // Every metric of operations.md §5 is declared.
  for (const char* name : {"runs_total", "run_duration_seconds", "rows_written_total",
                           "lock_acquire_total", "lock_wait_seconds", "lock_hold_seconds",
                           "lock_lost_total", "fence_rejections_total", "locks_held", "locks_stuck",
                           "lock_force_released_total", "duplicates_detected_total",
                           "remediated_rows_total", "breaker_state", "alerts_sent_total",
                           "check_failures", "last_success_timestamp_seconds"}) {
    EXPECT_NE(text.find(std::string("# HELP propgrade_") + name + " "), std::string::npos) << name;
  }
  EXPECT_EQ(m.Value("runs_total", {"grading", "success"}), 2);
}

TEST(MetricsTest, MisuseIsCountedNotFatal) {
  Metrics m;
  m.Inc("no_such_metric");
  m.Inc("runs_total", {"only-one-label"});
  m.Set("runs_total", {"a", "b"}, 1);  // a counter is not a gauge
  EXPECT_NE(m.PrometheusText().find("propgrade_metrics_misuse_total 3"), std::string::npos);
}

TEST(MetricsTest, TextfileIsWrittenAtomically) {
  testing::TempDir dir;
  Metrics m;
  m.Inc("lock_lost_total");
  std::string path = dir.path() + "/propgrade.prom";
  ASSERT_TRUE(m.WriteTextfile(path).ok());
  std::ifstream in(path);
  std::stringstream buf;
  buf << in.rdbuf();
  EXPECT_EQ(buf.str(), m.PrometheusText());
  std::ifstream tmp(path + ".tmp");
  EXPECT_FALSE(tmp.good());
  EXPECT_FALSE(m.WriteTextfile(dir.path() + "/missing/dir/x.prom").ok());
}

}  // namespace
}  // namespace propgrade

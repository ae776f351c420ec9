// Fuzzes the config parser (pipeline/config.h): ParseConfig, then ValidateConfig on what it
// accepts. Invariants: a rejected text gets an InvalidArgument naming the source; an accepted
// config validates again, names a known time zone and lock policy, keeps ttl > renew > 0,
// max_wait >= 0, failure_threshold >= 1 and open_seconds > 0, holds only finite numbers whose
// durations convert to microseconds, and keeps the integers the file gave.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <toml++/toml.h>

#include "common/civil_date.h"
#include "fuzz_check.h"
#include "config/config.h"

namespace propgrade::fuzz {
namespace {

constexpr std::string_view kSource = "fuzz.toml";

// A duration the services turn into int64 microseconds.
void CheckSeconds(double seconds, const char* key) {
  FUZZ_CHECK(std::isfinite(seconds) && seconds >= 0 && seconds * 1e6 < 9.2e18, key);
}

// The integer the file gives at `section.key`, if it gives one.
std::optional<int64_t> FileInteger(const toml::table& root, const char* section, const char* key) {
  return root[section][key].value<int64_t>();
}

void CheckAccepted(const Config& c, std::string_view text) {
  const Status again = ValidateConfig(c);
  FUZZ_CHECK(again.ok(), again.ToString());
  FUZZ_CHECK(TodayInZone(c.timezone, 0).ok(), c.timezone);

  const LockPolicy& lp = c.lock_policy;
  FUZZ_CHECK(lp.on_lock_timeout == "fail" || lp.on_lock_timeout == "proceed");
  CheckSeconds(lp.ttl_seconds, "ttl_seconds");
  CheckSeconds(lp.max_wait_seconds, "max_wait_seconds");
  CheckSeconds(lp.renew_every_seconds, "renew_every_seconds");
  CheckSeconds(lp.stuck_alert_after_seconds, "stuck_alert_after_seconds");
  CheckSeconds(lp.stuck_release_after_seconds, "stuck_release_after_seconds");
  FUZZ_CHECK(lp.ttl_seconds > lp.renew_every_seconds && lp.renew_every_seconds > 0);
  FUZZ_CHECK(c.breaker.failure_threshold >= 1);
  CheckSeconds(c.breaker.open_seconds, "open_seconds");
  FUZZ_CHECK(c.breaker.open_seconds > 0);
  CheckSeconds(c.alerts.min_interval_seconds, "min_interval_seconds");
  FUZZ_CHECK(!c.grading.real_line_sources.empty());
  FUZZ_CHECK(std::isfinite(c.checks.stale_hours_warn) && std::isfinite(c.checks.stale_hours_fail) &&
             std::isfinite(c.checks.duplicate_trend_warn_ratio));

  // Integers arrive unchanged (none is cut to fit its field).
  toml::table root;
  try {
    root = toml::parse(text, kSource);
  } catch (const toml::parse_error&) {
    FUZZ_CHECK(false, "accepted text no longer parses");
  }
  if (auto v = FileInteger(root, "breaker", "failure_threshold")) {
    FUZZ_CHECK(c.breaker.failure_threshold == *v, "breaker.failure_threshold");
  }
  if (auto v = FileInteger(root, "checks", "expected_systems")) {
    FUZZ_CHECK(c.checks.expected_systems == *v, "checks.expected_systems");
  }
  if (auto v = FileInteger(root, "checks", "daily_predictions_min")) {
    FUZZ_CHECK(c.checks.daily_predictions_min == *v, "checks.daily_predictions_min");
  }
  if (auto v = FileInteger(root, "remediation", "max_rows")) {
    FUZZ_CHECK(c.remediation.max_rows == *v, "remediation.max_rows");
  }
}

void CheckOne(std::string_view text) {
  StatusOr<Config> config = ParseConfig(text, kSource);
  if (!config.ok()) {
    FUZZ_CHECK(config.status().code() == StatusCode::kInvalidArgument);
    const std::string& msg = config.status().message();
    FUZZ_CHECK(msg.compare(0, kSource.size(), kSource) == 0, msg);
    return;
  }
  CheckAccepted(*config, text);
}

}  // namespace
}  // namespace propgrade::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  propgrade::fuzz::CheckOne(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}

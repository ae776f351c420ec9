// PROPGRADE_SKIP_WITHOUT: a skip on a developer's machine, a failure when the run demands every
// server (PROPGRADE_TEST_REQUIRE_ALL=1, as scripts/test.sh sets it). Shown by running this binary
// on a probe test that always lacks its "server".
#include "testing/skip.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <climits>
#include <string>

#include "testing/subprocess.h"

namespace propgrade {
namespace {

// The probe: run only by the test below (gtest skips DISABLED_ tests unless asked).
TEST(SkipProbe, DISABLED_NeedsAServerThatIsMissing) {
  PROPGRADE_SKIP_WITHOUT("PROPGRADE_TEST_PROBE_URL is not set");
}

testing::CommandResult RunProbe(const std::string& require_all) {
  char self[PATH_MAX] = {};
  ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  EXPECT_GT(n, 0);
  return testing::RunCommand({"env", "PROPGRADE_TEST_REQUIRE_ALL=" + require_all, self,
                              "--gtest_also_run_disabled_tests",
                              "--gtest_filter=SkipProbe.DISABLED_NeedsAServerThatIsMissing"});
}

TEST(SkipTest, AMissingServerSkipsOnADevelopersMachineButFailsWhenEverythingIsRequired) {
  testing::CommandResult relaxed = RunProbe("0");
  EXPECT_EQ(relaxed.exit_code, 0) << relaxed.out;
  EXPECT_NE(relaxed.out.find("[  SKIPPED ]"), std::string::npos) << relaxed.out;
  testing::CommandResult required = RunProbe("1");
  EXPECT_NE(required.exit_code, 0) << required.out;
  EXPECT_NE(required.out.find("required in this run"), std::string::npos) << required.out;
}

}  // namespace
}  // namespace propgrade

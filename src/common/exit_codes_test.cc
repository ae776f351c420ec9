#include "common/exit_codes.h"

#include <gtest/gtest.h>

namespace propgrade {
namespace {

TEST(ExitCodesTest, StatusCodesMapToTheDocumentedExitCodes) {
  EXPECT_EQ(ExitCodeFor(OkStatus()), ExitCode::kSuccess);
  EXPECT_EQ(ExitCodeFor(InvalidArgumentError("bad date")), ExitCode::kUsage);
  EXPECT_EQ(ExitCodeFor(UnavailableError("db down")), ExitCode::kRefused);
  EXPECT_EQ(ExitCodeFor(InternalError("bug")), ExitCode::kProblems);
  EXPECT_EQ(ExitCodeFor(CancelledError("SIGINT")), ExitCode::kInterrupted);
  EXPECT_EQ(HttpStatusFor(InvalidArgumentError("x")), 400);
  EXPECT_EQ(HttpStatusFor(UnavailableError("x")), 503);
}

TEST(ExitCodesTest, RunStatusTableMatchesOperationsSpec) {
  struct Row { RunStatus s; bool dup; int exit; int http; const char* alert; };
  const Row rows[] = {
      {RunStatus::kSuccess, false, 0, 200, ""},
      {RunStatus::kNoPredictions, false, 0, 200, ""},
      {RunStatus::kNoActuals, false, 0, 200, ""},
      {RunStatus::kSuccess, true, 1, 200, "duplicates_detected"},
      {RunStatus::kFailed, false, 1, 500, "run_failed"},
      {RunStatus::kLockTimeout, false, 3, 503, "lock_acquisition_failed"},
      {RunStatus::kLockLost, false, 3, 409, "lock_lost"},
      {RunStatus::kFencedOut, false, 3, 409, "lock_lost"},
      {RunStatus::kCircuitOpen, false, 3, 503, "circuit_open"},
      {RunStatus::kUnavailable, false, 3, 503, "dependency_unavailable"},
  };
  for (const Row& r : rows) {
    RunStatusPolicy p = PolicyFor(r.s, r.dup);
    EXPECT_EQ(static_cast<int>(p.exit_code), r.exit) << RunStatusName(r.s);
    EXPECT_EQ(p.http_status, r.http) << RunStatusName(r.s);
    EXPECT_EQ(p.alert, r.alert) << RunStatusName(r.s);
    EXPECT_EQ(ParseRunStatus(RunStatusName(r.s)), r.s);
  }
}

TEST(ExitCodesTest, ErrorsBecomeRunStatuses) {
  EXPECT_EQ(RunStatusForError(AbortedError("x", StatusReason::kFencedOut)), RunStatus::kFencedOut);
  EXPECT_EQ(RunStatusForError(UnavailableError("x")), RunStatus::kUnavailable);
  EXPECT_EQ(RunStatusForError(InternalError("x")), RunStatus::kFailed);
}

TEST(ExitCodesTest, MultiDateRunTakesTheWorst) {
  EXPECT_EQ(WorseExitCode(ExitCode::kSuccess, ExitCode::kProblems), ExitCode::kProblems);
  EXPECT_EQ(WorseExitCode(ExitCode::kRefused, ExitCode::kProblems), ExitCode::kRefused);
  EXPECT_EQ(WorseExitCode(ExitCode::kSuccess, ExitCode::kSuccess), ExitCode::kSuccess);
}

}  // namespace
}  // namespace propgrade

#include "common/exit_codes.h"

#include <array>

namespace propgrade {

std::string_view SeverityName(Severity s) {
  switch (s) {
    case Severity::kDebug: return "DEBUG";
    case Severity::kInfo: return "INFO";
    case Severity::kWarning: return "WARNING";
    case Severity::kError: return "ERROR";
    case Severity::kCritical: return "CRITICAL";
  }
  return "INFO";
}

namespace {

struct CodeRow {
  StatusCode code;
  ExitCode exit_code;
  int http;
  Severity severity;
};

// The code table. Everything a user can fix in their input is 2; everything that means
// "a dependency is down or safety refused the run" is 3; a bug or corrupt data is 1.
constexpr std::array<CodeRow, 17> kCodeTable = {{
    {StatusCode::kOk, ExitCode::kSuccess, 200, Severity::kInfo},
    {StatusCode::kCancelled, ExitCode::kInterrupted, 499, Severity::kWarning},
    {StatusCode::kUnknown, ExitCode::kProblems, 500, Severity::kError},
    {StatusCode::kInvalidArgument, ExitCode::kUsage, 400, Severity::kError},
    {StatusCode::kDeadlineExceeded, ExitCode::kRefused, 503, Severity::kError},
    {StatusCode::kNotFound, ExitCode::kUsage, 404, Severity::kError},
    {StatusCode::kAlreadyExists, ExitCode::kUsage, 409, Severity::kError},
    {StatusCode::kPermissionDenied, ExitCode::kRefused, 403, Severity::kError},
    {StatusCode::kResourceExhausted, ExitCode::kRefused, 413, Severity::kError},
    {StatusCode::kFailedPrecondition, ExitCode::kUsage, 412, Severity::kError},
    {StatusCode::kAborted, ExitCode::kRefused, 409, Severity::kError},
    {StatusCode::kOutOfRange, ExitCode::kUsage, 400, Severity::kError},
    {StatusCode::kUnimplemented, ExitCode::kUsage, 501, Severity::kError},
    {StatusCode::kInternal, ExitCode::kProblems, 500, Severity::kCritical},
    {StatusCode::kUnavailable, ExitCode::kRefused, 503, Severity::kCritical},
    {StatusCode::kDataLoss, ExitCode::kProblems, 500, Severity::kCritical},
    {StatusCode::kUnauthenticated, ExitCode::kUsage, 401, Severity::kWarning},
}};

const CodeRow& RowFor(StatusCode code) {
  for (const CodeRow& row : kCodeTable) {
    if (row.code == code) return row;
  }
  return kCodeTable[2];
}

struct RunRow {
  RunStatus status;
  std::string_view name;
  RunStatusPolicy policy;
};

constexpr std::array<RunRow, 13> kRunTable = {{
    {RunStatus::kSuccess, "success", {ExitCode::kSuccess, 200, ""}},
    {RunStatus::kNoPredictions, "no_predictions", {ExitCode::kSuccess, 200, ""}},
    {RunStatus::kNoActuals, "no_actuals", {ExitCode::kSuccess, 200, ""}},
    {RunStatus::kUnchanged, "unchanged", {ExitCode::kSuccess, 200, ""}},
    {RunStatus::kLockTimeout, "lock_timeout", {ExitCode::kRefused, 503, "lock_acquisition_failed"}},
    {RunStatus::kLockLost, "lock_lost", {ExitCode::kRefused, 409, "lock_lost"}},
    {RunStatus::kFencedOut, "fenced_out", {ExitCode::kRefused, 409, "lock_lost"}},
    {RunStatus::kCircuitOpen, "circuit_open", {ExitCode::kRefused, 503, "circuit_open"}},
    {RunStatus::kUnavailable, "unavailable", {ExitCode::kRefused, 503, "dependency_unavailable"}},
    {RunStatus::kInvalidInput, "invalid_input", {ExitCode::kUsage, 400, ""}},
    {RunStatus::kInsufficientActuals,
     "insufficient_actuals",
     {ExitCode::kRefused, 409, "insufficient_actuals"}},
    {RunStatus::kShrinkRefused, "shrink_refused", {ExitCode::kRefused, 409, "partition_shrink"}},
    {RunStatus::kFailed, "failed", {ExitCode::kProblems, 500, "run_failed"}},
}};

int Rank(ExitCode c) {
  switch (c) {
    case ExitCode::kSuccess: return 0;
    case ExitCode::kProblems: return 1;
    case ExitCode::kUsage: return 2;
    case ExitCode::kRefused: return 3;
    case ExitCode::kInterrupted: return 4;
  }
  return 0;
}

}  // namespace

ExitCode ExitCodeFor(const Status& status) { return RowFor(status.code()).exit_code; }
int HttpStatusFor(const Status& status) { return RowFor(status.code()).http; }
Severity SeverityFor(const Status& status) { return RowFor(status.code()).severity; }

std::string_view RunStatusName(RunStatus s) {
  for (const RunRow& row : kRunTable) {
    if (row.status == s) return row.name;
  }
  return "failed";
}

std::optional<RunStatus> ParseRunStatus(std::string_view name) {
  for (const RunRow& row : kRunTable) {
    if (row.name == name) return row.status;
  }
  return std::nullopt;
}

RunStatusPolicy PolicyFor(RunStatus status, bool duplicates_detected) {
  if (status == RunStatus::kSuccess && duplicates_detected) {
    return {ExitCode::kProblems, 200, "duplicates_detected"};
  }
  for (const RunRow& row : kRunTable) {
    if (row.status == status) return row.policy;
  }
  return kRunTable.back().policy;
}

RunStatus RunStatusForError(const Status& error) {
  switch (error.reason()) {
    case StatusReason::kFencedOut:
    case StatusReason::kInputsChanged:  // the input fence: refused for safety, like a token's
      return RunStatus::kFencedOut;
    case StatusReason::kLockLost: return RunStatus::kLockLost;
    case StatusReason::kLockTimeout: return RunStatus::kLockTimeout;
    case StatusReason::kCircuitOpen: return RunStatus::kCircuitOpen;
    case StatusReason::kBadInput:
      return RunStatus::kInvalidInput;
    case StatusReason::kShrinkRefused:
      return RunStatus::kShrinkRefused;
    case StatusReason::kNone: break;
  }
  switch (error.code()) {
    case StatusCode::kUnavailable:
    case StatusCode::kPermissionDenied:
    case StatusCode::kResourceExhausted:
    case StatusCode::kDeadlineExceeded:
      return RunStatus::kUnavailable;
    default:
      return RunStatus::kFailed;
  }
}

ExitCode WorseExitCode(ExitCode a, ExitCode b) { return Rank(a) >= Rank(b) ? a : b; }

}  // namespace propgrade

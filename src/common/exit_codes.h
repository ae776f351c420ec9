// The one table that maps a Status code, and a run status, to the CLI exit code, the HTTP
// status and the log severity (spec/operations.md §2). Pure functions; thread-safe.
#pragma once

#include <optional>
#include <string_view>

#include "common/status.h"

namespace propgrade {

enum class ExitCode : int {
  kSuccess = 0,       // the job ran and found nothing wrong
  kProblems = 1,      // the job ran and found problems (check failures, duplicates, a failed run)
  kUsage = 2,         // usage or input error: bad flag, bad date, malformed file
  kRefused = 3,       // a dependency is unavailable or the run was refused for safety
  kInterrupted = 130, // SIGINT / SIGTERM
};

enum class Severity { kDebug, kInfo, kWarning, kError, kCritical };
std::string_view SeverityName(Severity s);  // "INFO", "WARNING", ...

// Status code → exit code / HTTP status / log severity.
ExitCode ExitCodeFor(const Status& status);
int HttpStatusFor(const Status& status);
Severity SeverityFor(const Status& status);

// The outcome of one processor step (spec/grading.md §3.7).
enum class RunStatus {
  kSuccess,
  kNoPredictions,
  kNoActuals,
  kUnchanged,  // a load whose rows the partition already holds: nothing written
  kLockTimeout,
  kLockLost,
  kFencedOut,
  kCircuitOpen,
  kUnavailable,
  kFailed,
  kInvalidInput,  // a load's query gave rows that do not fit the table: nothing written
  // The coverage gate: the date's box scores cover too few predictions or games (half
  // loaded); nothing written.
  kInsufficientActuals,
  // The shrink guard: the write would have removed more of the stored partition's keys than
  // max_shrink_ratio allows; nothing written.
  kShrinkRefused,
};

std::string_view RunStatusName(RunStatus s);  // "success", "no_actuals", ...
std::optional<RunStatus> ParseRunStatus(std::string_view name);

struct RunStatusPolicy {
  ExitCode exit_code;
  int http_status;
  std::string_view alert;  // alert type raised for this outcome; empty for none
};

// The row of operations.md §2's table for a run that ended in `status`;
// `duplicates_detected` selects the "success with duplicates detected" row.
RunStatusPolicy PolicyFor(RunStatus status, bool duplicates_detected);

// The run status a step ends with when it stopped on `error` (not ok).
RunStatus RunStatusForError(const Status& error);

// The code with the higher rank among a multi-date run's codes: 130 > 3 > 2 > 1 > 0.
ExitCode WorseExitCode(ExitCode a, ExitCode b);

}  // namespace propgrade

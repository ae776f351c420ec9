// The figures of one reliability scenario run (spec/reliability.md), for docs/RELIABILITY.md:
// RecordScenario appends them as one JSON line to the file named by
// $PROPGRADE_RELIABILITY_REPORT (tests/reliability/run.sh sets it; nothing happens when unset).
// Tests only; thread-compatible.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace propgrade::testing {

struct ScenarioReport {
  std::string scenario;     // "R1", ..., "R9"
  std::string title;        // what was done, in a few words
  std::string combination;  // store+lock: "sqlite+db", "postgres+etcd", "sqlite+none", ...
  std::string size;         // "8 processes x 200 rounds", "30 trials"
  int64_t runs = 0;         // propgrade processes started
  std::string faults;       // what was injected: "160 SIGKILLs", "30 leader kills", "none"
  // The checkers' findings over the whole scenario; nullopt where a checker does not apply.
  std::optional<int64_t> duplicate_groups;  // business keys held more than once
  std::optional<int64_t> lost_rows;         // expected rows missing (or unexpected ones present)
  std::optional<int64_t> fence_violations;  // committed writes whose token did not increase
  std::optional<int64_t> overlaps;          // write sections of one partition that overlapped
  std::string outcome;  // the runs' endings and anything scenario-specific
  // A sensitivity run (R4): a deliberately broken writer, so the checkers' findings are
  // expected (they prove the checker can fail).
  bool sensitivity = false;
  bool passed = false;  // every assertion of the test held
  double seconds = 0;
};

// Appends `report` to $PROPGRADE_RELIABILITY_REPORT (no-op when unset).
void RecordScenario(const ScenarioReport& report);

}  // namespace propgrade::testing

// The mutual-exclusion and fence-monotonicity checkers of spec/reliability.md: every run logs
// `write_section` enter/exit events (key, token, at_micros, committed) as JSON lines; these
// functions pair them up and look for overlaps and non-increasing committed tokens.
// Tests only; pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace propgrade::testing {

// One logged visit of a write section.
struct Section {
  std::string key;
  int64_t token = -1;  // -1: none
  int64_t enter = 0;   // microseconds (the process's wall clock)
  int64_t exit = -1;   // -1: the process died inside
  bool committed = false;
};

// Pairs the write_section enter/exit lines of one process's JSON-lines log.
std::vector<Section> Sections(const std::string& log);

struct SectionViolations {
  int overlaps = 0;        // sections of one key that overlapped in time
  int non_increasing = 0;  // committed writes whose token did not exceed the previous one's
};

// Over every section seen so far (of any number of processes). A section whose process died
// counts as the single instant it entered.
SectionViolations Violations(const std::vector<Section>& all);

}  // namespace propgrade::testing

#include "testing/reliability_report.h"

#include <fcntl.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "testing/queries.h"

namespace propgrade::testing {

void RecordScenario(const ScenarioReport& r) {
  const std::string path = EnvString("PROPGRADE_RELIABILITY_REPORT");
  if (path.empty()) return;
  auto opt = [](const std::optional<int64_t>& v) {
    return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
  };
  nlohmann::json j = {{"scenario", r.scenario},
                      {"title", r.title},
                      {"combination", r.combination},
                      {"size", r.size},
                      {"runs", r.runs},
                      {"faults", r.faults},
                      {"duplicate_groups", opt(r.duplicate_groups)},
                      {"lost_rows", opt(r.lost_rows)},
                      {"fence_violations", opt(r.fence_violations)},
                      {"overlaps", opt(r.overlaps)},
                      {"outcome", r.outcome},
                      {"sensitivity", r.sensitivity},
                      {"passed", r.passed},
                      {"seconds", r.seconds}};
  // One write(2) per line on an O_APPEND file: lines of parallel test processes never mix.
  std::string line = j.dump() + "\n";
  int fd = open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT, 0644);
  if (fd < 0) return;
  ssize_t n = write(fd, line.data(), line.size());
  (void)n;
  close(fd);
}

}  // namespace propgrade::testing

// One measurement of the bench/README.md contract, printed as a JSON line on stdout.
#pragma once

#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>

namespace propgrade::bench {

struct Measurement {
  std::string id;        // "P3", "P5", ...
  std::string workload;  // what `ours` timed
  double ours = 0;       // median, in `unit`
  std::string compare;   // what `theirs` timed, in the same run
  double theirs = 0;
  std::string unit = "ms";
  std::string target;    // the spec's target, as text
  bool met = false;
  nlohmann::json extra = nlohmann::json::object();
};

inline void Print(const Measurement& m) {
  nlohmann::json j = {{"id", m.id},         {"workload", m.workload}, {"ours", m.ours},
                      {"compare", m.compare}, {"theirs", m.theirs},   {"unit", m.unit},
                      {"ratio", m.theirs > 0 ? m.ours / m.theirs : 0.0},
                      {"target", m.target}, {"met", m.met},           {"extra", m.extra}};
  std::printf("%s\n", j.dump().c_str());
  std::fflush(stdout);
}

}  // namespace propgrade::bench

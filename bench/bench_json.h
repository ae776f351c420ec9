// One measurement of the bench/README.md contract, printed as a JSON line on stdout, and the
// timing helpers the benchmark programs share.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <vector>
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

// Milliseconds on the steady clock.
inline double NowMs() {
  return std::chrono::duration<double, std::milli>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// The median (the upper one of an even count); `v` must not be empty.
inline double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

inline void Print(const Measurement& m) {
  nlohmann::json j = {{"id", m.id},         {"workload", m.workload}, {"ours", m.ours},
                      {"compare", m.compare}, {"theirs", m.theirs},   {"unit", m.unit},
                      {"ratio", m.theirs > 0 ? m.ours / m.theirs : 0.0},
                      {"target", m.target}, {"met", m.met},           {"extra", m.extra}};
  std::printf("%s\n", j.dump().c_str());
  std::fflush(stdout);
}

}  // namespace propgrade::bench

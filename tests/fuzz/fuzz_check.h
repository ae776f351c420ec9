// FUZZ_CHECK: an invariant of a fuzz target. A violation prints the condition (and the optional
// detail) and aborts, which the fuzzer reports as a crash, saving the input. Header-only;
// thread-safe.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace propgrade::fuzz {

[[noreturn]] inline void InvariantFailed(const char* file, int line, const char* condition,
                                         std::string_view detail = {}) {
  std::fprintf(stderr, "%s:%d: invariant violated: %s%s%.*s\n", file, line, condition,
               detail.empty() ? "" : ": ", static_cast<int>(detail.size()), detail.data());
  std::fflush(stderr);
  std::abort();
}

}  // namespace propgrade::fuzz

// Aborts unless `condition` holds; an optional second argument (text) says what was found.
#define FUZZ_CHECK(condition, ...)                                                   \
  do {                                                                               \
    if (!(condition)) {                                                              \
      ::propgrade::fuzz::InvariantFailed(__FILE__, __LINE__, #condition __VA_OPT__(, ) \
                                             __VA_ARGS__);                           \
    }                                                                                \
  } while (0)

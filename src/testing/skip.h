// Skipping a test whose server or tool is missing (PostgreSQL, etcd, the 3-member cluster, root
// for chattr/tmpfs/runuser, promtool, ...): a plain skip on a developer's machine, but a failure
// when the run demands everything (scripts/test.sh and tests/reliability/run.sh export
// PROPGRADE_TEST_REQUIRE_ALL=1 once they started the servers), so CI cannot pass by skipping.
// A test that does not apply to a parameter (a PostgreSQL-only case on SQLite) uses GTEST_SKIP.
// Tests only.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

namespace propgrade::testing {

// True when PROPGRADE_TEST_REQUIRE_ALL=1.
inline bool RequireAll() {
  const char* v = std::getenv("PROPGRADE_TEST_REQUIRE_ALL");
  return v && std::string(v) == "1";
}

}  // namespace propgrade::testing

// Skips (or, under PROPGRADE_TEST_REQUIRE_ALL=1, fails) the current test, saying what is missing.
// Returns from the enclosing void function, like GTEST_SKIP.
#define PROPGRADE_SKIP_WITHOUT(what)                                                  \
  do {                                                                                \
    if (::propgrade::testing::RequireAll()) {                                         \
      GTEST_FAIL() << "required in this run (PROPGRADE_TEST_REQUIRE_ALL=1): " << what; \
    } else {                                                                          \
      GTEST_SKIP() << what;                                                           \
    }                                                                                 \
  } while (0)

// PostgreSQL helpers for tests: a fresh schema per test (PROPGRADE_TEST_PG_URL?schema=...) and
// dropping it afterwards. Tests only.
#pragma once

#include <string>

namespace propgrade::testing {

// Lower-case letters and digits, unique enough for concurrent test processes.
std::string RandomSchemaSuffix();
// The password in a postgresql:// URL ("" when none), for tests that grep output for it.
std::string PgPassword(const std::string& url);
// DROP SCHEMA ... CASCADE through `base_url` (without ?schema); errors are ignored.
void DropPgSchema(const char* base_url, const std::string& schema);

}  // namespace propgrade::testing

// Small helpers of the end-to-end suites: reading a SQLite file with plain SQLite (independent
// of propgrade's Store) and sizes from the environment. Tests only.
#pragma once

#include <set>
#include <string>

namespace propgrade::testing {

// The first column of every row `sql` returns ("NULL" for NULL), read-only; an error (a
// statement that writes, too) comes back as one "ERROR: ..." row.
std::multiset<std::string> SqliteQuery(const std::string& path, const std::string& sql);

// The same for a store URL: `sqlite:PATH` through SqliteQuery, or a PostgreSQL URL (with its
// ?schema=) through libpq; errors come back as one "ERROR: ..." row.
std::multiset<std::string> DbQuery(const std::string& url, const std::string& sql);

// Runs `sql` (any number of statements) on a store URL as a user's own client would, outside
// propgrade: "ok", or the database's error message.
std::string DbExec(const std::string& url, const std::string& sql);

// An integer from the environment, or `fallback` when unset or empty.
int EnvInt(const char* name, int fallback);
// A string from the environment ("" when unset).
std::string EnvString(const char* name);

}  // namespace propgrade::testing

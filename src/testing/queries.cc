#include "testing/queries.h"

#include <sqlite3.h>

#include <cstdlib>

#include "db/pg_conn.h"

namespace propgrade::testing {

std::multiset<std::string> SqliteQuery(const std::string& path, const std::string& sql) {
  std::multiset<std::string> out;
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    sqlite3_close(db);
    out.insert("ERROR: cannot open " + path);
    return out;
  }
  sqlite3_busy_timeout(db, 60000);
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK) {
    out.insert(std::string("ERROR: ") + sqlite3_errmsg(db));
  }
  int rc = SQLITE_DONE;
  while (stmt && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    const unsigned char* t = sqlite3_column_text(stmt, 0);
    out.insert(t ? reinterpret_cast<const char*>(t) : "NULL");
  }
  if (stmt && rc != SQLITE_DONE) out.insert(std::string("ERROR: ") + sqlite3_errmsg(db));
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return out;
}

std::multiset<std::string> DbQuery(const std::string& url, const std::string& sql) {
  if (url.rfind("sqlite:", 0) == 0) return SqliteQuery(url.substr(7), sql);
  std::multiset<std::string> out;
  auto parsed = ParsePgUrl(url);
  auto conn = parsed.ok() ? PgConn::Connect(*parsed)
                          : StatusOr<std::unique_ptr<PgConn>>(parsed.status());
  if (!conn.ok()) {
    out.insert("ERROR: " + conn.status().message());
    return out;
  }
  auto r = (*conn)->Exec(sql);
  if (!r.ok()) {
    out.insert("ERROR: " + r.status().message());
    return out;
  }
  for (int i = 0; i < r->rows(); ++i) {
    out.insert(r->is_null(i, 0) ? "NULL" : std::string(r->text(i, 0)));
  }
  return out;
}

std::string DbExec(const std::string& url, const std::string& sql) {
  if (url.rfind("sqlite:", 0) == 0) {
    const std::string path = url.substr(7);
    sqlite3* db = nullptr;
    if (sqlite3_open(path.c_str(), &db) != SQLITE_OK) {
      sqlite3_close(db);
      return "cannot open " + path;
    }
    sqlite3_busy_timeout(db, 60000);
    char* err = nullptr;
    const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
    std::string message = err ? err : "";
    sqlite3_free(err);
    sqlite3_close(db);
    return rc == SQLITE_OK ? "ok" : message;
  }
  for (const std::string& line : DbQuery(url, sql)) {
    if (line.rfind("ERROR", 0) == 0) return line;
  }
  return "ok";
}

int EnvInt(const char* name, int fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::atoi(v) : fallback;
}

std::string EnvString(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

}  // namespace propgrade::testing

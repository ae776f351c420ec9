#include "testing/pg.h"

#include "common/ids.h"
#include "db/pg_conn.h"

namespace propgrade::testing {

std::string RandomSchemaSuffix() { return RandomHex(12); }

std::string PgPassword(const std::string& url) {
  auto parsed = ParsePgUrl(url);
  return parsed.ok() ? parsed->password : "";
}

void DropPgSchema(const char* base_url, const std::string& schema) {
  if (!base_url || !*base_url) return;
  auto url = ParsePgUrl(base_url);
  if (!url.ok()) return;
  auto conn = PgConn::Connect(*url);
  if (!conn.ok()) return;
  (*conn)->Exec("DROP SCHEMA IF EXISTS \"" + schema + "\" CASCADE").status().IgnoreError();
}

}  // namespace propgrade::testing

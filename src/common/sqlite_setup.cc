#include "common/sqlite_setup.h"

#include <sqlite3.h>

#include <mutex>

namespace propgrade {

void ConfigureSqliteOnce() {
  static std::once_flag once;
  std::call_once(once, [] {
    // SQLITE_MISUSE when the library was already initialised: the setting is then left as is.
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
  });
}

}  // namespace propgrade

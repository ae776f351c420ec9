// What every subcommand starts from: the resolved configuration (file < environment < flags),
// the logger, metrics, the circuit breaker, the alerter and, on demand, the store, the lock
// service and the pipeline. When the database cannot be reached the pipeline still runs: its
// steps end `unavailable`, count against the breaker and alert. Writes --metrics-file and
// delivers queued alerts when it is destroyed. Not thread-safe.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "cli/commands.h"
#include "common/civil_date.h"
#include "common/status.h"
#include "common/strings.h"
#include "config/config.h"
#include "lock/lock_service.h"
#include "observe/log.h"
#include "observe/metrics.h"
#include "pipeline/pipeline.h"
#include "safety/alerter.h"
#include "safety/circuit_breaker.h"
#include "store/store.h"

namespace propgrade::cli {

// For Context::Create, before a context exists to report through.
#define CLI_ASSIGN_OR_EXIT(lhs, expr)                                                       \
  do {                                                                                      \
    auto pg_ctx_ = (expr);                                                                  \
    if (!pg_ctx_.ok()) {                                                                    \
      std::cerr << "propgrade: error: " << RedactUrlCredentials(pg_ctx_.status().message()) \
                << "\n";                                                                    \
      return static_cast<int>(ExitCodeFor(pg_ctx_.status()));                               \
    }                                                                                       \
    lhs = std::move(pg_ctx_).value();                                                       \
  } while (0)

#define CLI_ASSIGN_OR_FAIL(lhs, expr, ctx) \
  CLI_ASSIGN_OR_FAIL_IMPL_(PG_CONCAT_(cli_statusor_, __LINE__), lhs, expr, ctx)
#define CLI_ASSIGN_OR_FAIL_IMPL_(tmp, lhs, expr, ctx) \
  auto tmp = (expr);                                  \
  if (!tmp.ok()) return (ctx)->Fail(tmp.status());    \
  lhs = std::move(tmp).value()

// InvalidArgument "FLAG 'VALUE' is not a valid date (YYYY-MM-DD)" unless `value` is one.
StatusOr<CivilDay> ParseDateFlag(std::string_view flag, const std::string& value);

// How a command uses the database (docs/operations.md, "Which commands create a database").
enum class DbUse {
  kCreate,    // writes, and creates a database that does not exist (init, import, grade, ...)
  kExisting,  // writes to an existing database only (aggregate, dedupe, check, ...)
  kRead,      // reads an existing database, opened read-only (report, export, locks list)
};

class Context {
 public:
  // Loads configuration and creates the logger; opens nothing. `use` decides how the store
  // opens (StoreOptions::create_if_missing, read_only).
  static StatusOr<std::unique_ptr<Context>> Create(const GlobalOptions& g, DbUse use);
  ~Context();

  const Config& config() const { return config_; }
  Logger& log() { return *log_; }
  Clock& clock() { return RealClock(); }
  CancelToken* cancel() { return cancel_; }
  Metrics& metrics() { return metrics_; }
  CircuitBreaker& breaker() { return *breaker_; }
  StoreOptions store_options() const;

  // Opens (once) the configured store / lock service.
  StatusOr<Store*> store();
  StatusOr<LockService*> locks();
  // The alerter (its ledger is the store when the store opens).
  Alerter& alerts();
  // Fresh connections to the configured store / lock service (one per worker).
  StoreFactory store_factory() const;
  LockFactory lock_factory() const;
  // A pipeline; fails only on configuration errors, not on an unreachable database.
  StatusOr<Pipeline*> pipeline();

  // Prints "propgrade: error: ..." to stderr and returns the status's exit code.
  int Fail(const Status& status);

 private:
  StatusOr<std::unique_ptr<LockService>> OpenLocks(Store* store) const;
  // The value of an enabled test hook variable ("" when unset or not enabled).
  std::string TestHook(const char* name) const;

  Config config_;
  DbUse db_use_ = DbUse::kCreate;
  std::map<std::string, std::string> test_hooks_;  // enabled PROPGRADE_TEST_* variables
  std::string metrics_file_;
  std::unique_ptr<Logger> log_;
  CancelToken* cancel_ = nullptr;
  CancelToken own_cancel_;
  Metrics metrics_;
  std::unique_ptr<CircuitBreaker> breaker_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<LockService> locks_;
  std::unique_ptr<Alerter> alerts_;
  std::unique_ptr<Pipeline> pipeline_;
};

// True when the file descriptor is a terminal.
bool IsTty(int fd);

// A secret from the environment variable `env_name`, else from the first line of `file`
// ("" when neither is set).
std::string ReadSecret(const std::string& env_name, const std::string& file);

}  // namespace propgrade::cli

#include "cli/context.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <iostream>

namespace propgrade::cli {

bool IsTty(int fd) { return isatty(fd) == 1; }

StatusOr<std::unique_ptr<Context>> Context::Create(const GlobalOptions& g) {
  auto ctx = std::make_unique<Context>();
  EnvLookup env = ProcessEnvironment();
  std::string path = g.config;
  if (path.empty()) {
    if (const char* p = env("PROPGRADE_CONFIG"); p && *p) path = p;
  }
  if (path.empty() && std::filesystem::exists("propgrade.toml")) path = "propgrade.toml";
  if (!path.empty()) {
    ASSIGN_OR_RETURN(ctx->config_, LoadConfigFile(path));
  }
  ApplyEnvironment(env, &ctx->config_);
  if (!g.db.empty()) ctx->config_.db = g.db;
  if (!g.lock.empty()) ctx->config_.lock = g.lock;

  std::string format = g.log_format;
  if (format.empty()) {
    if (const char* f = env("PROPGRADE_LOG_FORMAT"); f && *f) format = f;
  }
  // On a terminal without an explicit choice, progress and results speak for the routine
  // events: the log shows warnings and errors only.
  bool terminal = IsTty(2);
  bool quiet = format.empty() && terminal;
  if (format.empty()) format = terminal ? "text" : "json";
  if (format != "text" && format != "json") {
    return InvalidArgumentError("--log-format must be text or json");
  }
  ctx->log_ = std::make_unique<Logger>(&std::cerr,
                                       format == "json" ? LogFormat::kJson : LogFormat::kText,
                                       &RealClock(), quiet ? Severity::kWarning : Severity::kInfo);
  ctx->log_->set_clear_line(terminal);
  ctx->cancel_ = g.cancel ? g.cancel : &ctx->own_cancel_;
  return ctx;
}

StoreOptions Context::store_options() const {
  StoreOptions o;
  o.enforce_unique_keys = config_.grading.enforce_unique_keys;
  o.clock = &RealClock();
  return o;
}

StatusOr<Store*> Context::store() {
  if (!store_) {
    ASSIGN_OR_RETURN(store_, Store::Open(config_.db, store_options()));
  }
  return store_.get();
}

StatusOr<LockService*> Context::locks() {
  if (!locks_) {
    ASSIGN_OR_RETURN(Store * s, store());  // the db backend needs the schema
    LockOptions options;
    options.clock = &RealClock();
    if (config_.lock == "db") {
      if (s->backend() == "postgres") {
        options.postgres_url = config_.db;
      } else {
        ASSIGN_OR_RETURN(options.sqlite_path, SqlitePathOf(config_.db));
      }
    }
    ASSIGN_OR_RETURN(locks_, LockService::Open(config_.lock, options));
  }
  return locks_.get();
}

StatusOr<Pipeline*> Context::pipeline() {
  if (!pipeline_) {
    ASSIGN_OR_RETURN(Store * s, store());
    ASSIGN_OR_RETURN(LockService * l, locks());
    std::string url = config_.db;
    StoreOptions options = store_options();
    pipeline_ = std::make_unique<Pipeline>(
        s, [url, options] { return Store::Open(url, options); }, l, &config_, &RealClock(),
        log_.get(), cancel_);
    // Fault injection for the reliability suites, by environment only.
    SafeWriterTestHooks hooks;
    if (const char* ms = std::getenv("PROPGRADE_TEST_PAUSE_AFTER_ACQUIRE_MS")) {
      hooks.TEST_pause_after_acquire_micros = std::atoll(ms) * 1000;
    }
    if (const char* off = std::getenv("PROPGRADE_TEST_DISABLE_LEASE_CHECK")) {
      hooks.TEST_disable_lease_check = std::string(off) == "1";
    }
    pipeline_->set_test_hooks(hooks);
  }
  return pipeline_.get();
}

int Context::Fail(const Status& status) {
  std::cerr << "propgrade: error: " << status.message() << "\n";
  return static_cast<int>(ExitCodeFor(status));
}

}  // namespace propgrade::cli

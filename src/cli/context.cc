#include "cli/context.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "common/strings.h"

namespace propgrade::cli {

StatusOr<CivilDay> ParseDateFlag(std::string_view flag, const std::string& value) {
  auto d = CivilDay::Parse(value);
  if (!d) {
    return InvalidArgumentError(std::string(flag) + " '" + value +
                                "' is not a valid date (YYYY-MM-DD)");
  }
  return *d;
}

bool IsTty(int fd) { return isatty(fd) == 1; }

std::string ReadSecret(const std::string& env_name, const std::string& file) {
  if (!env_name.empty()) {
    if (const char* v = std::getenv(env_name.c_str()); v && *v) return v;
  }
  if (!file.empty()) {
    std::ifstream in(file);
    std::string line;
    if (std::getline(in, line)) {
      while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
      return line;
    }
  }
  return "";
}

namespace {

// The [database] bounds (validated: 0 to 2e6 s) as the milliseconds StoreOptions and
// LockOptions take.
template <typename Options>
void SetDatabaseBounds(const DatabaseConfig& c, Options* o) {
  auto ms = [](double seconds) { return static_cast<int>(seconds * 1000 + 0.5); };
  o->busy_timeout_ms = ms(c.lock_timeout_seconds);
  o->statement_timeout_ms = ms(c.statement_timeout_seconds);
  o->idle_in_transaction_timeout_ms = ms(c.idle_in_transaction_timeout_seconds);
}

// The fault-injection variables of the reliability suites (src/safety/safe_writer.h,
// StoreOptions::TEST_*).
constexpr const char* kTestHooks[] = {
    "PROPGRADE_TEST_NON_ATOMIC_WRITE",        "PROPGRADE_TEST_NON_ATOMIC_GAP_MS",
    "PROPGRADE_TEST_PAUSE_BEFORE_ACQUIRE_MS", "PROPGRADE_TEST_PAUSE_AFTER_ACQUIRE_MS",
    "PROPGRADE_TEST_PAUSE_IN_TRANSACTION_MS", "PROPGRADE_TEST_DISABLE_LEASE_CHECK",
    "PROPGRADE_TEST_LOSE_A_ROW",              "PROPGRADE_TEST_SKIP_FENCE_CHECK",
};

}  // namespace

StatusOr<std::unique_ptr<Context>> Context::Create(const GlobalOptions& g, DbUse use) {
  auto ctx = std::make_unique<Context>();
  ctx->db_use_ = use;
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
  ctx->metrics_file_ = g.metrics_file;

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
  // Test switches take effect only behind --enable-test-hooks, and say so loudly.
  std::vector<LogField> hooks;
  for (const char* name : kTestHooks) {
    if (const char* v = env(name); v && *v) {
      hooks.push_back({name, Value::Text(v)});
      if (g.enable_test_hooks) ctx->test_hooks_[name] = v;
    }
  }
  if (g.enable_test_hooks) {
    ctx->log_->Log(Severity::kCritical, "test_hooks_enabled", hooks);
  } else if (!hooks.empty()) {
    ctx->log_->Warn("test_hooks_ignored", hooks);  // they need --enable-test-hooks
  }
  ctx->cancel_ = g.cancel ? g.cancel : &ctx->own_cancel_;
  ctx->breaker_ = std::make_unique<CircuitBreaker>(ctx->config_.breaker.state_file,
                                                   ctx->config_.breaker.failure_threshold,
                                                   ctx->config_.breaker.open_seconds, &RealClock());
  return ctx;
}

Context::~Context() {
  pipeline_.reset();
  alerts_.reset();  // delivers what is queued (bounded)
  if (!metrics_file_.empty()) {
    Status s = metrics_.WriteTextfile(metrics_file_);
    if (!s.ok()) std::cerr << "propgrade: warning: " << s.message() << "\n";
  }
}

StoreOptions Context::store_options() const {
  StoreOptions o;
  o.enforce_unique_keys = config_.grading.enforce_unique_keys;
  o.sqlite_synchronous_full = config_.sqlite.synchronous == "full";
  SetDatabaseBounds(config_.database, &o);
  o.cancel = cancel_;
  o.clock = &RealClock();
  o.create_if_missing = db_use_ == DbUse::kCreate;
  o.read_only = db_use_ == DbUse::kRead;
  o.declared_tables = config_.tables;
  o.TEST_non_atomic_replace = TestHook("PROPGRADE_TEST_NON_ATOMIC_WRITE") == "1";
  o.TEST_non_atomic_gap_micros = std::atoll(TestHook("PROPGRADE_TEST_NON_ATOMIC_GAP_MS").c_str()) * 1000;
  o.TEST_lose_a_row = TestHook("PROPGRADE_TEST_LOSE_A_ROW") == "1";
  o.TEST_skip_fence_check = TestHook("PROPGRADE_TEST_SKIP_FENCE_CHECK") == "1";
  return o;
}

StatusOr<Store*> Context::store() {
  if (!store_) {
    ASSIGN_OR_RETURN(store_, Store::Open(config_.db, store_options()));
  }
  return store_.get();
}

std::string Context::TestHook(const char* name) const {
  auto it = test_hooks_.find(name);
  return it == test_hooks_.end() ? "" : it->second;
}

StatusOr<std::unique_ptr<LockService>> Context::OpenLocks(Store* store) const {
  if (config_.lock == "none") {
    log_->Warn("lock_none",
               {{"detail", Value::Text("lock = none: runs of one partition are not kept apart "
                                       "(no lease, no fencing token); only the atomic replace "
                                       "and the input fence protect the data. For tests and "
                                       "demonstrations only: use db or etcd://")}});
  }
  LockOptions options;
  options.clock = &RealClock();
  SetDatabaseBounds(config_.database, &options);
  if (config_.lock == "db") options.store_url = config_.db;
  return LockService::Open(config_.lock, options);
}

StatusOr<LockService*> Context::locks() {
  if (!locks_) {
    ASSIGN_OR_RETURN(Store * s, store());
    ASSIGN_OR_RETURN(locks_, OpenLocks(s));
  }
  return locks_.get();
}

Alerter& Context::alerts() {
  if (!alerts_) {
    std::vector<std::unique_ptr<AlertSink>> sinks;
    HttpRequestOptions http;
    http.ca_file = config_.alerts.ca_file;
    std::string slack = ReadSecret(config_.alerts.slack_webhook_url_env,
                                   config_.alerts.slack_webhook_url_file);
    std::string hook = ReadSecret(config_.alerts.webhook_url_env, config_.alerts.webhook_url_file);
    if (!slack.empty()) sinks.push_back(NewSlackSink(slack, NewCurlHttpClient(), http));
    if (!hook.empty()) sinks.push_back(NewWebhookSink(hook, NewCurlHttpClient(), http));
    auto s = store();
    AlerterOptions options;
    options.min_interval_seconds = config_.alerts.min_interval_seconds;
    alerts_ = std::make_unique<Alerter>(s.ok() ? *s : nullptr, std::move(sinks), &metrics_,
                                        log_.get(), &RealClock(), options);
  }
  return *alerts_;
}

StoreFactory Context::store_factory() const {
  std::string url = config_.db;
  StoreOptions options = store_options();
  return [url, options] { return Store::Open(url, options); };
}

LockFactory Context::lock_factory() const {
  return [this](Store* store) { return OpenLocks(store); };
}

StatusOr<Pipeline*> Context::pipeline() {
  if (pipeline_) return pipeline_.get();
  PipelineDeps deps;
  auto s = store();
  if (!s.ok() && s.status().code() != StatusCode::kUnavailable) return s.status();
  deps.store = s.ok() ? *s : nullptr;
  if (deps.store) {
    auto l = locks();
    if (!l.ok() && l.status().code() != StatusCode::kUnavailable) return l.status();
    deps.locks = l.ok() ? *l : nullptr;
  }
  deps.store_factory = store_factory();
  deps.lock_factory = lock_factory();
  deps.options = PipelineOptionsOf(config_);
  deps.clock = &RealClock();
  deps.log = log_.get();
  deps.metrics = &metrics_;
  deps.alerts = &alerts();
  deps.breaker = breaker_.get();
  deps.cancel = cancel_;
  pipeline_ = std::make_unique<Pipeline>(std::move(deps));
  // Fault injection for the reliability suites (--enable-test-hooks only).
  auto micros = [this](const char* name) { return std::atoll(TestHook(name).c_str()) * 1000; };
  SafeWriterTestHooks hooks;
  hooks.TEST_pause_before_acquire_micros = micros("PROPGRADE_TEST_PAUSE_BEFORE_ACQUIRE_MS");
  hooks.TEST_pause_in_transaction_micros = micros("PROPGRADE_TEST_PAUSE_IN_TRANSACTION_MS");
  hooks.TEST_pause_after_acquire_micros = micros("PROPGRADE_TEST_PAUSE_AFTER_ACQUIRE_MS");
  hooks.TEST_disable_lease_check = TestHook("PROPGRADE_TEST_DISABLE_LEASE_CHECK") == "1";
  pipeline_->set_test_hooks(hooks);
  return pipeline_.get();
}

int Context::Fail(const Status& status) {
  // A URL the user gave may be part of the message: its password never is.
  std::cerr << "propgrade: error: " << RedactUrlCredentials(status.message()) << "\n";
  return static_cast<int>(ExitCodeFor(status));
}

}  // namespace propgrade::cli

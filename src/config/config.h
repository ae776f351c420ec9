// Config: propgrade.toml (spec/operations.md §3) with environment overrides; flags override
// both (the CLI applies them). Unknown keys are an error naming the key. Secrets are never
// stored here: only the names of the environment variables that hold them.
// Plain value; thread-compatible.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "checks/checks.h"
#include "common/status.h"
#include "grading/rules.h"
#include "lock/lock_policy.h"
#include "pipeline/pipeline.h"
#include "safety/remediation.h"
#include "schema/schema.h"

namespace propgrade {

struct BreakerConfig {
  int failure_threshold = 3;   // Default: 3
  double open_seconds = 300;   // Default: 300
  std::string state_file = "~/.local/state/propgrade/breakers.json";
};


struct GradingConfig {
  // Default: ACTUAL_PROP, ODDS_API, BETTINGPROS (grading::DefaultRealLineSources)
  std::vector<std::string> real_line_sources = grading::DefaultRealLineSources();
  bool enforce_unique_keys = true;  // Default: true
  // The coverage gate: a date whose box scores cover less than this share of its kept
  // predictions (player) or of their games (game) ends insufficient_actuals, writing
  // nothing; 0 turns it off. Default: 0.70 and 0.80
  double min_player_coverage = 0.70;
  double min_game_coverage = 0.80;
};

struct AlertsConfig {
  // Where the webhook URLs (secrets) come from: an environment variable, or a file whose path
  // is given instead (its first line). Never the URL itself.
  std::string slack_webhook_url_env = "PROPGRADE_SLACK_WEBHOOK_URL";
  std::string webhook_url_env = "PROPGRADE_ALERT_WEBHOOK_URL";
  std::string slack_webhook_url_file;
  std::string webhook_url_file;
  double min_interval_seconds = 300;  // Default: 300
  std::string ca_file;                // Default: "" (system bundle)
};


struct SqliteConfig {
  // PRAGMA synchronous of the store's connections: "full" fsyncs the WAL at every commit, so an
  // acknowledged write survives a power loss; "normal" syncs only at checkpoints (faster: the
  // last commits before a power loss or OS crash may be lost, never the file's integrity).
  // Default: "full"
  std::string synchronous = "full";
};

// Bounds on every wait for the database (both backends unless said).
struct DatabaseConfig {
  // How long a statement waits for a lock another writer holds before the step fails
  // `unavailable` (SQLite's busy timeout, PostgreSQL's lock_timeout). Default: 60
  double lock_timeout_seconds = 60;
  // PostgreSQL: the longest one statement may run (statement_timeout; 0 = no limit). Default: 900
  double statement_timeout_seconds = 900;
  // PostgreSQL: a session silent inside a transaction this long (a stopped or hung propgrade)
  // is ended by the server, which releases its locks (idle_in_transaction_session_timeout;
  // 0 = never). Default: 60
  double idle_in_transaction_timeout_seconds = 60;
};

struct ServerConfig {
  std::string listen = "127.0.0.1:8080";
  std::string token_env = "PROPGRADE_TRIGGER_TOKEN";
  // Whether /api/* and /metrics need the bearer token too: "auto" (when listening beyond
  // loopback), "always" (a token is then required) or "never". Default: auto
  std::string protect_reads = "auto";
  // How long POST /v1/runs?wait=true waits for the run before answering 202 with its id,
  // 0 < seconds <= 3600. Default: 55 (under the 60 s idle timeouts of common proxies)
  double wait_timeout_seconds = 55;
};

struct Config {
  std::string db = "sqlite:propgrade.db";   // Default: sqlite:propgrade.db
  std::string lock = "db";                  // Default: db
  std::string timezone = "America/New_York";
  LockPolicy lock_policy;
  BreakerConfig breaker;
  RemediationPolicy remediation;
  GradingConfig grading;
  AlertsConfig alerts;
  ChecksConfig checks;
  SqliteConfig sqlite;
  DatabaseConfig database;
  ServerConfig server;
  // [writes]: the shrink guard and partition history of every replace.
  WritePolicy writes;
  // [tables.NAME]: the user's own tables, written through propgrade (docs/own-tables.md), in
  // name order. The store checks them when it opens the database.
  std::vector<TableDeclaration> tables;
};

// Returns the value of an environment variable or nullptr (injectable for tests).
using EnvLookup = std::function<const char*(const char*)>;
EnvLookup ProcessEnvironment();

// What the pipeline's steps take from the configuration.
PipelineOptions PipelineOptionsOf(const Config& config);

// Parses TOML text; `source` names it in errors.
StatusOr<Config> ParseConfig(std::string_view toml_text, std::string_view source);
// Reads and parses a file.
StatusOr<Config> LoadConfigFile(const std::string& path);
// Applies PROPGRADE_DB, PROPGRADE_LOCK over the file's values.
void ApplyEnvironment(const EnvLookup& env, Config* config);
// Checks values that do not depend on the file's syntax (time zone, policy words, ranges;
// every number finite, every duration 0 to 1e9 seconds).
Status ValidateConfig(const Config& config);

}  // namespace propgrade

#include "config/config.h"

#define TOML_HEADER_ONLY 0
#define TOML_SHARED_LIB 1
#include <toml++/toml.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>
#include <utility>

#include "common/civil_date.h"

namespace propgrade {

EnvLookup ProcessEnvironment() {
  return [](const char* name) -> const char* { return std::getenv(name); };
}

namespace {

class Reader {
 public:
  explicit Reader(std::string_view source) : source_(source) {}

  // Checks that every key of `table` is in `known`; `prefix` is the section for messages.
  Status Known(const toml::table& table, const std::string& prefix,
               const std::set<std::string>& known) {
    for (const auto& [key, node] : table) {
      std::string k(key.str());
      if (!known.count(k)) {
        return InvalidArgumentError(source_ + ": unknown key '" + prefix + k + "'");
      }
    }
    return OkStatus();
  }

  template <typename T>
  Status Get(const toml::table& table, const std::string& prefix, const char* key, T* out) {
    const toml::node* node = table.get(key);
    if (!node) return OkStatus();
    if constexpr (std::is_same_v<T, std::string>) {
      if (auto v = node->value<std::string>(); v && node->is_string()) {
        *out = *v;
        return OkStatus();
      }
    } else if constexpr (std::is_same_v<T, bool>) {
      if (node->is_boolean()) {
        *out = *node->value<bool>();
        return OkStatus();
      }
    } else if constexpr (std::is_same_v<T, double>) {
      if (node->is_number()) {
        *out = *node->value<double>();
        return OkStatus();
      }
    } else if constexpr (std::is_integral_v<T>) {
      if (node->is_integer()) {
        const int64_t v = *node->value<int64_t>();
        if (!std::in_range<T>(v)) {
          return InvalidArgumentError(source_ + ": key '" + prefix + key + "' is out of range");
        }
        *out = static_cast<T>(v);
        return OkStatus();
      }
    } else if constexpr (std::is_same_v<T, std::vector<std::string>>) {
      if (const toml::array* arr = node->as_array()) {
        std::vector<std::string> values;
        for (const auto& el : *arr) {
          if (!el.is_string()) break;
          values.push_back(*el.value<std::string>());
        }
        if (values.size() == arr->size()) {
          *out = values;
          return OkStatus();
        }
      }
    }
    return InvalidArgumentError(source_ + ": key '" + prefix + key + "' has the wrong type");
  }

  const toml::table* Section(const toml::table& root, const char* name, Status* status) {
    const toml::node* node = root.get(name);
    if (!node) return nullptr;
    if (!node->is_table()) {
      *status = InvalidArgumentError(source_ + ": '" + name + "' must be a [section]");
      return nullptr;
    }
    return node->as_table();
  }

  // One [tables.NAME] block. The catalogue checks what the declaration means (columns that
  // exist, names of its own); this reads its shape.
  StatusOr<TableDeclaration> Table(const std::string& name, const toml::node& node) {
    const std::string p = "tables." + name + ".";
    const toml::table* t = node.as_table();
    if (!t) return InvalidArgumentError(source_ + ": 'tables." + name + "' must be a [section]");
    RETURN_IF_ERROR(
        Known(*t, p, {"processor", "partition_column", "key", "columns", "manage_schema", "keep"}));
    TableDeclaration d;
    d.name = name;
    RETURN_IF_ERROR(Get(*t, p, "processor", &d.processor));
    RETURN_IF_ERROR(Get(*t, p, "partition_column", &d.partition_column));
    RETURN_IF_ERROR(Get(*t, p, "key", &d.key));
    RETURN_IF_ERROR(Get(*t, p, "manage_schema", &d.manage_schema));
    const toml::node* columns = t->get("columns");
    if (!columns) {
      return InvalidArgumentError(source_ + ": '" + p +
                                  "columns' is required: a list of "
                                  "{ name, type } or \"introspect\"");
    }
    if (columns->is_string()) {
      if (*columns->value<std::string>() != "introspect") {
        return InvalidArgumentError(source_ + ": '" + p +
                                    "columns' is a list of { name, type } "
                                    "or \"introspect\"");
      }
      d.introspect = true;
    } else if (const toml::array* list = columns->as_array()) {
      for (size_t i = 0; i < list->size(); ++i) {
        const std::string cp = p + "columns[" + std::to_string(i) + "].";
        const toml::table* col = list->get(i)->as_table();
        if (!col) {
          return InvalidArgumentError(source_ + ": '" + p +
                                      "columns' entries are "
                                      "{ name = \"...\", type = \"...\" }");
        }
        RETURN_IF_ERROR(Known(*col, cp, {"name", "type", "required"}));
        ColumnDef c{"", ColumnType::kText, false};
        std::string type;
        RETURN_IF_ERROR(Get(*col, cp, "name", &c.name));
        RETURN_IF_ERROR(Get(*col, cp, "type", &type));
        RETURN_IF_ERROR(Get(*col, cp, "required", &c.required));
        if (c.name.empty() || type.empty()) {
          return InvalidArgumentError(source_ + ": '" + cp + "' needs a name and a type");
        }
        StatusOr<ColumnType> parsed = ParseColumnType(type);
        if (!parsed.ok())
          return InvalidArgumentError(source_ + ": '" + cp + "type': " + parsed.status().message());
        c.type = *parsed;
        d.columns.push_back(std::move(c));
      }
    } else {
      return InvalidArgumentError(source_ + ": key '" + p + "columns' has the wrong type");
    }
    if (const toml::node* keep = t->get("keep")) {
      const toml::table* k = keep->as_table();
      if (!k) {
        return InvalidArgumentError(source_ + ": '" + p +
                                    "keep' is { column = \"...\", "
                                    "wins = \"latest\" or \"earliest\" }");
      }
      RETURN_IF_ERROR(Known(*k, p + "keep.", {"column", "wins"}));
      WinnerRule rule;
      std::string wins = "latest";
      RETURN_IF_ERROR(Get(*k, p + "keep.", "column", &rule.time_column));
      RETURN_IF_ERROR(Get(*k, p + "keep.", "wins", &wins));
      if (rule.time_column.empty() || (wins != "latest" && wins != "earliest")) {
        return InvalidArgumentError(source_ + ": '" + p +
                                    "keep' is { column = \"...\", "
                                    "wins = \"latest\" or \"earliest\" }");
      }
      rule.latest = wins == "latest";
      d.keep = rule;
    }
    return d;
  }

 private:
  std::string source_;
};

}  // namespace

StatusOr<Config> ParseConfig(std::string_view text, std::string_view source) {
  toml::table root;
  try {
    root = toml::parse(text, source);
  } catch (const toml::parse_error& e) {
    std::ostringstream msg;
    msg << source << ":" << e.source().begin.line << ":" << e.source().begin.column << ": "
        << e.description();
    return InvalidArgumentError(msg.str());
  }
  Config c;
  Reader r(source);
  RETURN_IF_ERROR(
      r.Known(root, "",
              {"db", "lock", "timezone", "lock_policy", "breaker", "remediation", "grading",
               "alerts", "checks", "sqlite", "database", "server", "writes", "tables"}));
  RETURN_IF_ERROR(r.Get(root, "", "db", &c.db));
  RETURN_IF_ERROR(r.Get(root, "", "lock", &c.lock));
  RETURN_IF_ERROR(r.Get(root, "", "timezone", &c.timezone));
  Status section_status;
  if (const toml::table* t = r.Section(root, "lock_policy", &section_status)) {
    const std::string p = "lock_policy.";
    RETURN_IF_ERROR(r.Known(*t, p, {"ttl_seconds", "max_wait_seconds", "renew_every_seconds",
                                    "on_lock_timeout", "stuck_alert_after_seconds",
                                    "stuck_release_after_seconds"}));
    RETURN_IF_ERROR(r.Get(*t, p, "ttl_seconds", &c.lock_policy.ttl_seconds));
    RETURN_IF_ERROR(r.Get(*t, p, "max_wait_seconds", &c.lock_policy.max_wait_seconds));
    RETURN_IF_ERROR(r.Get(*t, p, "renew_every_seconds", &c.lock_policy.renew_every_seconds));
    RETURN_IF_ERROR(r.Get(*t, p, "on_lock_timeout", &c.lock_policy.on_lock_timeout));
    RETURN_IF_ERROR(
        r.Get(*t, p, "stuck_alert_after_seconds", &c.lock_policy.stuck_alert_after_seconds));
    RETURN_IF_ERROR(
        r.Get(*t, p, "stuck_release_after_seconds", &c.lock_policy.stuck_release_after_seconds));
  }
  if (const toml::table* t = r.Section(root, "breaker", &section_status)) {
    const std::string p = "breaker.";
    RETURN_IF_ERROR(r.Known(*t, p, {"failure_threshold", "open_seconds", "state_file"}));
    RETURN_IF_ERROR(r.Get(*t, p, "failure_threshold", &c.breaker.failure_threshold));
    RETURN_IF_ERROR(r.Get(*t, p, "open_seconds", &c.breaker.open_seconds));
    RETURN_IF_ERROR(r.Get(*t, p, "state_file", &c.breaker.state_file));
  }
  if (const toml::table* t = r.Section(root, "remediation", &section_status)) {
    const std::string p = "remediation.";
    RETURN_IF_ERROR(r.Known(*t, p, {"auto", "max_rows"}));
    RETURN_IF_ERROR(r.Get(*t, p, "auto", &c.remediation.auto_remediate));
    RETURN_IF_ERROR(r.Get(*t, p, "max_rows", &c.remediation.max_rows));
  }
  if (const toml::table* t = r.Section(root, "grading", &section_status)) {
    const std::string p = "grading.";
    RETURN_IF_ERROR(r.Known(
        *t, p,
        {"real_line_sources", "enforce_unique_keys", "min_player_coverage", "min_game_coverage"}));
    RETURN_IF_ERROR(r.Get(*t, p, "real_line_sources", &c.grading.real_line_sources));
    RETURN_IF_ERROR(r.Get(*t, p, "enforce_unique_keys", &c.grading.enforce_unique_keys));
    RETURN_IF_ERROR(r.Get(*t, p, "min_player_coverage", &c.grading.min_player_coverage));
    RETURN_IF_ERROR(r.Get(*t, p, "min_game_coverage", &c.grading.min_game_coverage));
  }
  if (const toml::table* t = r.Section(root, "alerts", &section_status)) {
    const std::string p = "alerts.";
    RETURN_IF_ERROR(r.Known(*t, p, {"slack_webhook_url_env", "webhook_url_env",
                                    "slack_webhook_url_file", "webhook_url_file",
                                    "min_interval_seconds", "ca_file"}));
    RETURN_IF_ERROR(r.Get(*t, p, "slack_webhook_url_file", &c.alerts.slack_webhook_url_file));
    RETURN_IF_ERROR(r.Get(*t, p, "webhook_url_file", &c.alerts.webhook_url_file));
    RETURN_IF_ERROR(r.Get(*t, p, "slack_webhook_url_env", &c.alerts.slack_webhook_url_env));
    RETURN_IF_ERROR(r.Get(*t, p, "webhook_url_env", &c.alerts.webhook_url_env));
    RETURN_IF_ERROR(r.Get(*t, p, "min_interval_seconds", &c.alerts.min_interval_seconds));
    RETURN_IF_ERROR(r.Get(*t, p, "ca_file", &c.alerts.ca_file));
  }
  if (const toml::table* t = r.Section(root, "checks", &section_status)) {
    const std::string p = "checks.";
    RETURN_IF_ERROR(r.Known(*t, p, {"expected_systems", "daily_predictions_min",
                                    "daily_predictions_max", "stale_hours_warn",
                                    "stale_hours_fail", "duplicate_trend_warn_ratio"}));
    RETURN_IF_ERROR(r.Get(*t, p, "expected_systems", &c.checks.expected_systems));
    RETURN_IF_ERROR(r.Get(*t, p, "daily_predictions_min", &c.checks.daily_predictions_min));
    RETURN_IF_ERROR(r.Get(*t, p, "daily_predictions_max", &c.checks.daily_predictions_max));
    RETURN_IF_ERROR(r.Get(*t, p, "stale_hours_warn", &c.checks.stale_hours_warn));
    RETURN_IF_ERROR(r.Get(*t, p, "stale_hours_fail", &c.checks.stale_hours_fail));
    RETURN_IF_ERROR(
        r.Get(*t, p, "duplicate_trend_warn_ratio", &c.checks.duplicate_trend_warn_ratio));
  }
  if (const toml::table* t = r.Section(root, "sqlite", &section_status)) {
    const std::string p = "sqlite.";
    RETURN_IF_ERROR(r.Known(*t, p, {"synchronous"}));
    RETURN_IF_ERROR(r.Get(*t, p, "synchronous", &c.sqlite.synchronous));
  }
  if (const toml::table* t = r.Section(root, "database", &section_status)) {
    const std::string p = "database.";
    RETURN_IF_ERROR(r.Known(*t, p, {"lock_timeout_seconds", "statement_timeout_seconds",
                                    "idle_in_transaction_timeout_seconds"}));
    RETURN_IF_ERROR(r.Get(*t, p, "lock_timeout_seconds", &c.database.lock_timeout_seconds));
    RETURN_IF_ERROR(
        r.Get(*t, p, "statement_timeout_seconds", &c.database.statement_timeout_seconds));
    RETURN_IF_ERROR(r.Get(*t, p, "idle_in_transaction_timeout_seconds",
                          &c.database.idle_in_transaction_timeout_seconds));
  }
  if (const toml::table* t = r.Section(root, "server", &section_status)) {
    const std::string p = "server.";
    RETURN_IF_ERROR(
        r.Known(*t, p, {"listen", "token_env", "protect_reads", "wait_timeout_seconds"}));
    RETURN_IF_ERROR(r.Get(*t, p, "listen", &c.server.listen));
    RETURN_IF_ERROR(r.Get(*t, p, "token_env", &c.server.token_env));
    RETURN_IF_ERROR(r.Get(*t, p, "protect_reads", &c.server.protect_reads));
    RETURN_IF_ERROR(r.Get(*t, p, "wait_timeout_seconds", &c.server.wait_timeout_seconds));
  }
  if (const toml::table* t = r.Section(root, "writes", &section_status)) {
    const std::string p = "writes.";
    RETURN_IF_ERROR(r.Known(*t, p,
                            {"max_shrink_ratio", "max_shrink_ratio_by_table", "history_keep_runs",
                             "history_keep_days"}));
    RETURN_IF_ERROR(r.Get(*t, p, "max_shrink_ratio", &c.writes.max_shrink_ratio));
    RETURN_IF_ERROR(r.Get(*t, p, "history_keep_runs", &c.writes.history_keep_runs));
    RETURN_IF_ERROR(r.Get(*t, p, "history_keep_days", &c.writes.history_keep_days));
    if (const toml::node* by = t->get("max_shrink_ratio_by_table")) {
      const toml::table* tables = by->as_table();
      if (!tables) {
        return InvalidArgumentError(std::string(source) +
                                    ": 'writes.max_shrink_ratio_by_table' is a table of "
                                    "TABLE = ratio");
      }
      for (const auto& [name, node] : *tables) {
        double ratio = 0;
        RETURN_IF_ERROR(r.Get(*tables, p + "max_shrink_ratio_by_table.",
                              std::string(name.str()).c_str(), &ratio));
        c.writes.max_shrink_ratio_by_table[std::string(name.str())] = ratio;
      }
    }
  }
  if (const toml::table* t = r.Section(root, "tables", &section_status)) {
    for (const auto& [name, node] : *t) {
      ASSIGN_OR_RETURN(TableDeclaration d, r.Table(std::string(name.str()), node));
      c.tables.push_back(std::move(d));
    }
  }
  RETURN_IF_ERROR(section_status);
  RETURN_IF_ERROR(ValidateConfig(c).WithContext(std::string(source)));
  return c;
}

StatusOr<Config> LoadConfigFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return InvalidArgumentError("cannot read config file " + path);
  std::stringstream buf;
  buf << in.rdbuf();
  return ParseConfig(buf.str(), path);
}

void ApplyEnvironment(const EnvLookup& env, Config* c) {
  if (const char* v = env("PROPGRADE_DB"); v && *v) c->db = v;
  if (const char* v = env("PROPGRADE_LOCK"); v && *v) c->lock = v;
}

namespace {

// The longest duration a config may give (about 31 years): in microseconds it fits int64.
constexpr double kMaxConfigSeconds = 1e9;

// A duration is a finite number of seconds in [0, kMaxConfigSeconds] (NaN fails too).
Status CheckSeconds(double seconds, std::string_view key) {
  if (seconds >= 0 && seconds <= kMaxConfigSeconds) return OkStatus();
  return InvalidArgumentError(std::string(key) + " must be a number of seconds from 0 to 1e9");
}

Status CheckFinite(double value, std::string_view key) {
  if (std::isfinite(value)) return OkStatus();
  return InvalidArgumentError(std::string(key) + " must be a finite number");
}

}  // namespace

Status ValidateConfig(const Config& c) {
  RETURN_IF_ERROR(ValidateTimeZone(c.timezone));
  const LockPolicy& lp = c.lock_policy;
  RETURN_IF_ERROR(CheckSeconds(lp.ttl_seconds, "lock_policy.ttl_seconds"));
  RETURN_IF_ERROR(CheckSeconds(lp.max_wait_seconds, "lock_policy.max_wait_seconds"));
  RETURN_IF_ERROR(CheckSeconds(lp.renew_every_seconds, "lock_policy.renew_every_seconds"));
  RETURN_IF_ERROR(
      CheckSeconds(lp.stuck_alert_after_seconds, "lock_policy.stuck_alert_after_seconds"));
  RETURN_IF_ERROR(
      CheckSeconds(lp.stuck_release_after_seconds, "lock_policy.stuck_release_after_seconds"));
  RETURN_IF_ERROR(CheckSeconds(c.breaker.open_seconds, "breaker.open_seconds"));
  RETURN_IF_ERROR(CheckSeconds(c.alerts.min_interval_seconds, "alerts.min_interval_seconds"));
  RETURN_IF_ERROR(CheckFinite(c.checks.stale_hours_warn, "checks.stale_hours_warn"));
  RETURN_IF_ERROR(CheckFinite(c.checks.stale_hours_fail, "checks.stale_hours_fail"));
  RETURN_IF_ERROR(
      CheckFinite(c.checks.duplicate_trend_warn_ratio, "checks.duplicate_trend_warn_ratio"));
  // Database timeouts are milliseconds in an int: at most 24 days.
  const std::pair<double, const char*> db_bounds[] = {
      {c.database.lock_timeout_seconds, "database.lock_timeout_seconds"},
      {c.database.statement_timeout_seconds, "database.statement_timeout_seconds"},
      {c.database.idle_in_transaction_timeout_seconds,
       "database.idle_in_transaction_timeout_seconds"}};
  for (const auto& [seconds, key] : db_bounds) {
    if (!(seconds >= 0 && seconds <= 2e6)) {
      return InvalidArgumentError(std::string(key) + " must be a number of seconds from 0 to 2e6");
    }
  }
  if (c.database.lock_timeout_seconds <= 0) {
    return InvalidArgumentError("database.lock_timeout_seconds must be more than 0");
  }
  if (c.sqlite.synchronous != "full" && c.sqlite.synchronous != "normal") {
    return InvalidArgumentError("sqlite.synchronous must be \"full\" or \"normal\"");
  }
  if (lp.on_lock_timeout != "fail" && lp.on_lock_timeout != "proceed") {
    return InvalidArgumentError("lock_policy.on_lock_timeout must be \"fail\" or \"proceed\"");
  }
  if (lp.ttl_seconds <= 0 || lp.max_wait_seconds < 0 || lp.renew_every_seconds <= 0 ||
      lp.renew_every_seconds >= lp.ttl_seconds) {
    return InvalidArgumentError(
        "lock_policy: ttl_seconds > renew_every_seconds > 0 and max_wait_seconds >= 0 required");
  }
  if (c.breaker.failure_threshold < 1 || c.breaker.open_seconds <= 0) {
    return InvalidArgumentError("breaker: failure_threshold >= 1 and open_seconds > 0 required");
  }
  if (c.server.protect_reads != "auto" && c.server.protect_reads != "always" &&
      c.server.protect_reads != "never") {
    return InvalidArgumentError(
        "server.protect_reads must be \"auto\", \"always\" or \"never\"");
  }
  if (!(c.server.wait_timeout_seconds > 0 && c.server.wait_timeout_seconds <= 3600)) {
    return InvalidArgumentError(
        "server.wait_timeout_seconds must be a number of seconds above 0 and at most 3600");
  }
  if (c.grading.real_line_sources.empty()) {
    return InvalidArgumentError("grading.real_line_sources must not be empty");
  }
  std::vector<std::pair<double, std::string>> shares = {
      {c.grading.min_player_coverage, "grading.min_player_coverage"},
      {c.grading.min_game_coverage, "grading.min_game_coverage"},
      {c.writes.max_shrink_ratio, "writes.max_shrink_ratio"}};
  for (const auto& [table, ratio] : c.writes.max_shrink_ratio_by_table) {
    shares.push_back({ratio, "writes.max_shrink_ratio_by_table." + table});
  }
  for (const auto& [share, key] : shares) {
    if (!(share >= 0 && share <= 1)) {
      return InvalidArgumentError(key + " must be a share from 0 to 1");
    }
  }
  if (c.writes.history_keep_runs < 0) {
    return InvalidArgumentError("writes.history_keep_runs must be 0 (no history) or more");
  }
  RETURN_IF_ERROR(CheckSeconds(c.writes.history_keep_days * 86400, "writes.history_keep_days"));
  return OkStatus();
}

PipelineOptions PipelineOptionsOf(const Config& config) {
  PipelineOptions o;
  o.lock_policy = config.lock_policy;
  o.remediation = config.remediation;
  o.real_line_sources = config.grading.real_line_sources;
  o.min_player_coverage = config.grading.min_player_coverage;
  o.min_game_coverage = config.grading.min_game_coverage;
  o.writes = config.writes;
  return o;
}

}  // namespace propgrade

#include "server/server.h"

#include <arpa/inet.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "common/civil_date.h"
#include "common/hash.h"
#include "common/strings.h"
#include "schema/schema.h"
#include "server/assets.h"
#include "server/dashboard_api.h"
#include "server/trigger.h"
#include "safety/upkeep.h"

namespace propgrade::server {

namespace {

using json = nlohmann::json;

constexpr const char* kJson = "application/json";
constexpr int kListenBacklog = 1024;

std::string Dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

// The error code names of spec/operations.md §4 by HTTP status.
const char* CodeFor(int http_status) {
  switch (http_status) {
    case 400: return "INVALID_ARGUMENT";
    case 401: return "UNAUTHENTICATED";
    case 404: return "NOT_FOUND";
    case 405: return "METHOD_NOT_ALLOWED";
    case 409: return "ABORTED";
    case 413: return "PAYLOAD_TOO_LARGE";
    case 503: return "UNAVAILABLE";
    default: return http_status >= 500 ? "INTERNAL" : "FAILED_PRECONDITION";
  }
}

// A URL the user gave (the database's, the lock service's) may be part of a message: its
// password never is.
void SetError(httplib::Response& res, int http_status, const std::string& message) {
  res.status = http_status;
  res.set_content(Dump({{"error", {{"code", CodeFor(http_status)},
                                   {"message", RedactUrlCredentials(message)}}}}),
                  kJson);
}

// The paths whose answers show the store's data: /api/... and /metrics.
bool IsReadPath(const std::string& path) {
  return path == "/metrics" || path == "/api" || path.rfind("/api/", 0) == 0;
}

int HttpStatusOf(const Status& s) {
  switch (s.code()) {
    case StatusCode::kInvalidArgument: return 400;
    case StatusCode::kNotFound: return 404;
    case StatusCode::kUnavailable: return 503;
    default: return 500;
  }
}

void SetStatusError(httplib::Response& res, const Status& s) {
  SetError(res, HttpStatusOf(s), s.message());
}

// A positive integer query parameter within [1, max], or `fallback` when absent.
StatusOr<int> IntParam(const httplib::Request& req, const char* name, int fallback, int max) {
  if (!req.has_param(name)) return fallback;
  std::optional<int64_t> v = ParseInt64(req.get_param_value(name));
  if (!v || *v < 1 || *v > max) {
    return InvalidArgumentError(std::string(name) + " must be an integer from 1 to " +
                                std::to_string(max));
  }
  return static_cast<int>(*v);
}

// When a request started (per worker thread: httplib serves a connection on one thread).
thread_local int64_t t_request_start = 0;

// Runs stored in grading_runs grouped by run id, as the API shows runs.
std::vector<RunView> StoredRuns(std::vector<Row> rows) {
  std::map<std::string, RunView> by_id;
  for (Row& r : rows) {
    RunSummary s = RunSummary::FromRow(r);
    RunView& v = by_id[s.run_id];
    if (v.run_id.empty()) {
      v.run_id = s.run_id;
      v.date = s.game_date;
      v.state = RunState::kFinished;
      v.result.run_id = s.run_id;
      v.result.date = s.game_date;
    }
    v.submitted_at_micros = v.submitted_at_micros ? std::min(v.submitted_at_micros,
                                                             s.started_at_micros)
                                                  : s.started_at_micros;
    v.result.steps.push_back(std::move(s));
  }
  std::vector<RunView> out;
  static const std::map<std::string, int> kOrder = {
      {"grading", 0}, {"daily_performance", 1}, {"performance_summary", 2}};
  for (auto& [id, v] : by_id) {
    std::stable_sort(v.result.steps.begin(), v.result.steps.end(),
                     [](const RunSummary& a, const RunSummary& b) {
                       auto oa = kOrder.find(a.processor), ob = kOrder.find(b.processor);
                       return (oa == kOrder.end() ? 9 : oa->second) <
                              (ob == kOrder.end() ? 9 : ob->second);
                     });
    out.push_back(std::move(v));
  }
  return out;
}

}  // namespace

StatusOr<std::pair<std::string, int>> ParseListen(std::string_view listen) {
  std::string host;
  std::string_view port_text;
  if (!listen.empty() && listen.front() == '[') {
    size_t close = listen.find(']');
    if (close == std::string_view::npos || close + 1 >= listen.size() || listen[close + 1] != ':') {
      return InvalidArgumentError("listen address must be host:port or [v6]:port, not '" +
                                  std::string(listen) + "'");
    }
    host = std::string(listen.substr(1, close - 1));
    port_text = listen.substr(close + 2);
  } else {
    size_t colon = listen.rfind(':');
    if (colon == std::string_view::npos || listen.find(':') != colon) {
      return InvalidArgumentError("listen address must be host:port or [v6]:port, not '" +
                                  std::string(listen) + "'");
    }
    host = std::string(listen.substr(0, colon));
    port_text = listen.substr(colon + 1);
  }
  std::optional<int64_t> port = ParseInt64(port_text);
  if (host.empty() || !port || *port < 0 || *port > 65535) {
    return InvalidArgumentError("listen address must be host:port with a port from 0 to 65535, "
                                "not '" + std::string(listen) + "'");
  }
  return std::make_pair(host, static_cast<int>(*port));
}

bool IsLoopbackHost(std::string_view host) {
  if (ToLower(host) == "localhost") return true;
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  const std::string text(host);
  in_addr v4{};
  // inet_pton takes exactly four decimal octets ("127.1", "0x7f.0.0.1" and names fail).
  if (inet_pton(AF_INET, text.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  if (inet_pton(AF_INET6, text.c_str(), &v6) == 1) {
    return IN6_ARE_ADDR_EQUAL(&v6, &in6addr_loopback);
  }
  return false;
}

StatusOr<std::unique_ptr<Server>> Server::Create(ServerDeps deps, ServerOptions options) {
  ASSIGN_OR_RETURN(auto hp, ParseListen(options.listen));
  const bool loopback = IsLoopbackHost(hp.first);
  if (options.token.empty() && !loopback) {
    return InvalidArgumentError(
        "refusing to listen on " + options.listen +
        " without a trigger token: set the environment variable named by server.token_env "
        "(default PROPGRADE_TRIGGER_TOKEN), or listen on a loopback address");
  }
  bool reads_protected;
  if (options.protect_reads == "auto") {
    reads_protected = !loopback;
  } else if (options.protect_reads == "always") {
    reads_protected = true;
  } else if (options.protect_reads == "never") {
    reads_protected = false;
  } else {
    return InvalidArgumentError("server.protect_reads must be \"auto\", \"always\" or \"never\"");
  }
  if (reads_protected && options.token.empty()) {
    return InvalidArgumentError(
        "server.protect_reads = \"always\" needs a token: set the environment variable named "
        "by server.token_env (default PROPGRADE_TRIGGER_TOKEN)");
  }
  if (!(options.wait_timeout_seconds > 0 && options.wait_timeout_seconds <= 3600)) {
    return InvalidArgumentError(
        "server.wait_timeout_seconds must be a number of seconds above 0 and at most 3600");
  }
  if (!options.static_dir.empty()) {
    std::ifstream probe(options.static_dir + "/index.html");
    if (!probe) {
      return InvalidArgumentError("--static-dir " + options.static_dir + " has no index.html");
    }
  }
  if (options.sweep_every_seconds <= 0) {
    options.sweep_every_seconds =
        std::clamp(deps.config->lock_policy.stuck_alert_after_seconds / 4, 1.0, 60.0);
  }
  auto server = std::unique_ptr<Server>(new Server(std::move(deps), std::move(options)));
  server->host_ = hp.first;
  server->port_ = hp.second;
  server->reads_protected_ = reads_protected;
  return server;
}

Server::Server(ServerDeps deps, ServerOptions options)
    : d_(std::move(deps)), o_(std::move(options)), http_(std::make_unique<httplib::Server>()) {
  Pipeline* pipeline = d_.pipeline;
  Clock* clock = d_.clock;
  runs_ = std::make_unique<RunRegistry>(
      [pipeline](CivilDay date, const std::string& id, const RunOptions& options) {
        return pipeline->RunDate(date, id, options);
      },
      [pipeline] { return pipeline->NewRunId(); }, clock, o_.max_parallel_runs);
  Routes();
}

Server::~Server() {
  Stop();
  runs_.reset();  // joins the workers
}

StatusOr<Store*> Server::ReadStore() {
  std::lock_guard<std::mutex> lock(open_mu_);
  if (!store_) {
    ASSIGN_OR_RETURN(store_, d_.store_factory());
  }
  return store_.get();
}

StatusOr<LockService*> Server::Locks() {
  ASSIGN_OR_RETURN(Store * store, ReadStore());
  std::lock_guard<std::mutex> lock(open_mu_);
  if (!locks_) {
    ASSIGN_OR_RETURN(locks_, d_.lock_factory(store));
  }
  return locks_.get();
}

void Server::Routes() {
  httplib::Server& h = *http_;
  h.set_tcp_nodelay(true);
  h.set_payload_max_length(o_.max_body_bytes);
  h.set_read_timeout(o_.io_timeout_seconds, 0);
  h.set_write_timeout(o_.io_timeout_seconds, 0);
  h.set_keep_alive_timeout(5);
  int threads = std::max(4, o_.threads);
  h.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  // cpp-httplib 0.11 listens with a backlog of 5, which drops bursts of connections (100
  // triggers at once): remember the socket and listen again with a deep backlog after binding.
  h.set_socket_options([this](int sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    listen_fd_ = sock;
  });
  h.set_default_headers({{"X-Content-Type-Options", "nosniff"}, {"Cache-Control", "no-store"}});

  h.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    t_request_start = d_.clock->SteadyMicros();
    bool v1 = req.path == "/v1" || req.path.rfind("/v1/", 0) == 0;
    if ((v1 || (reads_protected_ && IsReadPath(req.path))) && !o_.token.empty()) {
      const std::string auth = req.get_header_value("Authorization");
      constexpr std::string_view kBearer = "Bearer ";
      bool ok = auth.size() > kBearer.size() && auth.compare(0, kBearer.size(), kBearer) == 0 &&
                ConstantTimeEquals(std::string_view(auth).substr(kBearer.size()), o_.token);
      if (!ok) {
        res.set_header("WWW-Authenticate", "Bearer realm=\"propgrade\"");
        SetError(res, 401,
                 auth.empty() ? "this call needs Authorization: Bearer <token>"
                              : "the bearer token is not valid");
        return httplib::Server::HandlerResponse::Handled;
      }
    }
    return httplib::Server::HandlerResponse::Unhandled;
  });

  h.set_logger([this](const httplib::Request& req, const httplib::Response& res) {
    double ms = t_request_start ? (d_.clock->SteadyMicros() - t_request_start) / 1000.0 : 0;
    t_request_start = 0;
    std::vector<LogField> f = {{"method", Value::Text(req.method)},
                               {"path", Value::Text(req.path)},
                               {"status", Value::Int(res.status)},
                               {"duration_ms", Value::Real(std::round(ms * 1000) / 1000)},
                               {"remote_addr", Value::Text(req.remote_addr)}};
    if (res.status >= 500) {
      d_.log->Error("http_request", f);
    } else {
      d_.log->Info("http_request", f);
    }
  });

  // Fills in a JSON error for responses that carry none (unknown paths, 413, ...).
  h.set_error_handler(httplib::Server::HandlerWithResponse(
      [](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
    std::string message = res.status == 404   ? "no such path: " + req.path
                           : res.status == 413 ? "the request body is larger than 1 MiB"
                                               : "the request failed";
    SetError(res, res.status, message);
    return httplib::Server::HandlerResponse::Handled;
  }));
  h.set_exception_handler([this](const httplib::Request& req, httplib::Response& res,
                                 std::exception_ptr ep) {
    std::string what = "unknown";
    try {
      if (ep) std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
    d_.log->Error("http_handler_failed",
                  {{"path", Value::Text(req.path)}, {"error", Value::Text(what)}});
    SetError(res, 500, "internal error");
  });

  // ---- /v1: runs ----
  h.Post("/v1/runs", [this](const httplib::Request& req, httplib::Response& res) {
    bool wait = false;
    if (req.has_param("wait")) {
      std::string w = req.get_param_value("wait");
      if (w == "true" || w == "1") {
        wait = true;
      } else if (w != "false" && w != "0") {
        return SetError(res, 400, "wait must be true or false");
      }
    }
    auto trigger = ParseTrigger(req.body);
    if (!trigger.ok()) return SetStatusError(res, trigger.status());
    auto date = ResolveTargetDate(trigger->target_date, d_.config->timezone, d_.clock->NowMicros());
    if (!date.ok()) return SetStatusError(res, date.status());
    RunOptions options;
    options.aggregate = trigger->run_aggregation;
    options.trigger_source = trigger->trigger_source;
    options.correlation_id = trigger->correlation_id;
    auto sub = runs_->Submit(*date, options);
    if (!sub.ok()) return SetStatusError(res, sub.status());
    d_.log->Info("run_triggered", {{"run_id", Value::Text(sub->run_id)},
                                   {"target_date", Value::Text(date->ToString())},
                                   {"joined", Value::Bool(sub->joined)},
                                   {"trigger_source", Value::Text(options.trigger_source)},
                                   {"correlation_id", Value::Text(options.correlation_id)}});
    res.set_header("Location", "/v1/runs/" + sub->run_id);
    if (!wait) {
      res.status = 202;
      res.set_content(Dump({{"run_id", sub->run_id},
                            {"target_date", date->ToString()},
                            {"joined", sub->joined}}),
                      kJson);
      return;
    }
    std::optional<RunView> view =
        runs_->Wait(sub->run_id, static_cast<int64_t>(o_.wait_timeout_seconds * 1e6));
    if (!view) return SetError(res, 404, "run " + sub->run_id + " is no longer known");
    if (view->state == RunState::kQueued || view->state == RunState::kRunning) {
      // Not done within wait_timeout_seconds: the caller polls GET /v1/runs/{id}.
      res.status = 202;
      res.set_content(Dump({{"run_id", sub->run_id},
                            {"target_date", date->ToString()},
                            {"joined", sub->joined},
                            {"state", std::string(RunStateName(view->state))},
                            {"status", "running"},
                            {"waited_seconds", o_.wait_timeout_seconds}}),
                      kJson);
      return;
    }
    res.status = view->http_status();
    if (double retry = view->retry_after_seconds(); retry > 0) {
      res.set_header("Retry-After", std::to_string(static_cast<int64_t>(std::ceil(retry))));
    }
    res.set_content(view->ToJson(), kJson);
  });

  h.Get(R"(/v1/runs/([A-Za-z0-9_.:-]{1,100}))",
        [this](const httplib::Request& req, httplib::Response& res) {
          std::string id = req.matches[1];
          if (auto view = runs_->Get(id)) {
            res.set_content(view->ToJson(), kJson);
            return;
          }
          auto store = ReadStore();
          if (!store.ok()) return SetStatusError(res, store.status());
          std::vector<Row> rows;
          ScanSpec spec;
          spec.range_column = "run_id";
          spec.partition_from = id;
          spec.partition_to = id;
          Status s = (*store)->Scan(tables::GradingRuns(), spec, [&](Row&& r) {
            rows.push_back(std::move(r));
            return OkStatus();
          });
          if (!s.ok()) return SetStatusError(res, s);
          std::vector<RunView> stored = StoredRuns(std::move(rows));
          if (stored.empty()) return SetError(res, 404, "no run with id " + id);
          res.set_content(stored.front().ToJson(), kJson);
        });
  h.Get(R"(/v1/runs/(.*))", [](const httplib::Request& req, httplib::Response& res) {
    SetError(res, 404, "no run with id " + std::string(req.matches[1]));
  });

  h.Get("/v1/runs", [this](const httplib::Request& req, httplib::Response& res) {
    if (!req.has_param("date")) return SetError(res, 400, "date=YYYY-MM-DD is required");
    std::optional<CivilDay> date = CivilDay::Parse(req.get_param_value("date"));
    if (!date) return SetError(res, 400, "date must be YYYY-MM-DD (a real date)");
    std::vector<RunView> runs = runs_->ForDate(*date);
    auto store = ReadStore();
    if (!store.ok()) return SetStatusError(res, store.status());
    std::vector<Row> rows;
    ScanSpec spec;
    spec.partition = date->ToString();
    Status s = (*store)->Scan(tables::GradingRuns(), spec, [&](Row&& r) {
      rows.push_back(std::move(r));
      return OkStatus();
    });
    if (!s.ok()) return SetStatusError(res, s);
    for (RunView& v : StoredRuns(std::move(rows))) {
      bool known = false;
      for (const RunView& r : runs) known = known || r.run_id == v.run_id;
      if (!known) runs.push_back(std::move(v));
    }
    std::stable_sort(runs.begin(), runs.end(), [](const RunView& a, const RunView& b) {
      return a.submitted_at_micros > b.submitted_at_micros;
    });
    std::string body = "{\"runs\":[";
    for (size_t i = 0; i < runs.size(); ++i) body += (i ? "," : "") + runs[i].ToJson();
    res.set_content(body + "]}", kJson);
  });

  // ---- health, readiness, metrics ----
  h.Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("{\"status\":\"ok\"}", kJson);
  });
  h.Get("/readyz", [this](const httplib::Request&, httplib::Response& res) {
    std::vector<std::string> reasons;
    auto store = ReadStore();
    Status ping = store.ok() ? (*store)->Ping() : store.status();
    if (!ping.ok()) reasons.push_back("store: " + RedactUrlCredentials(ping.message()));
    if (store.ok()) {
      auto locks = Locks();
      Status l = locks.ok() ? (*locks)->List().status() : locks.status();
      if (!l.ok()) reasons.push_back("lock service: " + RedactUrlCredentials(l.message()));
    }
    auto breakers = d_.breaker->List();
    if (!breakers.ok()) {
      reasons.push_back("breakers: " + breakers.status().message());
    } else {
      for (const BreakerStatus& b : *breakers) {
        if (b.state == BreakerState::kOpen) reasons.push_back("breaker " + b.name + " is open");
      }
    }
    if (stopping_) reasons.push_back("shutting down");
    res.status = reasons.empty() ? 200 : 503;
    res.set_content(Dump({{"ready", reasons.empty()}, {"reasons", reasons}}), kJson);
  });
  h.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    res.set_content(d_.metrics->PrometheusText(), "text/plain; version=0.0.4; charset=utf-8");
  });

  // ---- the dashboard's API ----
  auto api = [this](const char* path, std::function<StatusOr<std::string>(
                                          const httplib::Request&, Store*)> fn) {
    http_->Get(path, [this, fn](const httplib::Request& req, httplib::Response& res) {
      auto store = ReadStore();
      if (!store.ok()) return SetStatusError(res, store.status());
      StatusOr<std::string> body = fn(req, *store);
      if (!body.ok()) return SetStatusError(res, body.status());
      res.set_content(*body, kJson);
    });
  };
  auto with_int = [](const httplib::Request& req, const char* name, int fallback, int max,
                     const std::function<StatusOr<std::string>(int)>& fn) -> StatusOr<std::string> {
    ASSIGN_OR_RETURN(int v, IntParam(req, name, fallback, max));
    return fn(v);
  };
  api("/api/summary", [this](const httplib::Request&, Store* s) {
    auto locks = Locks();
    return SummaryJson(s, locks.ok() ? (*locks)->backend() : std::string_view("unavailable"),
                       d_.clock);
  });
  api("/api/performance", [with_int](const httplib::Request& r, Store* s) {
    return with_int(r, "days", 90, 3660, [s](int d) { return PerformanceJson(s, d); });
  });
  api("/api/calibration", [with_int](const httplib::Request& r, Store* s) {
    return with_int(r, "days", 90, 3660, [s](int d) { return CalibrationJson(s, d); });
  });
  api("/api/duplicates", [with_int](const httplib::Request& r, Store* s) {
    return with_int(r, "days", 90, 3660, [s](int d) { return DuplicatesJson(s, d); });
  });
  api("/api/lock_waits", [this, with_int](const httplib::Request& r, Store* s) {
    return with_int(r, "days", 7, 3660,
                    [this, s](int d) { return LockWaitsJson(s, d_.clock, d); });
  });
  api("/api/runs", [with_int](const httplib::Request& r, Store* s) {
    return with_int(r, "limit", 50, 1000, [s](int n) { return RunsJson(s, n); });
  });
  api("/api/alerts", [with_int](const httplib::Request& r, Store* s) {
    return with_int(r, "limit", 50, 1000, [s](int n) { return AlertsJson(s, n); });
  });
  h.Get("/api/locks", [this](const httplib::Request&, httplib::Response& res) {
    auto locks = Locks();
    if (!locks.ok()) return SetStatusError(res, locks.status());
    auto body = LocksJson(*locks, d_.clock);
    if (!body.ok()) return SetStatusError(res, body.status());
    res.set_content(*body, kJson);
  });
  h.Get("/api/breakers", [this](const httplib::Request&, httplib::Response& res) {
    auto body = BreakersJson(d_.breaker);
    if (!body.ok()) return SetStatusError(res, body.status());
    res.set_content(*body, kJson);
  });

  // ---- the dashboard's files ----
  for (const AssetRoute& route : AssetRoutes()) {
    h.Get(std::string(route.url), [this, route](const httplib::Request&, httplib::Response& res) {
      if (!o_.static_dir.empty()) {
        std::ifstream in(o_.static_dir + "/" + std::string(route.file), std::ios::binary);
        if (!in) return SetError(res, 404, "no " + std::string(route.file) + " in --static-dir");
        std::ostringstream body;
        body << in.rdbuf();
        res.set_content(body.str(), std::string(route.content_type));
        return;
      }
      std::optional<std::string_view> body = EmbeddedAsset(route.file);
      if (!body) return SetError(res, 404, "not embedded: " + std::string(route.file));
      res.set_content(body->data(), body->size(), std::string(route.content_type));
      res.set_header("Content-Security-Policy",
                     "default-src 'self'; img-src 'self' data:; style-src 'self' "
                     "'unsafe-inline'; object-src 'none'; frame-ancestors 'none'");
    });
  }
}

Status Server::Bind() {
  if (port_ == 0) {
    int bound = http_->bind_to_any_port(host_);
    if (bound <= 0) return UnavailableError("cannot listen on " + o_.listen);
    port_ = bound;
  } else if (!http_->bind_to_port(host_, port_)) {
    return UnavailableError("cannot listen on " + o_.listen +
                            " (the address is in use, or not this machine's)");
  }
  if (listen_fd_ >= 0) ::listen(listen_fd_, kListenBacklog);
  return OkStatus();
}

void Server::Stop() {
  stopping_ = true;
  stop_cv_.notify_all();
  http_->stop();
}

void Server::Upkeep() {
  UpkeepDeps d;
  d.clock = d_.clock;
  d.policy = &d_.config->lock_policy;
  d.breaker = d_.breaker;
  d.alerts = d_.alerts;
  d.metrics = d_.metrics;
  d.log = d_.log;
  auto steady_seconds = [this] { return d_.clock->SteadyMicros() / 1e6; };
  double next_tick = 0;
  double next_sweep = steady_seconds() + o_.sweep_every_seconds;
  std::unique_lock<std::mutex> lock(stop_mu_);
  while (!listen_done_) {
    stop_cv_.wait_for(lock, std::chrono::milliseconds(100));
    if (listen_done_) break;
    if (stopping_ || (d_.stop && d_.stop->cancelled())) {
      // Repeated until the listener returns: a stop() before it started would be lost.
      stopping_ = true;
      http_->stop();
      continue;
    }
    double now = steady_seconds();
    if (now < next_tick && now < next_sweep) continue;
    lock.unlock();
    auto store = ReadStore();
    d.store = store.ok() ? *store : nullptr;
    if (now >= next_tick) {
      next_tick = now + o_.breaker_tick_seconds;
      auto ticked = TickBreakers(d);
      if (!ticked.ok()) {
        d_.log->Warn("breaker_tick_failed", {{"error", Value::Text(ticked.status().message())}});
      }
    }
    if (now >= next_sweep) {
      next_sweep = now + o_.sweep_every_seconds;
      auto locks = Locks();
      Status swept = locks.ok() ? (d.locks = *locks, SweepAndReport(d).status()) : locks.status();
      if (!swept.ok()) d_.log->Warn("lock_sweep_failed", {{"error", Value::Text(swept.message())}});
    }
    lock.lock();
  }
}

int Server::Run() {
  std::thread upkeep([this] { Upkeep(); });
  std::string host = host_.find(':') != std::string::npos ? "[" + host_ + "]" : host_;
  d_.log->Info("listening", {{"url", Value::Text("http://" + host + ":" + std::to_string(port_) + "/")},
                             {"auth", Value::Bool(!o_.token.empty())},
                             {"reads_protected", Value::Bool(reads_protected_)}});
  http_->listen_after_bind();
  {
    std::lock_guard<std::mutex> lock(stop_mu_);
    listen_done_ = true;
    stopping_ = true;
  }
  stop_cv_.notify_all();
  upkeep.join();
  d_.log->Info("shutting_down", {{"runs_in_flight", Value::Int(runs_->active())},
                                 {"grace_seconds", Value::Real(o_.shutdown_grace_seconds)}});
  int still = runs_->Shutdown(static_cast<int64_t>(o_.shutdown_grace_seconds * 1e6));
  if (still > 0 && d_.run_cancel) {
    // The grace is over: steps not yet writing stop before their write; one mid-write
    // commits or rolls back as one transaction.
    d_.run_cancel->Cancel();
    still = runs_->Shutdown(10 * 1000000LL);
  }
  d_.log->Info("stopped", {{"runs_still_running", Value::Int(still)}});
  return still;
}

}  // namespace propgrade::server

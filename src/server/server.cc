#include "server/server.h"

#include <arpa/inet.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>

#include "common/civil_date.h"
#include "common/hash.h"
#include "common/strings.h"
#include "schema/schema.h"
#include "server/http_util.h"
#include "safety/upkeep.h"

namespace propgrade::server {

namespace {

constexpr int kListenBacklog = 1024;

// The paths whose answers show the store's data: /api/... and /metrics.
bool IsReadPath(const std::string& path) {
  return path == "/metrics" || path == "/api" || path.rfind("/api/", 0) == 0;
}

// When a request started (per worker thread: httplib serves a connection on one thread).
thread_local int64_t t_request_start = 0;

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

bool Server::TooLarge(const httplib::Request& req, httplib::Response& res) const {
  if (req.body.size() <= o_.max_body_bytes) return false;
  SetError(res, 413,
           "the request body is larger than " + std::to_string(o_.max_body_bytes) + " bytes");
  return true;
}

void Server::Routes() {
  httplib::Server& h = *http_;
  h.set_tcp_nodelay(true);
  // A load's body is the largest a route takes; every other route refuses one over
  // max_body_bytes itself (TooLarge).
  h.set_payload_max_length(std::max(o_.max_body_bytes, o_.max_load_bytes));
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
                          : res.status == 413 ? "the request body is too large"
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

  RouteRuns();
  RouteTables();
  RouteHealth();
  RouteApi();
  RouteAssets();
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

// The HTTP service of `propgrade serve` (spec/operations.md §4), on cpp-httplib:
//   POST /v1/runs            trigger a run (JSON or Pub/Sub push); single flight per date
//   GET  /v1/runs/{id}       one run's summary (404 when unknown)
//   GET  /v1/runs?date=D     the date's runs, newest first
//   PUT  /v1/tables/{t}/partitions/{p}   a load of a declared table (Pipeline::LoadText)
//   POST /v1/locks/{key}:acquire|:renew|:release   a lease kept across calls
//   GET  /healthz, /readyz   liveness; readiness (store, lock service, breakers)
//   GET  /metrics            Prometheus text format 0.0.4
//   GET  /, /assets/...      the dashboard; GET /api/... the JSON it draws
// Every /v1 call needs `Authorization: Bearer <token>` when a token is set (compared in
// constant time); without a token only a loopback address may be listened on. When reads are
// protected (ServerOptions::protect_reads) /api/... and /metrics need it too; /healthz,
// /readyz and the dashboard's files never do. ?wait=true waits at most wait_timeout_seconds,
// then answers 202 with the run's id to poll. Bodies over
// max_body_bytes (a load's: max_load_bytes) get 413; errors are {"error": {"code", "message"}};
// every request is logged (method, path, status, duration; never headers). In the background the
// server sweeps stuck locks and runs the breakers' half-open timer. Shutdown (a cancelled `stop`
// token) stops accepting, abandons queued runs, lets running ones finish for the grace period, then
// cancels them (a step in flight commits or writes nothing). Thread-safe.
#pragma once

#include <atomic>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "common/cancel.h"
#include "common/status.h"
#include "config/config.h"
#include "observe/log.h"
#include "observe/metrics.h"
#include "pipeline/pipeline.h"
#include "safety/alerter.h"
#include "safety/circuit_breaker.h"
#include "server/run_registry.h"

namespace httplib {
class Server;
struct Request;
struct Response;
}

namespace propgrade::server {

// What the server works with. Pointers must outlive the server; `alerts` may be null.
struct ServerDeps {
  Pipeline* pipeline = nullptr;  // runs the triggered dates
  StoreFactory store_factory;    // the server's own connection (reads, upkeep), opened lazily
  LockFactory lock_factory;      // its lock service, opened lazily
  CircuitBreaker* breaker = nullptr;
  const Config* config = nullptr;
  Clock* clock = nullptr;
  Logger* log = nullptr;
  Metrics* metrics = nullptr;
  Alerter* alerts = nullptr;
  CancelToken* stop = nullptr;        // cancelled (e.g. on SIGTERM): shut down
  CancelToken* run_cancel = nullptr;  // the pipeline's token: cancelled when the grace ends
};

struct ServerOptions {
  std::string listen = "127.0.0.1:8080";  // host:port or [v6]:port; port 0 = any free port
  std::string token;       // the bearer token of /v1; "" = none (loopback only)
  // Whether /api/... and /metrics need the token too: "auto" (when the listen address is not
  // loopback), "always" (needs a token) or "never". Default: auto
  std::string protect_reads = "auto";
  // How long POST /v1/runs?wait=true waits before answering 202 with the run's id (real
  // time). Default: 55
  double wait_timeout_seconds = 55;
  std::string static_dir;  // "" = the embedded dashboard; else files laid out as web/
  int max_parallel_runs = 2;
  int threads = 32;  // HTTP worker threads (?wait=true callers hold one each)
  size_t max_body_bytes = 1 << 20;
  // The cap of a load's body (PUT /v1/tables/...), which carries a whole partition.
  size_t max_load_bytes = size_t{64} << 20;
  int io_timeout_seconds = 30;  // read and write timeouts
  // The stuck-lock sweep's period; 0 = a quarter of stuck_alert_after_seconds, within 1..60 s.
  double sweep_every_seconds = 0;
  double breaker_tick_seconds = 5;
  double shutdown_grace_seconds = 60;
};

// Splits "host:port" / "[::1]:port". InvalidArgument when malformed.
StatusOr<std::pair<std::string, int>> ParseListen(std::string_view listen);
// True for an IPv4 literal in 127.0.0.0/8 (four decimal octets), the IPv6 literal ::1 (also
// written in full or in brackets, "[::1]") and "localhost" (any case); false for every other
// name or address (0.0.0.0, ::, "127.evil.example", "127.1").
bool IsLoopbackHost(std::string_view host);

class Server {
 public:
  // Checks the options: a well-formed listen address, and a token unless it is loopback.
  static StatusOr<std::unique_ptr<Server>> Create(ServerDeps deps, ServerOptions options);
  ~Server();

  // Binds the listen address (Unavailable when it cannot); port() is then the bound port.
  Status Bind();
  int port() const { return port_; }
  bool reads_protected() const { return reads_protected_; }
  // After Bind(): serves until deps.stop is cancelled or Stop() is called, then drains the
  // runs (see the file comment). Returns
  // how many runs were still running when the grace period ended (0 = a clean stop).
  int Run();
  void Stop();

  RunRegistry& runs() { return *runs_; }

 private:
  Server(ServerDeps deps, ServerOptions options);
  void Routes();       // the server's settings, authentication, logging, error bodies; then:
  void RouteRuns();    // /v1/runs (routes_runs.cc)
  void RouteTables();  // /v1/tables/..., /v1/locks/... (routes_tables.cc)
  void RouteHealth();  // /healthz, /readyz, /metrics (routes_read.cc)
  void RouteApi();     // /api/... (routes_read.cc)
  void RouteAssets();  // the dashboard's files (routes_read.cc)
  // 413 (true) for a body over max_body_bytes: every route but a load's.
  bool TooLarge(const httplib::Request& req, httplib::Response& res) const;
  void Upkeep();
  StatusOr<Store*> ReadStore();
  StatusOr<LockService*> Locks();

  ServerDeps d_;
  ServerOptions o_;
  std::string host_;
  int port_ = 0;
  bool reads_protected_ = false;  // /api/... and /metrics need the token
  int listen_fd_ = -1;
  std::unique_ptr<httplib::Server> http_;
  std::unique_ptr<RunRegistry> runs_;

  std::mutex open_mu_;  // guards store_ and locks_
  std::unique_ptr<Store> store_;
  std::unique_ptr<LockService> locks_;

  // The answers of loads sent with an Idempotency-Key, kept for a day (at most 10000): a retry
  // gets the first answer and writes nothing; the same key with another request is 422, and
  // while the first is still running 409.
  struct Replay {
    int status;
    std::string body;
  };
  class Idempotent {
   public:
    // nullopt: a new key, now running; else the answer to give.
    std::optional<Replay> Begin(const std::string& key, const std::string& request,
                                int64_t now_micros);
    void Finish(const std::string& key, Replay response);
    void Forget(const std::string& key);  // a request refused before it wrote anything

   private:
    static constexpr int64_t kKeepMicros = 86'400'000'000;
    static constexpr size_t kMaxEntries = 10000;
    struct Entry {
      std::string request;
      int64_t at_micros;
      bool done;
      Replay response;
    };
    std::mutex mu_;
    std::map<std::string, Entry> entries_;
  };
  Idempotent idempotent_;
  std::mutex stop_mu_;
  std::condition_variable stop_cv_;
  std::atomic<bool> stopping_{false};
  bool listen_done_ = false;  // guarded by stop_mu_
};

}  // namespace propgrade::server

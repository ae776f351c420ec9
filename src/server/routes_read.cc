// The read-only routes: health, readiness and metrics, the dashboard's JSON API and its files.
#include <httplib.h>

#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <sstream>

#include "common/strings.h"
#include "server/assets.h"
#include "server/dashboard_api.h"
#include "server/http_util.h"
#include "server/server.h"

namespace propgrade::server {

void Server::RouteHealth() {
  httplib::Server& h = *http_;
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
}

void Server::RouteApi() {
  httplib::Server& h = *http_;
  auto api = [this](const char* path,
                    std::function<StatusOr<std::string>(const httplib::Request&, Store*)> fn) {
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
    return with_int(r, "days", 7, 3660, [this, s](int d) { return LockWaitsJson(s, d_.clock, d); });
  });
  api("/api/runs", [with_int](const httplib::Request& r, Store* s) {
    return with_int(r, "limit", 50, 1000, [s](int n) { return RunsJson(s, n); });
  });
  api("/api/alerts", [with_int](const httplib::Request& r, Store* s) {
    return with_int(r, "limit", 50, 1000, [s](int n) { return AlertsJson(s, n); });
  });
  api("/api/tables", [this](const httplib::Request&, Store* s) { return TablesJson(s, d_.clock); });
  api("/api/history", [with_int](const httplib::Request& r, Store* s) {
    return with_int(r, "dates", 14, 366, [s](int n) { return HistoryJson(s, n); });
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
}

void Server::RouteAssets() {
  httplib::Server& h = *http_;
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

}  // namespace propgrade::server

// The /v1 routes of declared tables and of leases (docs/own-tables.md):
//   PUT  /v1/tables/{table}/partitions/{partition}[?mode=replace|merge]   a load
//   POST /v1/locks/{key}:acquire | :renew | :release                      a lease kept by calls
#include <httplib.h>

#include <nlohmann/json.hpp>

#include "lockrun/lock_run.h"
#include "server/http_util.h"
#include "server/server.h"

namespace propgrade::server {

namespace {

// The load's format from its Content-Type; nullopt for one a load does not take.
std::optional<FileFormat> FormatOf(const std::string& content_type) {
  const std::string type = content_type.substr(0, content_type.find(';'));
  if (type == "text/csv") return FileFormat::kCsv;
  if (type == "application/x-ndjson" || type == "application/jsonl" ||
      type == "application/json-lines") {
    return FileFormat::kJsonl;
  }
  return std::nullopt;
}

}  // namespace

std::optional<Server::Replay> Server::Idempotent::Begin(const std::string& key,
                                                        const std::string& request,
                                                        int64_t now_micros) {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto it = entries_.begin(); it != entries_.end();) {
    it = now_micros - it->second.at_micros > kKeepMicros ? entries_.erase(it) : std::next(it);
  }
  auto it = entries_.find(key);
  if (it == entries_.end()) {
    if (entries_.size() >= kMaxEntries) entries_.erase(entries_.begin());
    entries_[key] = {request, now_micros, false, {}};
    return std::nullopt;
  }
  if (it->second.request != request) {
    return Replay{
        422, Dump({{"error",
                    {{"code", "INVALID_ARGUMENT"},
                     {"message", "Idempotency-Key " + key + " was used for another request"}}}})};
  }
  if (!it->second.done) {
    return Replay{
        409,
        Dump({{"error",
               {{"code", "ABORTED"},
                {"message", "the request with Idempotency-Key " + key + " is still running"}}}})};
  }
  return it->second.response;
}

void Server::Idempotent::Finish(const std::string& key, Replay response) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = entries_.find(key);
  if (it == entries_.end()) return;
  it->second.done = true;
  it->second.response = std::move(response);
}

void Server::Idempotent::Forget(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  entries_.erase(key);
}

void Server::RouteTables() {
  httplib::Server& h = *http_;
  h.Put(R"(/v1/tables/([a-z_][a-z0-9_]{0,62})/partitions/([^/]{1,200}))",
        [this](const httplib::Request& req, httplib::Response& res) {
          LoadRequest load;
          load.table = req.matches[1];
          load.partition = req.matches[2];
          load.text = req.body;
          load.source = "request body";
          const std::string mode = req.has_param("mode") ? req.get_param_value("mode") : "replace";
          if (mode != "replace" && mode != "merge") {
            return SetError(res, 400, "mode must be replace or merge");
          }
          load.mode = mode == "merge" ? LoadMode::kMerge : LoadMode::kReplace;
          load.allow_empty = req.get_param_value("allow_empty") == "true";
          std::optional<FileFormat> format = FormatOf(req.get_header_value("Content-Type"));
          if (!format) {
            return SetError(res, 415, "a load's Content-Type is text/csv or application/x-ndjson");
          }
          load.format = *format;
          // A retry with the same Idempotency-Key gets the first answer, and writes nothing.
          const std::string key = req.get_header_value("Idempotency-Key");
          if (!key.empty()) {
            const std::string fingerprint = load.table + "\n" + load.partition + "\n" + mode +
                                            "\n" +
                                            std::to_string(std::hash<std::string>()(load.text));
            if (auto replay = idempotent_.Begin(key, fingerprint, d_.clock->NowMicros())) {
              res.status = replay->status;
              res.set_header("Idempotent-Replayed", "true");
              res.set_content(replay->body, kJson);
              return;
            }
          }
          RunOptions options;
          options.trigger_source = "http";
          options.correlation_id = key;
          options.allow_shrink = req.get_param_value("allow_shrink") == "true";
          StatusOr<RunSummary> s = d_.pipeline->LoadText(load, d_.pipeline->NewRunId(), options);
          if (!s.ok()) {
            if (!key.empty()) idempotent_.Forget(key);  // nothing happened: a retry may run
            return SetStatusError(res, s.status());
          }
          res.status = PolicyFor(s->status, s->duplicates_detected()).http_status;
          res.set_content(s->ToJson(), kJson);
          if (!key.empty()) idempotent_.Finish(key, {res.status, res.body});
        });

  h.Post(R"(/v1/locks/(.{1,200}):(acquire|renew|release))", [this](const httplib::Request& req,
                                                                   httplib::Response& res) {
    if (TooLarge(req, res)) return;
    const std::string key = req.matches[1];
    const std::string action = req.matches[2];
    // The pipeline's own service: a load of the key waits for a lease taken here.
    auto locks = d_.pipeline->Locks();
    if (!locks.ok()) return SetStatusError(res, locks.status());
    const nlohmann::json body = req.body.empty() ? nlohmann::json::object()
                                                 : nlohmann::json::parse(req.body, nullptr, false);
    if (!body.is_object()) return SetError(res, 400, "the body is a JSON object");
    if (action == "acquire") {
      const LockPolicy& policy = d_.config->lock_policy;
      double ttl = policy.ttl_seconds;
      double wait = 0;
      if (body.contains("ttl_seconds")) {
        if (!body["ttl_seconds"].is_number()) return SetError(res, 400, "ttl_seconds is a number");
        ttl = body["ttl_seconds"].get<double>();
      }
      if (body.contains("max_wait_seconds")) {
        if (!body["max_wait_seconds"].is_number()) {
          return SetError(res, 400, "max_wait_seconds is a number");
        }
        wait = body["max_wait_seconds"].get<double>();
      }
      // A caller holds an HTTP worker while it waits: no longer than a ?wait=true run.
      if (!(ttl >= 1 && ttl <= 86400) || !(wait >= 0 && wait <= o_.wait_timeout_seconds)) {
        return SetError(res, 400,
                        "ttl_seconds is 1 to 86400 and max_wait_seconds 0 to " +
                            std::to_string(static_cast<int>(o_.wait_timeout_seconds)));
      }
      auto lease =
          (*locks)->Acquire(key, static_cast<int64_t>(ttl * 1e6), static_cast<int64_t>(wait * 1e6));
      if (!lease.ok()) return SetStatusError(res, lease.status());
      d_.log->Info("lease_acquired_over_http",
                   {{"key", Value::Text(key)},
                    {"token", lease->token ? Value::Int(*lease->token) : Value()}});
      return res.set_content(LeaseJson(*lease), kJson);
    }
    auto lease = LeaseFromJson(req.body);
    if (!lease.ok()) return SetStatusError(res, lease.status());
    if (lease->key != key) return SetError(res, 400, "the lease is of " + lease->key);
    if (action == "renew") {
      Status s = (*locks)->Renew(&*lease);
      if (!s.ok()) return SetStatusError(res, s);
      return res.set_content(LeaseJson(*lease), kJson);
    }
    Status s = (*locks)->Release(*lease);
    if (!s.ok()) return SetStatusError(res, s);
    res.set_content(Dump({{"released", key}}), kJson);
  });
}

}  // namespace propgrade::server

// The `etcd` lock backend, through etcd 3.4's v3 JSON gateway (keys and values in base64,
// 64-bit numbers as strings, zero/false fields omitted). A lock on K is the queue of keys under
// /propgrade/locks/K/, one per waiting process, each attached to that process's lease: the key
// with the smallest create_revision holds the lock, the others wait their turn (FIFO).
// The fencing token is the store revision at which the holder's key became the holder: its
// create_revision when it was first at once, else the revision of the write that records the
// takeover (a waiter's create_revision predates tokens drawn while it waited). That is the
// key's mod_revision while it holds the lock; revisions only grow, so tokens do. DrawToken is
// the revision of a write outside the queues.
// Expiry is judged by etcd: a holder that stops renewing loses its key with its lease. The
// local estimate counts the TTL etcd granted from the send time of the grant or keep-alive.
// How long a lock has been held is judged by the members' clocks: the HTTP Date header of the
// response that made the key the holder (recorded in the key's value as `server_since`)
// against that of the listing.

#include <algorithm>
#include <mutex>
#include <nlohmann/json.hpp>

#include "common/civil_date.h"
#include "common/http_client.h"
#include "common/strings.h"
#include "lock/backends.h"

namespace propgrade {
namespace {

using json = nlohmann::json;

constexpr const char* kPrefix = "/propgrade/locks/";
// Written by DrawToken (outside every queue): the revision of that write is the token.
constexpr const char* kDrawKey = "/propgrade/token-draw";

// The end of the key range holding every key with `prefix`.
std::string PrefixEnd(std::string prefix) {
  prefix.back() = static_cast<char>(prefix.back() + 1);
  return prefix;
}

// Reads an int64 that the gateway may send as a string, a number, or not at all (zero).
int64_t Int(const json& j, const char* field) {
  auto it = j.find(field);
  if (it == j.end() || it->is_null()) return 0;
  if (it->is_string()) return ParseInt64(it->get<std::string>()).value_or(0);
  if (it->is_number()) return it->get<int64_t>();
  return 0;
}

class EtcdLockService final : public LockService {
 public:
  EtcdLockService(std::vector<std::string> endpoints, const LockOptions& options)
      : endpoints_(std::move(endpoints)), options_(options) {
    for (size_t i = 0; i < endpoints_.size(); ++i) clients_.push_back(NewCurlHttpClient());
  }

  std::string_view backend() const override { return "etcd"; }
  std::string fence_namespace() const override {
    std::lock_guard<std::mutex> lock(mu_);
    return "etcd:" + cluster_id_;
  }

  // Learns the cluster id (the fence namespace) and proves an endpoint answers.
  Status Connect() {
    ASSIGN_OR_RETURN(json r, Call("/v3/kv/range", {{"key", Base64Encode(kPrefix)}, {"limit", 1}}));
    return OkStatus();
  }

  StatusOr<Lease> Acquire(const std::string& key, int64_t ttl_micros,
                          int64_t max_wait_micros) override {
    const std::string prefix = std::string(kPrefix) + key + "/";
    const int64_t ttl_seconds = std::max<int64_t>(2, (ttl_micros + 999999) / 1000000);
    Lease lease;
    lease.key = key;
    lease.holder_id = options_.holder_id;
    std::string lease_id, own_key;
    int64_t own_revision = 0;
    int64_t seen_revision = 0;  // the store revision of our latest look at the queue
    // Our etcd lease runs for `granted_seconds` from (at latest) the send time of the request
    // that granted it or last kept it alive.
    int64_t extended_at = 0, extended_at_steady = 0, granted_seconds = 0;
    auto owner_range = [&] {
      return json{{"key", Base64Encode(prefix)},
                  {"range_end", Base64Encode(PrefixEnd(prefix))},
                  {"sort_order", "ASCEND"},
                  {"sort_target", "CREATE"},
                  {"limit", 1}};
    };
    auto leave_queue = [&] {
      if (!lease_id.empty()) {
        Call("/v3/lease/revoke", {{"ID", lease_id}}).status().IgnoreError();
        lease_id.clear();
      }
    };
    auto try_once = [&](std::string* holder) -> StatusOr<std::optional<Lease>> {
      json owner;
      int64_t owner_date = 0;  // the Date header of the response that showed the queue
      const bool joining = lease_id.empty();  // else we are queued and look again
      if (joining) {
        // Join the queue: a lease, then in one txn our key under the lock's prefix and a look
        // at who is first (an uncontended acquire is grant + txn, then revoke to release).
        const int64_t sent = options_.clock->NowMicros();
        const int64_t sent_steady = options_.clock->SteadyMicros();
        int64_t grant_date = 0;
        ASSIGN_OR_RETURN(json g, Call("/v3/lease/grant", {{"TTL", ttl_seconds}}, &grant_date));
        lease_id = g.value("ID", "");
        if (lease_id.empty()) return UnavailableError("etcd granted no lease");
        granted_seconds = Int(g, "TTL");
        if (granted_seconds <= 0) {
          lease_id.clear();
          return UnavailableError("etcd granted a lease without a TTL");
        }
        extended_at = sent;
        extended_at_steady = sent_steady;
        own_key = prefix + lease_id;
        // Since when we wait (or, first at once, hold): our clock and the member's (the
        // grant's Date, just before the key is written).
        json put = {{"key", Base64Encode(own_key)},
                    {"value", Base64Encode(Value(options_.clock->NowMicros(), grant_date))},
                    {"lease", lease_id}};
        auto joined = Call("/v3/kv/txn",
                           {{"compare", json::array({{{"key", Base64Encode(own_key)},
                                                      {"target", "CREATE"},
                                                      {"result", "EQUAL"},
                                                      {"create_revision", "0"}}})},
                            {"success", json::array({{{"requestPut", put}},
                                                     {{"requestRange", owner_range()}}})},
                            {"failure", json::array()}});
        if (!joined.ok() && joined.status().code() == StatusCode::kNotFound) {
          // The lease expired before the txn got through (a member that did not answer cost
          // the time): nothing was written; join again with a new lease.
          lease_id.clear();
          *holder = "nobody yet (our etcd lease expired before we joined the queue)";
          return std::optional<Lease>();
        }
        ASSIGN_OR_RETURN(json t, std::move(joined));
        own_revision = Int(t["header"], "revision");
        seen_revision = own_revision;
        if (t.contains("responses") && t["responses"].size() == 2) {
          owner = t["responses"][1].value("response_range", json::object());
        }
      } else {
        if (options_.clock->SteadyMicros() - extended_at_steady > ttl_seconds * 1000000 / 3) {
          const int64_t sent = options_.clock->NowMicros();
          const int64_t sent_steady = options_.clock->SteadyMicros();
          ASSIGN_OR_RETURN(int64_t kept_seconds, KeepAlive(lease_id));
          if (kept_seconds <= 0) {  // our queued key went with it: join again at the back
            lease_id.clear();
            return std::optional<Lease>();
          }
          extended_at = sent;
          extended_at_steady = sent_steady;
          granted_seconds = kept_seconds;
        }
        ASSIGN_OR_RETURN(owner, Call("/v3/kv/range", owner_range(), &owner_date));
        if (owner.contains("header")) seen_revision = Int(owner["header"], "revision");
      }
      if (!owner.contains("kvs") || owner["kvs"].empty()) {
        return UnavailableError("our etcd key for " + key + " vanished while waiting");
      }
      const json& first = owner["kvs"][0];
      if (Base64Decode(first.value("key", "")).value_or("") != own_key) {
        *holder = HolderOf(first);
        return std::optional<Lease>();
      }
      int64_t now = options_.clock->NowMicros();
      int64_t token = own_revision;
      if (!joining) {
        // Take over: record when (our clock and the member's) in our key, if it is still the
        // one we queued (not force-released or expired meanwhile); the revision of this write
        // is the token, above every token drawn while we waited.
        json put = {{"key", Base64Encode(own_key)},
                    {"value", Base64Encode(Value(now, owner_date))},
                    {"lease", lease_id}};
        auto took = Call("/v3/kv/txn",
                         {{"compare", json::array({{{"key", Base64Encode(own_key)},
                                                    {"target", "CREATE"},
                                                    {"result", "EQUAL"},
                                                    {"create_revision",
                                                     std::to_string(own_revision)}}})},
                          {"success", json::array({{{"requestPut", put}}})},
                          {"failure", json::array()}});
        if (!took.ok() && took.status().code() == StatusCode::kNotFound) {
          lease_id.clear();  // our lease expired: join again at the back
          *holder = "nobody (our etcd lease expired while we waited)";
          return std::optional<Lease>();
        }
        ASSIGN_OR_RETURN(json t, std::move(took));
        if (!t.value("succeeded", false)) {  // our key is gone: join again at the back
          leave_queue();
          *holder = "nobody (our queued key was removed)";
          return std::optional<Lease>();
        }
        token = Int(t["header"], "revision");
      }
      lease.token = token;
      lease.acquired_at_micros = now;
      lease.expires_at_micros = extended_at + granted_seconds * 1000000;
      lease.valid_until_steady_micros = extended_at_steady + granted_seconds * 1000000;
      lease.handle = lease_id;
      return std::optional<Lease>(lease);
    };
    // Waiters watch the queue and wake when a key in it goes (a release, a revoke, an expiry),
    // at least three times per TTL so our waiting key's lease is kept alive.
    auto wait_for_change = [&](int64_t max_micros) {
      return !lease_id.empty() && WatchForDelete(prefix, seen_revision, max_micros);
    };
    auto acquired = PollAcquire(options_.clock, key, max_wait_micros, try_once,
                                ttl_seconds * 1000000 / 3, wait_for_change);
    if (!acquired.ok()) leave_queue();
    return acquired;
  }

  Status Renew(Lease* lease) override {
    // etcd extends the lease by its TTL from when it handles the keep-alive: at or after now.
    const int64_t sent = options_.clock->NowMicros();
    const int64_t sent_steady = options_.clock->SteadyMicros();
    auto kept_seconds = KeepAlive(lease->handle);
    if (!kept_seconds.ok()) return kept_seconds.status();
    std::string own_key = std::string(kPrefix) + lease->key + "/" + lease->handle;
    bool held = false;
    if (*kept_seconds > 0) {
      ASSIGN_OR_RETURN(json r, Call("/v3/kv/range", {{"key", Base64Encode(own_key)}}));
      held = Int(r, "count") > 0 && Int(r["kvs"][0], "mod_revision") == lease->token;
    }
    if (!held) {
      return AbortedError("etcd lease on " + lease->key + " is no longer held",
                          StatusReason::kLockLost);
    }
    lease->expires_at_micros = sent + *kept_seconds * 1000000;
    lease->valid_until_steady_micros = sent_steady + *kept_seconds * 1000000;
    return OkStatus();
  }

  Status Release(const Lease& lease) override {
    if (lease.handle.empty()) return OkStatus();
    auto r = Call("/v3/lease/revoke", {{"ID", lease.handle}});
    if (!r.ok() && r.status().code() == StatusCode::kNotFound) return OkStatus();  // expired
    return r.status();
  }

  StatusOr<bool> ForceRelease(const std::string& key, int64_t token) override {
    const std::string prefix = std::string(kPrefix) + key + "/";
    ASSIGN_OR_RETURN(json r, Call("/v3/kv/range", {{"key", Base64Encode(prefix)},
                                                   {"range_end", Base64Encode(PrefixEnd(prefix))},
                                                   {"sort_order", "ASCEND"},
                                                   {"sort_target", "CREATE"},
                                                   {"limit", 1}}));
    if (!r.contains("kvs") || r["kvs"].empty()) return false;
    const json& holder = r["kvs"][0];
    if (Int(holder, "mod_revision") != token) return false;  // another holder (or none) now
    // Delete the holder's key only if it still holds with that token; its next renewal then
    // finds the key gone. Its lease, which holds nothing else, is revoked too.
    const std::string holder_key = holder.value("key", "");  // base64, as etcd sent it
    ASSIGN_OR_RETURN(
        json t, Call("/v3/kv/txn",
                     {{"compare", json::array({{{"key", holder_key},
                                                {"target", "MOD"},
                                                {"result", "EQUAL"},
                                                {"mod_revision", std::to_string(token)}}})},
                      {"success", json::array({{{"requestDeleteRange", {{"key", holder_key}}}}})},
                      {"failure", json::array()}}));
    if (!t.value("succeeded", false)) return false;
    std::string lease = holder.value("lease", "");
    if (!lease.empty()) Call("/v3/lease/revoke", {{"ID", lease}}).status().IgnoreError();
    return true;
  }

  StatusOr<int64_t> DrawToken(const std::string& key) override {
    const std::string value = json({{"key", key}, {"holder", options_.holder_id}}).dump();
    ASSIGN_OR_RETURN(json r, Call("/v3/kv/put", {{"key", Base64Encode(kDrawKey)},
                                                 {"value", Base64Encode(value)}}));
    int64_t token = r.contains("header") ? Int(r["header"], "revision") : 0;
    if (token <= 0) return InternalError("etcd answered a put without a revision");
    return token;
  }

  StatusOr<std::vector<LockInfo>> List() override {
    int64_t listed_date = 0;  // the member's clock at the listing
    ASSIGN_OR_RETURN(json r, Call("/v3/kv/range", {{"key", Base64Encode(kPrefix)},
                                                   {"range_end", Base64Encode(PrefixEnd(kPrefix))},
                                                   {"sort_order", "ASCEND"},
                                                   {"sort_target", "CREATE"}},
                                  &listed_date));
    std::map<std::string, LockInfo> locks;
    int64_t now = options_.clock->NowMicros();
    for (const json& kv : r.value("kvs", json::array())) {
      std::string full = Base64Decode(kv.value("key", "")).value_or("");
      std::string rest = full.substr(std::string(kPrefix).size());
      size_t slash = rest.rfind('/');
      if (slash == std::string::npos) continue;
      std::string key = rest.substr(0, slash);
      auto [it, first] = locks.try_emplace(key);
      if (!first) {
        ++it->second.waiters;
        continue;
      }
      LockInfo& info = it->second;
      info.key = key;
      info.token = Int(kv, "mod_revision");
      auto value = json::parse(Base64Decode(kv.value("value", "")).value_or(""), nullptr, false);
      int64_t server_since = 0;
      if (value.is_object()) {
        info.holder_id = value.value("holder", "");
        info.acquired_at_micros = value.value("since", int64_t{0});
        server_since = value.value("server_since", int64_t{0});
      }
      // Member clock against member clock. A holder that recorded no server time (an older
      // propgrade) is judged by its own clock against the member's.
      const int64_t listed = listed_date ? listed_date : now;
      info.held_micros = listed - (server_since ? server_since : info.acquired_at_micros);
      std::string lease = kv.value("lease", "");
      if (!lease.empty()) {
        auto ttl = Call("/v3/lease/timetolive", {{"ID", lease}});
        if (ttl.ok()) info.expires_at_micros = now + Int(*ttl, "TTL") * 1000000;
      }
      info.renewed_at_micros = now;
    }
    std::vector<LockInfo> out;
    for (auto& [key, info] : locks) out.push_back(std::move(info));
    return out;
  }

 private:
  // The value stored in a queue key: who, and since when it waits or (once first) holds, by
  // this process's clock and by the etcd member's (its HTTP Date; 0 when it sent none).
  std::string Value(int64_t since_micros, int64_t server_since_micros) const {
    json v = {{"holder", options_.holder_id}, {"since", since_micros}};
    if (server_since_micros) v["server_since"] = server_since_micros;
    return v.dump();
  }

  static std::string HolderOf(const json& kv) {
    auto value = json::parse(Base64Decode(kv.value("value", "")).value_or(""), nullptr, false);
    std::string holder = value.is_object() ? value.value("holder", "") : "";
    return holder + " (token " + std::to_string(Int(kv, "mod_revision")) + ")";
  }

  // Keeps `lease_id` alive: the TTL etcd granted it (seconds, from when etcd handled the
  // request), 0 when the lease is gone.
  StatusOr<int64_t> KeepAlive(const std::string& lease_id) {
    ASSIGN_OR_RETURN(json r, Call("/v3/lease/keepalive", {{"ID", lease_id}}));
    const json& result = r.contains("result") ? r["result"] : r;
    return Int(result, "TTL");
  }

  // Blocks until a key under `prefix` is deleted after `revision`, or `max_micros` pass.
  // False when the watch could not be made (the caller backs off instead). Uses its own
  // connection: a watch must not hold up the keep-alives of other leases.
  bool WatchForDelete(const std::string& prefix, int64_t revision, int64_t max_micros) {
    size_t e;
    {
      std::lock_guard<std::mutex> lock(mu_);
      e = current_;
    }
    json request = {{"create_request",
                     {{"key", Base64Encode(prefix)},
                      {"range_end", Base64Encode(PrefixEnd(prefix))},
                      {"start_revision", std::to_string(revision + 1)},
                      {"filters", json::array({"NOPUT"})}}}};
    HttpRequestOptions options;
    options.timeout_ms = static_cast<int>(std::clamp<int64_t>(max_micros / 1000, 1, 60000));
    bool canceled = false;
    options.stop_when = [&](std::string_view body) {
      canceled = body.find("\"canceled\":true") != std::string_view::npos;
      return canceled || body.find("\"events\"") != std::string_view::npos;
    };
    auto watched = NewCurlHttpClient()->Post("http://" + endpoints_[e] + "/v3/watch",
                                             request.dump(), "application/json", options);
    return watched.ok() && watched->status == 200 && !canceled;
  }

  // POSTs to the first endpoint that answers, starting with the last one that did.
  // `date_micros`, when given, receives the answer's Date header (0 when it had none).
  StatusOr<json> Call(const std::string& path, const json& body, int64_t* date_micros = nullptr) {
    std::string text = body.dump();
    std::string last_error;
    size_t start;
    {
      std::lock_guard<std::mutex> lock(mu_);
      start = current_;
    }
    HttpRequestOptions options;  // 1 s to connect, 5 s in all
    for (size_t i = 0; i < endpoints_.size(); ++i) {
      size_t e = (start + i) % endpoints_.size();
      auto res = clients_[e]->Post("http://" + endpoints_[e] + path, text, "application/json",
                                   options);
      if (!res.ok()) {
        last_error = res.status().message();
        continue;
      }
      // A stream (keepalive) answers with one JSON object per line: take the first.
      std::string payload = res->body.substr(0, res->body.find('\n'));
      json j = json::parse(payload, nullptr, false);
      if (res->status == 404) return NotFoundError("etcd " + path + ": " + payload);
      if (res->status >= 500 || res->status == 503) {
        last_error = endpoints_[e] + ": HTTP " + std::to_string(res->status) + " " + payload;
        continue;  // e.g. no leader on this member: try another
      }
      if (res->status != 200 || j.is_discarded()) {
        return InternalError("etcd " + path + " answered HTTP " + std::to_string(res->status) +
                             ": " + payload.substr(0, 200));
      }
      if (date_micros) *date_micros = res->date_micros;
      std::lock_guard<std::mutex> lock(mu_);
      current_ = e;
      if (j.contains("header") && j["header"].contains("cluster_id")) {
        cluster_id_ = j["header"]["cluster_id"].get<std::string>();
      }
      return j;
    }
    return UnavailableError("no etcd endpoint answered " + path + " (" + last_error + ")");
  }

  std::vector<std::string> endpoints_;
  std::vector<std::unique_ptr<HttpClient>> clients_;  // one per endpoint, connections kept alive
  LockOptions options_;
  mutable std::mutex mu_;  // guards current_ and cluster_id_
  size_t current_ = 0;
  std::string cluster_id_;
};

}  // namespace

StatusOr<std::unique_ptr<LockService>> NewEtcdLockService(const std::string& endpoints,
                                                          const LockOptions& options) {
  std::vector<std::string> list;
  for (std::string_view e : Split(endpoints, ',')) {
    if (!Trim(e).empty()) list.emplace_back(Trim(e));
  }
  if (list.empty()) return InvalidArgumentError("etcd:// needs host:port endpoints");
  auto service = std::make_unique<EtcdLockService>(std::move(list), options);
  RETURN_IF_ERROR(service->Connect());
  return std::unique_ptr<LockService>(std::move(service));
}

}  // namespace propgrade

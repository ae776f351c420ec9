#include "testing/etcd_cluster.h"

#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <thread>

#include "common/http_client.h"

namespace propgrade::testing {

namespace {

// A loopback TCP port nothing listens on now.
int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

std::string Loopback(int port) { return "127.0.0.1:" + std::to_string(port); }

}  // namespace

StatusOr<std::unique_ptr<EtcdCluster>> EtcdCluster::Start(const std::string& dir, int members) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return UnavailableError("cannot create " + dir + ": " + ec.message());
  auto c = std::unique_ptr<EtcdCluster>(new EtcdCluster());
  c->token_ = "propgrade-test-" + std::to_string(getpid());
  for (int i = 0; i < members; ++i) {
    Member m;
    m.name = "m" + std::to_string(i);
    m.data_dir = dir + "/" + m.name;
    m.client_port = FreePort();
    m.peer_port = FreePort();
    c->cluster_ += (i ? "," : "") + m.name + "=http://" + Loopback(m.peer_port);
    c->members_.push_back(std::move(m));
  }
  for (Member& m : c->members_) m.process = c->Launch(m, /*fresh=*/true);
  for (int i = 0; i < members; ++i) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (!c->Healthy(i)) {
      if (std::chrono::steady_clock::now() > deadline) {
        return UnavailableError("etcd member " + c->members_[i].name + " did not start (see " +
                                c->members_[i].data_dir + ".log)");
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
  return c;
}

EtcdCluster::~EtcdCluster() {
  for (Member& m : members_) m.process.reset();  // SIGKILL and reap
}

std::unique_ptr<Child> EtcdCluster::Launch(const Member& m, bool fresh) const {
  const std::string client = "http://" + Loopback(m.client_port);
  const std::string peer = "http://" + Loopback(m.peer_port);
  return std::make_unique<Child>(std::vector<std::string>{
      "etcd", "--name", m.name, "--data-dir", m.data_dir, "--listen-client-urls", client,
      "--advertise-client-urls", client, "--listen-peer-urls", peer,
      "--initial-advertise-peer-urls", peer, "--initial-cluster", cluster_,
      "--initial-cluster-token", token_, "--initial-cluster-state", fresh ? "new" : "existing",
      "--logger=zap", "--log-outputs=" + m.data_dir + ".log"});
}

std::string EtcdCluster::Endpoints() const {
  std::string out;
  for (const Member& m : members_) out += (out.empty() ? "" : ",") + Loopback(m.client_port);
  return out;
}

std::pair<std::string, std::string> EtcdCluster::MemberStatus(int i) const {
  HttpRequestOptions o;
  o.connect_timeout_ms = 300;
  o.timeout_ms = 1000;
  auto r = NewCurlHttpClient()->Post(
      "http://" + Loopback(members_[i].client_port) + "/v3/maintenance/status", "{}",
      "application/json", o);
  if (!r.ok() || r->status != 200) return {"", ""};
  auto j = nlohmann::json::parse(r->body, nullptr, false);
  if (j.is_discarded()) return {"", ""};
  std::string self = j.contains("header") ? j["header"].value("member_id", "") : "";
  return {self, j.value("leader", "")};
}

bool EtcdCluster::Healthy(int i) const {
  HttpRequestOptions o;
  o.connect_timeout_ms = 300;
  o.timeout_ms = 1000;
  auto r = NewCurlHttpClient()->Post("http://" + Loopback(members_[i].client_port) +
                                         "/v3/kv/range",
                                     R"({"key":"aGVhbHRo"})", "application/json", o);
  return r.ok() && r->status == 200;
}

int EtcdCluster::Leader() const {
  for (int i = 0; i < size(); ++i) {
    auto [self, leader] = MemberStatus(i);
    if (leader.empty() || leader == "0") continue;
    for (int k = 0; k < size(); ++k) {
      if (MemberStatus(k).first == leader) return k;
    }
  }
  return -1;
}

void EtcdCluster::Kill(int i) {
  if (members_[i].process) members_[i].process->Signal(SIGKILL);
  members_[i].process.reset();  // reaps it
}

Status EtcdCluster::Restart(int i) {
  members_[i].process = Launch(members_[i], /*fresh=*/false);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!Healthy(i)) {
    if (std::chrono::steady_clock::now() > deadline) {
      return UnavailableError("etcd member " + members_[i].name + " did not come back");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return OkStatus();
}

}  // namespace propgrade::testing

// A throwaway etcd cluster owned by one test (members are child processes on free loopback
// ports, data under a directory the test owns), for fault scenarios that kill and restart
// members: R5's leader kill. Needs the `etcd` binary (Debian: etcd-server). Tests only; not
// thread-safe.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "testing/subprocess.h"

namespace propgrade::testing {

class EtcdCluster {
 public:
  // Starts `members` members under `dir` and waits until every one is healthy.
  static StatusOr<std::unique_ptr<EtcdCluster>> Start(const std::string& dir, int members = 3);
  ~EtcdCluster();  // kills every member

  // "127.0.0.1:p1,127.0.0.1:p2,..." (for etcd://...).
  std::string Endpoints() const;
  int size() const { return static_cast<int>(members_.size()); }
  // The index of the member that leads now, asking the live members' status endpoints;
  // -1 when none answers with a leader.
  int Leader() const;
  // SIGKILL to member `i`.
  void Kill(int i);
  // Starts member `i` again on its data directory (it rejoins) and waits until it is healthy.
  Status Restart(int i);

 private:
  struct Member {
    std::string name, data_dir;
    int client_port = 0, peer_port = 0;
    std::unique_ptr<Child> process;
  };
  EtcdCluster() = default;
  std::unique_ptr<Child> Launch(const Member& m, bool fresh) const;
  bool Healthy(int i) const;
  // This member's id and its leader's id, from /v3/maintenance/status ("" when it does not
  // answer).
  std::pair<std::string, std::string> MemberStatus(int i) const;

  std::string cluster_;  // --initial-cluster
  std::string token_;
  std::vector<Member> members_;
};

}  // namespace propgrade::testing

// LockPolicy: how runs use the lease lock (spec/operations.md §3 [lock_policy]). Plain value.
#pragma once

#include <string>

namespace propgrade {

struct LockPolicy {
  double ttl_seconds = 300;                 // lease length. Default: 300
  double max_wait_seconds = 300;            // wait for a held lock. Default: 300
  double renew_every_seconds = 100;         // keeper cadence. Default: 100 (ttl / 3)
  std::string on_lock_timeout = "fail";     // "fail" or "proceed". Default: fail
  double stuck_alert_after_seconds = 600;   // Default: 600
  double stuck_release_after_seconds = 900; // 0 = never. Default: 900
};

}  // namespace propgrade

// LeaseKeeper: keeps a Lease alive while a run works under it, renewing every
// `renew_every_micros` on a background thread; the first failed renewal marks the lease lost
// for good. The write path calls CheckHeld() inside its transaction, just before COMMIT.
// Thread-safe.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

#include "common/clock.h"
#include "common/status.h"
#include "lock/lock_service.h"

namespace propgrade {

class LeaseKeeper {
 public:
  // `service`, `lease` and `clock` must outlive the keeper; the keeper updates
  // lease->expires_at_micros as it renews.
  LeaseKeeper(LockService* service, Lease* lease, Clock* clock, int64_t renew_every_micros);
  ~LeaseKeeper();

  // Called after every renewal attempt (from the keeper's thread) with its result. Set before
  // Start().
  void set_on_renew(std::function<void(const Status&)> fn) { on_renew_ = std::move(fn); }

  // Renews on a background thread (real time) until Stop().
  void Start();
  void Stop();

  // Renews now when a renewal is due by the clock; tests drive the keeper through this.
  void Tick();

  // Ok while the lease is held: no renewal failed and, by this process's clock, it has not
  // expired. Otherwise Aborted with reason kLockLost.
  Status CheckHeld() const;
  bool lost() const { return lost_.load(); }

  // Test-only: CheckHeld() always answers ok, to show that the fence check inside the write
  // transaction alone rejects a stale writer.
  void TEST_DisableLossCheck() { loss_check_disabled_ = true; }

 private:
  LockService* service_;
  Lease* lease_;
  Clock* clock_;
  int64_t renew_every_micros_;
  mutable std::mutex mu_;  // guards *lease_ and last_renew_micros_
  int64_t last_renew_micros_;
  std::atomic<bool> lost_{false};
  std::string lost_reason_;
  bool loss_check_disabled_ = false;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread thread_;
  std::function<void(const Status&)> on_renew_;
};

}  // namespace propgrade

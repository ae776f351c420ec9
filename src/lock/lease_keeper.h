// LeaseKeeper: keeps a Lease alive while a run works under it, renewing every
// `renew_every_micros` on a background thread; the first failed renewal marks the lease lost
// for good. The write path calls CheckHeld() inside its transaction, just before COMMIT: it
// never waits (no lock, no I/O), so a renewal stuck behind that very transaction (SQLite `db`:
// the same database file) cannot stall the commit. Thread-safe.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "common/clock.h"
#include "common/status.h"
#include "lock/lock_service.h"

namespace propgrade {

class LeaseKeeper {
 public:
  // `service`, `lease` and `clock` (the service's Clock) must outlive the keeper. The keeper
  // renews a copy of the lease and then publishes the new lease->expires_at_micros and
  // lease->valid_until_steady_micros; the owner reads those only after Stop().
  LeaseKeeper(LockService* service, Lease* lease, Clock* clock, int64_t renew_every_micros);
  ~LeaseKeeper();

  // Called after every renewal attempt (from the renewing thread) with its result. Set before
  // Start().
  void set_on_renew(std::function<void(const Status&)> fn) { on_renew_ = std::move(fn); }

  // Renews on a background thread (real time) until Stop().
  void Start();
  void Stop();

  // Renews now when a renewal is due by the clock's steady time; tests drive the keeper
  // through this.
  void Tick();

  // Ok while the lease is held: no renewal failed and the steady clock has not reached the
  // lease's valid_until_steady_micros (the send time of the last successful acquisition or
  // renewal plus the TTL granted). Otherwise Aborted with reason kLockLost. Lock-free.
  Status CheckHeld() const;
  bool lost() const { return lost_.load(); }

  // Test-only: CheckHeld() always answers ok, to show that the fence check inside the write
  // transaction alone rejects a stale writer.
  void TEST_DisableLossCheck() { loss_check_disabled_ = true; }

 private:
  LockService* service_;
  Lease* lease_;
  Clock* clock_;
  const int64_t renew_every_micros_;
  const std::string key_;
  const bool has_token_;
  std::atomic<int64_t> valid_until_steady_micros_;
  std::atomic<bool> lost_{false};
  std::string lost_reason_;  // written once, before lost_ is set
  std::atomic<bool> loss_check_disabled_{false};

  std::mutex tick_mu_;  // one renewal at a time; held across the renewal's I/O
  std::mutex mu_;       // guards the published fields of *lease_, last_renew_steady_micros_,
                        // stopping_; never held across I/O
  int64_t last_renew_steady_micros_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread thread_;
  std::function<void(const Status&)> on_renew_;
};

}  // namespace propgrade

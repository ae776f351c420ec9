#include "lock/lease_keeper.h"

#include <chrono>

namespace propgrade {

LeaseKeeper::LeaseKeeper(LockService* service, Lease* lease, Clock* clock,
                         int64_t renew_every_micros)
    : service_(service),
      lease_(lease),
      clock_(clock),
      renew_every_micros_(renew_every_micros),
      last_renew_micros_(clock->NowMicros()) {}

LeaseKeeper::~LeaseKeeper() { Stop(); }

void LeaseKeeper::Start() {
  thread_ = std::thread([this] {
    std::unique_lock<std::mutex> lock(mu_);
    while (!stopping_) {
      cv_.wait_for(lock, std::chrono::microseconds(renew_every_micros_));
      if (stopping_) break;
      lock.unlock();
      Tick();
      lock.lock();
    }
  });
}

void LeaseKeeper::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void LeaseKeeper::Tick() {
  if (lost_) return;
  std::lock_guard<std::mutex> lock(mu_);
  int64_t now = clock_->NowMicros();
  if (now - last_renew_micros_ < renew_every_micros_) return;
  Status s = service_->Renew(lease_);
  if (on_renew_) on_renew_(s);
  if (s.ok()) {
    last_renew_micros_ = now;
  } else {
    lost_reason_ = s.message();
    lost_ = true;
  }
}

Status LeaseKeeper::CheckHeld() const {
  if (loss_check_disabled_) return OkStatus();
  std::lock_guard<std::mutex> lock(mu_);
  if (lost_) {
    return AbortedError("lease on " + lease_->key + " lost: " + lost_reason_,
                        StatusReason::kLockLost);
  }
  if (lease_->token && clock_->NowMicros() >= lease_->expires_at_micros) {
    return AbortedError("lease on " + lease_->key + " expired before the write committed",
                        StatusReason::kLockLost);
  }
  return OkStatus();
}

}  // namespace propgrade

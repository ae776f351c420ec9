#include "lock/lease_keeper.h"

#include <chrono>

namespace propgrade {

LeaseKeeper::LeaseKeeper(LockService* service, Lease* lease, Clock* clock,
                         int64_t renew_every_micros)
    : service_(service),
      lease_(lease),
      clock_(clock),
      renew_every_micros_(renew_every_micros),
      key_(lease->key),
      has_token_(lease->token.has_value()),
      valid_until_steady_micros_(lease->valid_until_steady_micros),
      last_renew_steady_micros_(clock->SteadyMicros()) {}

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
  std::lock_guard<std::mutex> tick(tick_mu_);
  if (lost_) return;
  Lease copy;
  int64_t now;
  {
    std::lock_guard<std::mutex> lock(mu_);
    now = clock_->SteadyMicros();
    if (now - last_renew_steady_micros_ < renew_every_micros_) return;
    copy = *lease_;
  }
  // The renewal's I/O runs without mu_: CheckHeld() and Stop() never wait for it.
  Status s = service_->Renew(&copy);
  if (on_renew_) on_renew_(s);
  if (!s.ok()) {
    lost_reason_ = s.message();
    lost_.store(true);
    return;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    lease_->expires_at_micros = copy.expires_at_micros;
    lease_->valid_until_steady_micros = copy.valid_until_steady_micros;
    last_renew_steady_micros_ = now;
  }
  valid_until_steady_micros_.store(copy.valid_until_steady_micros);
}

Status LeaseKeeper::CheckHeld() const {
  if (loss_check_disabled_) return OkStatus();
  if (lost_.load()) {
    return AbortedError("lease on " + key_ + " lost: " + lost_reason_, StatusReason::kLockLost);
  }
  if (has_token_ && clock_->SteadyMicros() >= valid_until_steady_micros_.load()) {
    return AbortedError("lease on " + key_ + " expired before the write committed",
                        StatusReason::kLockLost);
  }
  return OkStatus();
}

}  // namespace propgrade

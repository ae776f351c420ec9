// FakeClock: a Clock whose time only moves when a test says so. SleepMicros advances it, so
// code that waits (lock back-off, renewal loops) runs instantly. Thread-safe.
#pragma once

#include <atomic>
#include <cstdint>

#include "common/clock.h"

namespace propgrade::testing {

class FakeClock final : public Clock {
 public:
  // Starts at 2026-01-16T11:00:00Z unless told otherwise.
  explicit FakeClock(int64_t now_micros = 1768561200000000) : now_(now_micros), steady_(0) {}

  int64_t NowMicros() const override { return now_.load(); }
  int64_t SteadyMicros() const override { return steady_.load(); }
  void SleepMicros(int64_t micros) override { Advance(micros); }

  void Advance(int64_t micros) {
    now_ += micros;
    steady_ += micros;
  }
  void AdvanceSeconds(double seconds) { Advance(static_cast<int64_t>(seconds * 1e6)); }
  void SetNow(int64_t now_micros) { now_ = now_micros; }

 private:
  std::atomic<int64_t> now_;
  std::atomic<int64_t> steady_;
};

}  // namespace propgrade::testing

// Clock: the only source of time in logic code (run ids, graded_at, lease expiry on SQLite,
// breaker timing, renewal cadence). Inject it; tests use testing::FakeClock.
// Implementations must be thread-safe.
#pragma once

#include <cstdint>

namespace propgrade {

class Clock {
 public:
  virtual ~Clock() = default;
  // Wall time, UTC, in microseconds since the Unix epoch.
  virtual int64_t NowMicros() const = 0;
  // Monotonic time in microseconds from an arbitrary origin; for durations only.
  virtual int64_t SteadyMicros() const = 0;
  // Blocks the caller for `micros` of this clock's time (a FakeClock advances instead).
  virtual void SleepMicros(int64_t micros) = 0;
};

// The real clock. Stateless; the returned object lives for the whole process.
Clock& RealClock();

}  // namespace propgrade

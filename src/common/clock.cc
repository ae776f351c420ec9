#include "common/clock.h"

#include <chrono>
#include <thread>

namespace propgrade {
namespace {

class SystemClockImpl final : public Clock {
 public:
  int64_t NowMicros() const override {
    return std::chrono::duration_cast<std::chrono::microseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
  int64_t SteadyMicros() const override {
    return std::chrono::duration_cast<std::chrono::microseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
  }
  void SleepMicros(int64_t micros) override {
    if (micros > 0) std::this_thread::sleep_for(std::chrono::microseconds(micros));
  }
};

}  // namespace

Clock& RealClock() {
  static SystemClockImpl* clock = new SystemClockImpl();
  return *clock;
}

}  // namespace propgrade

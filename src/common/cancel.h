// CancelToken: cooperative cancellation for long work (SIGINT/SIGTERM in the CLI, shutdown in
// the server). Cancel() is async-signal-safe. Thread-safe.
#pragma once

#include <atomic>

namespace propgrade {

class CancelToken {
 public:
  void Cancel() { cancelled_.store(true, std::memory_order_relaxed); }
  bool cancelled() const { return cancelled_.load(std::memory_order_relaxed); }

 private:
  std::atomic<bool> cancelled_{false};
};

}  // namespace propgrade

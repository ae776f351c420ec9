// What every subcommand starts from: the resolved configuration (file < environment < flags),
// the logger, the clock and an open Store. Not thread-safe.
#pragma once

#include <memory>
#include <string>

#include "cli/commands.h"
#include "common/status.h"
#include "observe/log.h"
#include "pipeline/config.h"
#include "pipeline/pipeline.h"
#include "store/store.h"
#include "lock/lock_service.h"

namespace propgrade::cli {

class Context {
 public:
  // Loads configuration and creates the logger; does not open the store.
  static StatusOr<std::unique_ptr<Context>> Create(const GlobalOptions& g);

  const Config& config() const { return config_; }
  Logger& log() { return *log_; }
  Clock& clock() { return RealClock(); }
  CancelToken* cancel() { return cancel_; }
  StoreOptions store_options() const;

  // Opens (once) the configured store.
  StatusOr<Store*> store();
  // Opens (once) the configured lock service.
  StatusOr<LockService*> locks();
  // A pipeline over store(); valid while the context lives.
  StatusOr<Pipeline*> pipeline();

  // Prints "propgrade: error: ..." to stderr and returns the status's exit code.
  int Fail(const Status& status);

 private:
  Config config_;
  std::unique_ptr<Logger> log_;
  CancelToken* cancel_ = nullptr;
  CancelToken own_cancel_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<LockService> locks_;
  std::unique_ptr<Pipeline> pipeline_;
};

// True when the file descriptor is a terminal.
bool IsTty(int fd);

}  // namespace propgrade::cli

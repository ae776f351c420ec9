// Factories of the lock backends (module-internal; use LockService::Open).
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "lock/lock_service.h"

namespace propgrade {

std::unique_ptr<LockService> NewNoneLockService(const LockOptions& options);
StatusOr<std::unique_ptr<LockService>> NewSqliteLockService(const std::string& path,
                                                            const LockOptions& options);
StatusOr<std::unique_ptr<LockService>> NewPostgresLockService(const LockOptions& options);
StatusOr<std::unique_ptr<LockService>> NewEtcdLockService(const std::string& endpoints,
                                                          const LockOptions& options);

}  // namespace propgrade

namespace propgrade {

// One try of a polling backend: the lease when acquired, nullopt when someone else holds the
// key (`holder` then names them for the timeout message), or an error.
using TryAcquireFn = std::function<StatusOr<std::optional<Lease>>(std::string* holder)>;

// Blocks until the key may have changed hands or `max_micros` passed; false when it could not
// wait that way (the loop then backs off instead).
using WaitForChangeFn = std::function<bool(int64_t max_micros)>;

// The shared wait loop of the backends: tries, then waits until acquired or `max_wait_micros`
// passed (0 tries once). Between tries it calls `wait_for_change` when given (for at most
// `max_sleep_micros`, never past the deadline), else backs off (BackoffMicros, same bounds).
StatusOr<Lease> PollAcquire(Clock* clock, const std::string& key, int64_t max_wait_micros,
                            const TryAcquireFn& try_once, int64_t max_sleep_micros = 5000000,
                            const WaitForChangeFn& wait_for_change = nullptr);

}  // namespace propgrade

// Status and StatusOr<T>: the error type every fallible function returns instead of throwing.
// Codes follow abseil's names. A Status may carry a Reason that the pipeline turns into a run
// status (fenced_out, lock_lost, ...). Values are immutable and safe to copy between threads.
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace propgrade {

enum class StatusCode {
  kOk = 0,
  kCancelled = 1,
  kUnknown = 2,
  kInvalidArgument = 3,
  kDeadlineExceeded = 4,
  kNotFound = 5,
  kAlreadyExists = 6,
  kPermissionDenied = 7,
  kResourceExhausted = 8,
  kFailedPrecondition = 9,
  kAborted = 10,
  kOutOfRange = 11,
  kUnimplemented = 12,
  kInternal = 13,
  kUnavailable = 14,
  kDataLoss = 15,
  kUnauthenticated = 16,
};

// A finer reason for the safety refusals, which share abseil codes but end runs differently.
enum class StatusReason {
  kNone = 0,
  kFencedOut,      // a newer fence token was stored: the write was rejected
  kLockLost,       // the lease expired or could not be renewed
  kLockTimeout,    // the lock was not acquired within max_wait
  kCircuitOpen,    // the circuit breaker refused the run
  kInputsChanged,  // inputs a write was computed from changed before it committed
  kBadInput,       // the rows a write was to make do not fit the table (a load's query)
  kShrinkRefused,  // the write would remove more of the partition's keys than allowed
};

std::string_view StatusCodeName(StatusCode code);  // "INVALID_ARGUMENT"

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message, StatusReason reason = StatusReason::kNone)
      : code_(code), reason_(reason), message_(std::move(message)) {}

  static Status Ok() { return Status(); }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  StatusReason reason() const { return reason_; }
  const std::string& message() const { return message_; }

  // "INVALID_ARGUMENT: message"
  std::string ToString() const;

  // Returns a copy whose message is "prefix: message".
  Status WithContext(std::string_view prefix) const;

  void IgnoreError() const {}

 private:
  StatusCode code_ = StatusCode::kOk;
  StatusReason reason_ = StatusReason::kNone;
  std::string message_;
};

inline Status OkStatus() { return Status(); }
Status InvalidArgumentError(std::string message);
Status NotFoundError(std::string message);
Status AlreadyExistsError(std::string message);
Status FailedPreconditionError(std::string message);
Status UnavailableError(std::string message);
Status InternalError(std::string message);
Status CancelledError(std::string message);
Status DataLossError(std::string message);
Status AbortedError(std::string message, StatusReason reason = StatusReason::kNone);
Status DeadlineExceededError(std::string message, StatusReason reason = StatusReason::kNone);
Status PermissionDeniedError(std::string message);
Status ResourceExhaustedError(std::string message);
Status UnauthenticatedError(std::string message);

template <typename T>
class [[nodiscard]] StatusOr {
 public:
  StatusOr(const Status& status) : status_(status) { assert(!status.ok()); }  // NOLINT
  StatusOr(Status&& status) : status_(std::move(status)) { assert(!status_.ok()); }  // NOLINT
  StatusOr(const T& value) : value_(value) {}                                  // NOLINT
  StatusOr(T&& value) : value_(std::move(value)) {}                            // NOLINT
  template <typename U, typename = std::enable_if_t<std::is_constructible_v<T, U&&> &&
                                                    !std::is_same_v<std::decay_t<U>, Status> &&
                                                    !std::is_same_v<std::decay_t<U>, T>>>
  StatusOr(U&& value) : value_(T(std::forward<U>(value))) {}  // NOLINT

  bool ok() const { return status_.ok(); }
  const Status& status() const { return status_; }

  const T& value() const& { assert(ok()); return *value_; }
  T& value() & { assert(ok()); return *value_; }
  // Rvalue access moves the value out (by value, so `for (x : *F())` is safe).
  T value() && { assert(ok()); return std::move(*value_); }
  const T& operator*() const& { return value(); }
  T& operator*() & { return value(); }
  T operator*() && { return std::move(*this).value(); }
  const T* operator->() const { return &value(); }
  T* operator->() { return &value(); }

 private:
  Status status_;
  std::optional<T> value_;
};

}  // namespace propgrade

#define PG_CONCAT_INNER_(a, b) a##b
#define PG_CONCAT_(a, b) PG_CONCAT_INNER_(a, b)

// Returns from the enclosing function when `expr` (a Status) is not ok.
#define RETURN_IF_ERROR(expr)                               \
  do {                                                      \
    ::propgrade::Status pg_status_ = (expr);                \
    if (!pg_status_.ok()) return pg_status_;                \
  } while (0)

// `lhs = value of expr` (a StatusOr), or returns its error.
#define ASSIGN_OR_RETURN(lhs, expr) \
  ASSIGN_OR_RETURN_IMPL_(PG_CONCAT_(pg_statusor_, __LINE__), lhs, expr)
#define ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                           \
  if (!tmp.ok()) return tmp.status();          \
  lhs = std::move(tmp).value()

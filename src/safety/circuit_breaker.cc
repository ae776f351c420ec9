#include "safety/circuit_breaker.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>

namespace propgrade {

std::string_view BreakerStateName(BreakerState s) {
  switch (s) {
    case BreakerState::kClosed: return "closed";
    case BreakerState::kHalfOpen: return "half_open";
    case BreakerState::kOpen: return "open";
  }
  return "closed";
}

int BreakerStateNumber(BreakerState s) {
  return s == BreakerState::kClosed ? 0 : s == BreakerState::kHalfOpen ? 1 : 2;
}

namespace {

std::string ExpandHome(const std::string& path) {
  if (path.rfind("~/", 0) != 0) return path;
  const char* home = std::getenv("HOME");
  return std::string(home && *home ? home : "/tmp") + path.substr(1);
}

BreakerState ParseState(const std::string& s) {
  if (s == "open") return BreakerState::kOpen;
  if (s == "half_open") return BreakerState::kHalfOpen;
  return BreakerState::kClosed;
}

bool IsFailure(RunStatus s) { return s == RunStatus::kUnavailable || s == RunStatus::kFailed; }
bool IsSuccess(RunStatus s) {
  return s == RunStatus::kSuccess || s == RunStatus::kNoPredictions || s == RunStatus::kNoActuals ||
         s == RunStatus::kUnchanged;
}

BreakerStatus* FindOrAdd(std::vector<BreakerStatus>* all, const std::string& name) {
  for (BreakerStatus& b : *all) {
    if (b.name == name) return &b;
  }
  all->push_back(BreakerStatus{name});
  return &all->back();
}

}  // namespace

CircuitBreaker::CircuitBreaker(std::string state_file, int failure_threshold,
                               double open_seconds, Clock* clock)
    : path_(ExpandHome(state_file)),
      failure_threshold_(failure_threshold),
      open_micros_(static_cast<int64_t>(open_seconds * 1e6)),
      clock_(clock) {}

Status CircuitBreaker::Update(const std::function<Status(std::vector<BreakerStatus>*)>& fn) {
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(path_).parent_path(), ec);
  int fd = open(path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return UnavailableError("cannot open the breaker state file " + path_);
  if (flock(fd, LOCK_EX) != 0) {
    close(fd);
    return UnavailableError("cannot lock the breaker state file " + path_);
  }
  std::string text;
  char buf[4096];
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0) text.append(buf, static_cast<size_t>(n));
  std::vector<BreakerStatus> all;
  auto j = nlohmann::json::parse(text.empty() ? "{}" : text, nullptr, false);
  if (j.is_object() && j.contains("breakers") && j["breakers"].is_object()) {
    for (const auto& [name, b] : j["breakers"].items()) {
      BreakerStatus s;
      s.name = name;
      s.state = ParseState(b.value("state", "closed"));
      s.consecutive_failures = b.value("consecutive_failures", 0);
      s.opened_at_micros = b.value("opened_at_micros", int64_t{0});
      s.updated_at_micros = b.value("updated_at_micros", int64_t{0});
      s.trial_started_micros = b.value("trial_started_micros", int64_t{0});
      all.push_back(s);
    }
  }
  Status s = fn(&all);
  if (s.ok()) {
    nlohmann::json out;
    out["breakers"] = nlohmann::json::object();
    for (const BreakerStatus& b : all) {
      out["breakers"][b.name] = {{"state", std::string(BreakerStateName(b.state))},
                                 {"consecutive_failures", b.consecutive_failures},
                                 {"opened_at_micros", b.opened_at_micros},
                                 {"updated_at_micros", b.updated_at_micros},
                                 {"trial_started_micros", b.trial_started_micros}};
    }
    std::string data = out.dump(2) + "\n";
    if (ftruncate(fd, 0) != 0 || pwrite(fd, data.data(), data.size(), 0) !=
                                     static_cast<ssize_t>(data.size())) {
      s = UnavailableError("cannot write the breaker state file " + path_);
    }
  }
  flock(fd, LOCK_UN);
  close(fd);
  return s;
}

StatusOr<BreakerDecision> CircuitBreaker::Allow(const std::string& name) {
  BreakerDecision d;
  RETURN_IF_ERROR(Update([&](std::vector<BreakerStatus>* all) {
    BreakerStatus* b = FindOrAdd(all, name);
    int64_t now = clock_->NowMicros();
    if (b->state == BreakerState::kOpen && now - b->opened_at_micros >= open_micros_) {
      b->state = BreakerState::kHalfOpen;  // one trial
      b->trial_started_micros = 0;
    }
    if (b->state == BreakerState::kHalfOpen) {
      // The trial slot is free, or its run never reported back within open_seconds.
      if (b->trial_started_micros == 0 || now - b->trial_started_micros >= open_micros_) {
        b->trial_started_micros = now;
        b->updated_at_micros = now;
        d.allowed = true;
      } else {
        d.allowed = false;
        d.retry_after_seconds = (b->trial_started_micros + open_micros_ - now) / 1e6;
      }
    } else if (b->state == BreakerState::kOpen) {
      d.allowed = false;
      d.retry_after_seconds = (b->opened_at_micros + open_micros_ - now) / 1e6;
    }
    d.state = b->state;
    return OkStatus();
  }));
  return d;
}

StatusOr<BreakerTransition> CircuitBreaker::Record(const std::string& name, RunStatus status) {
  BreakerTransition t;
  RETURN_IF_ERROR(Update([&](std::vector<BreakerStatus>* all) {
    BreakerStatus* b = FindOrAdd(all, name);
    int64_t now = clock_->NowMicros();
    t.from = b->state;
    if (IsSuccess(status)) {
      b->state = BreakerState::kClosed;
      b->consecutive_failures = 0;
    } else if (IsFailure(status)) {
      ++b->consecutive_failures;
      if (b->state == BreakerState::kHalfOpen ||
          (b->state == BreakerState::kClosed && b->consecutive_failures >= failure_threshold_)) {
        b->state = BreakerState::kOpen;
        b->opened_at_micros = now;
      }
    } else if (b->state == BreakerState::kHalfOpen) {
      b->trial_started_micros = 0;  // a safety refusal decides nothing: free the trial slot
    }
    b->updated_at_micros = now;
    t.to = b->state;
    t.status = *b;
    return OkStatus();
  }));
  return t;
}

StatusOr<std::vector<BreakerStatus>> CircuitBreaker::List() {
  std::vector<BreakerStatus> out;
  RETURN_IF_ERROR(Update([&](std::vector<BreakerStatus>* all) {
    out = *all;
    return OkStatus();
  }));
  return out;
}

StatusOr<std::vector<BreakerTransition>> CircuitBreaker::Tick() {
  std::vector<BreakerTransition> out;
  RETURN_IF_ERROR(Update([&](std::vector<BreakerStatus>* all) {
    int64_t now = clock_->NowMicros();
    for (BreakerStatus& b : *all) {
      if (b.state != BreakerState::kOpen || now - b.opened_at_micros < open_micros_) continue;
      b.state = BreakerState::kHalfOpen;
      b.trial_started_micros = 0;
      b.updated_at_micros = now;
      out.push_back({BreakerState::kOpen, BreakerState::kHalfOpen, b});
    }
    return OkStatus();
  }));
  return out;
}

Status CircuitBreaker::Reset(const std::string& name) {
  return Update([&](std::vector<BreakerStatus>* all) {
    for (BreakerStatus& b : *all) {
      if (b.name != name) continue;
      b.state = BreakerState::kClosed;
      b.consecutive_failures = 0;
      b.trial_started_micros = 0;
      b.updated_at_micros = clock_->NowMicros();
      return OkStatus();
    }
    return NotFoundError("no breaker named '" + name + "'");
  });
}

}  // namespace propgrade

#include "lockrun/lock_run.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <nlohmann/json.hpp>

#include "common/civil_date.h"
#include "lock/lease_keeper.h"

extern char** environ;

namespace propgrade {

namespace {

constexpr int64_t kPollMicros = 50'000;

// This process's environment with `extra` set over it.
std::vector<std::string> Environment(
    const std::vector<std::pair<std::string, std::string>>& extra) {
  std::map<std::string, std::string> env;
  for (char** e = environ; e && *e; ++e) {
    const char* eq = std::strchr(*e, '=');
    if (eq) env[std::string(*e, static_cast<size_t>(eq - *e))] = eq + 1;
  }
  for (const auto& [k, v] : extra) env[k] = v;
  std::vector<std::string> out;
  for (const auto& [k, v] : env) out.push_back(k + "=" + v);
  return out;
}

int ExitStatusOf(int wstatus) {
  if (WIFEXITED(wstatus)) return WEXITSTATUS(wstatus);
  if (WIFSIGNALED(wstatus)) return 128 + WTERMSIG(wstatus);
  return 1;
}

// Starts `argv` as the leader of a process group of its own, so a stop reaches what it starts,
// and with SIGKILL as its parent-death signal: a command outliving a killed `lock run` would go
// on without anyone renewing its lease.
StatusOr<pid_t> Spawn(const std::vector<std::string>& argv, const std::vector<std::string>& env) {
  if (argv.empty()) return InvalidArgumentError("lock run needs a command after --");
  std::vector<char*> args, envp;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  for (const std::string& e : env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  int report[2];  // the child writes errno here when exec fails; closed on exec
  if (pipe2(report, O_CLOEXEC) != 0)
    return InternalError("pipe: " + std::string(std::strerror(errno)));
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid < 0) {
    close(report[0]);
    close(report[1]);
    return UnavailableError("fork: " + std::string(std::strerror(errno)));
  }
  if (pid == 0) {  // only async-signal-safe calls until exec
    setpgid(0, 0);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);  // the parent died before prctl
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    for (int s : {SIGINT, SIGTERM, SIGHUP, SIGPIPE, SIGCHLD}) signal(s, SIG_DFL);
    execvpe(args[0], args.data(), envp.data());
    const int err = errno;
    ssize_t ignored = write(report[1], &err, sizeof err);
    (void)ignored;
    _exit(127);
  }
  close(report[1]);
  int err = 0;
  ssize_t n;
  while ((n = read(report[0], &err, sizeof err)) < 0 && errno == EINTR) {
  }
  close(report[0]);
  if (n == sizeof err) {
    while (waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
    }
    return (err == ENOENT ? NotFoundError : InvalidArgumentError)("cannot start " + argv[0] + ": " +
                                                                  std::strerror(err));
  }
  return pid;
}

// Waits for `pid` until `deadline_steady` (0: no wait); true with its status when it ended.
bool WaitUntil(pid_t pid, Clock* clock, int64_t deadline_steady, int* wstatus) {
  while (true) {
    const pid_t r = waitpid(pid, wstatus, WNOHANG);
    if (r == pid) return true;
    if (r < 0 && errno != EINTR) {
      *wstatus = 0;
      return true;  // not our child any more
    }
    if (clock->SteadyMicros() >= deadline_steady) return false;
    clock->SleepMicros(kPollMicros);
  }
}

// SIGTERM to the command's group, SIGKILL after `grace_micros`; returns its exit status.
int Stop(pid_t pid, Clock* clock, int64_t grace_micros, Logger* log, const std::string& key) {
  kill(-pid, SIGTERM);
  int wstatus = 0;
  if (!WaitUntil(pid, clock, clock->SteadyMicros() + grace_micros, &wstatus)) {
    log->Warn("lock_run_kill", {{"key", Value::Text(key)},
                                {"pid", Value::Int(pid)},
                                {"grace_seconds", Value::Real(grace_micros / 1e6)}});
    kill(-pid, SIGKILL);
    while (waitpid(pid, &wstatus, 0) < 0 && errno == EINTR) {
    }
  }
  return ExitStatusOf(wstatus);
}

}  // namespace

LockRunResult RunUnderLease(LockService* locks, const LockRunOptions& options,
                            const std::vector<std::string>& argv, Clock* clock, Logger* log,
                            CancelToken* cancel) {
  LockRunResult result;
  if (argv.empty()) {
    result.status = InvalidArgumentError("lock run needs a command after --");
    return result;
  }
  StatusOr<Lease> lease = locks->Acquire(options.key, options.ttl_micros, options.max_wait_micros);
  if (!lease.ok()) {
    result.status = lease.status();
    return result;
  }
  result.lease = *lease;
  Lease held = *lease;
  std::vector<std::pair<std::string, std::string>> extra = {
      {"PROPGRADE_LOCK_KEY", options.key},
      {"PROPGRADE_FENCE_TOKEN", held.token ? std::to_string(*held.token) : ""},
      {"PROPGRADE_FENCE_NAMESPACE", locks->fence_namespace()},
      {"PROPGRADE_LOCK_HOLDER", held.holder_id},
      {"PROPGRADE_LOCK_EXPIRES_AT", FormatTimestampMicros(held.expires_at_micros)}};
  extra.insert(extra.end(), options.env.begin(), options.env.end());
  StatusOr<pid_t> pid = Spawn(argv, Environment(extra));
  if (!pid.ok()) {
    locks->Release(held).IgnoreError();
    result.status = pid.status();
    return result;
  }
  log->Info("lock_run_started", {{"key", Value::Text(options.key)},
                                 {"token", held.token ? Value::Int(*held.token) : Value()},
                                 {"pid", Value::Int(*pid)},
                                 {"command", Value::Text(argv[0])}});
  LeaseKeeper keeper(locks, &held, clock, options.renew_every_micros);
  keeper.Start();
  int wstatus = 0;
  while (true) {
    if (WaitUntil(*pid, clock, 0, &wstatus)) {
      result.exit_status = ExitStatusOf(wstatus);
      // Ended with the lease held? A loss noticed only now still means it ran without it.
      result.status = keeper.CheckHeld();
      break;
    }
    if (Status held_now = keeper.CheckHeld(); !held_now.ok()) {
      log->Error("lock_run_lease_lost", {{"key", Value::Text(options.key)},
                                         {"pid", Value::Int(*pid)},
                                         {"error", Value::Text(held_now.message())}});
      result.exit_status = Stop(*pid, clock, options.grace_micros, log, options.key);
      result.status = held_now;
      break;
    }
    if (cancel && cancel->cancelled()) {
      result.exit_status = Stop(*pid, clock, options.grace_micros, log, options.key);
      result.status = CancelledError("interrupted: the command was stopped");
      break;
    }
    clock->SleepMicros(kPollMicros);
  }
  keeper.Stop();
  locks->Release(held).IgnoreError();
  log->Info("lock_run_finished",
            {{"key", Value::Text(options.key)},
             {"exit_status", Value::Int(result.exit_status)},
             {"lease", Value::Text(result.status.ok() ? "held" : result.status.message())}});
  return result;
}

std::string LeaseJson(const Lease& lease) {
  nlohmann::json j = {{"key", lease.key},
                      {"token", nullptr},
                      {"holder_id", lease.holder_id},
                      {"expires_at", FormatTimestampMicros(lease.expires_at_micros)},
                      {"handle", lease.handle}};
  if (lease.token) j["token"] = *lease.token;
  return j.dump();
}

StatusOr<Lease> LeaseFromJson(std::string_view text) {
  const nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  auto bad = [] {
    return InvalidArgumentError(
        "--lease takes the JSON `propgrade lock acquire` printed: "
        "{\"key\", \"token\", \"holder_id\", \"handle\", ...}");
  };
  if (!j.is_object()) return bad();
  Lease lease;
  for (const char* field : {"key", "holder_id", "handle"}) {
    if (!j.contains(field) || !j[field].is_string()) return bad();
  }
  lease.key = j["key"].get<std::string>();
  lease.holder_id = j["holder_id"].get<std::string>();
  lease.handle = j["handle"].get<std::string>();
  if (j.contains("token") && j["token"].is_number_integer()) {
    lease.token = j["token"].get<int64_t>();
  } else if (j.contains("token") && !j["token"].is_null()) {
    return bad();
  }
  if (j.contains("expires_at") && j["expires_at"].is_string()) {
    if (auto t = ParseTimestampMicros(j["expires_at"].get<std::string>())) {
      lease.expires_at_micros = *t;
    }
  }
  return lease;
}

}  // namespace propgrade

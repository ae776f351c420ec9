// P6 (spec/performance.md): the contended lock. --processes processes (forked, each with its
// own LockService and holder id) acquire and release the same key --acquisitions times each,
// with no pause between a release and the next Acquire. Each records, on CLOCK_MONOTONIC (one
// clock for every process of the machine), when Acquire returned, when Release was called and
// returned, and the fencing token; the parent gathers the records through pipes and checks
// that no two hold intervals [Acquire returned, Release called] overlap and that tokens
// strictly increase in hold order. Beside it, in the same run, the uncontended P5 acquire +
// release of the same backend (one process, another key).
//   ours:   median hand-over latency (ms): Release called by one holder → Acquire returned to
//           the next holder, over hand-overs between different processes (a process that
//           re-acquires right after its own release is not a hand-over).
//   theirs: median uncontended acquire + release (ms), the same backend.
//   met:    no overlap, tokens in hold order, every acquisition completed.
// Usage: propgrade_lock_contention_bench --backend db|etcd [--db sqlite:PATH|postgresql://...]
//            [--etcd HOST:PORT[,HOST:PORT...]] [--processes 8] [--acquisitions 200]
//            [--uncontended 200] [--pause-ms 0] [--key NAME]
// --pause-ms makes each process wait after its release, so the lock rotates between processes
// instead of going back to the releaser (the polling backends' waiters are asleep then).
// Prints one JSON line (bench/README.md); progress on stderr.
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "lock/lock_service.h"
#include "store/store.h"

namespace {

using namespace propgrade;

constexpr int64_t kTtlMicros = 60 * 1000000LL;       // a holder never needs to renew
constexpr int64_t kMaxWaitMicros = 600 * 1000000LL;  // an acquisition that waits longer fails

int64_t MonoNanos() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

// One acquisition, as a child reports it. Times in CLOCK_MONOTONIC nanoseconds.
struct Record {
  int64_t acquire_called = 0;
  int64_t acquired = 0;        // Acquire returned
  int64_t release_called = 0;
  int64_t released = 0;        // Release returned
  int64_t token = 0;
  int32_t process = 0;
  int32_t ok = 0;              // 1: acquired and released without error
};

struct Options {
  std::string backend;  // db, etcd
  std::string db;       // store URL (db backend)
  std::string etcd;     // HOST:PORT[,...]
  int processes = 8;
  int acquisitions = 200;
  int uncontended = 200;
  int pause_ms = 0;  // each process sleeps this long after a release before its next Acquire
  std::string key;
};

// Opens the lock service of `o` under `holder_id` (empty: the default).
StatusOr<std::unique_ptr<LockService>> OpenLocks(const Options& o, const std::string& holder_id) {
  LockOptions lo;
  lo.holder_id = holder_id;
  if (o.backend == "etcd") return LockService::Open("etcd://" + o.etcd, lo);
  lo.store_url = o.db;
  return LockService::Open("db", lo);
}

bool WriteAll(int fd, const void* data, size_t n) {
  const char* p = static_cast<const char*>(data);
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    p += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

// The body of child `index`: signals readiness on `ready_fd`, waits for EOF on `start_fd`, runs
// the acquisitions and writes its records to `out_fd`. Returns the exit code.
int Child(const Options& o, int index, int ready_fd, int start_fd, int out_fd) {
  auto locks = OpenLocks(o, "p6-" + std::to_string(index) + "-" + std::to_string(getpid()));
  char ready = locks.ok() ? '1' : '0';
  WriteAll(ready_fd, &ready, 1);
  close(ready_fd);  // so a child that dies before this cannot leave the parent waiting
  if (!locks.ok()) {
    std::fprintf(stderr, "process %d: %s\n", index, locks.status().ToString().c_str());
    return 1;
  }
  char c;
  while (read(start_fd, &c, 1) < 0 && errno == EINTR) {
  }
  std::vector<Record> records;
  records.reserve(o.acquisitions);
  int code = 0;
  for (int i = 0; i < o.acquisitions; ++i) {
    Record r;
    r.process = index;
    r.acquire_called = MonoNanos();
    auto lease = (*locks)->Acquire(o.key, kTtlMicros, kMaxWaitMicros);
    r.acquired = MonoNanos();
    if (!lease.ok()) {
      std::fprintf(stderr, "process %d, acquisition %d: %s\n", index, i,
                   lease.status().ToString().c_str());
      code = 1;
      break;
    }
    r.token = lease->token.value_or(-1);
    r.release_called = MonoNanos();
    Status released = (*locks)->Release(*lease);
    r.released = MonoNanos();
    if (!released.ok()) {
      std::fprintf(stderr, "process %d, release %d: %s\n", index, i,
                   released.ToString().c_str());
      code = 1;
    }
    r.ok = released.ok() ? 1 : 0;
    records.push_back(r);
    if (!released.ok()) break;
    if (o.pause_ms > 0) usleep(static_cast<useconds_t>(o.pause_ms) * 1000);
  }
  if (!WriteAll(out_fd, records.data(), records.size() * sizeof(Record))) code = 1;
  if (!records.empty()) {
    std::fprintf(stderr, "  process %d: %zu acquisitions in %.1f s\n", index, records.size(),
                 (records.back().released - records.front().acquire_called) / 1e9);
  }
  return code;
}

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t i = static_cast<size_t>(p * (v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

double CpuMs(const rusage& u) {
  return (u.ru_utime.tv_sec + u.ru_stime.tv_sec) * 1e3 +
         (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e3;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  bool bad = false;
  for (int i = 1; i < argc; ++i) {
    bool has = i + 1 < argc;
    std::string a = argv[i];
    if (a == "--backend" && has) {
      o.backend = argv[++i];
    } else if (a == "--db" && has) {
      o.db = argv[++i];
    } else if (a == "--etcd" && has) {
      o.etcd = argv[++i];
    } else if (a == "--processes" && has) {
      o.processes = std::atoi(argv[++i]);
    } else if (a == "--acquisitions" && has) {
      o.acquisitions = std::atoi(argv[++i]);
    } else if (a == "--uncontended" && has) {
      o.uncontended = std::atoi(argv[++i]);
    } else if (a == "--pause-ms" && has) {
      o.pause_ms = std::atoi(argv[++i]);
    } else if (a == "--key" && has) {
      o.key = argv[++i];
    } else {
      bad = true;
    }
  }
  if (bad || (o.backend != "db" && o.backend != "etcd") || (o.backend == "db" && o.db.empty()) ||
      (o.backend == "etcd" && o.etcd.empty()) || o.processes < 1 || o.acquisitions < 1 ||
      o.uncontended < 1 || o.pause_ms < 0) {
    std::fprintf(stderr,
                 "usage: %s --backend db|etcd [--db sqlite:PATH|postgresql://...] [--etcd "
                 "HOST:PORT] [--processes 8] [--acquisitions 200] [--uncontended 200] "
                 "[--pause-ms 0] [--key NAME]\n",
                 argv[0]);
    return 2;
  }
  if (o.key.empty()) o.key = "bench/p6/" + std::to_string(getpid());
  std::string backend_name = o.backend == "etcd"                  ? "etcd"
                             : o.db.rfind("postgres", 0) == 0 ? "db (PostgreSQL)"
                                                                   : "db (SQLite)";
  if (o.backend == "db") {
    // Creates the schema (the locks table); closed again before any process forks.
    auto store = Store::Open(o.db, StoreOptions{});
    if (!store.ok()) {
      std::fprintf(stderr, "opening %s: %s\n", o.db.c_str(), store.status().ToString().c_str());
      return 3;
    }
  }
  std::fflush(nullptr);

  int ready_pipe[2], start_pipe[2];
  if (pipe(ready_pipe) != 0 || pipe(start_pipe) != 0) {
    std::perror("pipe");
    return 3;
  }
  std::vector<pid_t> pids;
  std::vector<int> result_fds;
  for (int p = 0; p < o.processes; ++p) {
    int out[2];
    if (pipe(out) != 0) {
      std::perror("pipe");
      return 3;
    }
    pid_t pid = fork();
    if (pid < 0) {
      std::perror("fork");
      return 3;
    }
    if (pid == 0) {
      close(ready_pipe[0]);
      close(start_pipe[1]);
      close(out[0]);
      for (int fd : result_fds) close(fd);
      _exit(Child(o, p, ready_pipe[1], start_pipe[0], out[1]));
    }
    close(out[1]);
    pids.push_back(pid);
    result_fds.push_back(out[0]);
  }
  close(ready_pipe[1]);
  close(start_pipe[0]);
  int ready = 0;
  for (int p = 0; p < o.processes; ++p) {
    char c = '0';
    if (read(ready_pipe[0], &c, 1) == 1 && c == '1') ++ready;
  }
  close(ready_pipe[0]);
  std::fprintf(stderr, "%s: %d of %d processes ready; %d acquisitions each of %s...\n",
               backend_name.c_str(), ready, o.processes, o.acquisitions, o.key.c_str());
  const int64_t start = MonoNanos();
  close(start_pipe[1]);  // EOF: every child starts

  std::vector<Record> records;
  for (int fd : result_fds) {
    Record r;
    size_t got = 0;
    char* buf = reinterpret_cast<char*>(&r);
    while (true) {
      ssize_t n = read(fd, buf + got, sizeof r - got);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      got += static_cast<size_t>(n);
      if (got == sizeof r) {
        records.push_back(r);
        got = 0;
      }
    }
    close(fd);
  }
  int failed_processes = 0;
  for (pid_t pid : pids) {
    int status = 0;
    waitpid(pid, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) ++failed_processes;
  }
  rusage children;
  getrusage(RUSAGE_CHILDREN, &children);

  // Hold order = order of Acquire returning.
  std::sort(records.begin(), records.end(),
            [](const Record& a, const Record& b) { return a.acquired < b.acquired; });
  const int64_t total = static_cast<int64_t>(o.processes) * o.acquisitions;
  int64_t completed = 0, overlaps = 0, token_inversions = 0, longest_run = 0, run = 0;
  std::vector<double> handover, handover_all, handover_after_release, waits;
  for (size_t i = 0; i < records.size(); ++i) {
    const Record& r = records[i];
    completed += r.ok;
    waits.push_back((r.acquired - r.acquire_called) / 1e6);
    run = i > 0 && records[i - 1].process == r.process ? run + 1 : 1;
    longest_run = std::max(longest_run, run);
    if (i == 0) continue;
    const Record& prev = records[i - 1];
    if (r.acquired < prev.release_called) ++overlaps;
    if (r.token <= prev.token) ++token_inversions;
    double ms = (r.acquired - prev.release_called) / 1e6;
    handover_all.push_back(ms);
    if (r.process != prev.process) {
      handover.push_back(ms);
      handover_after_release.push_back((r.acquired - prev.released) / 1e6);
    }
  }
  int64_t end = start;
  for (const Record& r : records) end = std::max(end, r.released);
  const double wall_s = (end - start) / 1e9;

  // P5 beside it: uncontended acquire + release, one process, same backend, another key.
  std::fprintf(stderr, "uncontended acquire + release, %d times...\n", o.uncontended);
  auto locks = OpenLocks(o, "");
  if (!locks.ok()) {
    std::fprintf(stderr, "lock service: %s\n", locks.status().ToString().c_str());
    return 3;
  }
  std::vector<double> uncontended;
  const std::string solo_key = o.key + "/uncontended";
  for (int i = 0; i < o.uncontended + 10; ++i) {  // the first 10 warm up
    int64_t a = MonoNanos();
    auto lease = (*locks)->Acquire(solo_key, kTtlMicros, 0);
    if (!lease.ok()) {
      std::fprintf(stderr, "uncontended acquire: %s\n", lease.status().ToString().c_str());
      return 1;
    }
    Status s = (*locks)->Release(*lease);
    if (!s.ok()) {
      std::fprintf(stderr, "uncontended release: %s\n", s.ToString().c_str());
      return 1;
    }
    if (i >= 10) uncontended.push_back((MonoNanos() - a) / 1e6);
  }

  const double ours = Percentile(handover, 0.5), theirs = Percentile(uncontended, 0.5);
  const bool met = overlaps == 0 && token_inversions == 0 && completed == total &&
                   failed_processes == 0;
  std::printf(
      "{\"id\": \"P6\", \"workload\": \"contended lock, %s: %d processes x %d acquisitions of "
      "one key\", \"ours\": %.3f, \"compare\": \"uncontended acquire + release (P5), same "
      "backend\", \"theirs\": %.3f, \"unit\": \"ms\", \"ratio\": %.3f, \"target\": \"no overlap, "
      "every acquisition completes; throughput and hand-over latency beside P5\", \"met\": %s, "
      "\"extra\": {\"backend\": \"%s\", \"processes\": %d, \"acquisitions\": %lld, "
      "\"completed\": %lld, \"overlaps\": %lld, \"token_inversions\": %lld, "
      "\"throughput_per_s\": %.1f, \"wall_s\": %.2f, \"handover_median_ms\": %.3f, "
      "\"handover_p95_ms\": %.3f, \"handovers\": %zu, \"handover_after_release_median_ms\": "
      "%.3f, \"all_successions_median_ms\": %.3f, \"longest_run_by_one_process\": %lld, "
      "\"wait_median_ms\": %.3f, \"wait_p95_ms\": %.3f, \"uncontended_p95_ms\": %.3f, "
      "\"children_cpu_ms_per_acquisition\": %.3f, \"failed_processes\": %d, \"pause_ms\": %d}}\n",
      backend_name.c_str(), o.processes, o.acquisitions, ours, theirs,
      theirs > 0 ? ours / theirs : 0.0, met ? "true" : "false", backend_name.c_str(),
      o.processes, static_cast<long long>(total), static_cast<long long>(completed),
      static_cast<long long>(overlaps), static_cast<long long>(token_inversions),
      wall_s > 0 ? completed / wall_s : 0.0, wall_s, ours, Percentile(handover, 0.95),
      handover.size(), Percentile(handover_after_release, 0.5), Percentile(handover_all, 0.5),
      static_cast<long long>(longest_run), Percentile(waits, 0.5), Percentile(waits, 0.95),
      Percentile(uncontended, 0.95), total > 0 ? CpuMs(children) / total : 0.0,
      failed_processes, o.pause_ms);
  if (!met) {
    std::fprintf(stderr,
                 "FAILED: %lld of %lld acquisitions completed, %lld overlaps, %lld token "
                 "inversions, %d processes failed\n",
                 static_cast<long long>(completed), static_cast<long long>(total),
                 static_cast<long long>(overlaps), static_cast<long long>(token_inversions),
                 failed_processes);
    return 1;
  }
  return 0;
}

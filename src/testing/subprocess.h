// Running the propgrade binary (or any program) from tests: wait for it, or start several and
// signal them. stdout and stderr go to files, so large outputs cannot deadlock. Tests only;
// not thread-safe.
#pragma once

#include <sys/types.h>

#include <map>
#include <string>
#include <vector>

namespace propgrade::testing {

struct CommandResult {
  int exit_code = -1;  // the exit status, or 128 + signal number when killed by a signal
  std::string out;
  std::string err;
};

class Child {
 public:
  // Starts `argv` with `env` added to (or replacing in) this process's environment. HOME is a
  // temporary directory of this test process unless `env` says otherwise. When `env` holds a
  // PROPGRADE_TEST_* fault-injection variable and argv[0] is the propgrade binary, the child
  // also gets --enable-test-hooks (the binary ignores the variables without it).
  Child(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env = {});
  ~Child();
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  pid_t pid() const { return pid_; }
  // The file the child's stderr goes to (readable while it runs).
  const std::string& err_path() const { return err_path_; }
  void Signal(int sig) const;
  // Waits for the exit and collects the output.
  CommandResult Wait();

 private:
  pid_t pid_ = -1;
  std::string out_path_, err_path_;
  bool waited_ = false;
  CommandResult result_;
};

// Waits until the child's stderr holds `needle` (true), or `timeout_ms` passed (false).
bool WaitForStderr(const Child& child, const std::string& needle, int timeout_ms = 5000);

// Runs to completion.
CommandResult RunCommand(const std::vector<std::string>& argv,
                         const std::map<std::string, std::string>& env = {});

// The propgrade binary under test.
std::string PropgradeBinary();
// The repository root, and the golden fixture (a copy of ../shared/fixtures/golden).
std::string SourceDir();
std::string GoldenDir();

}  // namespace propgrade::testing

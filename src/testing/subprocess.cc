#include "testing/subprocess.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <stdlib.h>
#include <cstring>
#include <fstream>
#include <sstream>

namespace propgrade::testing {

namespace {

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

std::string TempPath(const char* tag) {
  const char* base = std::getenv("TMPDIR");
  std::string tmpl = std::string(base && *base ? base : "/tmp") + "/propgrade-child-" + tag +
                     "-XXXXXX";
  int fd = mkstemp(tmpl.data());
  if (fd >= 0) close(fd);
  return tmpl;
}

// A HOME of this test process's own, so per-user state (the circuit breaker's file) never
// leaks between test cases or into the real home directory. Removed at exit.
class TestHome {
 public:
  TestHome() {
    char tmpl[] = "/tmp/propgrade-home-XXXXXX";
    path_ = mkdtemp(tmpl) ? tmpl : "/tmp";
  }
  ~TestHome() {
    if (path_ != "/tmp") std::system(("rm -rf " + path_).c_str());
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

const std::string& Home() {
  static TestHome home;
  return home.path();
}

// A fault-injection variable the binary honours only behind --enable-test-hooks.
bool IsTestHook(const std::string& name) {
  for (const char* hook : {"PROPGRADE_TEST_NON_ATOMIC_", "PROPGRADE_TEST_PAUSE_",
                           "PROPGRADE_TEST_DISABLE_", "PROPGRADE_TEST_LOSE_",
                           "PROPGRADE_TEST_SKIP_"}) {
    if (name.rfind(hook, 0) == 0) return true;
  }
  return false;
}

}  // namespace

Child::Child(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env) {
  const std::string& home = Home();
  out_path_ = TempPath("out");
  err_path_ = TempPath("err");
  pid_ = fork();
  if (pid_ == 0) {
    int out = open(out_path_.c_str(), O_WRONLY | O_TRUNC);
    int err = open(err_path_.c_str(), O_WRONLY | O_TRUNC);
    dup2(out, 1);
    dup2(err, 2);
    int devnull = open("/dev/null", O_RDONLY);
    dup2(devnull, 0);
    setenv("HOME", home.c_str(), 1);
    bool hooks = false;
    for (const auto& [k, v] : env) {
      setenv(k.c_str(), v.c_str(), 1);
      hooks |= IsTestHook(k);
    }
    std::vector<std::string> full = argv;
    if (hooks && !full.empty() && full[0] == PropgradeBinary()) {
      full.insert(full.begin() + 1, "--enable-test-hooks");
    }
    std::vector<char*> args;
    for (const std::string& a : full) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execvp(args[0], args.data());
    dprintf(2, "exec %s: %s\n", args[0], strerror(errno));
    _exit(127);
  }
}

Child::~Child() {
  if (pid_ > 0 && !waited_) {
    kill(pid_, SIGKILL);
    Wait();
  }
  unlink(out_path_.c_str());
  unlink(err_path_.c_str());
}

void Child::Signal(int sig) const {
  if (pid_ > 0 && !waited_) kill(pid_, sig);
}

CommandResult Child::Wait() {
  if (waited_) return result_;
  int status = 0;
  while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  waited_ = true;
  result_.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  result_.out = ReadAll(out_path_);
  result_.err = ReadAll(err_path_);
  return result_;
}

bool WaitForStderr(const Child& child, const std::string& needle, int timeout_ms) {
  for (int waited = 0; waited <= timeout_ms; waited += 5) {
    if (ReadAll(child.err_path()).find(needle) != std::string::npos) return true;
    usleep(5000);
  }
  return false;
}

CommandResult RunCommand(const std::vector<std::string>& argv,
                         const std::map<std::string, std::string>& env) {
  Child child(argv, env);
  return child.Wait();
}

std::string PropgradeBinary() {
  if (const char* p = std::getenv("PROPGRADE_BINARY"); p && *p) return p;
  return PROPGRADE_BINARY_PATH;
}

std::string SourceDir() { return PROPGRADE_SOURCE_DIR; }
std::string GoldenDir() { return SourceDir() + "/tests/fixtures/golden"; }

}  // namespace propgrade::testing

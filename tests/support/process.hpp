// Child processes for end-to-end tests, benchmarks and the soak: the simulator and the
// bridge itself, started with arguments and environment, their stdout read line by line,
// stopped with a signal. No shell is involved.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace fdb::test {

class Process {
 public:
  // Starts `argv[0]` (a path) with `argv`, the current environment plus `env`; stdout is
  // a pipe read by read_line(), stderr goes to `stderr_path` (or is inherited when empty).
  Process(std::vector<std::string> argv, std::map<std::string, std::string> env = {},
          std::string stderr_path = {});
  ~Process();  // SIGKILL and reap if still running
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  int pid() const noexcept { return pid_; }
  // The next line of stdout, waiting at most `timeout`; nullopt at EOF or timeout.
  std::optional<std::string> read_line(std::chrono::milliseconds timeout);
  // Reads lines until one starts with `prefix`; returns the rest of that line.
  std::optional<std::string> wait_for_line(const std::string& prefix, std::chrono::milliseconds timeout);
  void signal(int sig);
  // Waits for exit; returns the exit status (or 128+signal), nullopt on timeout.
  std::optional<int> wait(std::chrono::milliseconds timeout);
  bool running();

 private:
  int pid_ = -1;
  int out_fd_ = -1;
  std::string buffer_;
  std::optional<int> status_;
};

// kube-sim started on port 0, with its URLs read from its first lines.
struct Sim {
  std::unique_ptr<Process> process;
  std::string api_url;       // http://127.0.0.1:PORT
  std::string dispatch_url;  // empty unless dispatch was asked for
  std::string github_url;    // the GitHub stand-in (tests/sim/github.hpp)
  std::string kubeconfig;    // path of the kubeconfig it wrote
};

// The path of a built program: $FDB_BINARY_DIR/<relative>.
std::string built(const std::string& relative);
// A fresh temporary folder.
std::string temp_dir(const std::string& tag);

// Starts tests/sim/kube-sim with `--listen 127.0.0.1:0 --dispatch-listen 127.0.0.1:0
// --github-listen 127.0.0.1:0 --kubeconfig-out DIR/kubeconfig` and `extra` arguments.
Sim start_sim(const std::vector<std::string>& extra, const std::string& log_path = {});

}  // namespace fdb::test

#include "support/process.hpp"

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <memory>
#include <poll.h>
#include <random>
#include <spawn.h>
#include <stdexcept>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

extern char** environ;

namespace fdb::test {

Process::Process(std::vector<std::string> argv, std::map<std::string, std::string> env, std::string stderr_path) {
  if (argv.empty()) throw std::invalid_argument("Process: empty argv");
  int pipefd[2];
  if (::pipe2(pipefd, O_CLOEXEC) != 0) throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));

  std::map<std::string, std::string> all;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string kv(*e);
    const auto eq = kv.find('=');
    if (eq != std::string::npos) all[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  for (auto& [k, v] : env) all[k] = v;
  std::vector<std::string> env_strings;
  for (auto& [k, v] : all) env_strings.push_back(k + "=" + v);
  std::vector<char*> envp;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<char*> args;
  for (auto& a : argv) args.push_back(a.data());
  args.push_back(nullptr);

  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, pipefd[1], STDOUT_FILENO);
  posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  if (!stderr_path.empty()) {
    posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, stderr_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  }
  const int rc = ::posix_spawn(&pid_, argv[0].c_str(), &fa, nullptr, args.data(), envp.data());
  posix_spawn_file_actions_destroy(&fa);
  ::close(pipefd[1]);
  if (rc != 0) {
    ::close(pipefd[0]);
    throw std::runtime_error("cannot start " + argv[0] + ": " + std::strerror(rc));
  }
  out_fd_ = pipefd[0];
}

Process::~Process() {
  if (running()) {
    signal(SIGKILL);
    wait(std::chrono::seconds(5));
  }
  if (out_fd_ >= 0) ::close(out_fd_);
}

std::optional<std::string> Process::read_line(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (const auto nl = buffer_.find('\n'); nl != std::string::npos) {
      std::string line = buffer_.substr(0, nl);
      buffer_.erase(0, nl + 1);
      return line;
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0 || out_fd_ < 0) return std::nullopt;
    pollfd p{out_fd_, POLLIN, 0};
    const int n = ::poll(&p, 1, static_cast<int>(left.count()));
    if (n <= 0) {
      if (n < 0 && errno == EINTR) continue;
      return std::nullopt;
    }
    char buf[4096];
    const ssize_t got = ::read(out_fd_, buf, sizeof buf);
    if (got <= 0) {
      ::close(out_fd_);
      out_fd_ = -1;
      return std::nullopt;
    }
    buffer_.append(buf, static_cast<std::size_t>(got));
  }
}

std::optional<std::string> Process::wait_for_line(const std::string& prefix, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return std::nullopt;
    auto line = read_line(left);
    if (!line) return std::nullopt;
    if (line->rfind(prefix, 0) == 0) return line->substr(prefix.size());
  }
}

void Process::signal(int sig) {
  if (pid_ > 0 && !status_) ::kill(pid_, sig);
}

std::optional<int> Process::wait(std::chrono::milliseconds timeout) {
  if (status_) return status_;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    int st = 0;
    const pid_t r = ::waitpid(pid_, &st, WNOHANG);
    if (r == pid_) {
      status_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
      return status_;
    }
    if (r < 0) return std::nullopt;
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

bool Process::running() {
  if (status_ || pid_ <= 0) return false;
  return !wait(std::chrono::milliseconds(0)).has_value();
}

std::string built(const std::string& relative) {
  const char* dir = std::getenv("FDB_BINARY_DIR");
  if (dir == nullptr) throw std::runtime_error("FDB_BINARY_DIR is not set (run the tests through ctest)");
  return std::string(dir) + "/" + relative;
}

std::string temp_dir(const std::string& tag) {
  std::random_device rd;
  const auto p = std::filesystem::temp_directory_path() / ("fdb-" + tag + "-" + std::to_string(rd()));
  std::filesystem::create_directories(p);
  return p.string();
}

Sim start_sim(const std::vector<std::string>& extra, const std::string& log_path) {
  Sim sim;
  const std::string dir = temp_dir("sim");
  sim.kubeconfig = dir + "/kubeconfig";
  std::vector<std::string> argv = {built("tests/sim/kube-sim"), "--listen", "127.0.0.1:0", "--dispatch-listen",
                                   "127.0.0.1:0", "--github-listen", "127.0.0.1:0", "--kubeconfig-out", sim.kubeconfig};
  argv.insert(argv.end(), extra.begin(), extra.end());
  sim.process = std::make_unique<Process>(argv, std::map<std::string, std::string>{}, log_path);
  auto api = sim.process->wait_for_line("kube-sim listening on ", std::chrono::seconds(60));
  if (!api) throw std::runtime_error("kube-sim did not announce its address");
  sim.api_url = *api;
  auto dispatch = sim.process->wait_for_line("dispatch listening on ", std::chrono::seconds(10));
  if (!dispatch) throw std::runtime_error("kube-sim did not announce its dispatch address");
  sim.dispatch_url = *dispatch;
  auto github = sim.process->wait_for_line("github listening on ", std::chrono::seconds(10));
  if (!github) throw std::runtime_error("kube-sim did not announce its GitHub stand-in's address");
  sim.github_url = *github;
  return sim;
}

}  // namespace fdb::test

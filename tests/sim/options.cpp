#include "sim/options.hpp"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <stdexcept>

namespace fdb::sim {

namespace {
const char* kUsage =
    "usage: kube-sim --listen HOST:PORT [--dispatch-listen HOST:PORT] [--github-listen HOST:PORT] [--token T]\n"
    "  [--kubeconfig-out PATH]"
    "  [--kubeconfig-namespace NS] [--seed-issues N] [--seed-workloads N] [--workload-bytes B]\n"
    "  [--workload-shape padded|realistic] [--seed-phase finished|running]\n"
    "  [--seed-namespace NS] [--fail-rate F] [--seed S] [--foreman-step-ms MS] [--foreground-delay-ms MS]\n"
    "  [--history N] [--bookmark-ms MS] [--watcher-buffer-mb MB] [--crds DIR] [--dispatch-lanes a,b,c]\n";
}  // namespace

ServerOptions parse_args(int argc, char** argv) {
  ServerOptions c;
  if (const char* d = std::getenv("FDB_CRDS_DIR")) c.crds = d;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--help" || a == "-h") {
      std::cout << kUsage;
      std::exit(0);
    }
    if (i + 1 >= argc) throw std::invalid_argument(a + " needs a value (or is unknown)\n" + kUsage);
    std::string v = argv[++i];
    auto num = [&]() {
      try {
        std::size_t pos = 0;
        long long x = std::stoll(v, &pos);
        if (pos != v.size() || x < 0) throw std::invalid_argument(v);
        return x;
      } catch (const std::exception&) {
        throw std::invalid_argument(a + ": expected a non-negative integer, got \"" + v + "\"");
      }
    };
    if (a == "--listen") c.listen = v;
    else if (a == "--dispatch-listen") c.dispatch_listen = v;
    else if (a == "--github-listen") c.github_listen = v;
    else if (a == "--token") c.token = v;
    else if (a == "--kubeconfig-out") c.kubeconfig_out = v;
    else if (a == "--kubeconfig-namespace") c.kubeconfig_namespace = v;
    else if (a == "--seed-issues") c.seed_issues = static_cast<int>(num());
    else if (a == "--seed-workloads") c.seed_workloads = static_cast<int>(num());
    else if (a == "--workload-bytes") c.workload_bytes = static_cast<int>(num());
    else if (a == "--seed-phase") {
      c.seed_phase = v;
      if (c.seed_phase != "finished" && c.seed_phase != "running")
        throw std::invalid_argument("--seed-phase: finished or running, got \"" + v + "\"");
    } else if (a == "--workload-shape") {
      c.workload_shape = v;
      if (c.workload_shape != "padded" && c.workload_shape != "realistic")
        throw std::invalid_argument("--workload-shape: padded or realistic");
    }
    else if (a == "--seed-namespace") c.seed_namespace = v;
    else if (a == "--fail-rate") {
      try {
        c.fail_rate = std::stod(v);
      } catch (const std::exception&) {
        throw std::invalid_argument("--fail-rate: expected a number in [0,1], got \"" + v + "\"");
      }
      if (c.fail_rate < 0 || c.fail_rate > 1) throw std::invalid_argument("--fail-rate: expected a number in [0,1]");
    } else if (a == "--seed") c.seed = static_cast<std::uint64_t>(num());
    else if (a == "--foreman-step-ms") c.foreman_step_ms = static_cast<int>(num());
    else if (a == "--foreground-delay-ms") c.foreground_delay_ms = static_cast<int>(num());
    else if (a == "--history") c.history = static_cast<std::size_t>(std::max(1LL, num()));
    else if (a == "--bookmark-ms") c.bookmark_ms = static_cast<int>(std::max(10LL, num()));
    else if (a == "--watcher-buffer-mb") c.watcher_buffer_bytes = static_cast<std::size_t>(num()) << 20;
    else if (a == "--crds") c.crds = v, c.crds_explicit = true;
    else if (a == "--dispatch-lanes") {
      c.lanes.clear();
      std::size_t pos = 0;
      while (pos <= v.size()) {
        auto comma = v.find(',', pos);
        std::string l = v.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
        if (!l.empty()) c.lanes.push_back(l);
        if (comma == std::string::npos) break;
        pos = comma + 1;
      }
      if (c.lanes.empty()) throw std::invalid_argument("--dispatch-lanes: expected a comma-separated list");
    } else throw std::invalid_argument("unknown flag " + a + "\n" + kUsage);
  }
  return c;
}

void write_kubeconfig(const ServerOptions& cfg, const std::string& url) {
  std::ofstream f(cfg.kubeconfig_out);
  f << "apiVersion: v1\nkind: Config\nclusters:\n- name: kube-sim\n  cluster:\n    server: " << url
    << "\ncontexts:\n- name: kube-sim\n  context:\n    cluster: kube-sim\n    user: kube-sim\n    namespace: "
    << cfg.kubeconfig_namespace << "\ncurrent-context: kube-sim\nusers:\n- name: kube-sim\n  user:";
  if (cfg.token.empty()) f << " {}\n";
  else f << "\n    token: " << cfg.token << "\n";
  if (!f) throw std::runtime_error("cannot write kubeconfig " + cfg.kubeconfig_out);
}

}  // namespace fdb::sim

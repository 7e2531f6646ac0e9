// kube-sim's command line (pure apart from --help, which prints the usage and exits).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace fdb::sim {

struct ServerOptions {
  std::string listen = "127.0.0.1:0";
  std::string dispatch_listen;
  std::string github_listen;
  std::string token;
  std::string kubeconfig_out;
  std::string kubeconfig_namespace = "default";
  int seed_issues = 0;
  int seed_workloads = 0;
  int workload_bytes = 2500;
  // "padded": the intent padded with one long run of 'x' to workload_bytes. "realistic":
  // the shape of a Workload read back from a real API server — managedFields for the
  // bridge's create and Foreman's status writes, an intent of issue text with newlines,
  // quotes and code — filled with prose to workload_bytes.
  std::string workload_shape = "padded";
  // "finished": one in five seeded Workloads Failed, the others Completed. "running": all
  // Running, as Foreman leaves them while their tasks work (nothing for the bridge to do:
  // the idle benchmark).
  std::string seed_phase = "finished";
  std::string seed_namespace = "llm";
  double fail_rate = 0.0;
  std::uint64_t seed = 1;
  int foreman_step_ms = 200;
  int foreground_delay_ms = 100;
  std::size_t history = 10000;
  int bookmark_ms = 5000;
  std::size_t watcher_buffer_bytes = 256u << 20;
  std::string crds;
  bool crds_explicit = false;
  std::vector<std::string> lanes = {"local", "cloud", "frontier"};
};

// Reads the flags; throws std::invalid_argument naming a bad or unknown one.
ServerOptions parse_args(int argc, char** argv);

// Writes a kubeconfig for the simulator at options.kubeconfig_out; throws std::runtime_error.
void write_kubeconfig(const ServerOptions& options, const std::string& url);

}  // namespace fdb::sim

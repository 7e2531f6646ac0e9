#include "support/bridge_process.hpp"

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

namespace fdb::test {

std::map<std::string, std::string> bridge_env(const Sim& sim, const std::map<std::string, std::string>& extra) {
  std::map<std::string, std::string> env = {
      {"KUBECONFIG", sim.kubeconfig},
      {"DISPATCH_URL", sim.dispatch_url},
      {"DISPATCH_AGENT_TOKEN", "e2e-token"},
      {"DISPATCH_AGENT_NAME", "foreman-coder"},
      {"FOREMAN_NAMESPACE", "llm"},
      {"CLAIM_INTERVAL_S", "1"},
      {"LEADER_ELECT", "false"},
      {"METRICS_ADDR", "127.0.0.1:0"},
      {"HEALTH_ADDR", "127.0.0.1:0"},
      {"LOG_FORMAT", "json"},
      {"LOG_LEVEL", "DEBUG"},
      {"DELETE_WORKLOAD_TIMEOUT_S", "10"},
      {"POD_NAME", "bridge-0"},
  };
  // GitHub is asked even without a token (as the Python bridge did): the sim's stand-in,
  // never the real one.
  if (!sim.github_url.empty()) env["GITHUB_API_URL"] = sim.github_url;
  for (const auto& [k, v] : extra) env[k] = v;
  return env;
}

std::unique_ptr<Process> start_bridge(const Sim& sim, const std::map<std::string, std::string>& extra,
                                      const std::string& log_path) {
  return std::make_unique<Process>(std::vector<std::string>{built("operator/foreman-dispatch-bridge")},
                                   bridge_env(sim, extra), log_path);
}

std::string metrics_url_from_log(const std::string& log_path) {
  static const std::regex serving(R"re("msg":"serving","address":"([0-9.]+:[0-9]+)")re");
  for (int i = 0; i < 200; ++i) {
    std::ifstream in(log_path);
    std::stringstream ss;
    ss << in.rdbuf();
    const std::string text = ss.str();
    std::smatch m;
    if (std::regex_search(text, m, serving)) return "http://" + m[1].str();
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return {};
}

Sim start_test_sim(const std::string& tag, const std::vector<std::string>& extra) {
  std::vector<std::string> args = {"--foreman-step-ms", "100", "--foreground-delay-ms", "50", "--fail-rate", "0",
                                   "--seed", "1"};
  args.insert(args.end(), extra.begin(), extra.end());
  return start_sim(args, temp_dir("e2e-" + tag) + "/kube-sim.log");
}

}  // namespace fdb::test

// Starting the bridge binary against a kube-sim for end-to-end tests.
#pragma once

#include "support/process.hpp"

#include <map>
#include <memory>
#include <string>

namespace fdb::test {

// The environment of a bridge pointed at `sim`, fast timings for tests; `extra` wins.
std::map<std::string, std::string> bridge_env(const Sim& sim, const std::map<std::string, std::string>& extra);
// Starts the bridge; its stderr (JSON logs) goes to `log_path`.
std::unique_ptr<Process> start_bridge(const Sim& sim, const std::map<std::string, std::string>& extra,
                                      const std::string& log_path);
// The metrics URL ("http://127.0.0.1:PORT") a bridge logged at start, waiting up to 10 s.
std::string metrics_url_from_log(const std::string& log_path);
// Starts kube-sim for a test (fast Foreman, short foreground delay), logging to a file.
Sim start_test_sim(const std::string& tag, const std::vector<std::string>& extra = {});

}  // namespace fdb::test

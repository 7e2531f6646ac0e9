// The program: wires the API client, the informers, the work queue, the reconciler, the
// claim loop, leader election, metrics and health together and runs them on one
// io_context thread until SIGTERM/SIGINT (or until `stop_after` passes, for the demo).
#pragma once

#include "operator/config.hpp"
#include "watch/config.hpp"

#include <chrono>
#include <functional>
#include <optional>

namespace fdb::op {

struct AppOptions {
  // Stop by itself after this long (the embedded demo); nullopt: run until a signal.
  std::optional<std::chrono::milliseconds> stop_after;
  // Called once when the app stops, with a one-line summary of what it did.
  std::function<void(const std::string& summary)> on_summary;
};

// Returns the process exit code (0 after a clean shutdown). Throws on start-up failures
// (unusable kubeconfig, a port in use) with a one-line message.
int run_app(const Config& config, const AppOptions& options = AppOptions());

// The line the program stops with when it cannot tell how to reach the API server (a
// kube::ConfigError): prefixed "KUBECONFIG: " unless the message names its variable
// already (KUBERNETES_SERVICE_PORT; nothing found at all), chosen by where it came from.
std::string cluster_config_error_line(kube::ConfigOrigin origin, std::string_view message);

}  // namespace fdb::op

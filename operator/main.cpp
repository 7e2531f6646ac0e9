// foreman-dispatch-bridge: reads its configuration, then runs the operator until SIGTERM.
#include "operator/app.hpp"
#include "operator/config.hpp"
#include "operator/version.hpp"
#include "watch/config.hpp"
#include "watch/log.hpp"

#include <cstdio>
#include <exception>
#include <string>
#include <string_view>
#include <vector>

int main(int argc, char** argv) {
  // --print-config: print the effective configuration (secrets redacted) and exit.
  bool print_config = false;
  std::vector<std::string> args;
  for (int i = 1; i < argc; ++i) {
    if (std::string_view(argv[i]) == "--print-config") print_config = true;
    else args.emplace_back(argv[i]);
  }

  fdb::op::Config config;
  try {
    fdb::op::LoadOptions opts;
    opts.env = [](std::string_view name) { return fdb::kube::process_env(name); };
    config = fdb::op::load_config(args, opts);
  } catch (const fdb::op::ConfigError& e) {
    std::fprintf(stderr, "foreman-dispatch-bridge: %s\n", e.what());
    return 2;
  }
  if (config.show_help) {
    std::fputs(fdb::op::help_text().c_str(), stdout);
    std::puts("  --print-config                 print the effective configuration (secrets redacted) and exit");
    return 0;
  }
  if (config.show_version) {
    std::printf("foreman-dispatch-bridge %s\n", fdb::kVersion);
    return 0;
  }
  if (print_config) {
    std::printf("%s\n", config.describe().c_str());
    return 0;
  }

  fdb::log::configure(config.log_format, config.log_level);
  try {
    return fdb::op::run_app(config);
  } catch (const std::exception& e) {
    // Start-up failures (unreadable kubeconfig, port in use, …): one clear line.
    fdb::log::Logger("main").error("cannot start", {{"error", e.what()}});
    std::fprintf(stderr, "foreman-dispatch-bridge: %s\n", e.what());
    return 1;
  }
}

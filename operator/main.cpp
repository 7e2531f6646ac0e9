// foreman-dispatch-bridge: reads its configuration, then runs the operator until SIGTERM.
#include "operator/app.hpp"
#include "operator/config.hpp"
#include "operator/version.hpp"
#include "watch/config.hpp"
#include "watch/log.hpp"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <exception>
#include <string>
#include <string_view>
#include <vector>

int main(int argc, char** argv) {
  // --print-config: print the effective configuration (secrets redacted) and exit.
  // --run-for SECONDS: stop by itself (the embedded demo, tests).
  bool print_config = false;
  std::optional<std::chrono::milliseconds> run_for;
  std::vector<std::string> args;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a(argv[i]);
    if (a == "--print-config") {
      print_config = true;
    } else if (a == "--run-for" || a.starts_with("--run-for=")) {
      std::string v = a == "--run-for" ? (i + 1 < argc ? argv[++i] : "") : std::string(a.substr(10));
      char* end = nullptr;
      const double secs = std::strtod(v.c_str(), &end);
      if (v.empty() || end == nullptr || *end != '\0' || !(secs > 0) || secs > 1e7) {
        std::fprintf(stderr, "foreman-dispatch-bridge: --run-for: expected a number of seconds > 0, got \"%s\"\n", v.c_str());
        return 2;
      }
      run_for = std::chrono::milliseconds(static_cast<long long>(secs * 1000));
    } else {
      args.emplace_back(argv[i]);
    }
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
    std::puts("  --run-for SECONDS              stop by itself after that long (demos, tests)");
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
    fdb::op::AppOptions app;
    app.stop_after = run_for;
    app.on_summary = [](const std::string& summary) { std::printf("summary: %s\n", summary.c_str()); };
    return fdb::op::run_app(config, app);
  } catch (const std::exception& e) {
    // Start-up failures (unreadable kubeconfig, port in use, …): one clear line.
    fdb::log::Logger("main").error("cannot start", {{"error", e.what()}});
    std::fprintf(stderr, "foreman-dispatch-bridge: %s\n", e.what());
    return 1;
  }
}

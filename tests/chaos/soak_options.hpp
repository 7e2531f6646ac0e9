// The chaos soak's command line.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace fdb::chaos {

struct SoakOptions {
  std::string sim_path;     // kube-sim
  std::string bridge_path;  // foreman-dispatch-bridge
  int seconds = 60;         // of faults
  int issues = 120;         // seeded in dispatch
  std::uint64_t seed = 1;   // of the fault schedule and of Foreman
  int replicas = 3;
  double fail_rate = 0.3;   // share of Workload attempts Foreman fails
  int settle_s = 90;        // allowed to settle after the faults
};

// The options, or nullopt with `exit_code` set when the program ends at once: 0 after
// --help (printed on stdout), 2 after bad options (said on stderr).
std::optional<SoakOptions> parse_options(int argc, char** argv, int& exit_code);

}  // namespace fdb::chaos

#include "chaos/soak_options.hpp"
#include "support/tool_options.hpp"

#include <boost/program_options.hpp>

#include <stdexcept>

namespace fdb::chaos {

namespace po = boost::program_options;

std::optional<SoakOptions> parse_options(int argc, char** argv, int& exit_code) {
  SoakOptions o;
  po::options_description desc("chaos-soak options");
  desc.add_options()("help", "this text")("sim", po::value(&o.sim_path)->required(), "path of kube-sim")(
      "bridge", po::value(&o.bridge_path)->required(), "path of foreman-dispatch-bridge")(
      "seconds", po::value(&o.seconds)->default_value(60), "seconds of faults")(
      "issues", po::value(&o.issues)->default_value(120), "issues seeded in dispatch")(
      "seed", po::value(&o.seed)->default_value(1), "seed of the fault schedule and of Foreman")(
      "replicas", po::value(&o.replicas)->default_value(3), "bridge replicas")(
      "fail-rate", po::value(&o.fail_rate)->default_value(0.3), "share of Workload attempts Foreman fails")(
      "settle", po::value(&o.settle_s)->default_value(90), "seconds allowed to settle after the faults");
  if (!test::parse_tool_options("chaos-soak", desc, argc, argv, exit_code, [&] {
        if (o.seconds < 1 || o.issues < 1 || o.replicas < 1 || o.settle_s < 1 || o.fail_rate < 0 || o.fail_rate > 1) {
          throw std::invalid_argument("seconds, issues, replicas and settle must be positive; fail-rate in [0,1]");
        }
      })) {
    return std::nullopt;
  }
  return o;
}

}  // namespace fdb::chaos

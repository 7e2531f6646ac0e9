// chaos-soak: the bridge under faults, bounded, stopping by itself (issue 9).
//
// kube-sim with its dispatch side seeded with N issues, Foreman failing a share of the
// Workloads, and R leader-elected bridge replicas. For --seconds, faults are injected at
// random (a seeded schedule): watch drops, history expiry (every watch resumes from an
// expired resourceVersion: 410, relist), 500/503/429 bursts and latency spikes on the API
// server, dispatch outages and garbage answers, connects that stall (either listener
// accepts nothing for a few seconds, its idle connections closed), writes acted on and then
// reset unanswered (API and dispatch), watches ended at once with no event, and the leader
// killed with SIGKILL (a new replica replaces it). Then the faults stop, the system is given time to settle, and the
// invariants of tests/chaos/invariants.hpp are checked against the simulators' records.
// Prints progress lines on stderr and one JSON summary line on stdout; exits 1 on any
// violation.
//
// The parts: soak_options (the command line), soak_world (kube-sim, the replicas, the
// seeded random source, the clock, and the actions on them), fault_schedule (the faults as
// a table), soak_phases (faults, then settling), invariants (the checks), soak_report (the
// summary line).
//
//   chaos-soak --sim PATH/kube-sim --bridge PATH/foreman-dispatch-bridge
//              [--seconds 60] [--issues 120] [--seed 1] [--replicas 3] [--fail-rate 0.3]
#include "chaos/invariants.hpp"
#include "chaos/soak_options.hpp"
#include "chaos/soak_phases.hpp"
#include "chaos/soak_report.hpp"
#include "chaos/soak_world.hpp"

#include <boost/json/serialize.hpp>

#include <fmt/format.h>

#include <cstdio>

using namespace fdb::chaos;

int main(int argc, char** argv) {
  int exit_code = 0;
  const auto options = parse_options(argc, argv, exit_code);
  if (!options) return exit_code;
  SoakWorld world(*options);
  if (!set_up(world)) return 2;

  SoakOutcome out;
  out.faults = inject_faults(world);
  Settling settling = settle(world);
  out.end = std::move(settling.inputs);
  out.settled = settling.settled;
  out.settle_seconds = settling.seconds;
  out.end.memory = survivor_memory(world);
  out.verdict = check(out.end);
  out.logs = {count_in_logs(world, kDeadlineStopLine), count_in_logs(world, kWatchShortBackoffLine),
              count_in_logs(world, kClaimSettledByListLine)};

  for (const auto& v : out.verdict.violations) say(fmt::format("VIOLATION {}: {}", v.invariant, v.detail));
  std::printf("%s\n", boost::json::serialize(summary(*options, out)).c_str());
  shut_down(world);
  if (!out.settled) say("the system did not settle in time; see the logs in " + world.dir);
  return violations(out.verdict) == 0 && out.settled ? 0 : 1;
}

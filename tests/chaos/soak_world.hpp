// The chaos soak's world: kube-sim (its API server and its dispatch, seeded with issues),
// the leader-elected bridge replicas, the seeded random source and the clock of the fault
// phase, and the blocking actions the phases take on them (start, kill, restart, inject,
// read back). No coroutines: every call here blocks.
#pragma once

#include "chaos/fault_schedule.hpp"
#include "chaos/invariants.hpp"
#include "chaos/soak_options.hpp"
#include "support/process.hpp"
#include "support/sim_client.hpp"

#include <chrono>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

namespace fdb::chaos {

using Clock = std::chrono::steady_clock;

// RETRY_MAX_ATTEMPTS of the replicas, and the cap the invariants check.
inline constexpr int kMaxAttempts = 3;

struct Replica {
  std::string identity;
  std::string log;
  std::unique_ptr<test::Process> process;
  int pid = -1;
  double mid_mb = -1;  // RSS half-way, when it was alive then
  int pid_at_mid = -1;
};

struct SoakWorld {
  explicit SoakWorld(SoakOptions o);

  SoakOptions options;
  std::string dir;  // logs: kube-sim.log, bridge-N.log
  test::Sim sim;    // sim.process is kube-sim
  std::optional<test::SimClient> api;
  std::vector<Replica> replicas;
  int generation = 0;  // of replica identities: bridge-0, bridge-1, …
  std::mt19937_64 rng;
  Clock::time_point start, end;  // of the fault phase
  std::vector<std::pair<Clock::time_point, std::size_t>> restarts;  // when, which replica

  // A uniform integer in [lo, hi] from the seeded source.
  int pick(int lo, int hi);
};

// A progress line on stderr.
void say(const std::string& line);

// Set-up: kube-sim with its dispatch seeded, then the replicas. False (said why) when
// kube-sim did not start.
bool set_up(SoakWorld& w);
// Starts (or restarts) `r` as a new replica with the next identity.
void start_replica(SoakWorld& w, Replica& r);
// Restarts the replicas whose restart is due at `now` (all of them when `all`).
void restart_due(SoakWorld& w, Clock::time_point now, bool all);
// Records each live replica's RSS half-way.
void sample_mid_memory(SoakWorld& w);
// Kills the Lease's holder with SIGKILL and schedules its replacement 1–3 s later; false
// when no live replica holds the Lease.
bool kill_leader(SoakWorld& w, Clock::time_point now, int kills_so_far);
// Injects a fault; a failed injection is said, not fatal.
void inject(SoakWorld& w, const Fault& fault);
// Ends every fault on both fronts.
void clear_faults(SoakWorld& w);
// What the simulators recorded, for the invariants (throws when they cannot be read).
Inputs snapshot(const SoakWorld& w);
// The replicas that lived through the whole run (same process since half-way): RSS then and now.
std::vector<Memory> survivor_memory(const SoakWorld& w);
// Lines of the replicas' logs that hold `needle`: how often a fault's path was taken.
int count_in_logs(const SoakWorld& w, const std::string& needle);
// SIGTERM to the replicas, then to kube-sim; waits for them.
void shut_down(SoakWorld& w);

}  // namespace fdb::chaos

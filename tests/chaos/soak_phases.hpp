// The chaos soak's timed phases over its world: the faults (drawn from the schedule, the
// leader killed and replaced, memory sampled half-way), then the settling. Blocking.
#pragma once

#include "chaos/fault_schedule.hpp"
#include "chaos/invariants.hpp"
#include "chaos/soak_world.hpp"

namespace fdb::chaos {

// For the options' seconds, every 300–700 ms: restarts that are due, the memory sample
// half-way, then a draw from kFaultSchedule (gated kinds skipped while too recent). At the
// end every fault is cleared and every replica runs.
FaultTally inject_faults(SoakWorld& w);

struct Settling {
  bool settled = false;
  Inputs inputs;               // the last snapshot read (defaults when none could be read)
  double seconds = 0;          // from the end of the faults until settled or given up
};

// Settled: no work left (invariants' work_left) and the records unchanged for 5 s. What
// has not settled by the options' settle seconds is reported by the invariants
// (unsettled, retry-lost, intent-left).
Settling settle(SoakWorld& w);

}  // namespace fdb::chaos

// The chaos soak's report, pure: the one JSON summary line it prints on stdout, from the
// options, the faults injected, what the simulators recorded at the end, the invariants'
// verdict and counts read from the replicas' logs.
#pragma once

#include "chaos/fault_schedule.hpp"
#include "chaos/invariants.hpp"
#include "chaos/soak_options.hpp"

#include <boost/json/object.hpp>

namespace fdb::chaos {

// How often a fault's path was taken, counted in the replicas' logs.
struct LogCounts {
  int leader_deadline_stops = 0;   // a leader stopped by its renew deadline
  int watch_short_backoffs = 0;    // a watch that ended at once and backed off
  int claims_settled_by_list = 0;  // a claim with a lost answer found in dispatch's list
};
// The lines each count looks for.
inline constexpr const char* kDeadlineStopLine = "not renewed within the renew deadline";
inline constexpr const char* kWatchShortBackoffLine = "watch ended at once";
inline constexpr const char* kClaimSettledByListLine = "is ours in dispatch's list of claims";

struct SoakOutcome {
  FaultTally faults;
  Inputs end;  // the last snapshot, with the survivors' memory
  Verdict verdict;
  LogCounts logs;
  bool settled = false;
  double settle_seconds = 0;
};

// The sum of the invariants' counts.
int violations(const Verdict& v);

boost::json::object summary(const SoakOptions& o, const SoakOutcome& out);

}  // namespace fdb::chaos

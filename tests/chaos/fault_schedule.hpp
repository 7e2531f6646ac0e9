// The chaos soak's fault schedule as a table, pure (no I/O, no clock): one slot per value
// of a draw in [0, kFaultSlots), each slot a kind of fault and the requests that inject it
// into kube-sim (API side: /_sim/faults) or into its dispatch (/_sim/dispatch/faults).
// Some slots share a kind (the API status bursts and the leader kill take two each, so
// they come twice as often). Two kinds are spaced out in time by the soak (the gates).
#pragma once

#include <boost/json/object.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace fdb::chaos {

// A uniform integer in [lo, hi], from the soak's seeded random source.
using Pick = std::function<int(int lo, int hi)>;

struct FaultPost {
  bool dispatch = false;  // to /_sim/dispatch/faults, else /_sim/faults
  boost::json::object body;
  std::string path() const { return dispatch ? "/_sim/dispatch/faults" : "/_sim/faults"; }
};

struct Fault {
  std::string kind;  // the name counted in the report's faults_by_kind
  std::vector<FaultPost> posts;
};

enum class Gate {
  None,
  Stall,  // connect stalls: not more often than every kStallGap (the soak's own calls stall too)
  Kill,   // the leader killed: not more often than every kKillGap (so that there is a leader)
};
inline constexpr std::chrono::seconds kStallGap{6};
inline constexpr std::chrono::seconds kKillGap{4};

struct FaultSlot {
  Gate gate = Gate::None;
  // The fault of this slot, drawing its parameters; empty for the leader kill, which the
  // soak does itself (a process, not a request).
  Fault (*make)(const Pick& pick) = nullptr;
};

inline constexpr std::size_t kFaultSlots = 15;
extern const FaultSlot kFaultSchedule[kFaultSlots];

// The faults injected so far, by kind, and the leaders killed.
struct FaultTally {
  std::map<std::string, int> by_kind;
  int kills = 0;
  int total() const;
};

}  // namespace fdb::chaos

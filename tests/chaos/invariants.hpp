// The invariants the chaos soak checks at its end, as pure functions over what the
// simulators recorded: kube-sim's Workload create/delete records and the live Workloads,
// dispatch's issues, the retry-intent ConfigMaps left, and the replicas' memory.
#pragma once

#include <boost/json/value.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace fdb::chaos {

struct Record {  // one entry of kube-sim's /_sim/records "workloads"
  std::string op;  // create, delete, create-conflict, …
  std::string name;
  int attempt = 1;
  bool live_existed = false;  // create: a live object of that name existed
};

struct LiveWorkload {
  std::string name;
  std::string issue;  // "repo#number"
  int attempt = 1;
  std::string phase;
  bool terminating = false;
};

struct IssueEnd {  // an issue in dispatch at the end
  std::string key;  // "repo#number"
  std::string status;
  std::string state;  // open, closed
  std::string claimed_by;
  bool ever_claimed = false;  // its history holds a claim
  bool needs_human = false;
  bool relaned = false;
  bool claimed_again = false;  // a claim arrived while the agent held it in progress
};

struct Memory {  // one replica that lived through the whole run
  std::string replica;
  double mid_mb = 0;  // RSS half-way
  double end_mb = 0;  // RSS at the end
};

struct Inputs {
  std::vector<Record> records;
  std::vector<LiveWorkload> live;
  std::vector<IssueEnd> issues;
  std::vector<std::string> intents_left;  // retry-intent ConfigMaps still there
  std::vector<Memory> memory;
  int max_attempts = 3;
  std::string agent;  // DISPATCH_AGENT_NAME
};

struct Violation {
  std::string invariant;
  std::string detail;
};

// Each invariant by name (every name present, 0 when it held) and the violations.
struct Verdict {
  std::map<std::string, int> counts;
  std::vector<Violation> violations;
};

// The invariants:
//  created-while-live   no Workload name created while a live object of that name existed
//  attempt-over-cap     no attempt above RETRY_MAX_ATTEMPTS
//  two-live-workloads   no issue with two live Workloads
//  retry-lost           no live Failed Workload below the cap (it should have been retried,
//                       parked or escalated) and none left terminating
//  claim-lost           no issue claimed by the agent, in progress, without a live Workload
//  claim-repeated       no claim sent for an issue the agent held in progress already (a
//                       claim replayed after a lost answer, or two leaders claiming)
//  unsettled            no live Workload that is not terminal
//  intent-left          no retry intent left unfinished
//  memory-growth        no surviving replica grew by more than half (and 16 MB) after half-way
Verdict check(const Inputs& in);

// Work still to do, so not settled yet: a retry intent left, a Workload terminating or not
// terminal, or a Failed Workload below the cap (its retry is to come).
bool work_left(const Inputs& in);

// Parsing of the simulators' answers (kube-sim /_sim/records, a Workload list, dispatch's
// /_sim/dispatch/state); malformed entries are skipped.
std::vector<Record> records_from(const boost::json::value& records);
std::vector<LiveWorkload> live_from(const boost::json::value& workload_list);
std::vector<IssueEnd> issues_from(const boost::json::value& dispatch_state);

}  // namespace fdb::chaos

// The typed Foreman model: one view of a Workload object, read ONCE per event from a
// cached projection or a fetched object, and the tests on it every flow shares (is it
// terminating, whose is it, which attempt). Pure: no I/O.
//
// Everything the retry flow, the retry decision, the terminal sweeps, the claim loop and
// the PR-fix loop read off a Workload is here; they take a WorkloadView rather than
// decoding the object again. The rules for the attempt annotation are
// dispatch::parse_attempt's (dispatch/workload.hpp): the only attempt parser.
#pragma once

#include <boost/json/object.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace fdb::op {

// metadata.deletionTimestamp is set (and not null): the object is on its way out.
bool is_terminating(const boost::json::object& obj) noexcept;

// status.succeededTasks / failedTasks / incompleteTasks. `valid`: at least one is present
// and every present one is a non-negative integer (only then can the task cache ever be
// shown complete).
struct StatusCounts {
  std::int64_t succeeded = 0;
  std::int64_t failed = 0;
  std::int64_t incomplete = 0;
  bool valid = false;
  std::int64_t total() const noexcept { return succeeded + failed + incomplete; }
};

// The annotations a PR-fix Workload carries (dispatch/prfix.hpp); empty on others.
struct PrFixMarks {
  std::string repo;       // prfix-repo
  std::string pr;         // prfix-pr, as written
  std::string lane;       // prfix-lane, as written
  std::string signature;  // prfix-signature
  std::string head_sha;   // prfix-head-sha
};

struct WorkloadView {
  std::string name;
  std::string ns;
  std::string uid;
  std::string phase;          // status.phase ("" for a new object)
  int attempt = 1;            // annotation attempt (dispatch::parse_attempt)
  int infra_attempts = 0;     // annotation infra-attempts (dispatch::parse_counter)
  std::string issue_id;       // annotation issue-id
  std::string repo;           // spec.repo
  std::int64_t number = 0;    // spec.issues[0], else the number the name ends with
  std::string title;          // spec.intent
  std::string lane;           // label lane, aliases applied (dispatch::normalize_lane)
  std::string coder;          // spec.coderAgentRef.name, else the first issue-fix step's agentRef
  StatusCounts counts;        // status.*Tasks
  bool terminating = false;   // metadata.deletionTimestamp set
  bool bridge_owned = false;  // label created-by=dispatch-bridge
  bool prfix_owned = false;   // label created-by=dispatch-bridge-prfix
  std::string tombstone;      // annotation tombstone: "true" (the cap), "issue-closed", or ""
  std::string reported;       // annotation reported-status ("" when absent)
  std::string parked;         // annotation parked ("" when absent)
  std::string terminal_since; // terminal-since-{phase} (or the legacy key) as written; "" unless terminal
  PrFixMarks prfix;

  // Decided and left alone at the attempt cap (a closed issue's tombstone is decided again).
  bool tombstoned() const noexcept { return tombstone == "true"; }
  bool terminal() const noexcept { return phase == "Completed" || phase == "Failed"; }
  // A bridge Workload that is neither Completed nor Failed nor being deleted.
  bool in_progress() const noexcept { return bridge_owned && !terminating && !terminal(); }
};

// Reads every field above from a Workload object (full or the cache's projection).
// Missing or ill-typed fields read as their defaults; never throws on bad input.
WorkloadView read_view(const boost::json::object& workload);

// The coder Agent a Workload runs on: spec.coderAgentRef.name, else the agentRef of its
// first `issue-fix` pipeline step; empty when neither.
std::string coder_of(const boost::json::object& workload);

// The number a Workload name ends with (`wl-o-r-12` → 12); 0 when none.
std::int64_t number_from_name(std::string_view name) noexcept;

inline constexpr std::string_view kParkedAnnotation = "foreman.llmkube.dev/parked";

}  // namespace fdb::op

// Adopting the Python bridge's Workloads (issue 18 item 2) and reading an issue's current
// lane and id from dispatch before a retry decision (items 2 and 5), as pure functions.
// The I/O is the reconciler's (a decision), the claim loop's and the stranded sweep's.
//
// The Python bridge (up to 0.7) named an issue's Workload `wl-{repo lower-case, / as
// -}-{number}` and nothing else; this program's names differ for repos with `.` or `_`
// and past 63 characters (dispatch/workload.hpp). So an issue's Workload is recognised by
// its issue, never by its name alone:
//   - the Workload cache files every bridge Workload whose name is not this program's name
//     for its issue under `id:{issue-id annotation}` and `repo:{repo lower-case}#{number}`
//     (issue_index_keys; the second finds Workloads from before 0.3, which have no
//     issue-id); the others are found by name;
//   - an issue "has a Workload" when any of those, or a Workload or an intent under one of
//     its two names (ours, the Python's), exists — the claim loop does not claim it, the
//     stranded sweep does not reset it;
//   - a retry keeps the Workload's own name when it can also be a label value (Foreman
//     labels every task with it), so its branch stays; else it is created under this
//     program's name once the old one is gone (retry_name).
// Before a decision the issue's current lane comes from dispatch (the claimed list's
// `currentLane`; the Python's #146), the Workload's lane label is only the fallback; a
// Workload without an issue-id gets it as the Python's find_issue_id found it (the claimed
// list, then the lane queues with includeClaimed, first lane first).
#pragma once

#include "dispatch/items.hpp"
#include "watch/field_mask.hpp"

#include <boost/json/object.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace fdb::op {

inline constexpr std::string_view kIssueIndex = "issue";

// The keys a Workload is filed under in the issue index: `id:{issue-id}` when the
// annotation is set, and `repo:{repo lower-case}#{number}` when spec.repo and a number
// (spec.issues[0], else the number its name ends with) are there. Any phase. None for a
// Workload that has this program's name for its issue: that one is found by its name
// (names_for_issue), and the index, which costs memory for every object it files, holds
// only the others.
std::vector<std::string> issue_index_keys(const boost::json::object& workload);
// The fields issue_index_keys reads: the informer calls it only when one of them changed,
// on them alone.
kube::FieldMask issue_index_reads();
std::string issue_id_key(std::string_view issue_id);
std::string issue_repo_key(std::string_view repo, std::int64_t number);

// The names an issue's Workload may have without the cache saying so: this program's and
// the Python bridge's (one name when they agree, or when the Python's could not be created:
// `_` in it, say).
std::vector<std::string> names_for_issue(std::string_view repo, std::int64_t number);

// The name a retry of `workload_name` (for repo#number) is created under: the same when it
// is a valid label value, else this program's name.
std::string retry_name(std::string_view workload_name, std::string_view repo, std::int64_t number);

// What dispatch says of an issue, for a decision.
struct DispatchView {
  std::string lane;      // its current lane (aliases applied); empty: unknown
  std::string issue_id;  // its id; empty: unknown
  std::string source;    // "claimed", "queue", "" (not found)
};

// The claimed item of that issue (by id when known, else by repo — any case — and
// number): its currentLane and issueId.
DispatchView view_from_claimed(const dispatch::ClaimedAnswer& claimed, std::string_view issue_id,
                               std::string_view repo, std::int64_t number);
// The Python's find_issue_id and lane_index over the lane queues (each with
// includeClaimed): the first lane, in DISPATCH_LANES order, whose queue holds repo#number.
DispatchView view_from_queues(const std::vector<std::pair<std::string, dispatch::QueueAnswer>>& lanes,
                              std::string_view repo, std::int64_t number);

// The Workload as the decision should see it: its lane label replaced by dispatch's
// current lane, and its issue-id annotation filled in when it had none. A copy; nothing is
// written back to the server (the next attempt carries both).
boost::json::object with_dispatch_view(boost::json::object workload, const DispatchView& view);

}  // namespace fdb::op

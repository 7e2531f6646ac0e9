// The PR-fix queue (SPEC §2 "PR-fix queue" and "PR-fix mark", issue 8), as pure
// functions: the tolerant reading of queue items, the failure signature an item is
// budgeted by, the Workload that fixes a pull request, and the two decisions — before
// creating a fix (is the item still worth it?) and when a fix has ended (mark it, try
// again, climb the ladder, give up). No I/O: the loop that calls dispatch, GitHub and the
// API server is built on these.
//
// Decisions where the contract is silent (also in docs/migrating.md):
//  - Name `prfix-{owner-repo}-{pr}` under the same DNS-1123 rule as issue Workloads (a
//    long name is cut and ends with 8 hex of a hash of repo and number).
//  - The signature is `{type}::{8 hex}`: the item's type ("unknown" when absent) and a
//    hash of its feedback normalised (lower case, digits as '#', blanks collapsed, lines
//    sorted), or `{type}::no-feedback`. The same complaint about a moved line hashes the
//    same; a new complaint is a new signature with a budget of its own. (The Python bridge
//    always computed `unknown::no-feedback`, so one budget covered every failure.)
//  - The ladder: PR_FIX_MAX_ATTEMPTS attempts per signature in lane NORMAL, then the same
//    number in ESCALATED (its coder from PR_FIX_LANE_AGENTS), then BLOCKED.
//  - Marks as the Python bridge 0.7 decided them (reconcile_pr_fixes, from
//    check_pr_mergeable; see merge_status): a merged pull request is FIXED, a closed one
//    STALE; an ended fix is FIXED only when it Completed and the pull request is
//    mergeable with its checks passing; a merge conflict is BLOCKED (a coder cannot
//    resolve it); checks pending or a non-check blocker wait, spending nothing, until the
//    cap; failing checks count as a failed fix (the ladder).
//  - Here only: a pull request whose head moved past the item's headSha before any fix
//    started makes the item STALE (the fix would land on something nobody reviewed).
#pragma once

#include "dispatch/items.hpp"
#include "dispatch/workload.hpp"

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace fdb::dispatch {

inline constexpr std::string_view kPrFixCreatedByValue = "dispatch-bridge-prfix";  // label created-by
inline constexpr std::string_view kPrFixRepoAnnotation = "foreman.llmkube.dev/prfix-repo";
inline constexpr std::string_view kPrFixNumberAnnotation = "foreman.llmkube.dev/prfix-pr";
inline constexpr std::string_view kPrFixLaneAnnotation = "foreman.llmkube.dev/prfix-lane";
inline constexpr std::string_view kPrFixSignatureAnnotation = "foreman.llmkube.dev/prfix-signature";
inline constexpr std::string_view kPrFixHeadAnnotation = "foreman.llmkube.dev/prfix-head-sha";
inline constexpr std::string_view kPrFixNormal = "NORMAL";
inline constexpr std::string_view kPrFixEscalated = "ESCALATED";
// The first line of a PR-fix prompt; the pull request and the feedback follow.
inline constexpr std::string_view kPrFixPromptPrefix =
    "Review feedback on an open pull request needs a fix. Address every point below on the pull request's branch:";

struct PrFixItem {
  std::string id;
  std::string repo;        // owner/name
  std::int64_t pr = 0;     // pull request number
  std::int64_t issue = 0;  // the issue it fixes (0: none given)
  std::string branch;      // the pull request's head branch
  std::string url, title, head_sha;
  std::string lane;  // NORMAL or ESCALATED (upper-cased; anything else is refused)
  std::string type, status, reason;
  std::vector<std::string> feedback;
  std::int64_t generation = 0;
};

// One queue answer read item by item: the well-formed items, and a ParseError for each
// malformed one (skipped; its index is its place in the answer). A ParseError for the
// whole answer when it is neither an array nor an object with an `items` array.
struct PrFixQueue {
  std::vector<PrFixItem> items;
  std::vector<ParseError> malformed;
};
Parsed<PrFixQueue> parse_prfix_queue(const boost::json::value& answer);
// One item; a ParseError naming the field when repo (owner/name), pr (> 0) or branch is
// missing or of the wrong type, or the lane is neither NORMAL nor ESCALATED.
Parsed<PrFixItem> parse_prfix_item(const boost::json::value& v, long index = -1);

// `{type}::{8 hex}` or `{type}::no-feedback` (see the header comment).
std::string failure_signature(const PrFixItem& item);

std::string prfix_workload_name(std::string_view repo, std::int64_t pr);

// The PR-fix settings of the configuration.
struct PrFixSettings {
  int max_attempts = 3;  // PR_FIX_MAX_ATTEMPTS, per signature and lane
  AgentMap lane_agents{{"NORMAL", {"coder"}}, {"ESCALATED", {"coder-frontier"}}};  // PR_FIX_LANE_AGENTS
};

// What one fix Workload is: the item, its lane on the ladder, its attempt there.
struct PrFixRequest {
  PrFixItem item;
  std::string lane;  // NORMAL or ESCALATED
  int attempt = 1;
};
// The Workload manifest: pipeline mode, a `fix-{pr}` step (kind issue-fix, the lane's
// coder, payload {repo, issue, branch: the PR's branch, prompt (naming the pull request),
// allowOverwrite, reviseFromBranch: that branch, branchStrategy: rebase}), and a
// `verify-{pr}` step unless VERIFY_ENABLED is false. The CRD has no field for the pull
// request: it is in the prompt and the annotations.
boost::json::object build_prfix_workload(const PrFixRequest& req, const WorkloadSettings& ws, const PrFixSettings& ps,
                                         const LoadMap& load = {});

// The check runs on the pull request's head commit, summed up as the Python bridge's
// check_pr_mergeable did: any failing conclusion (failure, timed_out, cancelled,
// action_required, startup_failure, stale) → Failed; else any run queued, in progress,
// waiting, pending or requested, or without a conclusion and not completed → Pending;
// else Passed; no runs at all → None.
enum class ChecksState { None, Passed, Pending, Failed };

// What GitHub says of the pull request (nullopt: not asked, or it could not say).
struct PrState {
  bool open = true;
  bool merged = false;
  std::string head_sha;
  std::string mergeable_state;        // GitHub's, lower case: clean, dirty, blocked, unstable, …
  std::optional<ChecksState> checks;  // nullopt: not read (no head SHA) or the lookup failed
};

// The Python bridge's check_pr_mergeable (0.7), from what was read: merged; closed;
// dirty (mergeable_state dirty or conflicting: a merge conflict); checks failed; checks
// pending (also when the pull request or its check runs could not be read: never FIXED
// off an unverified success, the Python's #93); blocked (mergeable_state blocked or
// unstable with no failing or pending check: waiting for a review, a merge queue); ok.
enum class MergeStatus { Ok, Dirty, ChecksFailed, ChecksPending, Blocked, Merged, Closed };
MergeStatus merge_status(const std::optional<PrState>& pr);
std::string_view to_string(MergeStatus s) noexcept;
// The summary of a check-runs answer (GET /repos/{repo}/commits/{sha}/check-runs:
// {check_runs: [{status, conclusion}]}); nullopt when it is not that shape.
std::optional<ChecksState> summarize_check_runs(const boost::json::value& answer);

namespace prfix {
struct Create {  // no Workload yet: create one
  PrFixRequest request;
};
struct Mark {  // POST /api/pr-fix-queue/mark {status, note}; then the Workload (if any) goes
  std::string status;  // FIXED, BLOCKED, STALE
  std::string note;
};
struct Retry {  // delete the ended Workload, wait until gone, create this request
  PrFixRequest request;
  std::string reason;
};
struct Wait {  // a fix is running
};
}  // namespace prfix
using PrFixAction = std::variant<prfix::Create, prfix::Mark, prfix::Retry, prfix::Wait>;

// The state of the item's fix Workload, as read from its annotations and status.
struct PrFixWorkload {
  std::string phase;      // "" (new) … Completed, Failed
  std::string lane;       // prfix-lane
  int attempt = 1;        // attempt
  std::string signature;  // prfix-signature
};
PrFixWorkload read_prfix_workload(const boost::json::object& workload);

// The decision for one queued item: its fix Workload (nullopt: none); the ladder position
// recorded before a retry's delete (`pending`: lane, attempt and signature of the next fix;
// nullopt: none); the pull request's state (nullopt: unknown); the settings. With no fix
// Workload, a pending position of the item's current signature is where the next fix
// starts; otherwise the item's own lane at attempt 1.
PrFixAction decide_prfix(const PrFixItem& item, const std::optional<PrFixWorkload>& fix,
                         const std::optional<PrFixWorkload>& pending, const std::optional<PrState>& pr,
                         const PrFixSettings& s);

}  // namespace fdb::dispatch

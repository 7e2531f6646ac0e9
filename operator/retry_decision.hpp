// The retry decision (SPEC §5) as a pure function of a Failed Workload, its AgenticTasks,
// the issue's state in dispatch and the configuration. It returns what to do; the
// reconciler does it (records the intent, deletes, waits, creates — see retry_flow.hpp).
//
// In this order:
//   0. not a live, bridge-owned, Failed Workload           → Nothing
//   1. issue closed in dispatch                            → Nothing (tombstone kept)
//   2. a coder task declared DESIGN-DECISION / NO-TECHNICAL-FIX → Park (no attempt spent);
//      a coder task found the issue ALREADY-RESOLVED → Park (no attempt spent)
//   3. infrastructure failure (task failureReason InfrastructureError, or Workload
//      condition Completed with reason ExecutorError): InfraRetry while infra-attempts < 3
//      (same attempt, infra-attempts + 1); then Park
//   4. attempt >= RETRY_MAX_ATTEMPTS: Escalate when ESCALATION_LANE is set and differs
//      from the lane; else Park when PARK_ON_GIVE_UP; else Tombstone
//   5. otherwise Retry at attempt + 1 with the feedback and the branch evidence
// An unknown issue state fails open (the retry goes ahead).
#pragma once

#include "dispatch/items.hpp"
#include "dispatch/workload.hpp"
#include "operator/config.hpp"
#include "operator/foreman_model.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace fdb::op {

using IssueState = dispatch::IssueState;

inline constexpr int kMaxInfraRetries = 3;

// What the tasks prove about the Workload's branch.
struct BranchEvidence {
  bool pushed = false;  // the branch reached the remote
  std::string branch;   // its name (the task's payload.branch, else foreman/{name}/issue-{n}); empty when not pushed
  std::string why;      // "pullRequestURL", "review verdict", "coder GO", "push rejected", or "none"
};

namespace action {
struct Nothing {
  std::string reason;
};
struct Park {  // status backlog, label needs-human, comment, delete the tombstone
  std::string reason;
};
struct InfraRetry {  // recreate at the same attempt; no attempt spent
  int attempt = 1;
  int infra_attempts = 1;  // the value to write on the new object
  std::string feedback;
  BranchEvidence branch;
  std::string reason;
};
struct Escalate {  // re-lane, delete, wait until gone, unclaim
  std::string lane;
  std::string reason;
};
struct Tombstone {  // leave the Failed Workload as it is
  std::string reason;
};
struct Retry {  // delete, wait until gone, create at `attempt`
  int attempt = 2;
  std::string feedback;  // empty: issue-batch mode
  BranchEvidence branch;
  std::string reason;
};
}  // namespace action

using RetryAction = std::variant<action::Nothing, action::Park, action::InfraRetry, action::Escalate,
                                 action::Tombstone, action::Retry>;

// "nothing", "park", "infra-retry", "escalate", "tombstone", "retry".
std::string_view action_name(const RetryAction& a) noexcept;
const std::string& action_reason(const RetryAction& a) noexcept;

// What the decision reads off a Workload: the typed view (operator/foreman_model.hpp).
using Tasks = std::span<const boost::json::object* const>;

// The feedback of §5 as note lines ("- …" each, newline-separated), or "" when there is
// nothing actionable. Review tasks with verdict NO-GO: findings that are true (as
// "findings: a, b"), string findings as "k: v" — or, as LLMKube's foreman-agent writes them,
// a findings list ("[major/correctness] message (file:line)") —, modelSummary (else the
// Result envelope's summary); coder (issue-fix) tasks with
// NO-GO or INCOMPLETE: extra.error. Tasks are taken in name order, so the text is stable.
std::string extract_feedback(Tasks tasks);

// DESIGN-DECISION or NO-TECHNICAL-FIX declared by a coder task in modelExtra.escalation.
std::optional<std::string> declared_escalation(Tasks tasks);

// A coder (issue-fix) task with verdict NO-GO and extra.outcome ALREADY-RESOLVED (any case):
// its extra.resolvedBy ("" when absent). On LLMKube's Foreman such a Workload ends Failed
// when it has a verifier (kube-sim's ends Completed/AllAlreadyResolved).
std::optional<std::string> already_resolved(Tasks tasks);

// An infrastructure failure: a task with failureReason InfrastructureError, or a Workload
// condition of type Completed with reason ExecutorError.
bool infrastructure_failure(const boost::json::object& workload, Tasks tasks);

// Evidence from task results that the branch was pushed: a pullRequestURL, a review task
// with a reviewer's verdict (GO or NO-GO; not the INCOMPLETE or Skipped Foreman stamps on a
// review it never ran), a coder GO, or a push rejected as non-fast-forward (PUSH-FAILED).
BranchEvidence branch_evidence(const WorkloadView& wl, Tasks tasks);

// Branch evidence from GitHub (asked with GITHUB_TOKEN when set, else unauthenticated, as
// the Python bridge did): the branch to ask about — the one the tasks name, else
// foreman/{name}/issue-{n} — and the evidence once asked. A branch GitHub shows is
// evidence. With a token GitHub's "no such branch" is the truth too (a branch deleted
// since: reviseFromBranch would fail the task); unauthenticated it is not (a private
// repository looks absent), so the tasks' evidence stands, as it does when GitHub could
// not be asked (nullopt: an error, a rate limit).
std::string branch_to_check(const WorkloadView& wl, const BranchEvidence& from_tasks);
BranchEvidence github_branch_evidence(BranchEvidence from_tasks, const std::string& branch, std::optional<bool> exists,
                                      bool authenticated);
// The branch evidence a Retry or an InfraRetry carries; null for other actions.
BranchEvidence* branch_of(RetryAction& a) noexcept;

// The Workload to create for a Retry or an InfraRetry of `wl` (nullopt for other actions):
// same issue, lane and id, the action's attempt, infra count, feedback, and the branch to
// revise from when one was pushed. Build it with dispatch::build_workload and the
// *current* configuration.
std::optional<dispatch::BuildRequest> rebuild_request(const WorkloadView& wl, const RetryAction& a);

// The comment posted when an issue is parked: "Needs a human decision", the reason, the
// issue URL (https://github.com/{repo}/issues/{n}) and the Workload.
std::string park_comment(const WorkloadView& wl, std::string_view reason);

RetryAction decide_retry(const boost::json::object& workload, Tasks tasks, IssueState issue,
                         const Config& config);
// Convenience: tasks as a JSON array of objects (non-objects are ignored).
RetryAction decide_retry(const boost::json::object& workload, const boost::json::array& tasks,
                         IssueState issue, const Config& config);

}  // namespace fdb::op

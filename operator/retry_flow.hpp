// The crash-safe retry flow, as a pure function. Every replacement of a Workload — a
// retry, an escalation, a claim that met a terminating object of its name, a PR fix
// replacing an ended fix — is recorded as an *intent* — a ConfigMap `bridge-intent-<workload>` labelled
// `foreman.llmkube.dev/retry-intent=true` — before the Workload is deleted, so that a
// process killed at any point, or a new leader, finishes it exactly once:
//
//   Failed ──decide──▶ record intent ──▶ delete (Foreground, precondition uid)
//        ──▶ watch reports it gone ──▶ create attempt N+1 (or unclaim, for an escalation)
//        ──▶ clear intent
//
// The kinds differ only in what the Create step builds: Retry, attempt N+1 of the issue;
// Claim, attempt 1 of the issue (the claim round records the intent and moves on: it never
// waits); PrFix, the PR-fix Workload of the request the intent carries; Escalate creates
// nothing and unclaims the issue instead.
//
// next_step() looks at what the caches hold for one Workload name and says which single
// step comes next; the reconciler performs it and runs again when something changes.
#pragma once

#include "dispatch/items.hpp"
#include "dispatch/prfix.hpp"
#include "operator/foreman_model.hpp"

#include <boost/json/object.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace fdb::op {

struct Intent {
  enum class Kind { Retry, Escalate, Claim, PrFix };
  Kind kind = Kind::Retry;
  std::string workload;       // the Workload name (also in the ConfigMap name)
  std::string old_uid;        // the object being replaced: only it may be deleted
  int next_attempt = 2;       // Retry: the attempt to create (Claim: 1; PrFix: the request's)
  int infra_attempts = 0;     // Retry: the infra-retry count to write on the new object
  std::string issue_id;
  std::string repo;           // owner/repo
  std::int64_t number = 0;
  std::string title;
  std::string lane;           // Retry, Claim: the lane of the new object; Escalate: the new lane
  std::string feedback;       // Retry: feedback for the pipeline spec (may be empty)
  std::string branch;         // Retry: branch that was pushed (empty when none)
  std::string reason;         // why, for logs and Events
  // Retry: the name to create the next attempt under; empty: `workload`. Differs for an
  // adopted Workload whose name cannot be a label value (operator/adoption.hpp): the next
  // attempt gets this program's name, once the old object is gone.
  std::string target;
  const std::string& target_name() const noexcept { return target.empty() ? workload : target; }
  // PrFix: what to create (its item names the pull request; repo and number above are the
  // item's repo and pull request number).
  std::optional<dispatch::PrFixRequest> prfix;
};

std::string_view to_string(Intent::Kind k) noexcept;  // "retry", "escalate", "claim", "prfix"

enum class StepKind {
  Nothing,       // nothing to do for this name
  Decide,        // a Failed Workload without an intent: run the retry decision
  Delete,        // delete the old object (Foreground, precondition uid = old_uid)
  AwaitGone,     // the old object is terminating: wait for the watch to report it gone
  Create,        // create the next attempt from the intent (and the current configuration)
  Unclaim,       // escalation: the old object is gone; unclaim the issue
  ClearIntent,   // the intent is fulfilled: delete its ConfigMap
};

std::string_view to_string(StepKind k) noexcept;

struct Step {
  StepKind kind = StepKind::Nothing;
  std::string why;  // a short reason, for debug logs
};

Step next_step(const std::optional<WorkloadView>& workload, const std::optional<Intent>& intent);
// The same, for a retry whose target name differs from the old one: `target` is what the
// cache holds under intent->target_name(). Once the old object is gone, a target that
// exists ends the retry (terminating: await it gone first); none: create.
Step next_step(const std::optional<WorkloadView>& workload, const std::optional<Intent>& intent,
               const std::optional<WorkloadView>& target);

inline constexpr std::string_view kIntentLabel = "foreman.llmkube.dev/retry-intent";
inline constexpr std::string_view kIntentPrefix = "bridge-intent-";

// The ConfigMap that records an intent (namespace set by the caller), and back. A
// ConfigMap that is not a well-formed intent reads as a ParseError naming the field. A
// ConfigMap written by 0.x (kinds retry and escalate, no PR-fix fields) still reads.
boost::json::object intent_to_configmap(const Intent& intent, std::string_view ns);
dispatch::Parsed<Intent> intent_from_configmap(const boost::json::object& cm);
std::string intent_name(std::string_view workload);

}  // namespace fdb::op

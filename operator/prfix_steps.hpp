// One PR-fix queue item (issue 8; the decisions are dispatch/prfix.hpp's) as a step
// machine: pure, nothing here awaits. The I/O layer (operator/prfix_loop_io.cpp) reads the
// facts — the queued item, its fix Workload as the Workload cache holds it, whether a
// replace of it is in flight (an intent), a ladder ConfigMap left by 0.x — and runs the
// steps in order; a step that fails ends the item for this round (tried again next round).
//
//   first(facts) ──▶ Wait   the fix is terminating, or a replace of it is in flight
//               └─▶ ReadPullRequest{with_checks}   (checks only when a fix exists)
//   decide(facts, pull request) ──▶ Create{manifest} [, DeleteLegacy]
//                               ├─▶ Mark{status, note} [, DeleteFix] [, DeleteLegacy]
//                               ├─▶ RecordIntent{old uid, request} [, DeleteLegacy]: the ONE
//                               │   replace path — the reconciler deletes the failed fix
//                               │   (Foreground), waits until it is gone, creates the next
//                               └─▶ Wait
//
// A ladder ConfigMap `bridge-prfix-{workload}` (written by 0.x between a retry's delete and
// the next create) is honoured once: with no fix Workload it says where the next fix
// starts (decide_prfix's `pending`), and it is deleted with whatever the item's step
// settles (created, marked, or recorded as an intent).
#pragma once

#include "dispatch/prfix.hpp"

#include <boost/json/object.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace fdb::op {

// The ConfigMap that held an item's next ladder position in 0.x (read and deleted here).
std::string prfix_ladder_name(std::string_view workload);
inline constexpr std::string_view kPrFixLadderLabel = "foreman.llmkube.dev/prfix-ladder";
// The ladder position a 0.x ConfigMap records (nullopt: not one, or a lane that is neither
// NORMAL nor ESCALATED).
std::optional<dispatch::PrFixWorkload> read_prfix_ladder(const boost::json::object& config_map);

struct PrFixFacts {
  dispatch::PrFixItem item;
  std::optional<boost::json::object> fix;         // the fix Workload (nullopt: none)
  bool replacing = false;                         // an intent for its name: a replace is in flight
  std::optional<dispatch::PrFixWorkload> legacy;  // a 0.x ladder ConfigMap for its name
};

// What an item's round came to: one sweeps_total{prfix, result} each.
enum class PrFixResult { Created, Fixed, Blocked, Stale, Retried, Waiting, Error };
std::string_view to_string(PrFixResult r) noexcept;

namespace prfix_step {
struct ReadPullRequest {
  bool with_checks = false;  // a fix exists: its checks decide whether it is FIXED
};
struct Create {
  std::string name;
  dispatch::PrFixRequest request;
  boost::json::object manifest;
};
struct Mark {
  std::string status;  // FIXED, BLOCKED, STALE
  std::string note;
};
struct DeleteFix {  // after a mark: the fix Workload goes (a 404 counts as done)
  std::string name;
};
struct RecordIntent {  // an intent of kind PrFix: replace old_uid by the fix `request` describes
  std::string name;
  std::string old_uid;
  dispatch::PrFixRequest request;
  std::string reason;
};
struct DeleteLegacy {  // the 0.x ladder ConfigMap (a 404 counts as done)
  std::string name;
};
struct Wait {
  std::string why;
};
}  // namespace prfix_step
using PrFixStep = std::variant<prfix_step::ReadPullRequest, prfix_step::Create, prfix_step::Mark, prfix_step::DeleteFix,
                               prfix_step::RecordIntent, prfix_step::DeleteLegacy, prfix_step::Wait>;

struct PrFixPlan {
  std::vector<PrFixStep> steps;  // in order
  PrFixResult result = PrFixResult::Waiting;  // what the item's round counts when every step succeeds
};

// Before the pull request is read.
PrFixPlan prfix_first(const PrFixFacts& facts);
// With the pull request's state (nullopt: unknown).
PrFixPlan prfix_decide(const PrFixFacts& facts, const std::optional<dispatch::PrState>& pr,
                       const dispatch::PrFixSettings& ps, const dispatch::WorkloadSettings& ws);

}  // namespace fdb::op

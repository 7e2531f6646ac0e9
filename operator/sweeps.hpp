// The sweeps of SPEC §6 (parity with the Python bridge) as pure decisions. The I/O lives
// in the reconciler (terminal Workloads: report, stamp, prune — driven by the Workload
// informer and the work queue, one timer per Workload through the queue's add_after) and
// in claim_sweeps.hpp (stranded and stuck claims — dispatch's view, on a timer).
//
// A terminal bridge Workload, once the retry flow has nothing left to do with it:
//
//   Completed ──▶ report once: tasks carry a pullRequestURL → status in-review;
//                 condition Completed/AllAlreadyResolved → status done;
//                 neither → park for a human (no PR to review, nothing to retry)
//             ──▶ annotation reported-status=<what was sent>, terminal-since-Completed
//             ──▶ deleted PRUNE_COMPLETED_AFTER_HOURS after terminal-since-Completed
//   Failed, left alone by the retry decision (annotation tombstone: "true" at the cap,
//   "issue-closed" for a closed issue) ──▶ terminal-since-Failed (stamped with the
//   tombstone) ──▶ PRUNE_FAILED_AFTER_HOURS later: status ready, then deleted.
//   A Failed Workload the bridge will retry is never stamped nor pruned.
//
// Annotations are written with a JSON merge patch; the prune deadline is computed from the
// stamp and the wall clock each time the Workload is reconciled (so a restart or a leader
// change loses nothing) and re-armed as the queue's delay for that name.
#pragma once

#include "dispatch/items.hpp"
#include "operator/foreman_model.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <chrono>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace fdb::op {

using WallTime = std::chrono::sys_time<std::chrono::microseconds>;

inline constexpr std::string_view kTerminalSincePrefix = "foreman.llmkube.dev/terminal-since-";
// Written by some Python bridge versions without the phase; read as a fallback.
inline constexpr std::string_view kTerminalSinceLegacy = "foreman.llmkube.dev/terminal-since";
inline constexpr std::string_view kReportedAnnotation = "foreman.llmkube.dev/reported-status";
inline constexpr std::string_view kTombstoneKey = "foreman.llmkube.dev/tombstone";
inline constexpr std::string_view kTombstoneCap = "true";                 // the attempt cap, PARK_ON_GIVE_UP=false
inline constexpr std::string_view kTombstoneIssueClosed = "issue-closed"; // §5.1: the issue was closed

// "foreman.llmkube.dev/terminal-since-Completed" (a "-", not a "/": an annotation key has
// at most one slash).
std::string terminal_since_key(std::string_view phase);

// "2026-01-02T03:04:05.000000Z".
std::string format_stamp(WallTime t);
// RFC 3339 as written by this bridge or the Python one: a date, "T" (or "t", or a space),
// a time with an optional fraction, then "Z" or an offset ±hh:mm. Anything else: nullopt.
std::optional<WallTime> parse_stamp(std::string_view text) noexcept;

// What the terminal sweep reads off a Workload: the typed view (operator/foreman_model.hpp).

struct PruneSettings {
  double completed_after_hours = 6;  // 0: never
  double failed_after_hours = 48;    // 0: never
};

enum class SweepKind {
  Nothing,  // not a terminal bridge Workload, or one the retry flow still owns, or pruning is off
  Stamp,    // merge-patch terminal-since-{phase} = now
  Report,   // Completed, not reported yet: read the tasks, tell dispatch, record it (and the stamp)
  Wait,     // run again after `wait`: the prune deadline
  Prune,    // delete it (Failed: set the issue back to ready first)
};
std::string_view to_string(SweepKind k) noexcept;

struct SweepStep {
  SweepKind kind = SweepKind::Nothing;
  bool write_stamp = false;  // Report: the stamp is missing (or unreadable): write it too
  bool reset_issue = false;  // Prune: a Failed Workload's issue goes back to ready
  std::chrono::milliseconds wait{0};
  std::string why;
};

// The next step for a Workload the retry flow has nothing to do with. `now` is the wall
// clock (the stamps are wall-clock times). An unreadable stamp is replaced by a new one.
SweepStep next_sweep(const WorkloadView& workload, const PruneSettings& settings, WallTime now);

// What a Completed Workload reports to dispatch.
struct Report {
  std::string status;  // "in-review", "done", or "backlog" (parked for a human)
  std::string reason;  // for logs, Events and the park comment
  std::string pull_request;  // the first pullRequestURL found (tasks in name order), if any
};
using TaskList = std::span<const boost::json::object* const>;
// A task's status.result.extra.pullRequestURL → in-review (there is a PR to review); else
// a Completed condition with reason AllAlreadyResolved (status True) → done; else the
// Workload completed without a PR → park (status backlog, needs-human): re-running it
// would not help, and leaving it in-progress would strand the claim.
Report completed_report(const boost::json::object& workload, TaskList tasks);
Report completed_report(const boost::json::object& workload, const boost::json::array& tasks);

// --- Stranded and stuck claims (dispatch's view, on a timer) -----------------------------

enum class ClaimSweep {
  Stranded,  // GET /api/issues/claimed?agentName=A: claimed, in-progress
  Stuck,     // GET /api/issues/claimed?agentName=A&status=ready: claimed, back at ready
};
std::string_view to_string(ClaimSweep s) noexcept;

// What the bridge knows of the issue's Workload when it decides.
struct ClaimFacts {
  bool workload_live = false;     // in the cache (or, on the second look, on the server)
  bool retry_in_flight = false;   // an intent ConfigMap (cached or just written) for its name
  bool create_in_flight = false;  // the claim loop is claiming or creating it right now
};

enum class ClaimActionKind {
  Leave,         // not stranded / not stuck (why says which)
  ResetToReady,  // Stranded: status ready (after removing needs-human, when present)
  Unclaim,       // Stuck: release the claim
};
struct ClaimAction {
  ClaimActionKind kind = ClaimActionKind::Leave;
  bool unlabel_needs_human = false;  // ResetToReady: the issue carries needs-human
  std::string why;
};

// The issue's status as its labels say: the first "status/*" label without the prefix,
// or "" when there is none.
std::string claimed_status(const dispatch::ClaimedIssue& issue);

// Stranded: the issue must be in-progress (its status label says so, or it has none and
// the endpoint's default — in-progress — is trusted). Stuck: its labels must say
// status/ready (an old dispatch ignores `status` and answers in-progress issues, which
// are not stuck). Both: no open PR, no live Workload, no retry or create in flight.
ClaimAction classify_claim(ClaimSweep sweep, const dispatch::ClaimedIssue& issue, const ClaimFacts& facts);

}  // namespace fdb::op

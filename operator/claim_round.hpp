// One claim round (SPEC §4) as a step machine: pure, nothing here awaits. The I/O layer
// (operator/claimer_io.cpp) reads the lanes, then steps the machine: each step returns the
// events to count and log, and at most one call to make (last); the call's answer is the
// next step's input. Behaviour is the claimer's before issue 19, but for the one
// difference the issue asks: a create that meets a terminating object of the same name
// records an intent of kind Claim and moves on (the reconciler creates the Workload once
// the old object is gone); the round never waits.
//
//   next(cache) ──▶ Claim{issue}            (while there is headroom and a candidate)
//              └─▶ Done
//   on_claim(answer) ──▶ CreateWorkload{manifest}   claimed (also a lost answer or a 409
//                                                   that dispatch's list of claims settles)
//                   └─▶ (events only: taken, closed, unknown, error) — then next()
//   on_create(answer) ──▶ created / exists: counted claimed — then next()
//                    ├─▶ exists, terminating: RecordClaimIntent{old uid}
//                    └─▶ failed (after the I/O layer's retries): Unclaim{why}
//   on_intent(recorded?) ──▶ counted claimed (deferred) | Unclaim{why}
//   on_unclaim(released?) ──▶ unclaimed | stranded (the stranded sweep will release it)
#pragma once

#include "dispatch/candidates.hpp"
#include "dispatch/client_io.hpp"
#include "dispatch/workload.hpp"

#include <boost/json/object.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace fdb::op {

class CacheView;
class ClaimsInFlight;

// One lane as read: its selection, or why it could not be read.
struct LaneFailure {
  std::string error;
};
struct LaneRead {
  std::string lane;
  std::variant<dispatch::Selection, LaneFailure> answer;
};

struct ClaimRound {
  int lanes_ok = 0;
  int lanes_failed = 0;
  int malformed = 0;   // queue items skipped as malformed
  int claimed = 0;     // claims that ended with a Workload (or an intent to create it)
  int taken = 0;       // 409: someone else's
  int unclaimed = 0;   // claimed, but the create failed: given back
  int deferred = 0;    // of `claimed`: the old object was terminating, an intent recorded
  int in_progress = 0; // at the end of the round
  bool capped = false; // MAX_IN_PROGRESS reached
};

// The typed events of a round: each is one claims_total result (or none) and one log line.
enum class ClaimEvent {
  LaneError,        // a lane could not be read (claims_total lane-error)
  Malformed,        // a queue item skipped (dispatch_malformed_items_total)
  Capped,           // MAX_IN_PROGRESS reached: no more claims this round
  OtherName,        // the issue has a Workload under another name: not claimed
  ClaimError,       // the claim call failed (claims_total error)
  SettledByList,    // a lost answer (or a 409) found ours in dispatch's list of claims
  Taken,            // 409 (claims_total taken)
  Closed,           // 400 (claims_total closed)
  Unknown,          // 404 (claims_total unknown)
  Claimed,          // the Workload exists (claims_total claimed, workloads_created_total)
  Deferred,         // an intent of kind Claim recorded (claims_total claimed)
  Unclaimed,        // given back after a failed create (claims_total unclaimed)
  Stranded,         // the unclaim failed too (claims_total stranded)
};
std::string_view to_string(ClaimEvent e) noexcept;
// The claims_total result label of an event; empty when it counts none there.
std::string_view claims_result(ClaimEvent e) noexcept;

// Who an action or event is about.
struct ClaimSubject {
  std::string lane;
  dispatch::IssueRef issue;
  std::string title;
  std::string name;  // the Workload name (dispatch::workload_name)
};

namespace claim {
struct Event {
  ClaimEvent kind = ClaimEvent::Claimed;
  ClaimSubject subject;   // lane only for lane-wide events
  std::string detail;     // an error text, a coder, a reason
};
struct Claim {                   // POST /api/issues/claim
  ClaimSubject subject;
};
struct CreateWorkload {          // POST the Workload (attempt 1)
  ClaimSubject subject;
  boost::json::object manifest;
};
struct RecordClaimIntent {       // an intent of kind Claim: create attempt 1 once old_uid is gone
  ClaimSubject subject;
  std::string old_uid;
};
struct Unclaim {                 // POST /api/issues/unclaim
  ClaimSubject subject;
  std::string why;
};
struct Done {};
}  // namespace claim
using ClaimRoundAction =
    std::variant<claim::Event, claim::Claim, claim::CreateWorkload, claim::RecordClaimIntent, claim::Unclaim, claim::Done>;

// The claim call's answer: the outcome, or the call failed (its error text).
struct ClaimAnswer {
  std::optional<dispatch::ClaimResult> result;  // nullopt: the call failed
  std::string error;
};
// The create's answer, after the I/O layer's retries and, on a 409, its look at the object.
enum class ClaimCreateOutcome { Created, Exists, ExistsTerminating, Failed };
struct CreateAnswer {
  ClaimCreateOutcome outcome = ClaimCreateOutcome::Created;
  std::string old_uid;  // ExistsTerminating: the object on its way out
  std::string error;    // Failed
};

struct ClaimSettings {
  const dispatch::WorkloadSettings& workload;
  int max_in_progress = 0;  // 0: no cap
};

class ClaimRoundMachine {
 public:
  // `in_progress`: the cache's count plus the creates it does not show yet; `load`: the
  // in-progress Workloads per coder.
  ClaimRoundMachine(ClaimSettings settings, std::vector<LaneRead> lanes, int in_progress, dispatch::LoadMap load);

  // The next candidate to claim, with the caches and the registry as they are now, or Done.
  std::vector<ClaimRoundAction> next(const CacheView& cache, const ClaimsInFlight& in_flight);
  std::vector<ClaimRoundAction> on_claim(const ClaimAnswer& answer);
  std::vector<ClaimRoundAction> on_create(const CreateAnswer& answer);
  std::vector<ClaimRoundAction> on_intent(bool recorded, const std::string& error);
  std::vector<ClaimRoundAction> on_unclaim(bool released, const std::string& error);

  const ClaimRound& round() const noexcept { return round_; }

 private:
  std::vector<ClaimRoundAction> counted_claim(ClaimEvent kind);

  ClaimSettings s_;
  std::vector<LaneRead> lanes_;
  dispatch::LoadMap load_;
  ClaimRound round_;
  std::size_t lane_ = 0;       // the lane being walked
  std::size_t candidate_ = 0;  // the next candidate in it
  bool lane_started_ = false;  // its failure or malformed items reported
  ClaimSubject current_;       // the candidate being claimed
  boost::json::object manifest_;
};

}  // namespace fdb::op

// The claim loop (SPEC §4): every CLAIM_INTERVAL_S, on the leader only, fetches each
// lane of DISPATCH_LANES in parallel, and while there is headroom (MAX_IN_PROGRESS and
// per-coder slots) claims the next candidate and creates its Workload. A 409 on create
// means it exists: success, unless that object is terminating — then an intent of kind
// Claim is recorded and the round moves on (the reconciler creates the Workload once the
// old object is gone). A create that keeps failing unclaims the issue.
//
// The decisions are operator/claim_round.hpp's step machine; this is its thin I/O layer:
// it reads (the lanes, the caches, the registry of what is in flight), makes the calls
// the machine asks for, and feeds their answers back.
#pragma once

#include "operator/claim_in_flight.hpp"
#include "operator/claim_round.hpp"
#include "operator/config.hpp"
#include "operator/loop_deps.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fdb::op {

class Claimer {
 public:
  // `in_flight`: the registry this loop records its claims in (operator/in_flight.hpp:
  // shared with the reconciler and read by the claim sweeps; forgotten when leadership is lost).
  Claimer(LoopDeps deps, ClaimsInFlight& in_flight);

  // One round over every lane.
  boost::asio::awaitable<ClaimRound> run_once();
  // Rounds every CLAIM_INTERVAL_S until cancelled.
  boost::asio::awaitable<void> run();

  // Workloads created (or deferred to an intent) but not yet seen in the cache (counted as
  // in progress).
  std::size_t pending_creates() const noexcept { return in_flight_.pending_creates(); }
  // True while this loop is claiming an issue for that Workload name or creating it, and
  // until the cache shows what it created: the stranded-claims sweep leaves it alone.
  bool creating(std::string_view name) const { return in_flight_.creating(name); }

 private:
  // Drops pending creates the cache shows; asks the API server about those it has not
  // shown for a while.
  boost::asio::awaitable<void> settle_pending();
  boost::asio::awaitable<std::vector<LaneRead>> read_lanes();
  // The calls the machine asks for; each returns the machine's next actions.
  boost::asio::awaitable<std::vector<ClaimRoundAction>> claim(ClaimRoundMachine& m, const claim::Claim& c);
  boost::asio::awaitable<std::vector<ClaimRoundAction>> create(ClaimRoundMachine& m, const claim::CreateWorkload& c);
  boost::asio::awaitable<std::vector<ClaimRoundAction>> record_intent(ClaimRoundMachine& m, const claim::RecordClaimIntent& c);
  boost::asio::awaitable<std::vector<ClaimRoundAction>> unclaim(ClaimRoundMachine& m, const claim::Unclaim& c);
  // The create with its retries, and on a 409 a look at the object of that name.
  boost::asio::awaitable<CreateAnswer> create_workload(const std::string& name, const std::string& body);
  boost::asio::awaitable<std::optional<boost::json::object>> get_workload(const std::string& name);
  void report(const claim::Event& e);

  LoopDeps d_;
  ClaimsInFlight& in_flight_;
};

}  // namespace fdb::op

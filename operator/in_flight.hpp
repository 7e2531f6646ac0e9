// The in-flight registry: what this process is doing right now that the caches may not
// show yet. One explicit record, pure (time is a parameter), shared by the retry reconciler
// and the claim loop; forget() drops it all when leadership is lost (the next leader
// finishes what was in flight from the caches and the intent ConfigMaps).
//
//   retries  an intent written here and not cleared yet (the intent cache may lag), with the
//            timestamps of its steps (latency figures; the Delete step's "sent already" test)
//   tasks    since when a decision has waited for the task informer to catch up
//   claims   from the claim call until the create is settled, then until the cache shows
//            the created object or the intent it was deferred to (counted as in progress)
#pragma once

#include "operator/claim_in_flight.hpp"
#include "operator/retry_flow.hpp"

#include <chrono>
#include <cstddef>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace fdb::op {

using SteadyTime = std::chrono::steady_clock::time_point;

// Timestamps of the steps of the retry in flight for a name (zero: not yet).
struct RetryTimings {
  SteadyTime failed_seen;      // the reconcile that decided
  SteadyTime delete_sent;      // the DELETE request went out (re-armed by each stuck-deletion warning)
  SteadyTime delete_accepted;  // the API server accepted it
  SteadyTime gone_seen;        // the reconcile that found it gone
  SteadyTime create_sent;      // the POST of the next attempt went out
};

class InFlight {
 public:
  // --- Retries (the reconciler) ---------------------------------------------------------
  // An intent was written (or found written) by this process.
  void intent_recorded(const Intent& intent, SteadyTime decided_at);
  // The intent this process holds for that Workload name, if any.
  const Intent* intent(std::string_view name) const;
  // The intent is fulfilled and its ConfigMap deleted: returns the retry's timings.
  RetryTimings intent_cleared(std::string_view name);
  bool retry_in_flight(std::string_view name) const { return intents_.find(name) != intents_.end(); }
  std::size_t intents_in_flight() const noexcept { return intents_.size(); }

  // The step timestamps (created on first use).
  RetryTimings& timings(std::string_view name);
  const RetryTimings* find_timings(std::string_view name) const;

  // --- Waiting for the task informer (a decision, a report) ------------------------------
  // How long is left of `budget` since the first call for `name` (0 or less: spent; the
  // wait is then ended). Ends the wait when `needed` is false.
  std::chrono::milliseconds task_wait_left(std::string_view name, bool needed, SteadyTime now,
                                           std::chrono::milliseconds budget);
  void task_wait_end(std::string_view name);
  bool task_waiting(std::string_view name) const { return task_waits_.find(name) != task_waits_.end(); }

  // --- Claims (the claim loop: operator/claim_in_flight.hpp) ------------------------------
  ClaimsInFlight& claims() noexcept { return claims_; }
  const ClaimsInFlight& claims() const noexcept { return claims_; }
  std::size_t pending_creates() const noexcept { return claims_.pending_creates(); }
  // True from the claim call until the create is settled and its object cached.
  bool creating(std::string_view name) const { return claims_.creating(name); }

  // Drops everything (on losing leadership).
  void forget();

 private:
  std::map<std::string, Intent, std::less<>> intents_;
  std::map<std::string, RetryTimings, std::less<>> timings_;
  std::map<std::string, SteadyTime, std::less<>> task_waits_;
  ClaimsInFlight claims_;
};

}  // namespace fdb::op

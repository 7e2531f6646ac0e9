// One pass of the stranded-claims or stuck-claims sweep (SPEC §6) as a step machine:
// pure, nothing here awaits. The I/O layer (operator/claim_sweeps_io.cpp) lists dispatch's
// claimed issues, then steps the machine: each step returns the events to count and log,
// and at most one call to make (last); the call's answer is the next step's input.
//
//   start(list answer) ──▶ events (list-error, malformed)
//   next(facts) ──▶ AskServer{issue, names}   the caches say "nothing": the API server has
//              │                              the last word (the cache may lag)
//              ├─▶ (events only: in-flight)   left alone while a create or retry is in flight
//              └─▶ Done
//   on_server(live | error, facts read again) ──▶ ResetToReady{unlabel?} | Unclaim | (nothing)
//   on_action(done | error) ──▶ reset / unclaimed / error
//
// The decisions are classify_claim() (operator/sweeps.hpp); ClaimFacts are what this
// process knows, read by read_claim_facts() from the caches and the in-flight registries.
#pragma once

#include "dispatch/items.hpp"
#include "operator/sweeps.hpp"

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace fdb::op {

class CacheView;

// What this process knows of the issue's Workload, under every name it may have (`names`
// receives them: the cached Workloads filed under its id or repo and number, this
// program's name and the Python bridge's). The two predicates say whether the claim loop
// is claiming or creating a name (Claimer::creating), and whether a retry or escalation is
// in flight for it (Reconciler::retry_in_flight); either may be empty.
struct InFlightFacts {
  std::function<bool(std::string_view)> create_in_flight;
  std::function<bool(std::string_view)> retry_in_flight;
};
ClaimFacts read_claim_facts(const CacheView& cache, const InFlightFacts& in_flight, const dispatch::ClaimedIssue& issue,
                            std::vector<std::string>* names = nullptr);

struct ClaimSweepRound {
  int listed = 0;      // claimed issues answered, both sweeps
  int reset = 0;       // stranded: set back to ready
  int unclaimed = 0;   // stuck: released
  int in_flight = 0;   // would have been acted on, but a create or a retry was in flight
  int errors = 0;      // a list, a GET or an action failed (retried at the next pass)
  int malformed = 0;   // claimed items that could not be read
};

// The typed events of a pass: each is one sweeps_total{sweep, result} and one log line.
enum class SweepEvent {
  ListError,    // the list could not be read or parsed (list-error)
  Malformed,    // a claimed item skipped (malformed)
  InFlight,     // would act, but a create or retry is in flight (in-flight)
  NotStranded,  // the API server (or the facts read again) says it has a Workload (no count)
  Reset,        // stranded: set back to ready (reset)
  Unclaimed,    // stuck: released (unclaimed)
  Error,        // a GET or a dispatch call failed (error)
};
// The sweeps_total result label; empty when the event counts none.
std::string_view sweeps_result(SweepEvent e) noexcept;

namespace sweep {
struct Event {
  SweepEvent kind = SweepEvent::Error;
  dispatch::ClaimedIssue issue;  // empty for list-wide events
  std::string detail;            // an error text, or why
};
struct AskServer {  // GET the Workload under each name; live if any exists
  dispatch::ClaimedIssue issue;
  std::vector<std::string> names;
};
struct ResetToReady {  // remove needs-human first (when asked), then status ready
  dispatch::ClaimedIssue issue;
  bool unlabel_needs_human = false;
  std::string why;
};
struct Unclaim {
  dispatch::ClaimedIssue issue;
  std::string why;
};
struct Done {};
}  // namespace sweep
using SweepAction = std::variant<sweep::Event, sweep::AskServer, sweep::ResetToReady, sweep::Unclaim, sweep::Done>;

// The list's answer: dispatch's JSON, or the call failed (its error text).
struct ClaimedListRead {
  std::variant<boost::json::value, std::string> answer;
};
// The API server's word on the issue's Workload: live, or the GET failed (error set).
struct ServerAnswer {
  bool live = false;
  std::string error;
};

class ClaimSweepMachine {
 public:
  using FactsOf = std::function<ClaimFacts(const dispatch::ClaimedIssue&)>;
  explicit ClaimSweepMachine(ClaimSweep which) : which_(which) {}

  std::vector<SweepAction> start(const ClaimedListRead& list);
  std::vector<SweepAction> next(const FactsOf& facts_of);
  // `facts`: what this process knows, read again after the server's answer.
  std::vector<SweepAction> on_server(const ServerAnswer& answer, ClaimFacts facts);
  std::vector<SweepAction> on_action(bool done, const std::string& error);

  ClaimSweep which() const noexcept { return which_; }
  const ClaimSweepRound& round() const noexcept { return round_; }

 private:
  ClaimSweep which_;
  ClaimSweepRound round_;
  std::vector<dispatch::ClaimedIssue> items_;
  std::size_t next_ = 0;
  dispatch::ClaimedIssue current_;
  ClaimActionKind acting_ = ClaimActionKind::Leave;
};

}  // namespace fdb::op

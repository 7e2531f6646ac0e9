// The stranded-claims and stuck-claims sweeps (SPEC §6): dispatch's view of the issues
// this agent holds, checked against what the bridge knows. They need dispatch's answer
// (GET /api/issues/claimed), so unlike the other sweeps they run on a timer: every
// CLAIM_INTERVAL_S, on the leader only, once the caches have synced.
//
//   stranded: claimed, in-progress, no Workload, no open PR → remove needs-human (when
//             present), then status ready
//   stuck:    claimed at status ready, no Workload, no open PR → unclaim
//
// Never racing a create: an issue is left alone while the claim loop is claiming or
// creating its Workload (or has created it and the cache has not shown it yet), while a
// retry or escalation of its Workload is in flight (an intent, cached or just written),
// and while the cache holds its Workload — under any name: an issue's Workload is looked up
// by its issue (operator/adoption.hpp), so one the Python bridge named is recognised.
// When all of that says "nothing", the API server
// is asked for the Workload itself (the cache may lag), and the in-process facts are read
// again after that answer, before acting. The decisions are operator/sweeps.hpp's, the
// pass is operator/claim_sweep_steps.hpp's step machine; this is its thin I/O layer.
// Failures are logged and counted; the issue is looked at again at the next pass.
#pragma once

#include "operator/config.hpp"
#include "operator/claim_sweep_steps.hpp"
#include "operator/loop_deps.hpp"
#include "operator/sweeps.hpp"

#include <boost/asio/awaitable.hpp>

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fdb::op {

class ClaimSweeper {
 public:
  // `in_flight`: whether the claim loop is claiming or creating a Workload name
  // (InFlight::creating), and whether this process holds a retry intent for it
  // (InFlight::retry_in_flight).
  ClaimSweeper(LoopDeps deps, InFlightFacts in_flight);

  // One pass of both sweeps.
  boost::asio::awaitable<ClaimSweepRound> run_once();
  // A pass every CLAIM_INTERVAL_S until cancelled.
  boost::asio::awaitable<void> run();

 private:
  boost::asio::awaitable<void> sweep(ClaimSweep which, ClaimSweepRound& round);
  boost::asio::awaitable<ServerAnswer> ask_server(const sweep::AskServer& ask);
  boost::asio::awaitable<bool> workload_exists(const std::string& name);
  // The dispatch calls the machine asks for: nullopt when done, else the error text.
  boost::asio::awaitable<std::optional<std::string>> reset(const sweep::ResetToReady& r);
  boost::asio::awaitable<std::optional<std::string>> release(const sweep::Unclaim& u);
  void report(ClaimSweep which, const sweep::Event& e);

  LoopDeps d_;
  InFlightFacts in_flight_;
};

}  // namespace fdb::op

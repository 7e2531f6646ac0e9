// Foreman's side: Workloads move Planning -> Dispatched -> Completed/Failed, with
// AgenticTasks owned by them, by rules the tests control. Pure over the Store; time comes
// from the caller.
#pragma once

#include "sim/store.hpp"

#include <map>
#include <random>
#include <set>
#include <utility>
#include <vector>
#include <string>

namespace fdb::sim {

// How a Workload ends. The annotation sim.llmkube.dev/outcome takes these names.
// SucceedNoPr: Completed (AllChildrenSucceeded) with no pullRequestURL on any task.
enum class Outcome { Succeed, Resolved, FailReview, FailCoder, Infra, EscalateDesign, Incomplete, Hang, SucceedNoPr };
std::optional<Outcome> parse_outcome(const std::string& s);
std::string outcome_name(Outcome o);

struct ForemanRules {
  double fail_rate = 0.0;  // chance of FailReview when nothing else decides
  std::uint64_t seed = 1;
  std::chrono::milliseconds step{200};  // time between phase moves
  // Per issue ("owner/repo#7"): attempt number (0 = any) -> outcome.
  std::map<std::string, std::map<int, Outcome>> issues;
};

class Foreman {
 public:
  Foreman(Store& store, ForemanRules rules);
  // Feed every store event (to learn of new Workloads).
  void observe(const Event& ev, Clock::time_point now);
  // Moves every due Workload one phase on.
  void tick(Clock::time_point now);
  ForemanRules& rules() { return rules_; }
  // The outcome chosen for a Workload (by annotation, issue rule, or the seeded RNG).
  Outcome decide(const boost::json::object& wl);
  std::size_t active() const { return active_.size(); }
  // Writes the API refused (e.g. by the CRD schema), for the server to log; drained by the caller.
  std::vector<std::string> take_errors() { return std::exchange(errors_, {}); }

 private:
  struct Track {
    std::string ns, name, uid;
    Clock::time_point next;
    std::optional<Outcome> outcome;
  };
  // One phase move of a due Workload; `done` when it needs no more.
  void advance(Track& t, Clock::time_point now, bool& done);
  void write_status(const Track& t, boost::json::object& wl, boost::json::object status, Clock::time_point now, bool& done);
  void create_tasks(const Track& t, const boost::json::object& wl, Clock::time_point now);
  void finish_tasks(const Track& t, const boost::json::object& wl, boost::json::object& status, Clock::time_point now);

  Store& store_;
  ForemanRules rules_;
  std::mt19937_64 rng_;
  std::map<std::string, Track> active_;  // by uid
  std::vector<std::string> errors_;
};

const ResourceInfo& workloads();
const ResourceInfo& agentictasks();

}  // namespace fdb::sim

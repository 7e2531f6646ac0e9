// The claim round as a step machine (operator/claim_round.hpp): each row gives the lanes,
// the caches, what is in flight and the answers of each call, and expects the trace of
// actions the machine asks for. No sockets, no clocks.
#include "operator/claim_in_flight.hpp"
#include "operator/claim_round.hpp"
#include "support/foreman_fixtures.hpp"

#include <boost/test/unit_test.hpp>

#include <fmt/format.h>

#include <map>

using namespace fdb;
using namespace fdb::op;
using fdb::test::bridge_workload;
using fdb::test::MapCache;

namespace {

dispatch::QueueItem item(std::int64_t n, std::string repo = "o/r") {
  dispatch::QueueItem i;
  i.type = "issue";
  i.number = n;
  i.issue_id = "I_" + std::to_string(n);
  i.repo_full_name = std::move(repo);
  i.title = "issue " + std::to_string(n);
  i.status = "status/ready";
  i.claimable = true;
  return i;
}

LaneRead lane(std::string name, std::vector<dispatch::QueueItem> items, int malformed = 0) {
  dispatch::Selection s;
  s.candidates = std::move(items);
  for (int k = 0; k < malformed; ++k) s.malformed.push_back({"number", "expected a positive integer", k});
  return {std::move(name), std::move(s)};
}

// The answers of the calls, by issue number (absent: claimed, created; intents recorded,
// unclaims released).
struct Script {
  std::map<std::int64_t, std::optional<dispatch::ClaimOutcome>> claim;  // nullopt: the call fails
  std::map<std::int64_t, bool> checked;                                  // the outcome came from the list
  std::map<std::int64_t, CreateAnswer> create;
  bool intent_ok = true;
  bool unclaim_ok = true;
};

std::string label(const ClaimSubject& s) { return fmt::format("{}#{}", s.issue.repo_full_name, s.issue.number); }

// Steps the machine to Done, answering from the script; the trace of what it asked for.
std::vector<std::string> drive(ClaimRoundMachine& m, const MapCache& cache, const ClaimsInFlight& in_flight,
                               const Script& s) {
  std::vector<std::string> trace;
  std::vector<ClaimRoundAction> steps = m.next(cache, in_flight);
  for (int guard = 0; guard < 200; ++guard) {
    std::optional<ClaimRoundAction> call;
    for (auto& a : steps) {
      if (const auto* e = std::get_if<claim::Event>(&a)) {
        trace.push_back(fmt::format("{} {}", to_string(e->kind), e->subject.issue.number ? label(e->subject) : e->subject.lane));
      } else {
        BOOST_TEST(!call.has_value());  // at most one call per step, and it comes last
        call = a;
      }
    }
    if (!call) {
      steps = m.next(cache, in_flight);
    } else if (const auto* c = std::get_if<claim::Claim>(&*call)) {
      trace.push_back("claim " + label(c->subject));
      const auto n = c->subject.issue.number;
      ClaimAnswer a;
      auto it = s.claim.find(n);
      if (it != s.claim.end() && !it->second) {
        a.error = "boom";
      } else {
        a.result = dispatch::ClaimResult{it == s.claim.end() ? dispatch::ClaimOutcome::Claimed : *it->second, {},
                                         s.checked.count(n) != 0};
      }
      steps = m.on_claim(a);
    } else if (const auto* w = std::get_if<claim::CreateWorkload>(&*call)) {
      trace.push_back("create " + w->subject.name + " coder=" + coder_of(w->manifest));
      auto it = s.create.find(w->subject.issue.number);
      steps = m.on_create(it == s.create.end() ? CreateAnswer{} : it->second);
    } else if (const auto* i = std::get_if<claim::RecordClaimIntent>(&*call)) {
      trace.push_back("intent " + i->subject.name + " " + i->old_uid);
      steps = m.on_intent(s.intent_ok, s.intent_ok ? "" : "forbidden");
    } else if (const auto* u = std::get_if<claim::Unclaim>(&*call)) {
      trace.push_back("unclaim " + label(u->subject));
      steps = m.on_unclaim(s.unclaim_ok, s.unclaim_ok ? "" : "dispatch down");
    } else {
      trace.push_back("done");
      return trace;
    }
  }
  BOOST_FAIL("the machine never said done");
  return trace;
}

struct Row {
  const char* given;
  std::vector<LaneRead> lanes;
  Script script;
  std::vector<std::string> expect;
  int in_progress_after;
  int max_in_progress = 0;
  int in_progress_before = 0;
  std::function<void(MapCache&, ClaimsInFlight&, dispatch::WorkloadSettings&, dispatch::LoadMap&)> setup = {};
};

const CreateAnswer kTerminating{ClaimCreateOutcome::ExistsTerminating, "u-9", {}};
const CreateAnswer kFailed{ClaimCreateOutcome::Failed, {}, "422 Invalid"};

const Row kRows[] = {
    {"two candidates, no cap: both claimed and created in queue order",
     {lane("normal", {item(1), item(2)})}, {},
     {"claim o/r#1", "create wl-o-r-1 coder=coder", "claimed o/r#1", "claim o/r#2", "create wl-o-r-2 coder=coder",
      "claimed o/r#2", "done"}, 2},
    {"MAX_IN_PROGRESS counts what is in progress already; capped once, every lane after it too",
     {lane("normal", {item(1), item(2)}), lane("escalated", {item(3)})}, {},
     {"claim o/r#1", "create wl-o-r-1 coder=coder", "claimed o/r#1", "capped normal", "done"}, 3, 3, 2},
    {"a lane that failed is reported; the others go on",
     {LaneRead{"normal", LaneFailure{"503"}}, lane("escalated", {item(3)})}, {},
     {"lane-error normal", "claim o/r#3", "create wl-o-r-3 coder=coder", "claimed o/r#3", "done"}, 1},
    {"malformed items are reported, the well-formed ones claimed",
     {lane("normal", {item(1)}, 2)}, {},
     {"malformed normal", "malformed normal", "claim o/r#1", "create wl-o-r-1 coder=coder", "claimed o/r#1", "done"}, 1},
    {"409 taken, 400 closed, 404 unknown, a failed call: each moves on to the next candidate",
     {lane("normal", {item(1), item(2), item(3), item(4), item(5)})},
     {.claim = {{1, dispatch::ClaimOutcome::Taken}, {2, dispatch::ClaimOutcome::Closed},
                {3, dispatch::ClaimOutcome::Unknown}, {4, std::nullopt}}},
     {"claim o/r#1", "taken o/r#1", "claim o/r#2", "closed o/r#2", "claim o/r#3", "unknown o/r#3", "claim o/r#4",
      "error o/r#4", "claim o/r#5", "create wl-o-r-5 coder=coder", "claimed o/r#5", "done"}, 1},
    {"a lost answer settled by dispatch's list of claims is ours: created",
     {lane("normal", {item(1)})}, {.checked = {{1, true}}},
     {"claim o/r#1", "settled-by-list o/r#1", "create wl-o-r-1 coder=coder", "claimed o/r#1", "done"}, 1},
    {"the create meets our own Workload (409, not terminating): claimed",
     {lane("normal", {item(1)})}, {.create = {{1, CreateAnswer{ClaimCreateOutcome::Exists, {}, {}}}}},
     {"claim o/r#1", "create wl-o-r-1 coder=coder", "claimed o/r#1", "done"}, 1},
    {"the create meets a terminating object: an intent of kind Claim, never a wait; the round goes on",
     {lane("normal", {item(1), item(2)})}, {.create = {{1, kTerminating}}},
     {"claim o/r#1", "create wl-o-r-1 coder=coder", "intent wl-o-r-1 u-9", "deferred o/r#1", "claim o/r#2",
      "create wl-o-r-2 coder=coder", "claimed o/r#2", "done"}, 2},
    {"the intent cannot be written: the claim is given back",
     {lane("normal", {item(1)})}, {.create = {{1, kTerminating}}, .intent_ok = false},
     {"claim o/r#1", "create wl-o-r-1 coder=coder", "intent wl-o-r-1 u-9", "unclaim o/r#1", "unclaimed o/r#1", "done"}, 0},
    {"a create that failed after its retries: unclaimed",
     {lane("normal", {item(1)})}, {.create = {{1, kFailed}}},
     {"claim o/r#1", "create wl-o-r-1 coder=coder", "unclaim o/r#1", "unclaimed o/r#1", "done"}, 0},
    {"the unclaim fails too: stranded (the sweep releases it)",
     {lane("normal", {item(1)})}, {.create = {{1, kFailed}}, .unclaim_ok = false},
     {"claim o/r#1", "create wl-o-r-1 coder=coder", "unclaim o/r#1", "stranded o/r#1", "done"}, 0},
    {"an issue with a Workload under another name is not claimed (reported); under its own name, silently",
     {lane("normal", {item(1), item(2), item(3)})}, {},
     {"other-name o/r#1", "claim o/r#3", "create wl-o-r-3 coder=coder", "claimed o/r#3", "done"}, 1, 0, 0,
     [](MapCache& c, ClaimsInFlight&, dispatch::WorkloadSettings&, dispatch::LoadMap&) {
       c.workloads["wl-o-r-1-py"] = bridge_workload("wl-o-r-1-py", "o/r", 1);
       c.workloads["wl-o-r-2"] = bridge_workload("wl-o-r-2", "o/r", 2);
     }},
    {"an intent under the issue's name (a retry in flight): not claimed",
     {lane("normal", {item(1)})}, {}, {"other-name o/r#1", "done"}, 0, 0, 0,
     [](MapCache& c, ClaimsInFlight&, dispatch::WorkloadSettings&, dispatch::LoadMap&) {
       c.intents["wl-o-r-1"] = boost::json::object{};
     }},
    {"a terminating Workload of its name (no intent) does not hold the issue: claimed, then the intent",
     {lane("normal", {item(1)})}, {.create = {{1, kTerminating}}},
     {"claim o/r#1", "create wl-o-r-1 coder=coder", "intent wl-o-r-1 u-9", "deferred o/r#1", "done"}, 1, 0, 0,
     [](MapCache& c, ClaimsInFlight&, dispatch::WorkloadSettings&, dispatch::LoadMap&) {
       c.workloads["wl-o-r-1"] = bridge_workload("wl-o-r-1", "o/r", 1, "coder", true);
     }},
    {"a name created (or deferred) here and not cached yet: not claimed again",
     {lane("normal", {item(1), item(2)})}, {},
     {"claim o/r#2", "create wl-o-r-2 coder=coder", "claimed o/r#2", "done"}, 1, 0, 0,
     [](MapCache&, ClaimsInFlight& f, dispatch::WorkloadSettings&, dispatch::LoadMap&) {
       f.created("wl-o-r-1", ClaimsInFlight::TimePoint{});
     }},
    {"coder slots: the lane's coder is full after one claim; the next lane's coder is free",
     {lane("normal", {item(1), item(2)}), lane("escalated", {item(3)})}, {},
     {"claim o/r#1", "create wl-o-r-1 coder=coder-a", "claimed o/r#1", "claim o/r#3", "create wl-o-r-3 coder=coder-b",
      "claimed o/r#3", "done"}, 2, 0, 0,
     [](MapCache&, ClaimsInFlight&, dispatch::WorkloadSettings& s, dispatch::LoadMap& load) {
       s.lane_coder_agents = {{"local", {"coder-a"}}, {"frontier", {"coder-b"}}};
       s.coder_agent_slots = {{"coder-a", 2}, {"coder-b", 1}};
       load["coder-a"] = 1;
     }},
};

}  // namespace

BOOST_AUTO_TEST_SUITE(claim_round)

BOOST_AUTO_TEST_CASE(table) {
  for (const auto& r : kRows) {
    BOOST_TEST_CONTEXT(r.given) {
      MapCache cache;
      ClaimsInFlight in_flight;
      dispatch::WorkloadSettings ws;
      dispatch::LoadMap load;
      if (r.setup) r.setup(cache, in_flight, ws, load);
      ClaimRoundMachine m({ws, r.max_in_progress}, r.lanes, r.in_progress_before, load);
      const auto trace = drive(m, cache, in_flight, r.script);
      BOOST_TEST(trace == r.expect, boost::test_tools::per_element());
      if (trace != r.expect) BOOST_TEST_MESSAGE(fmt::format("got: {}", fmt::join(trace, " | ")));
      BOOST_TEST(m.round().in_progress == r.in_progress_after);
    }
  }
}

BOOST_AUTO_TEST_CASE(round_counts) {
  MapCache cache;
  ClaimsInFlight in_flight;
  dispatch::WorkloadSettings ws;
  Script s;
  s.claim[2] = dispatch::ClaimOutcome::Taken;
  s.create[3] = {ClaimCreateOutcome::ExistsTerminating, "u-3", {}};
  s.create[4] = {ClaimCreateOutcome::Failed, {}, "500"};
  ClaimRoundMachine m({ws, 0}, {lane("normal", {item(1), item(2), item(3), item(4)}, 1), LaneRead{"x", LaneFailure{"no"}}}, 0, {});
  drive(m, cache, in_flight, s);
  const ClaimRound& r = m.round();
  BOOST_TEST(r.lanes_ok == 1);
  BOOST_TEST(r.lanes_failed == 1);
  BOOST_TEST(r.malformed == 1);
  BOOST_TEST(r.claimed == 2);
  BOOST_TEST(r.deferred == 1);
  BOOST_TEST(r.taken == 1);
  BOOST_TEST(r.unclaimed == 1);
  BOOST_TEST(r.in_progress == 2);
  BOOST_TEST(!r.capped);
}

BOOST_AUTO_TEST_CASE(claims_total_results) {
  // Every event that counts a claim names a result docs/metrics.md lists.
  BOOST_TEST(claims_result(ClaimEvent::Claimed) == "claimed");
  BOOST_TEST(claims_result(ClaimEvent::Deferred) == "claimed");
  BOOST_TEST(claims_result(ClaimEvent::LaneError) == "lane-error");
  BOOST_TEST(claims_result(ClaimEvent::ClaimError) == "error");
  BOOST_TEST(claims_result(ClaimEvent::Stranded) == "stranded");
  BOOST_TEST(claims_result(ClaimEvent::Malformed).empty());
  BOOST_TEST(claims_result(ClaimEvent::SettledByList).empty());
}

BOOST_AUTO_TEST_SUITE_END()

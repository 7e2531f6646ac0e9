// The stranded-claims and stuck-claims sweeps as a step machine
// (operator/claim_sweep_steps.hpp): each row gives dispatch's list, what this process
// knows (before and after the API server's answer) and the answers of each call, and
// expects the trace of actions. No sockets, no clocks.
#include "operator/claim_sweep_steps.hpp"
#include "support/foreman_fixtures.hpp"

#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>

#include <fmt/format.h>

#include <map>

using namespace fdb;
using namespace fdb::op;
using fdb::test::bridge_workload;
using fdb::test::MapCache;

namespace {

struct Script {
  std::map<std::int64_t, ClaimFacts> facts;        // first look (absent: nothing known)
  std::map<std::int64_t, ClaimFacts> facts_again;  // after the server's answer (absent: as the first)
  std::map<std::int64_t, ServerAnswer> server;     // absent: no Workload on the server
  std::map<std::int64_t, std::string> action_error;
};

std::string label(const dispatch::ClaimedIssue& i) { return fmt::format("{}#{}", i.repo_full_name, i.number); }

std::vector<std::string> drive(ClaimSweepMachine& m, const ClaimedListRead& list, const Script& s) {
  std::vector<std::string> trace;
  auto facts = [&s](const dispatch::ClaimedIssue& i) {
    auto it = s.facts.find(i.number);
    return it == s.facts.end() ? ClaimFacts{} : it->second;
  };
  std::vector<SweepAction> steps = m.start(list);
  for (int guard = 0; guard < 100; ++guard) {
    std::optional<SweepAction> call;
    for (auto& a : steps) {
      if (const auto* e = std::get_if<sweep::Event>(&a)) {
        const std::string who = e->issue.number ? " " + label(e->issue) : "";
        trace.push_back(fmt::format("{}{}", sweeps_result(e->kind).empty() ? "not-stranded" : sweeps_result(e->kind), who));
      } else {
        BOOST_TEST(!call.has_value());
        call = a;
      }
    }
    if (!call) {
      steps = m.next(facts);
    } else if (const auto* ask = std::get_if<sweep::AskServer>(&*call)) {
      trace.push_back(fmt::format("ask {} [{}]", label(ask->issue), fmt::join(ask->names, ",")));
      auto it = s.server.find(ask->issue.number);
      auto again = s.facts_again.find(ask->issue.number);
      steps = m.on_server(it == s.server.end() ? ServerAnswer{} : it->second,
                          again == s.facts_again.end() ? facts(ask->issue) : again->second);
    } else if (const auto* r = std::get_if<sweep::ResetToReady>(&*call)) {
      trace.push_back(fmt::format("reset {}{}", label(r->issue), r->unlabel_needs_human ? " -needs-human" : ""));
      auto it = s.action_error.find(r->issue.number);
      steps = m.on_action(it == s.action_error.end(), it == s.action_error.end() ? "" : it->second);
    } else if (const auto* u = std::get_if<sweep::Unclaim>(&*call)) {
      trace.push_back("unclaim " + label(u->issue));
      auto it = s.action_error.find(u->issue.number);
      steps = m.on_action(it == s.action_error.end(), it == s.action_error.end() ? "" : it->second);
    } else {
      trace.push_back("done");
      return trace;
    }
  }
  BOOST_FAIL("the machine never said done");
  return trace;
}

ClaimedListRead list(const char* json) { return {boost::json::parse(json)}; }

constexpr const char* kOne = R"([{"issueId":"I_1","number":1,"repoFullName":"o/r","labels":["status/in-progress"]}])";

struct Row {
  const char* given;
  ClaimSweep which;
  ClaimedListRead list;
  Script script;
  std::vector<std::string> expect;
};

}  // namespace

BOOST_AUTO_TEST_SUITE(claim_sweep_steps)

BOOST_AUTO_TEST_CASE(table) {
  using enum ClaimSweep;
  const ClaimFacts live{true, false, false}, retrying{false, true, false}, creating{false, false, true};
  const Row rows[] = {
      {"the list call failed: counted, nothing else", Stranded, {std::string("503")}, {}, {"list-error", "done"}},
      {"the list is not an array", Stranded, list(R"({"error":"x"})"), {}, {"list-error", "done"}},
      {"stranded: no Workload anywhere, the server agrees: back to ready", Stranded, list(kOne), {},
       {"ask o/r#1 [wl-o-r-1]", "reset o/r#1", "reset o/r#1", "done"}},
      {"stranded with needs-human: the label goes first", Stranded,
       list(R"([{"issueId":"I_1","number":1,"repoFullName":"o/r","labels":["status/in-progress","needs-human"]}])"), {},
       {"ask o/r#1 [wl-o-r-1]", "reset o/r#1 -needs-human", "reset o/r#1", "done"}},
      {"a Python bridge's name is asked about too", Stranded,
       list(R"([{"issueId":"I_1","number":1,"repoFullName":"o/my.r","labels":[]}])"), {},
       {"ask o/my.r#1 [wl-o-my-r-1-2f635b59,wl-o-my.r-1]", "reset o/my.r#1", "reset o/my.r#1", "done"}},
      {"its Workload is cached: left alone, not counted", Stranded, list(kOne), {.facts = {{1, live}}}, {"done"}},
      {"a create in flight: left alone, counted in-flight", Stranded, list(kOne), {.facts = {{1, creating}}},
       {"in-flight o/r#1", "done"}},
      {"a retry in flight: left alone, counted in-flight", Stranded, list(kOne), {.facts = {{1, retrying}}},
       {"in-flight o/r#1", "done"}},
      {"the server has the Workload (the cache lags): not stranded", Stranded, list(kOne),
       {.server = {{1, ServerAnswer{true, {}}}}}, {"ask o/r#1 [wl-o-r-1]", "not-stranded o/r#1", "done"}},
      {"a create started while the GET was out: not stranded", Stranded, list(kOne), {.facts_again = {{1, creating}}},
       {"ask o/r#1 [wl-o-r-1]", "not-stranded o/r#1", "done"}},
      {"the GET failed: an error, tried again next pass", Stranded, list(kOne),
       {.server = {{1, ServerAnswer{false, "500"}}}}, {"ask o/r#1 [wl-o-r-1]", "error o/r#1", "done"}},
      {"the status call failed: an error", Stranded, list(kOne), {.action_error = {{1, "dispatch down"}}},
       {"ask o/r#1 [wl-o-r-1]", "reset o/r#1", "error o/r#1", "done"}},
      {"an open pull request: human-side work, left alone", Stranded,
       list(R"([{"issueId":"I_1","number":1,"repoFullName":"o/r","labels":[],"hasOpenPr":true}])"), {}, {"done"}},
      {"stranded pass, status ready: not this sweep's", Stranded,
       list(R"([{"issueId":"I_1","number":1,"repoFullName":"o/r","labels":["status/ready"]}])"), {}, {"done"}},
      {"stuck: claimed at ready, no Workload: released", Stuck,
       list(R"([{"issueId":"I_2","number":2,"repoFullName":"o/r","labels":["status/ready"]}])"), {},
       {"ask o/r#2 [wl-o-r-2]", "unclaim o/r#2", "unclaimed o/r#2", "done"}},
      {"stuck pass, an old dispatch answers in-progress issues: not stuck", Stuck, list(kOne), {}, {"done"}},
      {"malformed items are counted, the rest go on", Stranded,
       list(R"([{"number":"x"},{"issueId":"I_1","number":1,"repoFullName":"o/r","labels":[]},7])"),
       {.facts = {{1, live}}}, {"malformed", "malformed", "done"}},
  };
  for (const auto& r : rows) {
    BOOST_TEST_CONTEXT(r.given) {
      ClaimSweepMachine m(r.which);
      const auto trace = drive(m, r.list, r.script);
      BOOST_TEST(trace == r.expect, boost::test_tools::per_element());
    }
  }
}

BOOST_AUTO_TEST_CASE(round_counts) {
  ClaimSweepMachine m(ClaimSweep::Stranded);
  Script s;
  s.facts[2] = {false, false, true};
  s.server[3] = {false, "timeout"};
  drive(m,
        list(R"([{"issueId":"I_1","number":1,"repoFullName":"o/r"},{"issueId":"I_2","number":2,"repoFullName":"o/r"},
                 {"issueId":"I_3","number":3,"repoFullName":"o/r"},{"bad":true}])"),
        s);
  const ClaimSweepRound& r = m.round();
  BOOST_TEST(r.listed == 3);
  BOOST_TEST(r.reset == 1);
  BOOST_TEST(r.in_flight == 1);
  BOOST_TEST(r.errors == 1);
  BOOST_TEST(r.malformed == 1);
  BOOST_TEST(r.unclaimed == 0);
}

// The facts as read from the caches and the in-flight predicates, under every name.
BOOST_AUTO_TEST_CASE(facts_from_the_caches) {
  MapCache cache;
  const dispatch::ClaimedIssue issue{"I_5", 5, "o/r", "", {}, false};
  InFlightFacts none;
  BOOST_TEST(!read_claim_facts(cache, none, issue).workload_live);

  // Its Workload under another name (filed by issue id).
  cache.workloads["legacy-5"] = bridge_workload("legacy-5", "o/r", 5);
  std::vector<std::string> names;
  ClaimFacts f = read_claim_facts(cache, none, issue, &names);
  BOOST_TEST(f.workload_live);
  BOOST_TEST((std::find(names.begin(), names.end(), "legacy-5") != names.end()));
  cache.workloads.clear();

  cache.intents["wl-o-r-5"] = boost::json::object{};
  BOOST_TEST(read_claim_facts(cache, none, issue).retry_in_flight);
  cache.intents.clear();

  InFlightFacts busy{[](std::string_view n) { return n == "wl-o-r-5"; }, [](std::string_view n) { return n == "wl-o-r-5"; }};
  f = read_claim_facts(cache, busy, issue);
  BOOST_TEST(f.create_in_flight);
  BOOST_TEST(f.retry_in_flight);
  BOOST_TEST(!f.workload_live);
}

BOOST_AUTO_TEST_SUITE_END()

// The Workload builder's routing: the coder agent by lane and repo, the fix-first agents,
// and when a lane's coders are saturated.
#include "workload_fixture.hpp"
#include "dispatch/workload.hpp"

#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>

#include <set>

using namespace fdb::dispatch;
namespace json = boost::json;
using fdb::test::at;
using fdb::test::issue;

BOOST_AUTO_TEST_SUITE(bridge_workload)

BOOST_AUTO_TEST_CASE(coder_routing) {
  const auto gp = json::parse(R"({"py/repo":{"language":"python"},"*":{"language":"go"}})").as_object();
  struct Row {
    const char* given;
    AgentMap lane, repo, base;
    SlotMap slots;
    LoadMap load;
    std::string lane_name, repo_name;
    std::int64_t number;
    std::string expect;
  };
  const Row rows[] = {
      {"nothing configured", {}, {}, {}, {}, {}, "local", "o/r", 1, "coder"},
      {"lane wins", {{"frontier", {"c-front"}}, {"*", {"c-star"}}}, {{"o/r", {"c-repo"}}}, {{"go", {"c-go"}}}, {}, {},
       "frontier", "o/r", 1, "c-front"},
      {"lane alias", {{"frontier", {"c-front"}}}, {}, {}, {}, {}, "escalated", "o/r", 1, "c-front"},
      {"repo next", {{"*", {"c-star"}}}, {{"o/r", {"c-repo"}}}, {{"go", {"c-go"}}}, {}, {}, "local", "o/r", 1, "c-repo"},
      {"language next", {{"*", {"c-star"}}}, {}, {{"python", {"c-py"}}, {"go", {"c-go"}}}, {}, {}, "local", "py/repo", 1,
       "c-py"},
      {"language from the * gate profile", {}, {}, {{"python", {"c-py"}}, {"go", {"c-go"}}}, {}, {}, "local", "o/r", 1,
       "c-go"},
      {"base *", {{"*", {"c-star"}}}, {}, {{"rust", {"c-rs"}}, {"*", {"c-base"}}}, {}, {}, "local", "o/r", 1, "c-base"},
      {"lane * before default", {{"*", {"c-star"}}}, {}, {{"rust", {"c-rs"}}}, {}, {}, "local", "o/r", 1, "c-star"},
      {"list, no slots: number % n", {{"local", {"a", "b", "c"}}}, {}, {}, {}, {}, "local", "o/r", 7, "b"},
      {"list, slots: most free", {{"local", {"a", "b", "c"}}}, {}, {}, {{"a", 1}, {"b", 4}, {"c", 2}}, {{"b", 1}}, "local",
       "o/r", 7, "b"},
      {"list, slots: busy one loses", {{"local", {"a", "b"}}}, {}, {}, {{"*", 2}}, {{"a", 2}}, "local", "o/r", 0, "b"},
      {"list, slots: ties by number % tied", {{"local", {"a", "b", "c"}}}, {}, {}, {{"*", 2}}, {{"b", 1}}, "local", "o/r",
       5, "c"},
      {"list, slots: tie, even number", {{"local", {"a", "b", "c"}}}, {}, {}, {{"*", 2}}, {{"b", 1}}, "local", "o/r", 4,
       "a"},
      {"list, all full: still the most free", {{"local", {"a", "b"}}}, {}, {}, {{"a", 1}, {"b", 1}}, {{"a", 3}, {"b", 1}},
       "local", "o/r", 0, "b"},
  };
  for (const auto& r : rows) {
    BOOST_TEST_CONTEXT(r.given) {
      WorkloadSettings s;
      s.gate_profiles = gp;
      s.lane_coder_agents = r.lane;
      s.repo_coder_agents = r.repo;
      s.base_coder_agents = r.base;
      s.coder_agent_slots = r.slots;
      BOOST_TEST(choose_coder(s, r.lane_name, r.repo_name, r.number, r.load) == r.expect);
    }
  }
  // The chosen coder lands in the manifest.
  WorkloadSettings s;
  s.lane_coder_agents = {{"local", {"a", "b"}}};
  BuildRequest req{issue("o/r", 3)};
  BOOST_TEST(build_workload(req, s).at("spec").at("coderAgentRef").at("name") == "b");
  req.feedback = "- x";
  BOOST_TEST(build_workload(req, s).at("spec").at("pipeline").at(0).at("agentRef").at("name") == "b");
}

BOOST_AUTO_TEST_CASE(fix_first_agents) {
  WorkloadSettings s;
  s.lane_coder_agents = {{"local", {"fixer", "coder"}}};
  s.fix_first_agents = {"fixer"};
  struct Row {
    const char* given;
    LoadMap load;
    std::int64_t number;
    std::string expect;
  };
  const Row rows[] = {
      {"idle fixer takes its turn", {}, 0, "fixer"},
      {"busy fixer drops out", {{"fixer", 1}}, 0, "coder"},
      {"other coder busy does not matter", {{"coder", 5}}, 0, "fixer"},
  };
  for (const auto& r : rows) {
    BOOST_TEST_CONTEXT(r.given) { BOOST_TEST(choose_coder(s, "local", "o/r", r.number, r.load) == r.expect); }
  }
  // All fix-first and busy: the tier yields nothing and routing falls through to "coder".
  s.lane_coder_agents = {{"local", {"fixer"}}};
  BOOST_TEST(choose_coder(s, "local", "o/r", 0, {{"fixer", 1}}) == "coder");
}

BOOST_AUTO_TEST_CASE(lane_saturation) {
  struct Row {
    const char* given;
    AgentMap lane;
    SlotMap slots;
    LoadMap load;
    std::set<std::string, std::less<>> fix_first;
    std::string lane_name;
    bool expect;
  };
  const Row rows[] = {
      {"no slots configured", {{"local", {"a"}}}, {}, {{"a", 99}}, {}, "local", false},
      {"no lane mapping", {}, {{"*", 1}}, {{"coder", 5}}, {}, "local", false},
      {"one free slot left", {{"local", {"a", "b"}}}, {{"*", 2}}, {{"a", 2}, {"b", 1}}, {}, "local", false},
      {"all full", {{"local", {"a", "b"}}}, {{"*", 2}}, {{"a", 2}, {"b", 3}}, {}, "local", true},
      {"lane * used", {{"*", {"a"}}}, {{"a", 1}}, {{"a", 1}}, {}, "cloud", true},
      {"alias", {{"frontier", {"a"}}}, {{"a", 1}}, {{"a", 1}}, {}, "escalated", true},
      {"busy fix-first agent left out", {{"local", {"f", "b"}}}, {{"*", 1}}, {{"f", 1}, {"b", 1}}, {"f"}, "local", true},
      {"only busy fix-first agents", {{"local", {"f"}}}, {{"*", 1}}, {{"f", 1}}, {"f"}, "local", false},
  };
  for (const auto& r : rows) {
    BOOST_TEST_CONTEXT(r.given) {
      WorkloadSettings s;
      s.lane_coder_agents = r.lane;
      s.coder_agent_slots = r.slots;
      s.fix_first_agents = r.fix_first;
      BOOST_TEST(lane_coders_saturated(s, r.lane_name, r.load) == r.expect);
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()

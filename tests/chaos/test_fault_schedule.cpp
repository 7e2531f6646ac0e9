// The chaos soak's fault table: each slot's kind, where its requests go, what they ask for,
// and the draws it makes (in order: a seed must give the same schedule).
#include "chaos/fault_schedule.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/test/unit_test.hpp>

#include <utility>
#include <vector>

using namespace fdb::chaos;
namespace json = boost::json;

namespace {

struct Expected {
  Gate gate;
  const char* kind;        // with every draw at its lowest value
  std::vector<std::string> posts;  // path and body of each request, as JSON
  std::vector<std::pair<int, int>> draws;
};

// Every draw returns its lowest value, and is recorded.
struct LowestPick {
  std::vector<std::pair<int, int>> draws;
  Pick pick() {
    return [this](int lo, int hi) {
      draws.emplace_back(lo, hi);
      return lo;
    };
  }
};

std::string draws_text(const std::vector<std::pair<int, int>>& draws) {
  std::string out;
  for (const auto& [lo, hi] : draws) out += "[" + std::to_string(lo) + "," + std::to_string(hi) + "]";
  return out;
}

const std::string A = "/_sim/faults";
const std::string D = "/_sim/dispatch/faults";

}  // namespace

BOOST_AUTO_TEST_SUITE(chaos_fault_schedule)

BOOST_AUTO_TEST_CASE(every_slot_injects_its_fault) {
  const std::vector<Expected> table = {
      {Gate::None, "watch-drop", {A + R"({"action":"dropWatches"})"}, {}},
      {Gate::None, "history-expiry", {A + R"({"action":"expireHistory"})", A + R"({"action":"dropWatches"})"}, {}},
      {Gate::None, "api-500", {A + R"({"path":"/apis","code":500,"count":3})"}, {{0, 2}, {3, 15}}},
      {Gate::None, "api-500", {A + R"({"path":"/apis","code":500,"count":3})"}, {{0, 2}, {3, 15}}},
      {Gate::None, "api-latency", {A + R"({"path":"/api","latencyMs":200,"count":5})"}, {{200, 800}, {5, 20}}},
      {Gate::None, "dispatch-outage", {D + R"({"path":"/api/","mode":"status","code":503,"count":5})"}, {{5, 30}}},
      {Gate::None, "dispatch-garbage", {D + R"({"path":"/api/agents/","mode":"garbage","count":1})"}, {{1, 5}}},
      {Gate::None, "dispatch-latency", {D + R"({"path":"/api/","mode":"latency","latencyMs":200,"count":3})"},
       {{200, 1500}, {3, 10}}},
      {Gate::Stall, "api-connect-stall", {A + R"({"action":"stallConnects","front":"api","ms":1500})"}, {{1500, 3500}}},
      {Gate::Stall, "dispatch-connect-stall", {A + R"({"action":"stallConnects","front":"dispatch","ms":1500})"},
       {{1500, 3500}}},
      {Gate::None, "api-reset-after-write", {A + R"({"path":"/api","method":"POST","reset":true,"count":1})"},
       {{0, 2}, {1, 4}}},
      {Gate::None, "dispatch-reset-after-write",
       {D + R"({"path":"/api/issues/claim","method":"POST","mode":"reset","count":1})"}, {{0, 1}, {1, 4}}},
      {Gate::None, "watch-closed-at-once", {A + R"({"path":"/api","watchOnly":true,"closeAtOnce":true,"count":5})"},
       {{5, 30}}},
      {Gate::Kill, nullptr, {}, {}},
      {Gate::Kill, nullptr, {}, {}},
  };
  BOOST_TEST_REQUIRE(table.size() == kFaultSlots);
  for (std::size_t i = 0; i < kFaultSlots; ++i) {
    BOOST_TEST_CONTEXT("slot " << i) {
      const FaultSlot& slot = kFaultSchedule[i];
      const Expected& want = table[i];
      BOOST_TEST((slot.gate == want.gate));
      BOOST_TEST((slot.make == nullptr) == (want.kind == nullptr));
      if (slot.make == nullptr) continue;
      LowestPick low;
      const Fault f = slot.make(low.pick());
      BOOST_TEST(f.kind == want.kind);
      std::vector<std::string> posts;
      for (const auto& p : f.posts) posts.push_back(p.path() + json::serialize(p.body));
      BOOST_TEST(posts == want.posts, boost::test_tools::per_element());
      BOOST_TEST(draws_text(low.draws) == draws_text(want.draws));
    }
  }
}

// The drawn parameters: each status code (429 with a Retry-After), each method, the
// other dispatch path.
BOOST_AUTO_TEST_CASE(drawn_parameters_reach_the_request) {
  const std::vector<std::pair<int, std::string>> status = {
      {0, R"({"path":"/apis","code":500,"count":9})"},
      {1, R"({"path":"/apis","code":503,"count":9})"},
      {2, R"({"path":"/apis","code":429,"count":9,"retryAfter":1})"},
  };
  for (const auto& [first, want] : status) {
    int n = 0;
    const Fault f = kFaultSchedule[2].make([&](int, int) { return n++ == 0 ? first : 9; });
    BOOST_TEST(f.kind == "api-" + std::to_string(json::parse(want).at("code").as_int64()));
    BOOST_TEST(json::serialize(f.posts.at(0).body) == want);
  }
  const Fault reset = kFaultSchedule[10].make([](int, int hi) { return hi; });
  BOOST_TEST(json::serialize(reset.posts.at(0).body) == R"({"path":"/api","method":"DELETE","reset":true,"count":4})");
  const Fault claims = kFaultSchedule[11].make([](int, int hi) { return hi; });
  BOOST_TEST(json::serialize(claims.posts.at(0).body) == R"({"path":"/api/issues/","method":"POST","mode":"reset","count":4})");
}

BOOST_AUTO_TEST_CASE(the_tally_totals_every_kind) {
  FaultTally t;
  BOOST_TEST(t.total() == 0);
  t.by_kind = {{"watch-drop", 3}, {"api-503", 2}};
  t.kills = 4;  // kills are not faults of the table
  BOOST_TEST(t.total() == 5);
}

BOOST_AUTO_TEST_SUITE_END()

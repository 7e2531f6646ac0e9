// The claim loop's registry of what it has under way (operator/claim_in_flight.hpp):
// time is a parameter, the caches' answers a function.
#include "operator/claim_in_flight.hpp"

#include <boost/test/unit_test.hpp>

#include <map>

using namespace fdb::op;
using namespace std::chrono_literals;

BOOST_AUTO_TEST_SUITE(claim_in_flight)

BOOST_AUTO_TEST_CASE(claiming_created_deferred) {
  ClaimsInFlight f;
  const ClaimsInFlight::TimePoint t0{};
  std::map<std::string, ClaimsInFlight::Cached, std::less<>> cache;
  auto cached = [&cache](std::string_view n) {
    auto it = cache.find(n);
    return it == cache.end() ? ClaimsInFlight::Cached{} : it->second;
  };

  f.begin_claim("a");
  BOOST_TEST(f.creating("a"));
  BOOST_TEST(!f.pending("a"));
  BOOST_TEST(f.pending_creates() == 0u);
  f.created("a", t0);
  f.end_claim("a");
  BOOST_TEST(f.creating("a"));
  BOOST_TEST(f.pending_creates() == 1u);

  f.deferred("b", t0);
  BOOST_TEST(f.creating("b"));
  BOOST_TEST(f.pending_creates() == 2u);

  struct Row {
    const char* given;
    std::chrono::milliseconds at;
    std::map<std::string, ClaimsInFlight::Cached, std::less<>> cache;
    std::vector<std::string> unseen;
    std::size_t pending_after;
  };
  const Row rows[] = {
      {"nothing cached, young: kept, not asked about", 1s, {}, {}, 2},
      {"the old object of b still cached, terminating: b kept", 1s, {{"b", {true, true, false}}}, {}, 2},
      {"a unseen for 2 s: the API server is asked (b is never asked about)", 2s, {{"b", {true, true, false}}}, {"a"}, 2},
      {"b's intent cached: b settled", 3s, {{"b", {true, true, true}}}, {"a"}, 1},
      {"a cached: settled", 3s, {{"a", {true, false, false}}}, {}, 0},
  };
  for (const auto& r : rows) {
    BOOST_TEST_CONTEXT(r.given) {
      cache = r.cache;
      const auto unseen = f.settle(cached, t0 + r.at, 2s, 60s);
      BOOST_TEST(unseen == r.unseen, boost::test_tools::per_element());
      BOOST_TEST(f.pending_creates() == r.pending_after);
    }
  }
}

BOOST_AUTO_TEST_CASE(deferred_settles_on_its_workload_or_after_the_ttl) {
  const ClaimsInFlight::TimePoint t0{};
  ClaimsInFlight f;
  f.deferred("b", t0);
  f.deferred("c", t0);
  auto cached = [](std::string_view n) {
    // b's new Workload is cached (the reconciler made it); c shows nothing at all.
    return n == "b" ? ClaimsInFlight::Cached{true, false, false} : ClaimsInFlight::Cached{};
  };
  BOOST_TEST(f.settle(cached, t0 + 1s, 2s, 60s).empty());
  BOOST_TEST(!f.pending("b"));
  BOOST_TEST(f.pending("c"));
  BOOST_TEST(f.settle(cached, t0 + 60s, 2s, 60s).empty());
  BOOST_TEST(!f.pending("c"));
}

BOOST_AUTO_TEST_CASE(forget) {
  ClaimsInFlight f;
  f.created("a", {});
  f.forget("a");
  f.forget("never");
  BOOST_TEST(!f.creating("a"));
  BOOST_TEST(f.pending_creates() == 0u);
}

BOOST_AUTO_TEST_SUITE_END()

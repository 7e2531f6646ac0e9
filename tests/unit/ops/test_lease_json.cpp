// The Lease's wire formats: MicroTime (six fractional digits, UTC) and the Lease JSON the
// leader election reads from and writes to the API server, unknown fields kept.
#include "watch/leader.hpp"

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

using namespace fdb::kube;
using namespace std::chrono;
using namespace std::chrono_literals;

BOOST_AUTO_TEST_SUITE(micro_time)

BOOST_AUTO_TEST_CASE(formats_and_parses_six_fractional_digits_in_utc) {
  const std::vector<std::pair<std::string, MicroTime>> cases = {
      {"2026-01-02T03:04:05.000000Z", sys_days{2026y / 1 / 2} + 3h + 4min + 5s},
      {"1970-01-01T00:00:00.000000Z", MicroTime{}},
      {"2024-02-29T23:59:59.999999Z", sys_days{2024y / 2 / 29} + 23h + 59min + 59s + 999999us},
      {"2000-12-31T12:00:00.000001Z", sys_days{2000y / 12 / 31} + 12h + 1us},
      {"1969-12-31T23:59:59.500000Z", MicroTime{} - 500ms},
  };
  for (const auto& [text, t] : cases) {
    BOOST_TEST_CONTEXT(text) {
      BOOST_TEST(format_micro_time(t) == text);
      BOOST_TEST((parse_micro_time(text) == t));
    }
  }
}

BOOST_AUTO_TEST_CASE(rejects_everything_else) {
  const std::vector<std::string> bad = {
      "",
      "2026-01-02T03:04:05Z",               // no fraction
      "2026-01-02T03:04:05.000Z",           // three digits
      "2026-01-02T03:04:05.0000000Z",       // seven digits
      "2026-01-02T03:04:05.000000",         // no zone
      "2026-01-02T03:04:05.000000+00:00",   // offset
      "2026-01-02T03:04:05.00000+Z",
      "2026-01-02 03:04:05.000000Z",        // space
      "2026-01-02t03:04:05.000000z",        // lower case
      " 2026-01-02T03:04:05.000000Z",
      "2026-01-02T03:04:05.000000Z ",
      "2026-13-02T03:04:05.000000Z",        // month 13
      "2026-00-02T03:04:05.000000Z",
      "2025-02-29T03:04:05.000000Z",        // not a leap year
      "2026-04-31T03:04:05.000000Z",
      "2026-01-00T03:04:05.000000Z",
      "2026-01-02T24:00:00.000000Z",
      "2026-01-02T03:60:05.000000Z",
      "2026-01-02T03:04:60.000000Z",        // no leap seconds
      "2026-01-02T03:04:05.00000aZ",
      "+026-01-02T03:04:05.000000Z",
      "2026-1-02T03:04:05.0000000Z",
  };
  for (const auto& text : bad) {
    BOOST_TEST_CONTEXT("\"" << text << "\"") { BOOST_CHECK_THROW(parse_micro_time(text), std::invalid_argument); }
  }
  BOOST_CHECK_THROW(format_micro_time(sys_days{year{10000} / 1 / 1}), std::invalid_argument);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(lease_json)

BOOST_AUTO_TEST_CASE(reads_a_lease_from_the_server) {
  const auto r = parse_lease(R"({
    "apiVersion":"coordination.k8s.io/v1","kind":"Lease",
    "metadata":{"name":"bridge","namespace":"llm","resourceVersion":"4711","uid":"u-1"},
    "spec":{"holderIdentity":"pod-a","leaseDurationSeconds":15,
            "acquireTime":"2026-01-02T03:04:05.000000Z","renewTime":"2026-01-02T03:04:07.123456Z",
            "leaseTransitions":3}})");
  BOOST_TEST(r.holder_identity == "pod-a");
  BOOST_TEST(r.lease_duration_seconds == 15);
  BOOST_TEST(format_micro_time(*r.acquire_time) == "2026-01-02T03:04:05.000000Z");
  BOOST_TEST(format_micro_time(*r.renew_time) == "2026-01-02T03:04:07.123456Z");
  BOOST_TEST(r.lease_transitions == 3);
  BOOST_TEST(r.resource_version == "4711");

  const auto empty = parse_lease(R"({"metadata":{"resourceVersion":"1"},"spec":{"holderIdentity":null}})");
  BOOST_TEST(empty.holder_identity.empty());
  BOOST_TEST(!empty.renew_time.has_value());
  BOOST_TEST(parse_lease(R"({"metadata":{}})").holder_identity.empty());

  BOOST_CHECK_THROW(parse_lease("[]"), std::invalid_argument);
  BOOST_CHECK_THROW(parse_lease("{"), std::invalid_argument);
  BOOST_CHECK_THROW(parse_lease(R"({"spec":{"renewTime":"2026-01-02T03:04:07Z"}})"), std::invalid_argument);
  BOOST_CHECK_THROW(parse_lease(R"({"spec":{"renewTime":5}})"), std::invalid_argument);
  BOOST_CHECK_THROW(parse_lease(R"({"spec":{"leaseTransitions":"3"}})"), std::invalid_argument);
  BOOST_CHECK_THROW(parse_lease(R"({"spec":{"holderIdentity":1}})"), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(writes_a_lease_keeping_unknown_fields) {
  const std::string previous = R"({"apiVersion":"coordination.k8s.io/v1","kind":"Lease",
    "metadata":{"name":"bridge","namespace":"llm","resourceVersion":"4711","labels":{"keep":"me"}},
    "spec":{"holderIdentity":"pod-a","leaseDurationSeconds":15,"preferredHolder":"pod-b",
            "acquireTime":"2026-01-02T03:04:05.000000Z","renewTime":"2026-01-02T03:04:07.000000Z",
            "leaseTransitions":3}})";
  LeaseRecord r = parse_lease(previous);
  r.holder_identity = "";
  r.lease_duration_seconds = 1;
  r.renew_time = parse_micro_time("2026-01-02T03:05:00.000001Z");
  const auto out = render_lease(previous, r, "ignored", "ignored");
  const auto v = boost::json::parse(out).as_object();
  BOOST_TEST(v.at("metadata").at("labels").at("keep").as_string() == "me");
  BOOST_TEST(v.at("metadata").at("name").as_string() == "bridge");
  BOOST_TEST(v.at("spec").at("preferredHolder").as_string() == "pod-b");
  BOOST_TEST(v.at("spec").at("holderIdentity").as_string() == "");
  BOOST_TEST(v.at("spec").at("renewTime").as_string() == "2026-01-02T03:05:00.000001Z");
  BOOST_TEST((parse_lease(out) == r));

  LeaseRecord fresh;
  fresh.holder_identity = "pod-c";
  fresh.lease_duration_seconds = 15;
  fresh.acquire_time = fresh.renew_time = parse_micro_time("2026-01-02T03:04:05.000000Z");
  const auto created = boost::json::parse(render_lease("", fresh, "bridge", "llm")).as_object();
  BOOST_TEST(created.at("apiVersion").as_string() == "coordination.k8s.io/v1");
  BOOST_TEST(created.at("kind").as_string() == "Lease");
  BOOST_TEST(created.at("metadata").at("name").as_string() == "bridge");
  BOOST_TEST(created.at("metadata").at("namespace").as_string() == "llm");
  BOOST_TEST(!created.at("metadata").as_object().contains("resourceVersion"));
  BOOST_TEST(created.at("spec").at("leaseTransitions").as_int64() == 0);
  BOOST_TEST((parse_lease(boost::json::serialize(created)) == fresh));
}

BOOST_AUTO_TEST_SUITE_END()

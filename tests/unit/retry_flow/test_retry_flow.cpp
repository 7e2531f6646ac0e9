#include "operator/retry_flow.hpp"

#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>

using namespace fdb::op;
namespace json = boost::json;

BOOST_AUTO_TEST_SUITE(retry_flow)

namespace {
WorkloadView wl(std::string uid, std::string phase, bool terminating = false, bool owned = true) {
  WorkloadView v;
  v.name = "wl-o-r-1";
  v.uid = std::move(uid);
  v.phase = std::move(phase);
  v.terminating = terminating;
  v.bridge_owned = owned;
  return v;
}
WorkloadView tombstone() {
  WorkloadView v = wl("u", "Failed");
  v.tombstoned = true;
  return v;
}
Intent intent(Intent::Kind kind = Intent::Kind::Retry) {
  Intent i;
  i.kind = kind;
  i.workload = "wl-o-r-1";
  i.old_uid = "old";
  i.next_attempt = 2;
  i.repo = "o/r";
  i.number = 1;
  return i;
}
}  // namespace

BOOST_AUTO_TEST_CASE(next_step_table) {
  using K = StepKind;
  struct Row {
    const char* given;
    std::optional<WorkloadView> workload;
    std::optional<Intent> intent;
    StepKind expect;
  };
  const Row rows[] = {
      // No intent: only a live, bridge-owned, Failed Workload needs a decision.
      {"nothing cached", std::nullopt, std::nullopt, K::Nothing},
      {"running", wl("u", "Dispatched"), std::nullopt, K::Nothing},
      {"new", wl("u", ""), std::nullopt, K::Nothing},
      {"completed", wl("u", "Completed"), std::nullopt, K::Nothing},
      {"failed", wl("u", "Failed"), std::nullopt, K::Decide},
      {"failed, not ours", wl("u", "Failed", false, false), std::nullopt, K::Nothing},
      {"failed, being deleted by someone", wl("u", "Failed", true), std::nullopt, K::Nothing},
      {"failed, already a tombstone", tombstone(), std::nullopt, K::Nothing},
      // Retry intent: delete the old object, wait for it to go, create, clear.
      {"retry: old object live", wl("old", "Failed"), intent(), K::Delete},
      {"retry: old object terminating", wl("old", "Failed", true), intent(), K::AwaitGone},
      {"retry: old object gone", std::nullopt, intent(), K::Create},
      {"retry: new object exists", wl("new", ""), intent(), K::ClearIntent},
      {"retry: new object already failed", wl("new", "Failed"), intent(), K::ClearIntent},
      // Escalation intent: delete, wait, unclaim (never create).
      {"escalate: old object live", wl("old", "Failed"), intent(Intent::Kind::Escalate), K::Delete},
      {"escalate: old object terminating", wl("old", "Failed", true), intent(Intent::Kind::Escalate), K::AwaitGone},
      {"escalate: old object gone", std::nullopt, intent(Intent::Kind::Escalate), K::Unclaim},
      {"escalate: name reused", wl("new", ""), intent(Intent::Kind::Escalate), K::Unclaim},
  };
  for (const auto& r : rows) {
    BOOST_TEST_CONTEXT(r.given) {
      const auto step = next_step(r.workload, r.intent);
      BOOST_TEST(to_string(step.kind) == to_string(r.expect));
      BOOST_TEST(!step.why.empty());
    }
  }
}

BOOST_AUTO_TEST_CASE(attempt_parsing) {
  struct Row {
    std::string_view in;
    int out;
  };
  const Row rows[] = {{"1", 1},  {"2", 2},   {" 3 ", 3},         {"", 1},   {"abc", 1},
                      {"0", 1},  {"-4", 1},  {"2.5", 1},         {"3x", 1}, {"99999999999999999999", 1000000},
                      {"1000001", 1000000},  {"-99999999999999999999", 1}};
  for (const auto& r : rows) {
    BOOST_TEST_CONTEXT("'" << r.in << "'") { BOOST_TEST(parse_attempt(r.in) == r.out); }
  }
}

BOOST_AUTO_TEST_CASE(view_of_a_workload) {
  const auto w = json::parse(R"({"metadata":{"name":"wl-o-r-1","uid":"u1","deletionTimestamp":"2026-01-01T00:00:00Z",
    "labels":{"created-by":"dispatch-bridge","lane":"local"},"annotations":{"foreman.llmkube.dev/attempt":"3"}},
    "status":{"phase":"Failed"}})").as_object();
  const auto v = view_of(w);
  BOOST_TEST(v.name == "wl-o-r-1");
  BOOST_TEST(v.uid == "u1");
  BOOST_TEST(v.terminating);
  BOOST_TEST(v.bridge_owned);
  BOOST_TEST(v.attempt == 3);
  BOOST_TEST(v.phase == "Failed");

  const auto bare = view_of(json::parse(R"({"metadata":{"labels":7,"annotations":{"foreman.llmkube.dev/attempt":9}}})").as_object());
  BOOST_TEST(!bare.bridge_owned);
  BOOST_TEST(bare.attempt == 1);
  BOOST_TEST(!bare.terminating);
  BOOST_TEST(bare.phase.empty());
}

BOOST_AUTO_TEST_CASE(intent_round_trip_and_bad_configmaps) {
  Intent i = intent();
  i.next_attempt = 3;
  i.infra_attempts = 0;
  i.issue_id = "I_1";
  i.title = "Fix \"it\"";
  i.lane = "cloud";
  i.feedback = "review: tests missing\nline 2";
  i.branch = "foreman/wl-o-r-1/issue-1";
  i.reason = "attempt 2 failed";
  const auto cm = intent_to_configmap(i, "llm");
  BOOST_TEST(cm.at("metadata").at("name").as_string() == "bridge-intent-wl-o-r-1");
  BOOST_TEST(cm.at("metadata").at("namespace").as_string() == "llm");
  BOOST_TEST(cm.at("metadata").at("labels").at(kIntentLabel).as_string() == "true");
  for (const auto& [k, v] : cm.at("data").as_object()) BOOST_TEST(v.is_string(), k);  // ConfigMap data is strings
  const auto back = intent_from_configmap(cm);
  BOOST_REQUIRE(back.has_value());
  BOOST_TEST(back->workload == i.workload);
  BOOST_TEST(back->old_uid == i.old_uid);
  BOOST_TEST(back->next_attempt == 3);
  BOOST_TEST(back->infra_attempts == 0);
  BOOST_TEST(back->issue_id == "I_1");
  BOOST_TEST(back->repo == "o/r");
  BOOST_TEST(back->number == 1);
  BOOST_TEST(back->title == i.title);
  BOOST_TEST(back->lane == "cloud");
  BOOST_TEST(back->feedback == i.feedback);
  BOOST_TEST(back->branch == i.branch);
  BOOST_TEST(back->reason == i.reason);

  const std::pair<const char*, const char*> bad[] = {
      {R"({})", "no data"},
      {R"({"data":{"kind":"maybe"}})", "kind"},
      {R"({"data":{"kind":"retry","workload":"w"}})", "oldUid"},
      {R"({"data":{"kind":"retry","workload":"w","oldUid":"u","nextAttempt":"1","repo":"o/r","number":"1"}})", "nextAttempt"},
      {R"({"data":{"kind":"retry","workload":"w","oldUid":"u","nextAttempt":"1","infraAttempts":"0","repo":"o/r","number":"1"}})", "nextAttempt"},
      {R"({"data":{"kind":"retry","workload":"w","oldUid":"u","nextAttempt":"0","infraAttempts":"1","repo":"o/r","number":"1"}})", "nextAttempt"},
      {R"({"data":{"kind":"retry","workload":"w","oldUid":"u","nextAttempt":"x","repo":"o/r","number":"1"}})", "nextAttempt"},
      {R"({"data":{"kind":"retry","workload":"w","oldUid":"u","nextAttempt":"2","repo":"o/r","number":"-1"}})", "number"},
      {R"({"data":{"kind":"escalate","workload":"w","oldUid":"u","repo":"","number":"1"}})", "repo"},
  };
  for (const auto& [text, expect] : bad) {
    BOOST_TEST_CONTEXT(text) {
      std::string error;
      BOOST_TEST(!intent_from_configmap(json::parse(text).as_object(), &error).has_value());
      BOOST_TEST(error.find(expect) != std::string::npos, error);
    }
  }
}

// An infrastructure retry keeps the attempt: at attempt 1 its intent says nextAttempt 1.
// It must read back, or a process that restarts between its delete and its create would
// ignore the intent and leave the issue with no Workload.
BOOST_AUTO_TEST_CASE(an_infra_retry_at_attempt_1_round_trips) {
  Intent i = intent();
  i.next_attempt = 1;
  i.infra_attempts = 2;
  const auto back = intent_from_configmap(intent_to_configmap(i, "llm"));
  BOOST_REQUIRE(back.has_value());
  BOOST_TEST(back->next_attempt == 1);
  BOOST_TEST(back->infra_attempts == 2);
  BOOST_TEST((back->kind == Intent::Kind::Retry));
}

BOOST_AUTO_TEST_SUITE_END()

// The intent ConfigMap codec (operator/retry_flow.hpp): the four kinds round-trip, a
// ConfigMap written by 0.x still reads, a malformed one is a ParseError naming the field.
#include "operator/retry_flow.hpp"

#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>

using namespace fdb::op;
namespace json = boost::json;

BOOST_AUTO_TEST_SUITE(intent_codec)

namespace {

Intent base(Intent::Kind kind) {
  Intent i;
  i.kind = kind;
  i.workload = "wl-o-r-1";
  i.old_uid = "old";
  i.next_attempt = 3;
  i.issue_id = "I_1";
  i.repo = "o/r";
  i.number = 1;
  i.title = "Fix \"it\"";
  i.lane = "cloud";
  i.feedback = "review: tests missing\nline 2";
  i.branch = "foreman/wl-o-r-1/issue-1";
  i.reason = "attempt 2 failed";
  return i;
}

Intent prfix() {
  Intent i = base(Intent::Kind::PrFix);
  i.workload = "prfix-o-r-5";
  i.number = 5;
  fdb::dispatch::PrFixRequest r;
  r.item.id = "q1";
  r.item.repo = "o/r";
  r.item.pr = 5;
  r.item.issue = 1;
  r.item.branch = "foreman/wl-o-r-1/issue-1";
  r.item.url = "https://github.com/o/r/pull/5";
  r.item.title = "Fix it";
  r.item.head_sha = "abc";
  r.item.lane = "NORMAL";
  r.item.type = "ci";
  r.item.feedback = {"lint fails", "a test fails"};
  r.item.generation = 4;
  r.lane = "ESCALATED";
  r.attempt = 2;
  i.prfix = r;
  return i;
}

Intent read(const json::object& cm) {
  auto parsed = intent_from_configmap(cm);
  if (const auto* e = std::get_if<fdb::dispatch::ParseError>(&parsed)) BOOST_FAIL("unexpected error: " << e->what());
  return std::get<Intent>(parsed);
}

}  // namespace

BOOST_AUTO_TEST_CASE(every_kind_round_trips) {
  for (auto kind : {Intent::Kind::Retry, Intent::Kind::Escalate, Intent::Kind::Claim, Intent::Kind::PrFix}) {
    BOOST_TEST_CONTEXT(to_string(kind)) {
      const Intent i = kind == Intent::Kind::PrFix ? prfix() : base(kind);
      const auto cm = intent_to_configmap(i, "llm");
      BOOST_TEST(cm.at("metadata").at("name").as_string() == "bridge-intent-" + i.workload);
      BOOST_TEST(cm.at("metadata").at("namespace").as_string() == "llm");
      BOOST_TEST(cm.at("metadata").at("labels").at(kIntentLabel).as_string() == "true");
      for (const auto& [k, v] : cm.at("data").as_object()) BOOST_TEST(v.is_string(), k);  // ConfigMap data is strings
      const Intent back = read(cm);
      BOOST_TEST((back.kind == kind));
      BOOST_TEST(back.workload == i.workload);
      BOOST_TEST(back.old_uid == "old");
      BOOST_TEST(back.issue_id == "I_1");
      BOOST_TEST(back.repo == "o/r");
      BOOST_TEST(back.number == i.number);
      BOOST_TEST(back.title == i.title);
      BOOST_TEST(back.feedback == i.feedback);
      BOOST_TEST(back.branch == i.branch);
      BOOST_TEST(back.reason == i.reason);
      const int attempt = kind == Intent::Kind::Claim ? 1 : kind == Intent::Kind::PrFix ? 2 : 3;
      if (kind != Intent::Kind::Escalate) BOOST_TEST(back.next_attempt == attempt);
      BOOST_TEST(back.prfix.has_value() == (kind == Intent::Kind::PrFix));
    }
  }
}

BOOST_AUTO_TEST_CASE(a_prfix_request_round_trips) {
  const Intent back = read(intent_to_configmap(prfix(), "llm"));
  BOOST_REQUIRE(back.prfix.has_value());
  const auto& r = *back.prfix;
  BOOST_TEST(r.lane == "ESCALATED");
  BOOST_TEST(r.attempt == 2);
  BOOST_TEST(back.lane == "ESCALATED");
  BOOST_TEST(r.item.id == "q1");
  BOOST_TEST(r.item.repo == "o/r");
  BOOST_TEST(r.item.pr == 5);
  BOOST_TEST(r.item.issue == 1);
  BOOST_TEST(r.item.branch == "foreman/wl-o-r-1/issue-1");
  BOOST_TEST(r.item.url == "https://github.com/o/r/pull/5");
  BOOST_TEST(r.item.head_sha == "abc");
  BOOST_TEST(r.item.lane == "NORMAL");
  BOOST_TEST(r.item.type == "ci");
  BOOST_TEST(r.item.generation == 4);
  BOOST_TEST((r.item.feedback == std::vector<std::string>{"lint fails", "a test fails"}));
  // The same failure signature, so the ladder's budget is the same after a restart.
  BOOST_TEST(fdb::dispatch::failure_signature(r.item) == fdb::dispatch::failure_signature(prfix().prfix->item));
}

// An infrastructure retry keeps the attempt: at attempt 1 its intent says nextAttempt 1.
BOOST_AUTO_TEST_CASE(an_infra_retry_at_attempt_1_round_trips) {
  Intent i = base(Intent::Kind::Retry);
  i.next_attempt = 1;
  i.infra_attempts = 2;
  const Intent back = read(intent_to_configmap(i, "llm"));
  BOOST_TEST(back.next_attempt == 1);
  BOOST_TEST(back.infra_attempts == 2);
}

// ConfigMaps exactly as 0.x wrote them (no target, no PR-fix fields) still read.
BOOST_AUTO_TEST_CASE(a_0x_configmap_still_reads) {
  const auto retry = read(json::parse(R"({"apiVersion":"v1","kind":"ConfigMap",
    "metadata":{"name":"bridge-intent-wl-o-r-1","namespace":"llm",
      "labels":{"foreman.llmkube.dev/retry-intent":"true","created-by":"dispatch-bridge"}},
    "data":{"kind":"retry","workload":"wl-o-r-1","oldUid":"u1","nextAttempt":"2","infraAttempts":"0",
      "issueId":"I_1","repo":"o/r","number":"1","title":"t","lane":"local","feedback":"","branch":"","reason":"r"}})")
                              .as_object());
  BOOST_TEST((retry.kind == Intent::Kind::Retry));
  BOOST_TEST(retry.next_attempt == 2);
  BOOST_TEST(retry.target_name() == "wl-o-r-1");
  const auto escalate = read(json::parse(R"({"data":{"kind":"escalate","workload":"wl-o-r-1","oldUid":"u1",
      "nextAttempt":"2","infraAttempts":"0","issueId":"I_1","repo":"o/r","number":"1","lane":"frontier"}})")
                                 .as_object());
  BOOST_TEST((escalate.kind == Intent::Kind::Escalate));
  BOOST_TEST(escalate.lane == "frontier");
}

BOOST_AUTO_TEST_CASE(malformed_configmaps_name_the_field) {
  const std::pair<const char*, const char*> bad[] = {
      {R"({})", "data"},
      {R"({"data":{"kind":"maybe"}})", "kind"},
      {R"({"data":{"kind":"retry","oldUid":"u"}})", "workload"},
      {R"({"data":{"kind":"retry","workload":"w"}})", "oldUid"},
      {R"({"data":{"kind":"retry","workload":"w","oldUid":"u","nextAttempt":"1","repo":"o/r","number":"1"}})", "nextAttempt"},
      {R"({"data":{"kind":"retry","workload":"w","oldUid":"u","nextAttempt":"1","infraAttempts":"0","repo":"o/r","number":"1"}})", "nextAttempt"},
      {R"({"data":{"kind":"retry","workload":"w","oldUid":"u","nextAttempt":"0","infraAttempts":"1","repo":"o/r","number":"1"}})", "nextAttempt"},
      {R"({"data":{"kind":"retry","workload":"w","oldUid":"u","nextAttempt":"x","repo":"o/r","number":"1"}})", "nextAttempt"},
      {R"({"data":{"kind":"retry","workload":"w","oldUid":"u","nextAttempt":"+3","repo":"o/r","number":"1"}})", "nextAttempt"},
      {R"({"data":{"kind":"retry","workload":"w","oldUid":"u","nextAttempt":"2","repo":"o/r","number":"-1"}})", "number"},
      {R"({"data":{"kind":"escalate","workload":"w","oldUid":"u","repo":"","number":"1"}})", "repo"},
      {R"({"data":{"kind":"claim","workload":"w","oldUid":"u","repo":"o/r","number":"x"}})", "number"},
      {R"({"data":{"kind":"prfix","workload":"w","oldUid":"u","repo":"o/r","number":"5","lane":"NORMAL","nextAttempt":"1"}})", "prfixItem"},
      {R"({"data":{"kind":"prfix","workload":"w","oldUid":"u","repo":"o/r","number":"5","lane":"NORMAL","nextAttempt":"1",
          "prfixItem":"{\"repo\":\"o/r\",\"pr\":5}"}})", "prfixItem"},  // no branch
      {R"({"data":{"kind":"prfix","workload":"w","oldUid":"u","repo":"o/r","number":"5","lane":"SIDEWAYS","nextAttempt":"1",
          "prfixItem":"{\"repo\":\"o/r\",\"pr\":5,\"branch\":\"b\"}"}})", "lane"},
      {R"({"data":{"kind":"prfix","workload":"w","oldUid":"u","repo":"o/r","number":"5","lane":"NORMAL","nextAttempt":"1",
          "prfixItem":"{not json"}})", "prfixItem"},
  };
  for (const auto& [text, field] : bad) {
    BOOST_TEST_CONTEXT(text) {
      const auto parsed = intent_from_configmap(json::parse(text).as_object());
      BOOST_REQUIRE(std::holds_alternative<fdb::dispatch::ParseError>(parsed));
      BOOST_TEST(std::get<fdb::dispatch::ParseError>(parsed).field == field);
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()

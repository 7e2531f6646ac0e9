// One PR-fix item as a step machine (operator/prfix_steps.hpp): each row gives the facts
// (the item, its fix Workload, a replace in flight, a 0.x ladder ConfigMap) and the pull
// request, and expects the steps in order and what the round counts. No sockets.
#include "operator/prfix_steps.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/test/unit_test.hpp>

#include <fmt/format.h>

using namespace fdb;
using namespace fdb::op;
namespace json = boost::json;

namespace {

dispatch::PrFixItem item() {
  return std::get<dispatch::PrFixItem>(dispatch::parse_prfix_item(json::parse(
      R"({"repo":"o/p","pr":22,"branch":"feat","headSha":"abc","lane":"NORMAL","type":"review","feedback":["fix it"]})")));
}

// The fix Workload as the cache holds it.
json::object fix(const char* phase, const char* lane, int attempt, const std::string& signature, bool terminating = false) {
  json::object md{{"name", "prfix-o-p-22"},
                  {"uid", "u-fix"},
                  {"labels", json::object{{"created-by", "dispatch-bridge-prfix"}}},
                  {"annotations", json::object{{dispatch::kPrFixLaneAnnotation, lane},
                                               {"foreman.llmkube.dev/attempt", std::to_string(attempt)},
                                               {dispatch::kPrFixSignatureAnnotation, signature}}}};
  if (terminating) md["deletionTimestamp"] = "2026-01-01T00:00:00Z";
  return json::object{{"metadata", std::move(md)}, {"status", json::object{{"phase", phase}}}};
}

std::string describe(const PrFixStep& s) {
  using namespace prfix_step;
  if (const auto* r = std::get_if<ReadPullRequest>(&s)) return r->with_checks ? "read-pr+checks" : "read-pr";
  if (const auto* c = std::get_if<Create>(&s)) {
    const auto& ann = c->manifest.at("metadata").as_object().at("annotations").as_object();
    return fmt::format("create {} {}/{} manifest-lane={}", c->name, c->request.lane, c->request.attempt,
                       std::string(ann.at(dispatch::kPrFixLaneAnnotation).as_string()));
  }
  if (const auto* m = std::get_if<Mark>(&s)) return "mark " + m->status;
  if (const auto* d = std::get_if<DeleteFix>(&s)) return "delete-fix " + d->name;
  if (const auto* i = std::get_if<RecordIntent>(&s)) {
    return fmt::format("intent {} {} {}/{}", i->name, i->old_uid, i->request.lane, i->request.attempt);
  }
  if (const auto* l = std::get_if<DeleteLegacy>(&s)) return "delete-legacy " + l->name;
  return "wait";
}

std::vector<std::string> describe(const PrFixPlan& p) {
  std::vector<std::string> out;
  for (const auto& s : p.steps) out.push_back(describe(s));
  out.push_back(std::string("=> ") + std::string(to_string(p.result)));
  return out;
}

dispatch::PrState open_pr(std::string mergeable = "clean", std::optional<dispatch::ChecksState> checks = {}) {
  return dispatch::PrState{true, false, "abc", std::move(mergeable), checks};
}

}  // namespace

BOOST_AUTO_TEST_SUITE(prfix_steps)

BOOST_AUTO_TEST_CASE(first_look) {
  const std::string sig = dispatch::failure_signature(item());
  struct Row {
    const char* given;
    PrFixFacts facts;
    std::vector<std::string> expect;
  };
  const Row rows[] = {
      {"no fix: read the pull request, no checks", {item(), std::nullopt, false, std::nullopt}, {"read-pr", "=> waiting"}},
      {"a fix: read the pull request and its checks", {item(), fix("Running", "NORMAL", 1, sig), false, std::nullopt},
       {"read-pr+checks", "=> waiting"}},
      {"the fix is terminating: wait (nothing read)", {item(), fix("Failed", "NORMAL", 1, sig, true), false, std::nullopt},
       {"wait", "=> waiting"}},
      {"a replace in flight: wait, whatever the cache shows", {item(), fix("Failed", "NORMAL", 1, sig), true, std::nullopt},
       {"wait", "=> waiting"}},
      {"a replace in flight, the old fix gone already: wait", {item(), std::nullopt, true, std::nullopt},
       {"wait", "=> waiting"}},
  };
  for (const auto& r : rows) {
    BOOST_TEST_CONTEXT(r.given) { BOOST_TEST(describe(prfix_first(r.facts)) == r.expect, boost::test_tools::per_element()); }
  }
}

BOOST_AUTO_TEST_CASE(decisions) {
  const std::string sig = dispatch::failure_signature(item());
  const dispatch::PrFixSettings ps{3, {{"NORMAL", {"coder"}}, {"ESCALATED", {"coder-frontier"}}}};
  const dispatch::PrFixWorkload ladder_esc{"", "ESCALATED", 2, sig};
  const dispatch::PrFixWorkload ladder_other{"", "ESCALATED", 2, "review::00000000"};
  struct Row {
    const char* given;
    PrFixFacts facts;
    std::optional<dispatch::PrState> pr;
    std::vector<std::string> expect;
  };
  const Row rows[] = {
      {"no fix, an open pull request: the first fix in the item's lane", {item(), std::nullopt, false, std::nullopt},
       open_pr(), {"create prfix-o-p-22 NORMAL/1 manifest-lane=NORMAL", "=> created"}},
      {"no fix, the pull request unknown: created all the same", {item(), std::nullopt, false, std::nullopt}, std::nullopt,
       {"create prfix-o-p-22 NORMAL/1 manifest-lane=NORMAL", "=> created"}},
      {"no fix, a 0.x ladder ConfigMap of this signature: created where it says, then the ConfigMap goes",
       {item(), std::nullopt, false, ladder_esc}, open_pr(),
       {"create prfix-o-p-22 ESCALATED/2 manifest-lane=ESCALATED", "delete-legacy bridge-prfix-prfix-o-p-22", "=> created"}},
      {"no fix, a ladder ConfigMap of another signature: a budget of its own, the ConfigMap goes",
       {item(), std::nullopt, false, ladder_other}, open_pr(),
       {"create prfix-o-p-22 NORMAL/1 manifest-lane=NORMAL", "delete-legacy bridge-prfix-prfix-o-p-22", "=> created"}},
      {"merged: FIXED, the fix deleted", {item(), fix("Running", "NORMAL", 1, sig), false, std::nullopt},
       dispatch::PrState{false, true, "abc", "", std::nullopt},
       {"mark FIXED", "delete-fix prfix-o-p-22", "=> fixed"}},
      {"closed with no fix: STALE, nothing to delete", {item(), std::nullopt, false, std::nullopt},
       dispatch::PrState{false, false, "abc", "", std::nullopt}, {"mark STALE", "=> stale"}},
      {"the head moved before any fix: STALE", {item(), std::nullopt, false, std::nullopt},
       dispatch::PrState{true, false, "def", "clean", std::nullopt}, {"mark STALE", "=> stale"}},
      {"completed, mergeable, checks passing: FIXED", {item(), fix("Completed", "NORMAL", 1, sig), false, std::nullopt},
       open_pr("clean", dispatch::ChecksState::Passed), {"mark FIXED", "delete-fix prfix-o-p-22", "=> fixed"}},
      {"a fix running: wait", {item(), fix("Running", "NORMAL", 1, sig), false, std::nullopt}, open_pr(),
       {"wait", "=> waiting"}},
      {"failed at attempt 1 of 3: the ONE replace path, an intent for attempt 2",
       {item(), fix("Failed", "NORMAL", 1, sig), false, std::nullopt}, open_pr("clean", dispatch::ChecksState::Passed),
       {"intent prfix-o-p-22 u-fix NORMAL/2", "=> retried"}},
      {"failed at the cap in NORMAL: escalated through an intent",
       {item(), fix("Failed", "NORMAL", 3, sig), false, std::nullopt}, open_pr(),
       {"intent prfix-o-p-22 u-fix ESCALATED/1", "=> retried"}},
      {"failed at the cap in ESCALATED: BLOCKED, the fix deleted",
       {item(), fix("Failed", "ESCALATED", 3, sig), false, std::nullopt}, open_pr(),
       {"mark BLOCKED", "delete-fix prfix-o-p-22", "=> blocked"}},
      {"failed, a 0.x ConfigMap left by a crash before its delete: the intent, then the ConfigMap goes",
       {item(), fix("Failed", "NORMAL", 1, sig), false, dispatch::PrFixWorkload{"", "NORMAL", 2, sig}},
       open_pr("clean", dispatch::ChecksState::Failed),
       {"intent prfix-o-p-22 u-fix NORMAL/2", "delete-legacy bridge-prfix-prfix-o-p-22", "=> retried"}},
      {"a merge conflict: BLOCKED", {item(), fix("Completed", "NORMAL", 1, sig), false, std::nullopt}, open_pr("dirty"),
       {"mark BLOCKED", "delete-fix prfix-o-p-22", "=> blocked"}},
  };
  for (const auto& r : rows) {
    BOOST_TEST_CONTEXT(r.given) {
      BOOST_TEST(describe(prfix_decide(r.facts, r.pr, ps, {})) == r.expect, boost::test_tools::per_element());
    }
  }
}

BOOST_AUTO_TEST_CASE(legacy_ladder_configmaps) {
  auto cm = [](const char* data) { return json::parse(std::string(R"({"metadata":{"name":"x"},"data":)") + data + "}").as_object(); };
  const auto ok = read_prfix_ladder(cm(R"({"lane":"ESCALATED","attempt":"2","signature":"s::1"})"));
  BOOST_REQUIRE(ok.has_value());
  BOOST_TEST(ok->lane == "ESCALATED");
  BOOST_TEST(ok->attempt == 2);
  BOOST_TEST(ok->signature == "s::1");
  BOOST_TEST(read_prfix_ladder(cm(R"({"lane":"NORMAL","attempt":"garbage"})"))->attempt == 1);
  BOOST_TEST(!read_prfix_ladder(cm(R"({"lane":"URGENT","attempt":"2"})")).has_value());
  BOOST_TEST(!read_prfix_ladder(json::parse(R"({"metadata":{}})").as_object()).has_value());
  BOOST_TEST(prfix_ladder_name("prfix-o-p-22") == "bridge-prfix-prfix-o-p-22");
}

BOOST_AUTO_TEST_SUITE_END()

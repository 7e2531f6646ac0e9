// The sweeps of SPEC §5–§6 end to end: the bridge binary against kube-sim's Kubernetes,
// Foreman and dispatch sides. Each behaviour with its failure path: in-review once (a
// failing status call is retried, not lost), AllAlreadyResolved → done, a Completed
// Workload without a PR parked, a declared escalation parked once, infrastructure retries
// counted apart (and finished by a restarted process), escalation (re-lane first; a failed
// re-lane leaves the issue claimed where it was), prune of Completed and of Failed
// tombstones (the issue back to ready), stranded and stuck claims — never while a create
// or a retry is in flight.
#include "support/bridge_process.hpp"
#include "dispatch/workload.hpp"
#include "operator/config.hpp"
#include "operator/sweeps.hpp"
#include "support/prom_parser.hpp"
#include "support/sim_client.hpp"

#include <boost/json/serialize.hpp>
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <csignal>
#include <thread>

namespace json = boost::json;
using namespace fdb;
using namespace fdb::test;
using namespace std::chrono_literals;

namespace {

const std::string kWorkloads = "/apis/foreman.llmkube.dev/v1alpha1/namespaces/llm/workloads";

int count_ops(const std::vector<json::object>& recs, std::string_view op, std::string_view attempt = {}) {
  int n = 0;
  for (const auto& r : recs) {
    if (r.at("op").as_string() != op) continue;
    if (!attempt.empty() && r.at("attempt").as_string() != attempt) continue;
    ++n;
  }
  return n;
}

void check_no_double_create(const SimClient& sim) {
  const json::value recs = sim.records();
  for (const auto& r : recs.at("workloads").as_array()) {
    if (r.at("op").as_string() == "create") BOOST_TEST(!r.at("liveExisted").as_bool(), "created while live: " << json::serialize(r));
  }
}

std::string annotation(const json::value& wl, std::string_view key) {
  if (!wl.is_object()) return {};
  const auto* a = wl.at("metadata").as_object().if_contains("annotations");
  if (a == nullptr || !a->is_object()) return {};
  const auto* v = a->as_object().if_contains(key);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

std::string phase(const json::value& wl) {
  if (!wl.is_object()) return {};
  const auto* s = wl.as_object().if_contains("status");
  if (s == nullptr || !s->is_object()) return {};
  const auto* p = s->as_object().if_contains("phase");
  return p && p->is_string() ? std::string(p->as_string()) : std::string();
}

std::vector<std::string> strings(const json::value& v) {
  std::vector<std::string> out;
  for (const auto& s : v.as_array()) out.emplace_back(s.as_string());
  return out;
}

int count_of(const std::vector<std::string>& v, std::string_view s) {
  return static_cast<int>(std::count(v.begin(), v.end(), s));
}

struct Fixture {
  Sim sim;
  SimClient api;
  std::string log;
  std::string metrics_url;
  explicit Fixture(const std::string& tag, const std::vector<std::string>& sim_args = {})
      : sim(start_test_sim(tag, sim_args)), api(sim.api_url), log(temp_dir("bridge-" + tag) + "/bridge.log") {}

  std::unique_ptr<Process> bridge(const std::map<std::string, std::string>& env = {}) {
    auto p = start_bridge(sim, env, log);
    metrics_url = metrics_url_from_log(log);
    return p;
  }
  bool wait_for_create(const std::string& name, const std::string& attempt, std::chrono::milliseconds t = 20s) const {
    return SimClient::wait_until([&] { return count_ops(api.workload_records(name), "create", attempt) > 0; }, t);
  }
  // The issue as dispatch holds it (state, labels, claimedBy, lane, history, comments).
  json::object issue(int number) const {
    const json::value state = api.dispatch_state();
    for (const auto& i : state.at("issues").as_array()) {
      if (i.at("number").as_int64() == number) return i.as_object();
    }
    return {};
  }
  std::vector<std::string> history(int number) const { return strings(issue(number).at("history")); }
  bool has_label(int number, std::string_view label) const {
    const auto labels = strings(issue(number).at("labels"));
    return std::find(labels.begin(), labels.end(), label) != labels.end();
  }
  // The sum of a family's samples whose labels include `labels`.
  double metric(std::string_view family, const std::map<std::string, std::string>& labels) const {
    const auto e = prom::parse(SimClient(metrics_url).text("/metrics"));
    double sum = 0;
    if (const auto* fam = e.find(family)) {
      for (const auto& s : fam->samples) {
        bool match = s.name == family;
        for (const auto& [k, v] : labels) match = match && s.labels.count(k) && s.labels.at(k) == v;
        if (match) sum += s.value;
      }
    }
    return sum;
  }
  bool event(std::string_view reason, std::string_view workload) const {
    const json::value events = api.get("/apis/events.k8s.io/v1/namespaces/llm/events");
    for (const auto& e : events.at("items").as_array()) {
      if (e.at("reason").as_string() == reason && e.at("regarding").at("name").as_string() == workload) return true;
    }
    return false;
  }
};

op::Config default_config() {
  op::LoadOptions lo;
  lo.env = [](std::string_view n) -> std::optional<std::string> {
    if (n == "DISPATCH_AGENT_TOKEN") return "t";
    return std::nullopt;
  };
  return op::load_config(std::vector<std::string>{}, lo);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(e2e_sweeps)

// In review, once; the first status call fails for good (every retry of the dispatch
// client): the queue runs the Workload again and the report goes through.
BOOST_AUTO_TEST_CASE(completed_with_a_pr_moves_to_in_review_once) {
  Fixture f("in-review");
  f.api.add_issue("o/r", 21, "local");
  f.api.set_issue_rule("o/r", 21, {{"*", "succeed"}});
  f.api.post("/_sim/dispatch/faults", json::object{{"path", "/api/issues/status"}, {"code", 503}, {"count", 5}});
  auto bridge = f.bridge();
  const std::string name = "wl-o-r-21";
  BOOST_REQUIRE_MESSAGE(SimClient::wait_until([&] { return annotation(f.api.workload("llm", name), op::kReportedAnnotation) == "in-review"; }, 30s),
                        "not reported; see " << f.log);
  const json::value wl = f.api.workload("llm", name);
  BOOST_TEST(phase(wl) == "Completed");
  BOOST_TEST(op::parse_stamp(annotation(wl, op::terminal_since_key("Completed"))).has_value());
  BOOST_TEST(f.issue(21).at("status").as_string() == "in-review");
  std::this_thread::sleep_for(1500ms);  // resyncs and events must not send it again
  BOOST_TEST(count_of(f.history(21), "status:in-review") == 1);
  BOOST_TEST(f.metric("foreman_bridge_sweeps_total", {{"sweep", "report"}, {"result", "error"}}) >= 1.0);
  BOOST_TEST(f.metric("foreman_bridge_sweeps_total", {{"sweep", "report"}, {"result", "in-review"}}) == 1.0);
  BOOST_TEST(f.event("InReview", name));
  BOOST_TEST(!f.api.workload("llm", name).is_null());  // kept until PRUNE_COMPLETED_AFTER_HOURS
  BOOST_TEST(count_ops(f.api.workload_records(name), "create") == 1);
}

BOOST_AUTO_TEST_CASE(all_already_resolved_moves_to_done) {
  Fixture f("resolved");
  f.api.add_issue("o/r", 22, "local");
  f.api.set_issue_rule("o/r", 22, {{"*", "resolved"}});
  auto bridge = f.bridge();
  BOOST_REQUIRE_MESSAGE(SimClient::wait_until([&] { return f.issue(22).at("status").as_string() == "done"; }, 20s),
                        "not done; see " << f.log);
  BOOST_REQUIRE(SimClient::wait_until(
      [&] { return annotation(f.api.workload("llm", "wl-o-r-22"), op::kReportedAnnotation) == "done"; }, 10s));
  std::this_thread::sleep_for(1000ms);
  const auto h = f.history(22);
  BOOST_TEST(count_of(h, "status:done") == 1);
  BOOST_TEST(count_of(h, "status:in-review") == 0);
  BOOST_TEST(f.event("Resolved", "wl-o-r-22"));
}

// Nothing to review and nothing a re-run would change: parked for a human, once, and the
// Workload kept (for the prune sweep).
BOOST_AUTO_TEST_CASE(completed_without_a_pr_is_parked_once) {
  Fixture f("no-pr");
  f.api.add_issue("o/r", 23, "local");
  f.api.set_issue_rule("o/r", 23, {{"*", "succeed-no-pr"}});
  auto bridge = f.bridge();
  BOOST_REQUIRE_MESSAGE(SimClient::wait_until([&] { return f.issue(23).at("status").as_string() == "backlog"; }, 20s),
                        "not parked; see " << f.log);
  BOOST_REQUIRE(SimClient::wait_until(
      [&] { return annotation(f.api.workload("llm", "wl-o-r-23"), op::kReportedAnnotation) == "backlog"; }, 10s));
  std::this_thread::sleep_for(1000ms);
  const auto h = f.history(23);
  BOOST_TEST(count_of(h, "status:backlog") == 1);
  BOOST_TEST(count_of(h, "comment") == 1);
  BOOST_TEST(f.has_label(23, "needs-human"));
  BOOST_TEST(std::string(f.issue(23).at("comments").as_array().at(0).as_string()).find("without a pull request") != std::string::npos);
  BOOST_TEST(phase(f.api.workload("llm", "wl-o-r-23")) == "Completed");
  BOOST_TEST(f.metric("foreman_bridge_parks_total", {{"reason", "completed-without-pr"}}) == 1.0);
}

// §5.2: the coder declared DESIGN-DECISION: parked once, no attempt spent, the tombstone
// deleted.
BOOST_AUTO_TEST_CASE(a_declared_escalation_is_parked_once_without_spending_an_attempt) {
  Fixture f("declared");
  f.api.add_issue("o/r", 24, "local");
  f.api.set_issue_rule("o/r", 24, {{"*", "escalate-design"}});
  auto bridge = f.bridge();
  BOOST_REQUIRE_MESSAGE(SimClient::wait_until(
                            [&] { return f.issue(24).at("status").as_string() == "backlog" && f.api.workload("llm", "wl-o-r-24").is_null(); },
                            20s),
                        "not parked; see " << f.log);
  std::this_thread::sleep_for(1500ms);
  const auto h = f.history(24);
  BOOST_TEST(count_of(h, "status:backlog") == 1);
  BOOST_TEST(count_of(h, "label:needs-human") == 1);
  BOOST_TEST(count_of(h, "comment") == 1);
  BOOST_TEST(std::string(f.issue(24).at("comments").as_array().at(0).as_string()).find("DESIGN-DECISION") != std::string::npos);
  BOOST_TEST(count_ops(f.api.workload_records("wl-o-r-24"), "create") == 1);
  BOOST_TEST(f.metric("foreman_bridge_retries_total", {}) == 0.0);
}

// §5.3: three infrastructure retries at the same attempt, counted in their own annotation,
// then parked.
BOOST_AUTO_TEST_CASE(infra_failures_retry_at_the_same_attempt_then_park) {
  Fixture f("infra");
  f.api.add_issue("o/r", 25, "local");
  f.api.set_issue_rule("o/r", 25, {{"*", "infra"}});
  auto bridge = f.bridge();
  std::set<std::string> infra_seen;  // infra-attempts values seen on live objects
  BOOST_REQUIRE_MESSAGE(SimClient::wait_until(
                            [&] {
                              const auto wl = f.api.workload("llm", "wl-o-r-25");
                              if (!wl.is_null()) infra_seen.insert(annotation(wl, "foreman.llmkube.dev/infra-attempts"));
                              return f.issue(25).at("status").as_string() == "backlog" && wl.is_null();
                            },
                            40s),
                        "not parked after infra retries; see " << f.log);
  const auto recs = f.api.workload_records("wl-o-r-25");
  BOOST_TEST(count_ops(recs, "create") == 4);
  BOOST_TEST(count_ops(recs, "create", "1") == 4);  // no attempt spent
  BOOST_TEST(f.metric("foreman_bridge_retries_total", {{"attempt", "infra"}}) == 3.0);
  BOOST_TEST(infra_seen.count("3") == 1u);
  BOOST_TEST(std::string(f.issue(25).at("comments").as_array().at(0).as_string()).find("infrastructure") != std::string::npos);
  check_no_double_create(f.api);
}

// The intent of an infra retry at attempt 1 (nextAttempt 1) is read back by the next
// process, which creates it once with infra-attempts 1.
BOOST_AUTO_TEST_CASE(killed_during_an_infra_retry_the_next_process_finishes_it) {
  Fixture f("infra-crash");
  f.api.add_issue("o/r", 26, "local");
  f.api.set_issue_rule("o/r", 26, {{"*", "infra"}});
  auto first = f.bridge();
  BOOST_REQUIRE(f.wait_for_create("wl-o-r-26", "1"));
  f.api.post("/_sim/faults", json::object{{"path", kWorkloads}, {"method", "POST"}, {"code", 500}, {"count", 1000000}});
  BOOST_REQUIRE_MESSAGE(SimClient::wait_until([&] { return count_ops(f.api.workload_records("wl-o-r-26"), "delete") > 0; }, 20s),
                        "the failed attempt was not deleted; see " << f.log);
  std::this_thread::sleep_for(300ms);
  first->signal(SIGKILL);
  first->wait(5s);
  f.api.del("/_sim/faults");
  f.api.set_issue_rule("o/r", 26, {{"*", "hang"}});
  BOOST_TEST(count_ops(f.api.workload_records("wl-o-r-26"), "create") == 1);

  auto second = f.bridge({{"POD_NAME", "bridge-1"}});
  BOOST_REQUIRE_MESSAGE(SimClient::wait_until([&] { return count_ops(f.api.workload_records("wl-o-r-26"), "create") == 2; }, 20s),
                        "the restarted bridge did not finish the infra retry; see " << f.log);
  std::this_thread::sleep_for(1000ms);
  BOOST_TEST(count_ops(f.api.workload_records("wl-o-r-26"), "create") == 2);
  const auto wl = f.api.workload("llm", "wl-o-r-26");
  BOOST_TEST(annotation(wl, "foreman.llmkube.dev/attempt") == "1");
  BOOST_TEST(annotation(wl, "foreman.llmkube.dev/infra-attempts") == "1");
  check_no_double_create(f.api);
}

// §5.4: at the cap with ESCALATION_LANE: re-lane, delete and wait until gone, unclaim;
// the issue comes back at attempt 1 in that lane.
BOOST_AUTO_TEST_CASE(at_the_cap_the_issue_is_escalated_and_comes_back_at_attempt_1) {
  Fixture f("escalate");
  f.api.add_issue("o/r", 27, "local");
  f.api.set_issue_rule("o/r", 27, {{"*", "fail-coder"}});
  auto bridge = f.bridge({{"ESCALATION_LANE", "frontier"}, {"RETRY_MAX_ATTEMPTS", "1"}});
  BOOST_REQUIRE_MESSAGE(SimClient::wait_until([&] { return f.issue(27).at("lane").as_string() == "frontier"; }, 20s),
                        "not re-laned; see " << f.log);
  f.api.set_issue_rule("o/r", 27, {{"*", "hang"}});  // the frontier attempt runs on
  BOOST_REQUIRE_MESSAGE(SimClient::wait_until(
                            [&] {
                              const auto wl = f.api.workload("llm", "wl-o-r-27");
                              return !wl.is_null() && wl.at("metadata").at("labels").at("lane") == "frontier";
                            },
                            20s),
                        "not back in frontier; see " << f.log);
  const auto h = f.history(27);
  // claim (local), lane:frontier, unclaim, claim (frontier): the re-lane first, the
  // unclaim before the second claim.
  const auto pos = [&](std::string_view s, std::size_t from = 0) {
    return std::find(h.begin() + static_cast<long>(from), h.end(), s) - h.begin();
  };
  BOOST_TEST(pos("claim") < pos("lane:frontier"));
  BOOST_TEST(pos("lane:frontier") < pos("unclaim"));
  BOOST_TEST(pos("unclaim") < pos("claim", static_cast<std::size_t>(pos("unclaim"))));
  const auto recs = f.api.workload_records("wl-o-r-27");
  BOOST_TEST(count_ops(recs, "create", "1") == 2);
  BOOST_TEST(count_ops(recs, "delete") == 1);
  check_no_double_create(f.api);
  BOOST_TEST(f.metric("foreman_bridge_escalations_total", {{"from_lane", "local"}, {"to_lane", "frontier"}}) == 1.0);
  BOOST_TEST(f.api.status("/api/v1/namespaces/llm/configmaps/bridge-intent-wl-o-r-27") == 404);
}

// A re-lane that fails leaves everything as it was: the issue claimed, in progress, in its
// lane; the Failed Workload in place; no intent. Once dispatch answers, it goes through.
BOOST_AUTO_TEST_CASE(a_failed_relane_leaves_the_issue_claimed_where_it_was) {
  Fixture f("relane-fails");
  f.api.add_issue("o/r", 28, "local");
  f.api.set_issue_rule("o/r", 28, {{"*", "fail-coder"}});
  f.api.post("/_sim/dispatch/faults", json::object{{"path", "/api/issues/I_o/r_28/lane"}, {"code", 500}, {"count", -1}});
  auto bridge = f.bridge({{"ESCALATION_LANE", "frontier"}, {"RETRY_MAX_ATTEMPTS", "1"}});
  BOOST_REQUIRE(SimClient::wait_until([&] { return phase(f.api.workload("llm", "wl-o-r-28")) == "Failed"; }, 20s));
  BOOST_REQUIRE_MESSAGE(SimClient::wait_until([&] { return f.metric("foreman_bridge_dispatch_requests_total", {{"endpoint", "lane"}}) >= 8; }, 30s),
                        "the re-lane was not tried twice; see " << f.log);
  const auto issue = f.issue(28);
  BOOST_TEST(issue.at("lane").as_string() == "local");
  BOOST_TEST(issue.at("claimedBy").as_string() == "foreman-coder");
  BOOST_TEST(issue.at("status").as_string() == "in-progress");
  const auto wl = f.api.workload("llm", "wl-o-r-28");
  BOOST_TEST(phase(wl) == "Failed");
  BOOST_TEST(!wl.at("metadata").as_object().contains("deletionTimestamp"));
  BOOST_TEST(count_ops(f.api.workload_records("wl-o-r-28"), "delete") == 0);
  BOOST_TEST(f.api.status("/api/v1/namespaces/llm/configmaps/bridge-intent-wl-o-r-28") == 404);
  BOOST_TEST(count_of(f.history(28), "unclaim") == 0);

  f.api.set_issue_rule("o/r", 28, {{"*", "hang"}});
  f.api.del("/_sim/dispatch/faults");
  BOOST_REQUIRE_MESSAGE(SimClient::wait_until([&] { return f.issue(28).at("lane").as_string() == "frontier" && count_of(f.history(28), "unclaim") == 1; }, 60s),
                        "not escalated once dispatch answered; see " << f.log);
  check_no_double_create(f.api);
}

// Completed: stamped, reported, deleted PRUNE_COMPLETED_AFTER_HOURS after the stamp (no
// status change: its PR lives on).
BOOST_AUTO_TEST_CASE(completed_workloads_are_pruned_after_their_time) {
  Fixture f("prune-completed");
  f.api.add_issue("o/r", 29, "local");
  f.api.set_issue_rule("o/r", 29, {{"*", "succeed"}});
  auto bridge = f.bridge({{"PRUNE_COMPLETED_AFTER_HOURS", "0.0005"}});  // 1.8 s
  std::string stamp;
  BOOST_REQUIRE(SimClient::wait_until(
      [&] {
        stamp = annotation(f.api.workload("llm", "wl-o-r-29"), op::terminal_since_key("Completed"));
        return !stamp.empty();
      },
      20s));
  BOOST_REQUIRE_MESSAGE(SimClient::wait_until([&] { return count_ops(f.api.workload_records("wl-o-r-29"), "delete") == 1; }, 20s),
                        "not pruned; see " << f.log);
  const auto stamped = op::parse_stamp(stamp);
  BOOST_REQUIRE(stamped.has_value());
  for (const auto& r : f.api.workload_records("wl-o-r-29")) {
    if (r.at("op").as_string() != "delete") continue;
    const auto deleted = op::parse_stamp(std::string(r.at("time").as_string()));
    BOOST_REQUIRE(deleted.has_value());
    BOOST_TEST(std::chrono::duration<double>(*deleted - *stamped).count() >= 1.8 - 1.0);  // record times are in seconds
  }
  BOOST_REQUIRE(SimClient::wait_until([&] { return f.api.workload("llm", "wl-o-r-29").is_null(); }, 10s));
  const auto h = f.history(29);
  BOOST_TEST(count_of(h, "status:in-review") == 1);
  BOOST_TEST(count_of(h, "status:ready") == 0);
  BOOST_TEST(f.metric("foreman_bridge_sweeps_total", {{"sweep", "prune"}, {"result", "completed"}}) == 1.0);
  BOOST_TEST(f.event("Pruned", "wl-o-r-29"));
}

// A Failed tombstone (the cap, PARK_ON_GIVE_UP=false) is stamped with its mark, pruned after
// PRUNE_FAILED_AFTER_HOURS, and its issue goes back to ready, to be claimed again.
BOOST_AUTO_TEST_CASE(failed_tombstones_are_pruned_and_their_issue_goes_back_to_ready) {
  Fixture f("prune-failed");
  f.api.add_issue("o/r", 30, "local");
  f.api.set_issue_rule("o/r", 30, {{"*", "fail-coder"}});
  auto bridge = f.bridge({{"PARK_ON_GIVE_UP", "false"}, {"RETRY_MAX_ATTEMPTS", "1"}, {"PRUNE_FAILED_AFTER_HOURS", "0.0005"}});
  BOOST_REQUIRE_MESSAGE(SimClient::wait_until(
                            [&] {
                              const auto wl = f.api.workload("llm", "wl-o-r-30");
                              return annotation(wl, "foreman.llmkube.dev/tombstone") == "true" &&
                                     op::parse_stamp(annotation(wl, op::terminal_since_key("Failed"))).has_value();
                            },
                            20s),
                        "no stamped tombstone; see " << f.log);
  f.api.set_issue_rule("o/r", 30, {{"*", "hang"}});
  BOOST_REQUIRE_MESSAGE(SimClient::wait_until([&] { return count_ops(f.api.workload_records("wl-o-r-30"), "create") == 2; }, 20s),
                        "not pruned and claimed again; see " << f.log);
  const auto h = f.history(30);
  const auto ready = std::find(h.begin(), h.end(), "status:ready");
  BOOST_REQUIRE(ready != h.end());
  BOOST_TEST((std::find(ready, h.end(), "claim") != h.end()));  // claimed again after it
  const auto recs = f.api.workload_records("wl-o-r-30");
  BOOST_TEST(count_ops(recs, "create", "1") == 2);
  BOOST_TEST(count_ops(recs, "delete") == 1);
  check_no_double_create(f.api);
  BOOST_TEST(f.metric("foreman_bridge_sweeps_total", {{"sweep", "prune"}, {"result", "failed"}}) == 1.0);
  BOOST_TEST(f.metric("foreman_bridge_tombstones_total", {{"reason", "give_up"}}) == 1.0);
}

// Dispatch's view: stranded claims go back to ready (and lose needs-human), stuck claims
// are released; an open PR, another status, another agent or a live Workload keep theirs.
// A status call that fails is tried again at the next pass.
BOOST_AUTO_TEST_CASE(stranded_claims_go_back_to_ready_and_stuck_claims_are_released) {
  Fixture f("stranded");
  auto add = [&](int number, const std::string& status, const std::string& by, bool pr, json::array labels = {}) {
    f.api.post("/_sim/dispatch/issues", json::object{{"issueId", "I_o/r_" + std::to_string(number)}, {"repoFullName", "o/r"},
                                                     {"number", number}, {"lane", "local"}, {"status", status},
                                                     {"claimedBy", by}, {"hasOpenPr", pr}, {"labels", std::move(labels)}});
  };
  add(31, "in-progress", "foreman-coder", false, {"needs-human"});  // stranded
  add(32, "in-progress", "foreman-coder", true);                    // an open PR
  add(33, "ready", "foreman-coder", false);                         // stuck
  add(34, "ready", "someone-else", false);                          // not ours
  add(35, "in-review", "foreman-coder", false);                     // not in progress
  add(36, "in-progress", "foreman-coder", false);                   // has a live Workload
  f.api.set_issue_rule("o/r", 36, {{"*", "hang"}});
  dispatch::BuildRequest b;
  b.issue = {"o/r", 36, "Fix it", "local", "I_o/r_36"};
  f.api.post(kWorkloads, dispatch::build_workload(b, default_config().workload));
  // The first reset fails for good (every retry of one call), the next pass succeeds.
  f.api.post("/_sim/dispatch/faults", json::object{{"path", "/api/issues/status"}, {"code", 503}, {"count", 4}});
  // The claim loop serves another lane only: what happens here is the sweeps' doing.
  auto bridge = f.bridge({{"DISPATCH_LANES", "cloud"}});
  BOOST_REQUIRE_MESSAGE(SimClient::wait_until(
                            [&] { return f.issue(31).at("status").as_string() == "ready" && f.issue(33).at("claimedBy").as_string().empty(); },
                            30s),
                        "not swept; see " << f.log);
  std::this_thread::sleep_for(2500ms);  // more passes change nothing
  BOOST_TEST(!f.has_label(31, "needs-human"));
  const auto h31 = f.history(31);
  BOOST_TEST(h31 == (std::vector<std::string>{"unlabel:needs-human", "status:ready"}), boost::test_tools::per_element());
  BOOST_TEST(f.history(33) == std::vector<std::string>{"unclaim"}, boost::test_tools::per_element());
  for (int n : {32, 34, 35, 36}) BOOST_TEST(f.history(n).empty(), "issue " << n << " was touched");
  BOOST_TEST(f.issue(36).at("status").as_string() == "in-progress");
  BOOST_TEST(f.metric("foreman_bridge_sweeps_total", {{"sweep", "stranded"}, {"result", "error"}}) >= 1.0);
  BOOST_TEST(f.metric("foreman_bridge_sweeps_total", {{"sweep", "stranded"}, {"result", "reset"}}) == 1.0);
  BOOST_TEST(f.metric("foreman_bridge_sweeps_total", {{"sweep", "stuck"}, {"result", "unclaimed"}}) == 1.0);
}

// The claim loop's create fails three times (≈3 s claimed with no Workload): the stranded
// sweep sees an in-progress claim with no Workload on every pass, and leaves it alone.
BOOST_AUTO_TEST_CASE(a_claim_whose_create_is_in_flight_is_not_stranded) {
  Fixture f("in-flight-create");
  f.api.add_issue("o/r", 41, "local");
  f.api.set_issue_rule("o/r", 41, {{"*", "hang"}});
  f.api.post("/_sim/faults", json::object{{"path", kWorkloads}, {"method", "POST"}, {"code", 500}, {"count", 3}});
  auto bridge = f.bridge();
  BOOST_REQUIRE_MESSAGE(f.wait_for_create("wl-o-r-41", "1", 30s), "not created; see " << f.log);
  std::this_thread::sleep_for(1500ms);
  const auto h = f.history(41);
  BOOST_TEST(h == std::vector<std::string>{"claim"}, boost::test_tools::per_element());
  BOOST_TEST(f.metric("foreman_bridge_sweeps_total", {{"sweep", "stranded"}, {"result", "in-flight"}}) >= 1.0);
  BOOST_TEST(count_ops(f.api.workload_records("wl-o-r-41"), "create") == 1);
}

// A retry between its delete and its create (the create failing for a while): the issue
// is claimed in progress with no Workload, but its intent says a retry is in flight.
BOOST_AUTO_TEST_CASE(a_claim_whose_retry_is_in_flight_is_not_stranded) {
  Fixture f("in-flight-retry");
  f.api.add_issue("o/r", 42, "local");
  f.api.set_issue_rule("o/r", 42, {{"1", "fail-review"}, {"2", "hang"}});
  auto bridge = f.bridge();
  BOOST_REQUIRE(f.wait_for_create("wl-o-r-42", "1"));
  f.api.post("/_sim/faults", json::object{{"path", kWorkloads}, {"method", "POST"}, {"code", 500}, {"count", 1000000}});
  BOOST_REQUIRE_MESSAGE(SimClient::wait_until([&] { return count_ops(f.api.workload_records("wl-o-r-42"), "delete") > 0; }, 20s),
                        "not deleted; see " << f.log);
  std::this_thread::sleep_for(3000ms);  // three passes of the sweeps with no Workload
  f.api.del("/_sim/faults");
  BOOST_REQUIRE_MESSAGE(f.wait_for_create("wl-o-r-42", "2", 30s), "no attempt 2; see " << f.log);
  BOOST_TEST(f.history(42) == std::vector<std::string>{"claim"}, boost::test_tools::per_element());
  BOOST_TEST(f.metric("foreman_bridge_sweeps_total", {{"sweep", "stranded"}, {"result", "in-flight"}}) >= 1.0);
  check_no_double_create(f.api);
}

BOOST_AUTO_TEST_SUITE_END()

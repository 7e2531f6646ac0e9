// The reconciler on terminal Workloads, against scripted API and dispatch servers
// (reconciler_world.hpp): parking at the cap (status, label, comment), tombstones, and the
// sweeps of a terminal Workload (report, stamp, prune), request by request.
#include "reconciler_world.hpp"

#include "operator/sweeps.hpp"

#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>

#include <map>

namespace json = boost::json;
using namespace fdb;
using namespace fdb::op;
using namespace std::chrono_literals;
using test::failed_workload;
using test::kWl;
using test::reconcile;
using test::ReconcilerWorld;

namespace {

// The AgenticTasks of a Completed Workload: its coder said GO and opened a PR.
const char* kPrTasks = R"({"items":[{"metadata":{"name":"wl-o-r-7-code-1"},"spec":{"kind":"issue-fix"},
    "status":{"phase":"Succeeded","verdict":"GO","result":{"extra":{"pullRequestURL":"https://github.com/o/r/pull/9"}}}}]})";

// A terminal-since stamp `h` before now.
std::string ago(std::chrono::hours h) {
  return op::format_stamp(std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::now()) - h);
}

// A row of the sweeps' table: the Workload's phase and annotations and what dispatch's
// status call answers; what the reconciler writes and answers.
struct SweepRow {
  const char* given;
  std::string phase;
  json::object annotations;
  int status_code;
  std::vector<std::string> api_writes;         // non-GET requests to the API server
  std::vector<std::string> dispatch_status;    // statuses POSTed to dispatch (answered or not)
  std::map<std::string, std::string> patched;  // annotations the PATCH sets ("*": any value)
  bool error;
  bool requeued;
};

// The table, built when the test runs (its stamps are relative to now).
std::vector<SweepRow> sweep_rows() {
  const std::string wl = "PATCH " + kWl + "/wl-o-r-7";
  const std::string del = "DELETE " + kWl + "/wl-o-r-7";
  return {
      {"Completed, first seen", "Completed", {}, 200, {wl}, {"in-review"},
       {{"foreman.llmkube.dev/reported-status", "in-review"}, {"foreman.llmkube.dev/terminal-since-Completed", "*"}}, false, false},
      {"Completed, dispatch down", "Completed", {}, 503, {wl}, {"in-review", "in-review", "in-review", "in-review"},
       {{"foreman.llmkube.dev/terminal-since-Completed", "*"}}, true, false},
      {"Completed, issue unknown to dispatch", "Completed", {{"foreman.llmkube.dev/terminal-since-Completed", ago(1h)}}, 404, {wl},
       {"in-review"}, {{"foreman.llmkube.dev/reported-status", "rejected: in-review (HTTP 404)"}}, false, false},
      {"Completed, reported 1 h ago", "Completed",
       {{"foreman.llmkube.dev/terminal-since-Completed", ago(1h)}, {"foreman.llmkube.dev/reported-status", "in-review"}}, 200, {},
       {}, {}, false, true},
      {"Completed, reported 7 h ago", "Completed",
       {{"foreman.llmkube.dev/terminal-since-Completed", ago(7h)}, {"foreman.llmkube.dev/reported-status", "in-review"}}, 200,
       {del}, {}, {}, false, false},
      {"Completed, reported, no stamp", "Completed", {{"foreman.llmkube.dev/reported-status", "done"}}, 200, {wl}, {},
       {{"foreman.llmkube.dev/terminal-since-Completed", "*"}}, false, true},
      {"tombstone 49 h old", "Failed",
       {{"foreman.llmkube.dev/tombstone", "true"}, {"foreman.llmkube.dev/terminal-since-Failed", ago(49h)}}, 200, {del},
       {"ready"}, {}, false, false},
      {"tombstone 49 h old, dispatch down", "Failed",
       {{"foreman.llmkube.dev/tombstone", "true"}, {"foreman.llmkube.dev/terminal-since-Failed", ago(49h)}}, 503, {},
       {"ready", "ready", "ready", "ready"}, {}, true, false},
  };
}

// The world of a row: the Workload (attempt 1) in the row's phase with its annotations, in
// the cache and on the server; dispatch's status call answering the row's code.
void set_up(ReconcilerWorld& w, const SweepRow& row) {
  w.tasks_body = kPrTasks;
  w.status_code = row.status_code;
  json::object o = failed_workload(1);
  o["status"].as_object()["phase"] = row.phase;
  for (const auto& [k, v] : row.annotations) o["metadata"].as_object()["annotations"].as_object()[k] = v;
  w.current = o;
  w.cache.workloads["wl-o-r-7"] = o;
}

// The statuses POSTed to dispatch, in order.
std::vector<std::string> dispatch_statuses(const ReconcilerWorld& w) {
  std::vector<std::string> statuses;
  for (const auto& q : w.dispatch_server.requests()) {
    if (q.target == "/api/issues/status") statuses.emplace_back(json::parse(q.body).at("status").as_string());
  }
  return statuses;
}

// Each PATCH sets exactly the `patched` annotations (with their values; "*": any), its
// terminal-since stamps well-formed.
void check_patches(const ReconcilerWorld& w, const std::map<std::string, std::string>& patched) {
  for (const auto& q : w.api.requests()) {
    if (q.method != "PATCH") continue;
    const auto ann = json::parse(q.body).at("metadata").at("annotations").as_object();
    BOOST_TEST(ann.size() == patched.size());
    for (const auto& [k, v] : patched) {
      BOOST_REQUIRE_MESSAGE(ann.contains(k), k);
      if (v != "*") BOOST_TEST(ann.at(k).as_string() == v);
      if (k.find("terminal-since") != std::string::npos) BOOST_TEST(op::parse_stamp(ann.at(k).as_string()).has_value());
    }
  }
}

// Every DELETE is a Foreground one.
void check_deletes_are_foreground(const ReconcilerWorld& w) {
  for (const auto& q : w.api.requests()) {
    if (q.method == "DELETE") BOOST_TEST(q.body.find("Foreground") != std::string::npos, q.body);
  }
}

}  // namespace

BOOST_AUTO_TEST_SUITE(reconciler)

// Issue 18 item 8: parking sets the status, then the label and the comment as two
// independent best-effort calls — a failed label does not skip the comment, nor the other
// way round — and the park goes on (annotation, delete).
BOOST_AUTO_TEST_CASE(park_label_and_comment_are_independent) {
  struct Row {
    const char* given;
    int label_code, comment_code;
  };
  const Row rows[] = {{"both answer", 200, 200}, {"the label fails", 400, 200}, {"the comment fails", 200, 400},
                      {"both fail", 400, 400}};
  for (const auto& row : rows) {
    BOOST_TEST_CONTEXT(row.given) {
      ReconcilerWorld w;
      w.label_code = row.label_code;
      w.comment_code = row.comment_code;
      w.current = failed_workload(3);  // the cap, PARK_ON_GIVE_UP default: park
      w.cache.workloads["wl-o-r-7"] = w.current;
      Reconciler rec(w.deps());
      const ReconcileResult r = reconcile(w, rec, "wl-o-r-7");
      BOOST_TEST(!r.error);
      BOOST_TEST(r.step == "park");
      std::vector<std::string> calls;
      for (const auto& q : w.dispatch_server.requests()) {
        if (q.method == "POST") calls.push_back(q.target);
      }
      const std::vector<std::string> expected = {"/api/issues/status", "/api/issues/label", "/api/issues/comment"};
      BOOST_TEST(calls == expected, boost::test_tools::per_element());
      // The park is recorded and the tombstone deleted either way.
      bool deleted = false;
      for (const auto& l : w.api_log()) deleted |= l == "DELETE " + kWl + "/wl-o-r-7";
      BOOST_TEST(deleted);
    }
  }
}

// A tombstone (the cap, or a closed issue) is marked and stamped terminal-since-Failed in
// one merge patch, so that the prune sweep may collect it later; nothing else is written.
BOOST_AUTO_TEST_CASE(the_cap_leaves_a_tombstone_and_a_closed_issue_a_marked_one) {
  struct Row {
    const char* given;
    int attempt;
    std::string issue_state;
    bool park;
    std::vector<std::string> writes;  // API writes expected (no GETs)
    std::string tombstone;            // the value patched, if any
  };
  const Row rows[] = {
      {"attempt 3 of 3, PARK_ON_GIVE_UP=false", 3, "open", false, {"PATCH " + kWl + "/wl-o-r-7"}, "true"},
      {"attempt 3 of 3, parked", 3, "open", true, {"PATCH " + kWl + "/wl-o-r-7", "DELETE " + kWl + "/wl-o-r-7"}, ""},
      {"issue closed", 1, "closed", true, {"PATCH " + kWl + "/wl-o-r-7"}, "issue-closed"},
  };
  for (const auto& row : rows) {
    BOOST_TEST_CONTEXT(row.given) {
      ReconcilerWorld w;
      w.config.park_on_give_up = row.park;
      w.issue_state = row.issue_state;
      w.current = failed_workload(row.attempt);
      w.cache.workloads["wl-o-r-7"] = w.current;
      Reconciler rec(w.deps());
      reconcile(w, rec, "wl-o-r-7");
      BOOST_TEST(w.api_writes() == row.writes, boost::test_tools::per_element());
      if (!row.tombstone.empty()) {
        for (const auto& r : w.api.requests()) {
          if (r.method != "PATCH") continue;
          const auto ann = json::parse(r.body).at("metadata").at("annotations").as_object();
          BOOST_TEST(ann.at("foreman.llmkube.dev/tombstone").as_string() == row.tombstone);
          BOOST_TEST(ann.at("foreman.llmkube.dev/terminal-since-Failed").as_string().size() == 27u);
        }
      }
      bool backlog = false;
      for (const auto& r : w.dispatch_server.requests()) backlog |= r.target == "/api/issues/status";
      BOOST_TEST(backlog == (row.park && row.issue_state == "open"));
    }
  }
}

// The sweeps of a terminal Workload, request by request: a Completed one reported once
// (with its stamp), a failing status call (the stamp kept, the step failed for the queue's
// backoff), a definite refusal (recorded, not repeated), the prune deadline as a requeue,
// the prune itself (a Failed tombstone's issue set back to ready first).
BOOST_AUTO_TEST_CASE(terminal_workloads_are_reported_stamped_and_pruned) {
  for (const auto& row : sweep_rows()) {
    BOOST_TEST_CONTEXT(row.given) {
      ReconcilerWorld w;
      set_up(w, row);
      Reconciler rec(w.deps());
      const ReconcileResult r = reconcile(w, rec, "wl-o-r-7");
      BOOST_TEST(w.api_writes() == row.api_writes, boost::test_tools::per_element());
      BOOST_TEST(dispatch_statuses(w) == row.dispatch_status, boost::test_tools::per_element());
      check_patches(w, row.patched);
      check_deletes_are_foreground(w);
      BOOST_TEST(r.error == row.error);
      BOOST_TEST(r.requeue_after.has_value() == row.requeued);
      if (row.requeued && std::string(row.given) == "Completed, reported 1 h ago") {
        BOOST_TEST(r.requeue_after->count() > std::chrono::milliseconds(4h + 59min).count());
        BOOST_TEST(r.requeue_after->count() <= std::chrono::milliseconds(5h).count());
      }
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()

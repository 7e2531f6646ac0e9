// The typed Workload view (operator/foreman_model.hpp): every field read once, bad input
// read as defaults; the one attempt parser; the one "is terminating" test.
#include "dispatch/workload.hpp"
#include "operator/foreman_model.hpp"

#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>

using namespace fdb::op;
namespace json = boost::json;

BOOST_AUTO_TEST_SUITE(foreman_model)

BOOST_AUTO_TEST_CASE(is_terminating_table) {
  struct Row {
    const char* object;
    bool expect;
  };
  const Row rows[] = {
      {R"({})", false},
      {R"({"metadata":7})", false},
      {R"({"metadata":{}})", false},
      {R"({"metadata":{"deletionTimestamp":null}})", false},
      {R"({"metadata":{"deletionTimestamp":"2026-01-01T00:00:00Z"}})", true},
      {R"({"metadata":{"deletionTimestamp":""}})", true},  // set, however odd: the API server decides
      {R"({"deletionTimestamp":"2026-01-01T00:00:00Z"})", false},  // not under metadata
  };
  for (const auto& r : rows) {
    BOOST_TEST_CONTEXT(r.object) {
      const auto o = json::parse(r.object).as_object();
      BOOST_TEST(is_terminating(o) == r.expect);
      BOOST_TEST(read_view(o).terminating == r.expect);
    }
  }
}

// One attempt parser (dispatch::parse_attempt): Python's int() reads "+4" as 4, and so
// does the bridge (the other parser, which read it as 1, is gone).
BOOST_AUTO_TEST_CASE(the_attempt_annotation_through_the_view) {
  struct Row {
    const char* value;
    int attempt;
  };
  const Row rows[] = {{"1", 1},   {"+4", 4},   {" 3 ", 3}, {"\t5\n", 5}, {"", 1},   {"abc", 1},
                      {"0", 1},   {"-4", 1},   {"2.5", 1}, {"3x", 1},   {"1000001", 1000000},
                      {"99999999999999999999", 1000000},  {"-99999999999999999999", 1}};
  for (const auto& r : rows) {
    BOOST_TEST_CONTEXT("'" << r.value << "'") {
      json::object w{{"metadata", json::object{{"annotations", json::object{{"foreman.llmkube.dev/attempt", r.value}}}}}};
      BOOST_TEST(read_view(w).attempt == r.attempt);
      BOOST_TEST(fdb::dispatch::parse_attempt(r.value) == r.attempt);
    }
  }
}

BOOST_AUTO_TEST_CASE(every_field_read_once) {
  const auto w = json::parse(R"({"metadata":{"name":"wl-o-r-12","namespace":"llm","uid":"u1",
    "deletionTimestamp":"2026-01-01T00:00:00Z",
    "labels":{"created-by":"dispatch-bridge","lane":"normal"},
    "annotations":{"foreman.llmkube.dev/attempt":"3","foreman.llmkube.dev/infra-attempts":"2",
      "foreman.llmkube.dev/issue-id":"I_7","foreman.llmkube.dev/tombstone":"true",
      "foreman.llmkube.dev/reported-status":"in-review","foreman.llmkube.dev/parked":"why",
      "foreman.llmkube.dev/terminal-since-Failed":"2026-01-02T03:04:05Z"}},
    "spec":{"repo":"o/r","issues":[7],"intent":"Fix it","coderAgentRef":{"name":"coder-a"}},
    "status":{"phase":"Failed","succeededTasks":1,"failedTasks":2}})").as_object();
  const WorkloadView v = read_view(w);
  BOOST_TEST(v.name == "wl-o-r-12");
  BOOST_TEST(v.ns == "llm");
  BOOST_TEST(v.uid == "u1");
  BOOST_TEST(v.phase == "Failed");
  BOOST_TEST(v.attempt == 3);
  BOOST_TEST(v.infra_attempts == 2);
  BOOST_TEST(v.issue_id == "I_7");
  BOOST_TEST(v.repo == "o/r");
  BOOST_TEST(v.number == 7);  // spec.issues[0] before the name's suffix
  BOOST_TEST(v.title == "Fix it");
  BOOST_TEST(v.lane == "local");  // alias applied
  BOOST_TEST(v.coder == "coder-a");
  BOOST_TEST(v.counts.valid);
  BOOST_TEST(v.counts.total() == 3);
  BOOST_TEST(v.terminating);
  BOOST_TEST(v.bridge_owned);
  BOOST_TEST(!v.prfix_owned);
  BOOST_TEST(v.tombstoned());
  BOOST_TEST(v.reported == "in-review");
  BOOST_TEST(v.parked == "why");
  BOOST_TEST(v.terminal_since == "2026-01-02T03:04:05Z");
  BOOST_TEST(!v.in_progress());
}

BOOST_AUTO_TEST_CASE(garbage_reads_as_defaults) {
  const char* cases[] = {
      R"({})",
      R"({"metadata":7,"spec":[],"status":"x"})",
      R"({"metadata":{"name":5,"labels":[],"annotations":"x"},"spec":{"issues":"7","repo":1},
          "status":{"phase":3,"failedTasks":-1}})",
  };
  for (const char* c : cases) {
    BOOST_TEST_CONTEXT(c) {
      const WorkloadView v = read_view(json::parse(c).as_object());
      BOOST_TEST(v.name.empty());
      BOOST_TEST(v.attempt == 1);
      BOOST_TEST(v.infra_attempts == 0);
      BOOST_TEST(v.number == 0);
      BOOST_TEST(v.phase.empty());
      BOOST_TEST(!v.counts.valid);
      BOOST_TEST(!v.bridge_owned);
      BOOST_TEST(!v.terminating);
    }
  }
}

BOOST_AUTO_TEST_CASE(status_counts_table) {
  struct Row {
    const char* status;
    bool valid;
    std::int64_t total;
  };
  const Row rows[] = {
      {R"({})", false, 0},
      {R"({"succeededTasks":2})", true, 2},
      {R"({"succeededTasks":2,"failedTasks":1,"incompleteTasks":1})", true, 4},
      {R"({"succeededTasks":"2"})", false, 0},
      {R"({"succeededTasks":2,"failedTasks":-1})", false, 0},
      {R"({"succeededTasks":0})", true, 0},
  };
  for (const auto& r : rows) {
    BOOST_TEST_CONTEXT(r.status) {
      json::object w{{"status", json::parse(r.status)}};
      const auto c = read_view(w).counts;
      BOOST_TEST(c.valid == r.valid);
      BOOST_TEST(c.total() == r.total);
    }
  }
}

BOOST_AUTO_TEST_CASE(owner_and_prfix_marks) {
  const auto w = json::parse(R"({"metadata":{"name":"prfix-o-r-5","labels":{"created-by":"dispatch-bridge-prfix"},
    "annotations":{"foreman.llmkube.dev/prfix-repo":"o/r","foreman.llmkube.dev/prfix-pr":"5",
      "foreman.llmkube.dev/prfix-lane":"ESCALATED","foreman.llmkube.dev/prfix-signature":"lint::no-feedback",
      "foreman.llmkube.dev/prfix-head-sha":"abc"}},
    "spec":{"pipeline":[{"kind":"verify","agentRef":{"name":"gate"}},{"kind":"issue-fix","agentRef":{"name":"coder-f"}}]},
    "status":{"phase":"Completed","succeededTasks":2}})").as_object();
  const WorkloadView v = read_view(w);
  BOOST_TEST(!v.bridge_owned);
  BOOST_TEST(v.prfix_owned);
  BOOST_TEST(!v.in_progress());  // not bridge-owned: the in-progress count leaves it out
  BOOST_TEST(v.coder == "coder-f");
  BOOST_TEST(v.prfix.repo == "o/r");
  BOOST_TEST(v.prfix.pr == "5");
  BOOST_TEST(v.prfix.lane == "ESCALATED");
  BOOST_TEST(v.prfix.signature == "lint::no-feedback");
  BOOST_TEST(v.prfix.head_sha == "abc");
  BOOST_TEST(v.number == 5);  // from the name
  BOOST_TEST(v.terminal_since.empty());
}

BOOST_AUTO_TEST_CASE(legacy_stamp_and_in_progress) {
  const auto legacy = read_view(json::parse(R"({"metadata":{"annotations":{"foreman.llmkube.dev/terminal-since":"2026-01-02T03:04:05Z"},
      "labels":{"created-by":"dispatch-bridge"}},"status":{"phase":"Completed"}})").as_object());
  BOOST_TEST(legacy.terminal_since == "2026-01-02T03:04:05Z");
  const auto running = read_view(json::parse(R"({"metadata":{"annotations":{"foreman.llmkube.dev/terminal-since":"x"},
      "labels":{"created-by":"dispatch-bridge"}},"status":{"phase":"Dispatched"}})").as_object());
  BOOST_TEST(running.terminal_since.empty());  // not terminal: no stamp is read
  BOOST_TEST(running.in_progress());
}

BOOST_AUTO_TEST_SUITE_END()

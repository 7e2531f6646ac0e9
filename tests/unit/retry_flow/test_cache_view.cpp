#include "operator/cache_view.hpp"
#include "support/foreman_fixtures.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>

#include <map>

namespace asio = boost::asio;
namespace json = boost::json;
using namespace fdb::op;
using namespace std::chrono_literals;

BOOST_AUTO_TEST_SUITE(cache_view)

BOOST_AUTO_TEST_CASE(coder_and_in_progress) {
  struct Row {
    const char* wl;
    std::string coder;
    bool in_progress;
  };
  const Row rows[] = {
      {R"({"metadata":{"labels":{"created-by":"dispatch-bridge"}},"spec":{"coderAgentRef":{"name":"coder-a"}},"status":{"phase":"Dispatched"}})", "coder-a", true},
      {R"({"metadata":{"labels":{"created-by":"dispatch-bridge"}},"spec":{"pipeline":[{"kind":"verify","agentRef":{"name":"gate"}},{"kind":"issue-fix","agentRef":{"name":"coder-b"}}]}})", "coder-b", true},
      {R"({"metadata":{"labels":{"created-by":"dispatch-bridge"}},"status":{"phase":"Completed"}})", "", false},
      {R"({"metadata":{"labels":{"created-by":"dispatch-bridge"}},"status":{"phase":"Failed"}})", "", false},
      {R"({"metadata":{"labels":{"created-by":"dispatch-bridge"},"deletionTimestamp":"2026-01-01T00:00:00Z"}})", "", false},
      {R"({"metadata":{"labels":{"created-by":"someone-else"}},"spec":{"coderAgentRef":{"name":"x"}}})", "x", false},
      {R"({"spec":{"pipeline":"not a list","coderAgentRef":7}})", "", false},
  };
  for (const auto& r : rows) {
    BOOST_TEST_CONTEXT(r.wl) {
      const auto w = json::parse(r.wl).as_object();
      BOOST_TEST(coder_of(w) == r.coder);
      BOOST_TEST(in_progress(w) == r.in_progress);
      // The same on what the informer hands the index: the fields it declares it reads.
      const auto read = fdb::test::through_reads(w, in_progress_reads());
      BOOST_TEST(in_progress_index(read) == in_progress_index(w), boost::test_tools::per_element());
      BOOST_TEST(in_progress(read) == r.in_progress);
      BOOST_TEST(coder_of(read) == r.coder);
    }
  }
}

// Issue 18 item 4 (the Python's #180): a coder's slot is free once the Workload's
// issue-fix tasks are terminal, not when the whole Workload is; fail closed.
BOOST_AUTO_TEST_CASE(coder_slot_through_review) {
  auto task = [](const char* kind, const char* phase) {
    return json::value(json::object{{"spec", json::object{{"kind", kind}}}, {"status", json::object{{"phase", phase}}}});
  };
  struct Row {
    const char* given;
    json::array tasks;
    bool busy;
  };
  const Row rows[] = {
      {"no tasks yet (planning)", {}, true},
      {"coder running", {task("issue-fix", "Running")}, true},
      {"coder done, verify running", {task("issue-fix", "Succeeded"), task("verify", "Running")}, false},
      {"coder done, review running", {task("issue-fix", "Succeeded"), task("verify", "Succeeded"), task("review", "Running")},
       false},
      {"coder failed, review skipped", {task("issue-fix", "Failed"), task("review", "Pending")}, false},
      {"every terminal phase", {task("issue-fix", "Cancelled"), task("issue-fix", "Timeout"), task("issue-fix", "Completed")},
       false},
      {"one coder of two still running", {task("issue-fix", "Succeeded"), task("issue-fix", "Verifying")}, true},
      {"only a review (no issue-fix task)", {task("review", "Running")}, true},
      {"an issue-fix without status", {json::object{{"spec", json::object{{"kind", "issue-fix"}}}}}, true},
      {"a task without spec", {task("issue-fix", "Succeeded"), json::object{{"status", json::object{}}}}, true},
      {"not an object", {task("issue-fix", "Succeeded"), json::value(3)}, true},
  };
  for (const auto& r : rows) {
    BOOST_TEST_CONTEXT(r.given) { BOOST_TEST(coder_still_busy(r.tasks) == r.busy); }
  }

  // Through the load: two in-progress Workloads on coder-a, one of them in review.
  class Cache final : public CacheView {
   public:
    std::map<std::string, json::object> wl;
    std::map<std::string, json::array> t;
    std::optional<json::object> workload(std::string_view n) const override {
      auto it = wl.find(std::string(n));
      return it == wl.end() ? std::nullopt : std::optional(it->second);
    }
    std::optional<json::object> intent(std::string_view) const override { return std::nullopt; }
    void for_each_workload(const std::function<void(const json::object&)>& f) const override {
      for (const auto& [k, v] : wl) f(v);
    }
    bool synced() const override { return true; }
    std::optional<json::array> tasks(std::string_view n) const override {
      auto it = t.find(std::string(n));
      return it == t.end() ? std::optional(json::array{}) : std::optional(it->second);
    }
  } cache;
  auto running = [](const char* name) {
    return json::parse(std::string(R"({"metadata":{"name":")") + name +
                       R"(","labels":{"created-by":"dispatch-bridge"}},"spec":{"coderAgentRef":{"name":"coder-a"}},"status":{"phase":"Dispatched"}})")
        .as_object();
  };
  cache.wl["w1"] = running("w1");
  cache.wl["w2"] = running("w2");
  cache.t["w1"] = json::array{task("issue-fix", "Running")};
  cache.t["w2"] = json::array{task("issue-fix", "Succeeded"), task("review", "Running")};
  const auto load = cache.load();
  BOOST_TEST(load.in_progress == 2);            // MAX_IN_PROGRESS still counts both
  BOOST_TEST(load.by_coder.at("coder-a") == 1);  // the slot of the one in review is free
}

BOOST_AUTO_TEST_CASE(cached_tasks_stand_in_only_when_complete) {
  const char* ok = R"({"status":{"phase":"Succeeded"}})";
  const char* failed = R"({"status":{"phase":"Failed"}})";
  const char* running = R"({"status":{"phase":"Running"}})";
  struct Row {
    const char* status;
    std::vector<const char*> tasks;
    bool complete;
    bool countable;
  };
  // complete: the cache can stand in; countable: the status counts its tasks at all.
  const std::vector<Row> rows = {
      {R"({"phase":"Failed","succeededTasks":1,"failedTasks":1})", {ok, failed}, true, true},
      {R"({"phase":"Failed","succeededTasks":1,"failedTasks":1,"incompleteTasks":1})", {ok, failed, failed}, true, true},
      {R"({"phase":"Failed","failedTasks":2})", {failed}, false, true},            // one not seen yet
      {R"({"phase":"Failed","failedTasks":1})", {failed, failed}, false, true},    // more than counted
      {R"({"phase":"Failed","succeededTasks":1,"failedTasks":1})", {ok, running}, false, true},  // the watch lags
      {R"({"phase":"Failed"})", {failed}, false, false},                           // no counts: cannot tell
      {R"({"phase":"Failed","failedTasks":"1"})", {failed}, false, false},         // garbage count
      {R"({"phase":"Failed","failedTasks":-1})", {}, false, false},
      {R"({"phase":"Failed","failedTasks":0})", {}, true, true},                   // counted none, have none
      {R"({"phase":"Failed","failedTasks":1})", {R"({"status":{}})"}, false, true},
      {R"({"phase":"Failed","failedTasks":1})", {R"("not an object")"}, false, true},
  };
  for (const auto& r : rows) {
    json::object wl{{"status", json::parse(r.status)}};
    json::array tasks;
    for (const char* t : r.tasks) tasks.push_back(json::parse(t));
    BOOST_TEST(tasks_complete(wl, tasks) == r.complete, r.status << " with " << tasks.size() << " tasks");
    BOOST_TEST(tasks_countable(wl) == r.countable, r.status);
  }
  BOOST_TEST(!tasks_complete(json::object{}, json::array{}));
  BOOST_TEST(!tasks_countable(json::object{}));
}

BOOST_AUTO_TEST_SUITE_END()

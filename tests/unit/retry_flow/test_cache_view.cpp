#include "operator/cache_view.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>

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
    }
  }
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

BOOST_AUTO_TEST_CASE(gone_waiter_wakes_on_notify_not_by_polling) {
  asio::io_context io;
  GoneWaiter gone(io.get_executor());
  bool present = true;
  int checks = 0;
  bool result = false;
  auto waiter = [&]() -> asio::awaitable<void> {
    result = co_await gone.wait("wl-a", 10s, [&] {
      ++checks;
      return present;
    });
  };
  auto deleter = [&]() -> asio::awaitable<void> {
    asio::steady_timer t(io, 20ms);
    co_await t.async_wait(asio::use_awaitable);
    gone.notify("wl-b");  // another name: no wake-up
    co_await t.async_wait(asio::use_awaitable);
    present = false;
    gone.notify("wl-a");
  };
  asio::co_spawn(io, waiter(), asio::detached);
  asio::co_spawn(io, deleter(), asio::detached);
  const auto start = std::chrono::steady_clock::now();
  io.run_for(15s);
  BOOST_TEST(result);
  BOOST_TEST(checks == 2);  // once at the start, once after the notify of its name
  BOOST_TEST((std::chrono::steady_clock::now() - start < 5s));
  BOOST_TEST(gone.waiting() == 0u);
}

BOOST_AUTO_TEST_CASE(gone_waiter_times_out) {
  asio::io_context io;
  GoneWaiter gone(io.get_executor());
  bool result = true;
  auto waiter = [&]() -> asio::awaitable<void> { result = co_await gone.wait("wl-a", 50ms, [] { return true; }); };
  asio::co_spawn(io, waiter(), asio::detached);
  io.run_for(10s);
  BOOST_TEST(!result);
}

BOOST_AUTO_TEST_SUITE_END()

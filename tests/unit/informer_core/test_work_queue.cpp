// The work queue's pure core over a fake clock.
#include "watch/work_queue_io.hpp"

#include <boost/test/unit_test.hpp>

using namespace fdb::kube;
using namespace std::chrono_literals;
using Clock = QueueCore::Clock;

namespace {
const Clock::time_point T0 = Clock::time_point{} + 1h;
}

BOOST_AUTO_TEST_SUITE(work_queue_core)

BOOST_AUTO_TEST_CASE(dedup_while_waiting) {
  QueueCore q;
  BOOST_TEST(q.add("a", T0));
  BOOST_TEST(!q.add("a", T0));
  BOOST_TEST(q.add("b", T0));
  BOOST_TEST(q.depth() == 2u);
  BOOST_TEST(*q.get(T0) == "a");
  BOOST_TEST(*q.get(T0) == "b");
  BOOST_TEST(!q.get(T0).has_value());
}

BOOST_AUTO_TEST_CASE(re_added_while_processing_runs_again_after_done) {
  QueueCore q;
  q.add("a", T0);
  BOOST_TEST(*q.get(T0) == "a");
  BOOST_TEST(!q.add("a", T0));  // processing: not handed out twice at once
  BOOST_TEST(!q.add("a", T0));
  BOOST_TEST(!q.get(T0).has_value());
  q.done("a", T0 + 1s);
  BOOST_TEST(*q.get(T0 + 1s) == "a");  // once more, once
  q.done("a", T0 + 2s);
  BOOST_TEST(!q.get(T0 + 2s).has_value());
}

BOOST_AUTO_TEST_CASE(delayed_adds_keep_the_earliest_time) {
  QueueCore q;
  q.add_after("a", 100ms, T0);
  q.add_after("a", 500ms, T0);  // later: ignored
  BOOST_TEST(q.delayed() == 1u);
  BOOST_TEST(!q.get(T0 + 99ms).has_value());
  BOOST_TEST(*q.get(T0 + 100ms) == "a");
  q.done("a", T0 + 100ms);
  q.add_after("b", 1s, T0);
  q.add_after("b", 10ms, T0);  // earlier: wins
  BOOST_TEST((*q.next_due() == T0 + 10ms));
  BOOST_TEST(*q.get(T0 + 10ms) == "b");
  BOOST_TEST(!q.get(T0 + 2s).has_value());
}

BOOST_AUTO_TEST_CASE(per_key_backoff_grows_and_forget_resets) {
  QueueCore::Limits limits;
  limits.burst = 1e9;  // keep the bucket out of the way
  QueueCore q(limits);
  std::vector<long> delays;
  for (int i = 0; i < 6; ++i) delays.push_back(q.add_rate_limited("a", T0).count());
  const std::vector<long> expected = {5, 10, 20, 40, 80, 160};
  BOOST_TEST(delays == expected, boost::test_tools::per_element());
  BOOST_TEST(q.requeues("a") == 6);
  for (int i = 0; i < 30; ++i) q.add_rate_limited("a", T0);
  BOOST_TEST(q.add_rate_limited("a", T0).count() == 1000 * 1000);  // capped at 1000 s
  q.forget("a");
  BOOST_TEST(q.requeues("a") == 0);
  BOOST_TEST(q.add_rate_limited("a", T0).count() == 5);
}

BOOST_AUTO_TEST_CASE(the_bucket_limits_everyone) {
  QueueCore q;  // 10 qps, burst 100
  for (int i = 0; i < 100; ++i) BOOST_TEST(q.add_rate_limited("k" + std::to_string(i), T0).count() == 5);
  // The 101st within the same instant waits for a token: 100 ms at 10/s.
  BOOST_TEST(q.add_rate_limited("k100", T0).count() == 100);
  BOOST_TEST(q.add_rate_limited("k101", T0).count() == 200);
  // A second later, ten tokens came back.
  BOOST_TEST(q.add_rate_limited("k102", T0 + 1s + 200ms).count() == 5);
}

BOOST_AUTO_TEST_CASE(shutdown_drains) {
  QueueCore q;
  q.add("a", T0);
  q.add("b", T0);
  BOOST_TEST(*q.get(T0) == "a");
  q.shutdown();
  BOOST_TEST(!q.add("c", T0));  // no new work
  BOOST_TEST(!q.drained());
  BOOST_TEST(*q.get(T0) == "b");  // what was queued is still handed out
  q.done("a", T0);
  BOOST_TEST(!q.drained());
  q.done("b", T0);
  BOOST_TEST(q.drained());
}

BOOST_AUTO_TEST_CASE(metrics_hooks) {
  QueueCore q;
  int adds = 0, retries = 0;
  std::size_t depth = 0;
  double latency = -1, work = -1;
  q.set_hooks({[&](std::size_t d) { depth = d; }, [&] { ++adds; }, [&](double s) { latency = s; },
               [&](double s) { work = s; }, [&] { ++retries; }});
  q.add("a", T0);
  q.add("a", T0);
  BOOST_TEST(adds == 2);
  BOOST_TEST(depth == 1u);
  q.get(T0 + 2s);
  BOOST_TEST(latency == 2.0);
  BOOST_TEST(depth == 0u);
  BOOST_TEST(q.longest_running(T0 + 5s) == 3.0);
  q.done("a", T0 + 5s);
  BOOST_TEST(work == 3.0);
  q.add_rate_limited("a", T0 + 5s);
  BOOST_TEST(retries == 1);
}

BOOST_AUTO_TEST_SUITE_END()

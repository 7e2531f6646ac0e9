// The one backoff (watch/backoff.hpp) as tables: nominal delays, each jitter policy at the
// ends of its draw, the stateful Backoff's reset after a healthy period, and the service
// clients' retry delay with and without Retry-After.
#include "dispatch/service_http_io.hpp"
#include "watch/backoff.hpp"

#include <boost/test/unit_test.hpp>

using namespace fdb::kube;
using namespace std::chrono_literals;

namespace {
const BackoffPolicy kQueue{5ms, 1000s, 2.0, Jitter::None};               // the work queue
const BackoffPolicy kService{500ms, 10s, 2.0, Jitter::Full};             // dispatch, GitHub
const BackoffPolicy kReflector{800ms, 30s, 2.0, Jitter::Over, 0.5};      // the reflector
constexpr double kAlmostOne = 0.9999999999;
}  // namespace

BOOST_AUTO_TEST_SUITE(backoff)

BOOST_AUTO_TEST_CASE(nominal_delays_double_to_the_cap) {
  const struct {
    const BackoffPolicy* policy;
    int n;
    std::int64_t ms;
  } rows[] = {
      {&kQueue, 0, 5},           {&kQueue, 1, 10},         {&kQueue, 5, 160},
      {&kQueue, 17, 655'360},    {&kQueue, 18, 1'000'000}, {&kQueue, 40, 1'000'000},
      {&kQueue, 100'000, 1'000'000},                        // never an overflow
      {&kQueue, -3, 5},                                     // a negative retry reads as 0
      {&kService, 0, 500},       {&kService, 4, 8'000},    {&kService, 5, 10'000},
      {&kReflector, 0, 800},     {&kReflector, 5, 25'600}, {&kReflector, 6, 30'000},
  };
  for (const auto& r : rows) {
    BOOST_TEST_CONTEXT("n=" << r.n << " base=" << r.policy->base.count()) {
      BOOST_TEST(nominal_delay(*r.policy, r.n).count() == r.ms);
    }
  }
  BOOST_TEST(nominal_delay(BackoffPolicy{100ms, 1s, 3.0}, 2).count() == 900);
  BOOST_TEST(nominal_delay(BackoffPolicy{100ms, 1s, 0.5}, 3).count() == 100);  // never shrinks
  BOOST_TEST(nominal_delay(BackoffPolicy{-5ms, 1s}, 3).count() == 0);
}

BOOST_AUTO_TEST_CASE(jitter_policies_at_both_ends_of_the_draw) {
  const struct {
    const BackoffPolicy* policy;
    int n;
    double u;
    std::int64_t ms;
  } rows[] = {
      {&kQueue, 2, 0.0, 20},      {&kQueue, 2, kAlmostOne, 20},  // none: the nominal delay
      {&kService, 0, 0.0, 0},     {&kService, 0, 0.5, 250},        // full: 0 … nominal
      {&kService, 0, kAlmostOne, 500},                            // the nominal itself is reachable
      {&kService, 9, kAlmostOne, 10'000},
      {&kReflector, 0, 0.0, 800}, {&kReflector, 0, 0.5, 1'000},     // over: [d, 1.5 d)
      {&kReflector, 0, kAlmostOne, 1'199},
      {&kReflector, 9, kAlmostOne, 44'999},                       // the jitter may pass the cap
      {&kService, 0, -1.0, 0},    {&kService, 0, 7.0, 500},        // a draw outside [0, 1) is clamped
  };
  for (const auto& r : rows) {
    BOOST_TEST_CONTEXT("n=" << r.n << " u=" << r.u << " base=" << r.policy->base.count()) {
      BOOST_TEST(backoff_delay(*r.policy, r.n, r.u).count() == r.ms);
    }
  }
}

BOOST_AUTO_TEST_CASE(stateful_backoff_grows_and_resets_after_a_healthy_period) {
  using Clock = std::chrono::steady_clock;
  const Clock::time_point t0 = Clock::time_point{} + 1h;
  Backoff<Clock> b(kReflector, 2min);
  BOOST_TEST(b.current().count() == 0);
  BOOST_TEST(!b.healthy(t0));  // nothing to forget
  const struct {
    Clock::duration at;
    bool healthy_call;  // true: healthy(at), expect `reset`; false: failed(at, 0) expect `ms`
    std::int64_t ms;
    bool reset;
  } steps[] = {
      {0s, false, 800, false},     {1s, false, 1'600, false},    {3s, false, 3'200, false},
      {1min, true, 0, false},      // healthy for less than 2 minutes since the last failure
      {2min + 2s, true, 0, false}, // 1 min 59 s
      {2min + 3s, true, 0, true},  // 2 min: forgotten
      {2min + 4s, false, 800, false},
      {2min + 5s, false, 1'600, false},
      {2min + 6s, false, 3'200, false},  {2min + 7s, false, 6'400, false},
      {2min + 8s, false, 12'800, false}, {2min + 9s, false, 25'600, false},
      {2min + 10s, false, 30'000, false}, {2min + 11s, false, 30'000, false},
  };
  for (const auto& s : steps) {
    BOOST_TEST_CONTEXT("at " << std::chrono::duration_cast<std::chrono::seconds>(s.at).count() << " s") {
      if (s.healthy_call) {
        BOOST_TEST(b.healthy(t0 + s.at) == s.reset);
      } else {
        BOOST_TEST(b.failed(t0 + s.at, 0.0).count() == s.ms);
        BOOST_TEST(b.current().count() == s.ms);
      }
    }
  }
  BOOST_TEST(b.failures() == 8);
  b.reset();
  BOOST_TEST(b.failures() == 0);
  BOOST_TEST(b.failed(t0, kAlmostOne).count() == 1'199);
  // Without reset_after, health never forgets.
  Backoff<Clock> forever(kQueue);
  forever.failed(t0, 0);
  BOOST_TEST(!forever.healthy(t0 + 24h * 365));
  BOOST_TEST(forever.failures() == 1);
}

BOOST_AUTO_TEST_CASE(service_retry_delay_honours_retry_after) {
  namespace d = fdb::dispatch;
  const d::Retries r{4, 500ms, 10s};
  const struct {
    int retry;
    std::optional<std::chrono::seconds> retry_after;
    double u;
    std::int64_t ms;
  } rows[] = {
      {0, std::nullopt, 0.0, 0},           {0, std::nullopt, kAlmostOne, 500},
      {1, std::nullopt, kAlmostOne, 1'000}, {3, std::nullopt, 0.5, 2'000},
      {8, std::nullopt, kAlmostOne, 10'000},
      {0, 3s, 0.0, 3'000},                  // Retry-After replaces the backoff, no jitter
      {0, 45s, kAlmostOne, 45'000},         // above max_backoff, below 60 s
      {0, 600s, 0.0, 60'000},               // capped at 60 s
  };
  for (const auto& row : rows) {
    BOOST_TEST_CONTEXT("retry " << row.retry << " u=" << row.u) {
      BOOST_TEST(d::retry_delay(r, row.retry, row.retry_after, row.u).count() == row.ms);
    }
  }
  // A cap above 60 s lets a longer Retry-After through, up to that cap.
  BOOST_TEST(d::retry_delay(d::Retries{4, 500ms, 120s}, 0, 100s, 0.0).count() == 100'000);
}

BOOST_AUTO_TEST_CASE(a_service_target_is_the_transport_s_settings) {
  struct Row {
    const char* what;
    fdb::dispatch::ServiceTarget target;
    std::chrono::milliseconds request, connect;
  };
  const Row rows[] = {
      {"calls longer than 10 s: connecting takes 10 s at most",
       {"https://d", "t", "DISPATCH_URL", 30s, 60s, 64u << 20, {{"X-Agent-Name", "a"}}}, 60s, 10s},
      {"a short call bounds connecting too", {"https://g", "", "GITHUB_API_URL", 4s, 4s, 8u << 20, {}}, 4s, 4s},
  };
  for (const auto& r : rows) {
    BOOST_TEST_CONTEXT(r.what) {
      const ClientOptions o = fdb::dispatch::transport_options(r.target);
      BOOST_TEST(o.request_timeout.count() == r.request.count());
      BOOST_TEST(o.connect_timeout.count() == r.connect.count());
      BOOST_TEST(o.max_body_bytes == r.target.max_body_bytes);
      BOOST_TEST(o.extra_headers == r.target.headers);
      BOOST_TEST(o.user_agent == "foreman-dispatch-bridge");
      const ClusterConfig c = fdb::dispatch::transport_config(r.target);
      BOOST_TEST(c.server == r.target.url);
      BOOST_TEST(c.token == r.target.token);
      BOOST_TEST(c.source == r.target.source);
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()

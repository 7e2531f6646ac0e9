// The lease state machine, stepped by tables of (input at a fake time → expected actions).
// (The MicroTime and Lease JSON helpers: test_lease_json.cpp.)
#include "watch/leader.hpp"

#include <boost/test/unit_test.hpp>

#include <variant>

using namespace fdb::kube;
using namespace std::chrono;
using namespace std::chrono_literals;

namespace {

// The fake clock: t seconds after an arbitrary monotonic origin; our wall clock reads
// 2026-01-02T03:00:00Z + t.
const MicroTime kWallOrigin = sys_days{2026y / January / 2} + 3h;

Instant at(double t) {
  const auto d = round<steady_clock::duration>(duration<double>(t));
  return Instant{steady_clock::time_point{} + 1000h + d, kWallOrigin + round<microseconds>(d)};
}

// A record as the server would return it. `renew` is the holder's own wall clock reading,
// in seconds after kWallOrigin (the other host's clock may be anywhere).
LeaseRecord rec(std::string holder, std::int64_t transitions, std::string rv, double renew = 0,
                std::int64_t lease_seconds = 15) {
  LeaseRecord r;
  r.holder_identity = std::move(holder);
  r.lease_duration_seconds = lease_seconds;
  r.acquire_time = kWallOrigin;
  r.renew_time = kWallOrigin + round<microseconds>(duration<double>(renew));
  r.lease_transitions = transitions;
  r.resource_version = std::move(rv);
  return r;
}

struct Step {
  enum Kind { Start, Timer, Got, NotFound, GetFailed, WriteOk, Conflict, WriteError, Tick, Shutdown };
  Kind kind;
  double t;
  std::optional<LeaseRecord> record;  // Got, WriteOk
  std::vector<std::string> expect;    // describe() of each action
};

Step start(double t, std::vector<std::string> e) { return {Step::Start, t, {}, std::move(e)}; }
Step timer(double t, std::vector<std::string> e) { return {Step::Timer, t, {}, std::move(e)}; }
Step got(double t, LeaseRecord r, std::vector<std::string> e) { return {Step::Got, t, std::move(r), std::move(e)}; }
Step not_found(double t, std::vector<std::string> e) { return {Step::NotFound, t, {}, std::move(e)}; }
Step get_failed(double t, std::vector<std::string> e) { return {Step::GetFailed, t, {}, std::move(e)}; }
Step ok(double t, LeaseRecord r, std::vector<std::string> e) { return {Step::WriteOk, t, std::move(r), std::move(e)}; }
Step conflict(double t, std::vector<std::string> e) { return {Step::Conflict, t, {}, std::move(e)}; }
Step write_error(double t, std::vector<std::string> e) { return {Step::WriteError, t, {}, std::move(e)}; }
Step tick(double t, std::vector<std::string> e) { return {Step::Tick, t, {}, std::move(e)}; }
Step shutdown(double t, std::vector<std::string> e) { return {Step::Shutdown, t, {}, std::move(e)}; }

LeaderConfig config() {
  LeaderConfig c;
  c.identity = "me";
  return c;  // client-go defaults: 15 s, 10 s, 2 s
}

// Runs the steps; returns the actions of the last step.
LeaseActions run(LeaseMachine& m, const std::vector<Step>& steps) {
  LeaseActions last;
  for (std::size_t i = 0; i < steps.size(); ++i) {
    const auto& s = steps[i];
    const auto now = at(s.t);
    switch (s.kind) {
      case Step::Start: last = m.start(now); break;
      case Step::Timer: last = m.on_timer(now); break;
      case Step::Got: last = m.on_get(now, s.record); break;
      case Step::NotFound: last = m.on_get(now, std::nullopt); break;
      case Step::GetFailed: last = m.on_get_failed(now); break;
      case Step::WriteOk: last = m.on_write(now, WriteOutcome::Ok, s.record); break;
      case Step::Conflict: last = m.on_write(now, WriteOutcome::Conflict, std::nullopt); break;
      case Step::WriteError: last = m.on_write(now, WriteOutcome::Error, std::nullopt); break;
      case Step::Tick: last = m.tick(now); break;
      case Step::Shutdown: last = m.shutdown(now); break;
    }
    std::vector<std::string> got_actions;
    for (const auto& a : last) got_actions.push_back(describe(a));
    BOOST_TEST_CONTEXT("step " << i << " at t=" << s.t) { BOOST_TEST(got_actions == s.expect, boost::test_tools::per_element()); }
  }
  return last;
}

const LeaseRecord* written(const LeaseActions& actions) {
  for (const auto& a : actions) {
    if (auto* c = std::get_if<lease_action::Create>(&a)) return &c->record;
    if (auto* u = std::get_if<lease_action::Update>(&a)) return &u->record;
  }
  return nullptr;
}

// The record the server would store after a successful write of `r`.
LeaseRecord stored(LeaseRecord r, std::string rv) {
  r.resource_version = std::move(rv);
  return r;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(lease_machine)

BOOST_AUTO_TEST_CASE(acquires_a_missing_lease_and_renews_it) {
  LeaseMachine m(config());
  auto create = run(m, {
      start(0, {"get"}),
      not_found(0.01, {"create(holder=me,duration=15,transitions=0,rv=)"}),
  });
  const auto* c = written(create);
  BOOST_TEST_REQUIRE(c);
  BOOST_TEST(format_micro_time(*c->acquire_time) == "2026-01-02T03:00:00.010000Z");
  BOOST_TEST(format_micro_time(*c->renew_time) == "2026-01-02T03:00:00.010000Z");
  BOOST_TEST(!m.is_leader());

  auto renew = run(m, {
      ok(0.2, stored(*c, "1"), {"become-leader", "sleep(2000ms)"}),
      timer(2.2, {"update(holder=me,duration=15,transitions=0,rv=1)"}),
  });
  BOOST_TEST(m.is_leader());
  // Leadership counts from the start of the successful write, not its answer.
  BOOST_TEST((m.leader_deadline() == at(0.01).mono + 10s));
  const auto* u = written(renew);
  BOOST_TEST_REQUIRE(u);
  BOOST_TEST(format_micro_time(*u->renew_time) == "2026-01-02T03:00:02.200000Z");
  BOOST_TEST(format_micro_time(*u->acquire_time) == "2026-01-02T03:00:00.010000Z");  // kept
  run(m, {
      ok(2.3, stored(*u, "2"), {"sleep(2000ms)"}),
      timer(4.3, {"update(holder=me,duration=15,transitions=0,rv=2)"}),
  });
  BOOST_TEST((m.leader_deadline() == at(2.2).mono + 10s));
}

BOOST_AUTO_TEST_CASE(acquires_a_released_lease_and_counts_the_transition) {
  LeaseMachine m(config());
  run(m, {
      start(0, {"get"}),
      got(0, rec("", 4, "7", 0, 1), {"update(holder=me,duration=15,transitions=5,rv=7)"}),
      ok(0.1, stored(rec("me", 5, "8"), "8"), {"become-leader", "sleep(2000ms)"}),
  });
  BOOST_TEST(m.is_leader());
}

BOOST_AUTO_TEST_CASE(respects_a_live_holder) {
  LeaseMachine m(config());
  // The holder renews every 2 s: the record keeps changing, so it never expires for us,
  // however long we watch — even though its renewTime reads an hour behind our clock.
  std::vector<Step> steps = {start(0, {"get"})};
  for (int i = 0; i < 20; ++i) {
    const double t = 2.0 * i;
    if (i > 0) steps.push_back(timer(t, {"get"}));
    steps.push_back(got(t, rec("other", 3, std::to_string(100 + i), t - 3600), {"sleep(2000ms)"}));
  }
  run(m, steps);
  BOOST_TEST(!m.is_leader());
  BOOST_TEST(m.observed()->holder_identity == "other");
}

BOOST_AUTO_TEST_CASE(takes_a_lease_whose_holder_stopped_renewing) {
  LeaseMachine m(config());
  const auto frozen = rec("other", 3, "55", 0);
  run(m, {
      start(0, {"get"}),
      got(0.5, frozen, {"sleep(2000ms)"}),  // first seen at 0.5: expires at 15.5 on our clock
      timer(2.5, {"get"}),
      got(2.5, frozen, {"sleep(2000ms)"}),
      timer(12.5, {"get"}),
      got(14.5, frozen, {"sleep(1000ms)"}),  // wake at expiry, not a whole period later
      timer(15.4, {"get"}),
      got(15.4, frozen, {"sleep(100ms)"}),   // still live for 0.1 s
      timer(15.5, {"get"}),
      got(15.5, frozen, {"update(holder=me,duration=15,transitions=4,rv=55)"}),
      ok(15.6, stored(rec("me", 4, "56", 15.5), "56"), {"become-leader", "sleep(2000ms)"}),
  });
  BOOST_TEST(m.is_leader());
}

BOOST_AUTO_TEST_CASE(the_holders_clock_is_never_trusted) {
  // The other host's clock runs an hour ahead: its renewTime lies in our future. If we
  // compared it with our clock we would never take the lease; we count from when we saw
  // the record last change, so a dead holder loses it after leaseDurationSeconds.
  LeaseMachine ahead(config());
  const auto future = rec("other", 1, "9", 3600);
  run(ahead, {
      start(0, {"get"}),
      got(0, future, {"sleep(2000ms)"}),
      timer(14, {"get"}),
      got(14, future, {"sleep(1000ms)"}),
      timer(15, {"get"}),
      got(15, future, {"update(holder=me,duration=15,transitions=2,rv=9)"}),
  });
  // Its clock an hour behind: its renewTime looks long expired, yet a record we have just
  // seen change is live.
  LeaseMachine behind(config());
  run(behind, {
      start(100, {"get"}),
      got(100, rec("other", 1, "9", 100 - 3600), {"sleep(2000ms)"}),
  });
  // The record's own leaseDurationSeconds counts, on our clock.
  LeaseMachine shorter(config());
  const auto short_lease = rec("other", 1, "9", 0, 5);
  run(shorter, {
      start(0, {"get"}),
      got(0, short_lease, {"sleep(2000ms)"}),
      timer(5, {"get"}),
      got(5, short_lease, {"update(holder=me,duration=15,transitions=2,rv=9)"}),
  });
}

BOOST_AUTO_TEST_CASE(a_candidate_that_loses_the_race_follows) {
  LeaseMachine m(config());
  run(m, {
      start(0, {"get"}),
      got(0, rec("", 2, "10"), {"update(holder=me,duration=15,transitions=3,rv=10)"}),
      conflict(0.1, {"get"}),  // someone else wrote first
      got(0.1, rec("rival", 3, "11", 0.05), {"sleep(2000ms)"}),
  });
  BOOST_TEST(!m.is_leader());
  // A create that races another create (409 AlreadyExists) is a conflict too.
  LeaseMachine n(config());
  run(n, {
      start(0, {"get"}),
      not_found(0, {"create(holder=me,duration=15,transitions=0,rv=)"}),
      conflict(0.1, {"get"}),
      got(0.1, rec("rival", 0, "1"), {"sleep(2000ms)"}),
  });
  BOOST_TEST(!n.is_leader());
}

BOOST_AUTO_TEST_CASE(a_leader_that_loses_on_conflict_stops_at_once) {
  LeaseMachine m(config());
  run(m, {
      start(0, {"get"}),
      not_found(0, {"create(holder=me,duration=15,transitions=0,rv=)"}),
      ok(0.1, rec("me", 0, "1"), {"become-leader", "sleep(2000ms)"}),
      timer(2.1, {"update(holder=me,duration=15,transitions=0,rv=1)"}),
      conflict(2.2, {"get"}),
      got(2.2, rec("usurper", 1, "5", 2.15), {"stop-leading", "sleep(2000ms)"}),
  });
  BOOST_TEST(!m.is_leader());
  BOOST_TEST(!m.leader_deadline().has_value());
}

BOOST_AUTO_TEST_CASE(a_conflict_from_an_unrelated_change_is_retried) {
  LeaseMachine m(config());
  run(m, {
      start(0, {"get"}),
      not_found(0, {"create(holder=me,duration=15,transitions=0,rv=)"}),
      ok(0.1, rec("me", 0, "1"), {"become-leader", "sleep(2000ms)"}),
      timer(2.1, {"update(holder=me,duration=15,transitions=0,rv=1)"}),
      conflict(2.2, {"get"}),  // e.g. someone added a label: still ours
      got(2.2, rec("me", 0, "2"), {"update(holder=me,duration=15,transitions=0,rv=2)"}),
      ok(2.3, rec("me", 0, "3", 2.2), {"sleep(2000ms)"}),
  });
  BOOST_TEST(m.is_leader());
}

BOOST_AUTO_TEST_CASE(gives_up_after_the_renew_deadline_before_the_lease_expires) {
  LeaseMachine m(config());
  run(m, {
      start(0, {"get"}),
      not_found(0, {"create(holder=me,duration=15,transitions=0,rv=)"}),
      ok(0.1, rec("me", 0, "1"), {"become-leader", "sleep(2000ms)"}),
      timer(2.1, {"update(holder=me,duration=15,transitions=0,rv=1)"}),
      write_error(2.5, {"sleep(2000ms)"}),
      timer(4.5, {"update(holder=me,duration=15,transitions=0,rv=1)"}),
      write_error(6.0, {"sleep(2000ms)"}),
      timer(8.0, {"update(holder=me,duration=15,transitions=0,rv=1)"}),
      write_error(9.2, {"sleep(800ms)"}),  // never sleep past the deadline
      timer(10.0, {"stop-leading", "get"}),
      get_failed(10.5, {"sleep(2000ms)"}),
  });
  BOOST_TEST(!m.is_leader());
}

BOOST_AUTO_TEST_CASE(a_hung_renewal_is_cut_off_by_tick) {
  LeaseMachine m(config());
  run(m, {
      start(0, {"get"}),
      not_found(0, {"create(holder=me,duration=15,transitions=0,rv=)"}),
      ok(0.1, rec("me", 0, "1"), {"become-leader", "sleep(2000ms)"}),
      timer(2.0, {"update(holder=me,duration=15,transitions=0,rv=1)"}),
      tick(5, {}),
      tick(9.999, {}),
      tick(10.0, {"stop-leading"}),  // while the update is still in flight
      tick(11, {}),
      write_error(12, {"sleep(2000ms)"}),
  });
  BOOST_TEST(!m.is_leader());
  // Safety margin: we stop writing 10 s after our last write began; nobody else may take
  // the lease before 15 s after they saw that write.
  BOOST_TEST(config().renew_deadline < config().lease_duration);
}

BOOST_AUTO_TEST_CASE(a_slow_successful_renewal_still_counts_from_its_start) {
  LeaseMachine m(config());
  run(m, {
      start(0, {"get"}),
      not_found(0, {"create(holder=me,duration=15,transitions=0,rv=)"}),
      ok(0.1, rec("me", 0, "1"), {"become-leader", "sleep(2000ms)"}),
      timer(9.5, {"update(holder=me,duration=15,transitions=0,rv=1)"}),
      tick(10, {"stop-leading"}),
      ok(10.5, rec("me", 0, "2", 9.5), {"become-leader", "sleep(2000ms)"}),  // began at 9.5: good until 19.5
  });
  BOOST_TEST((m.leader_deadline() == at(9.5).mono + 10s));
  // A create that succeeds only after the renew deadline does not make us leader.
  LeaseMachine n(config());
  run(n, {
      start(0, {"get"}),
      not_found(0, {"create(holder=me,duration=15,transitions=0,rv=)"}),
      ok(11, rec("me", 0, "1"), {"sleep(2000ms)"}),
      timer(13, {"get"}),
      got(13, rec("me", 0, "1"), {"update(holder=me,duration=15,transitions=0,rv=1)"}),
      ok(13.1, rec("me", 0, "2", 13), {"become-leader", "sleep(2000ms)"}),
  });
}

BOOST_AUTO_TEST_CASE(a_lease_deleted_under_the_leader) {
  LeaseMachine m(config());
  run(m, {
      start(0, {"get"}),
      not_found(0, {"create(holder=me,duration=15,transitions=0,rv=)"}),
      ok(0.1, rec("me", 0, "1"), {"become-leader", "sleep(2000ms)"}),
      timer(2, {"update(holder=me,duration=15,transitions=0,rv=1)"}),
      conflict(2.1, {"get"}),
      not_found(2.1, {"stop-leading", "create(holder=me,duration=15,transitions=0,rv=)"}),
      ok(2.2, rec("me", 0, "9"), {"become-leader", "sleep(2000ms)"}),
  });
}

BOOST_AUTO_TEST_CASE(releases_on_shutdown) {
  LeaseMachine m(config());
  const auto actions = run(m, {
      start(0, {"get"}),
      not_found(0, {"create(holder=me,duration=15,transitions=0,rv=)"}),
      ok(0.1, rec("me", 0, "1"), {"become-leader", "sleep(2000ms)"}),
      shutdown(1, {"stop-leading", "update(holder=,duration=1,transitions=0,rv=1)"}),
  });
  const auto* r = written(actions);
  BOOST_TEST_REQUIRE(r);
  BOOST_TEST(format_micro_time(*r->renew_time) == "2026-01-02T03:00:01.000000Z");
  BOOST_TEST(!m.is_leader());
  run(m, {ok(1.1, stored(*r, "2"), {"done"})});
  BOOST_TEST(m.done());
  BOOST_TEST(describe(m.shutdown(at(2)).at(0)) == "done");
}

BOOST_AUTO_TEST_CASE(release_after_a_conflict_looks_again) {
  LeaseMachine m(config());
  run(m, {
      start(0, {"get"}),
      not_found(0, {"create(holder=me,duration=15,transitions=0,rv=)"}),
      ok(0.1, rec("me", 0, "1"), {"become-leader", "sleep(2000ms)"}),
      shutdown(1, {"stop-leading", "update(holder=,duration=1,transitions=0,rv=1)"}),
      conflict(1.1, {"get"}),
      got(1.1, rec("me", 0, "2"), {"update(holder=,duration=1,transitions=0,rv=2)"}),
      conflict(1.2, {"done"}),  // gives up after one more try: the lease expires on its own
  });
  LeaseMachine n(config());
  run(n, {
      start(0, {"get"}),
      not_found(0, {"create(holder=me,duration=15,transitions=0,rv=)"}),
      ok(0.1, rec("me", 0, "1"), {"become-leader", "sleep(2000ms)"}),
      shutdown(1, {"stop-leading", "update(holder=,duration=1,transitions=0,rv=1)"}),
      conflict(1.1, {"get"}),
      got(1.1, rec("other", 1, "2"), {"done"}),  // not ours any more: nothing to release
  });
}

BOOST_AUTO_TEST_CASE(a_follower_has_nothing_to_release) {
  LeaseMachine m(config());
  run(m, {
      start(0, {"get"}),
      got(0, rec("other", 0, "1"), {"sleep(2000ms)"}),
      shutdown(1, {"done"}),
  });
  LeaseMachine fresh(config());
  run(fresh, {shutdown(0, {"done"})});
}

BOOST_AUTO_TEST_CASE(a_leader_that_lost_its_deadline_still_releases_what_it_holds) {
  LeaseMachine m(config());
  run(m, {
      start(0, {"get"}),
      not_found(0, {"create(holder=me,duration=15,transitions=0,rv=)"}),
      ok(0.1, rec("me", 0, "1"), {"become-leader", "sleep(2000ms)"}),
      timer(2, {"update(holder=me,duration=15,transitions=0,rv=1)"}),
      write_error(10.5, {"stop-leading", "sleep(2000ms)"}),
      // The record still names us: release it (optimistically; a stale rv just conflicts).
      shutdown(11, {"update(holder=,duration=1,transitions=0,rv=1)"}),
  });
}

BOOST_AUTO_TEST_CASE(out_of_order_inputs_are_refused) {
  LeaseMachine m(config());
  BOOST_CHECK_THROW(m.on_timer(at(0)), std::logic_error);
  BOOST_CHECK_THROW(m.on_get(at(0), std::nullopt), std::logic_error);
  m.start(at(0));
  BOOST_CHECK_THROW(m.start(at(0)), std::logic_error);
  BOOST_CHECK_THROW(m.on_write(at(0), WriteOutcome::Ok, rec("me", 0, "1")), std::logic_error);
  m.on_get(at(0), std::nullopt);
  BOOST_CHECK_THROW(m.on_write(at(0), WriteOutcome::Ok, std::nullopt), std::logic_error);
}

BOOST_AUTO_TEST_CASE(the_configuration_is_checked) {
  auto bad = [](auto change) {
    LeaderConfig c = config();
    change(c);
    return c;
  };
  BOOST_CHECK_NO_THROW(LeaseMachine{config()});
  BOOST_CHECK_THROW(LeaseMachine{bad([](LeaderConfig& c) { c.identity.clear(); })}, std::invalid_argument);
  BOOST_CHECK_THROW(LeaseMachine{bad([](LeaderConfig& c) { c.renew_deadline = 15s; })}, std::invalid_argument);
  BOOST_CHECK_THROW(LeaseMachine{bad([](LeaderConfig& c) { c.retry_period = 10s; })}, std::invalid_argument);
  BOOST_CHECK_THROW(LeaseMachine{bad([](LeaderConfig& c) { c.retry_period = 0s; })}, std::invalid_argument);
}

BOOST_AUTO_TEST_SUITE_END()

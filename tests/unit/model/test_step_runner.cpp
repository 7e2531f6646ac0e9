// The reconciler's executor loop (run_steps) and its read of the caches (steps::observe)
// against fakes: the in-memory CacheView of support/foreman_fixtures.hpp and an executor
// that records the actions it is given. No sockets, no HTTP server.
#include "operator/cache_view.hpp"
#include "operator/reconciler_io.hpp"
#include "operator/retry_steps.hpp"
#include "support/foreman_fixtures.hpp"
#include "watch/errors.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>

#include <map>

using namespace fdb::op;
namespace json = boost::json;
namespace asio = boost::asio;
using namespace std::chrono_literals;
using fdb::test::MapCache;

BOOST_AUTO_TEST_SUITE(step_runner)

namespace {

// Records each action; answers a Decide with `decision`, ends on Done, Requeue, a retry's
// DeleteWorkload, ClearIntent, Report and Prune (as the Reconciler does); throws for the
// action named in `fail`.
class Recorder final : public StepExecutor {
 public:
  std::vector<std::string> ran;
  std::vector<std::string> failed_sweeps;
  steps::Actions decision;
  std::string fail;
  asio::awaitable<StepOutcome> execute(const std::string&, steps::Action& a) override {
    ran.emplace_back(steps::action_name(a));
    if (ran.back() == fail) throw fdb::kube::ApiError(fdb::kube::ErrorKind::InternalError, 500, "", "boom");
    StepOutcome out;
    if (auto* d = std::get_if<steps::Done>(&a)) out.result = ReconcileResult{std::nullopt, false, d->step};
    if (auto* r = std::get_if<steps::Requeue>(&a)) out.result = ReconcileResult{r->after, false, r->step};
    if (std::holds_alternative<steps::Decide>(a)) out.more = decision;
    if (auto* d = std::get_if<steps::DeleteWorkload>(&a); d && d->retry) out.result = ReconcileResult{60000ms, false, "delete"};
    if (auto* c = std::get_if<steps::ClearIntent>(&a)) out.result = ReconcileResult{std::nullopt, false, c->step};
    if (std::holds_alternative<steps::Report>(a) || std::holds_alternative<steps::Prune>(a)) {
      out.result = ReconcileResult{std::nullopt, false, std::string(steps::action_name(a))};
    }
    co_return out;
  }
  void sweep_failed(std::string_view sweep) override { failed_sweeps.emplace_back(sweep); }
};

ReconcileResult run(Recorder& r, steps::Actions actions) {
  asio::io_context io;
  auto f = asio::co_spawn(io, run_steps(r, "wl-o-r-1", std::move(actions)), asio::use_future);
  io.run();
  return f.get();
}

std::string joined(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ",") + s;
  return out;
}

// A Failed bridge Workload of o/r#1, attempt 1, in lane local.
json::object failed_workload(const char* uid) {
  fdb::test::WorkloadFields f;
  f.name = "wl-o-r-1";
  f.number = 1;
  f.uid = uid;
  f.lane = "local";
  f.attempt = "1";
  f.issue_id = "I_1";
  f.phase = "Failed";
  return fdb::test::workload_object(f);
}

const steps::Settings kSettings{};
const WallTime kWall{std::chrono::sys_days{std::chrono::year{2026} / 1 / 10}.time_since_epoch()};
const SteadyTime kNow{std::chrono::seconds(100)};

}  // namespace

// A Failed Workload in the cache: decide; the decision (read, then decide_actions) is a
// retry: record the intent, delete, requeue after the delete timeout.
BOOST_AUTO_TEST_CASE(a_failed_workload_from_the_cache_to_the_delete) {
  MapCache cache;
  cache.workloads["wl-o-r-1"] = failed_workload("u1");
  InFlight in_flight;
  const steps::Observed o = steps::observe(cache, in_flight, "wl-o-r-1");
  BOOST_REQUIRE(o.workload.has_value());
  Recorder r;
  steps::DecisionFacts facts;
  facts.name = "wl-o-r-1";
  facts.workload = o.workload;
  facts.action = action::Retry{2, "", {}, "attempt 1 failed"};
  facts.target = "wl-o-r-1";
  r.decision = steps::decide_actions(facts, kWall, kSettings);
  const ReconcileResult result = run(r, steps::plan(o, in_flight, kNow, kWall, kSettings));
  BOOST_TEST(joined(r.ran) == "decide,record-intent,delete");
  BOOST_TEST(result.step == "delete");
  BOOST_REQUIRE(result.requeue_after.has_value());
  BOOST_TEST(result.requeue_after->count() == 60000);
}

// The intent this process wrote comes before the cache's (which may not show it yet), and
// the old object gone means create, then clear.
BOOST_AUTO_TEST_CASE(the_registry_intent_then_create_and_clear) {
  MapCache cache;  // neither the Workload nor the intent cached
  InFlight in_flight;
  Intent i;
  i.kind = Intent::Kind::Claim;
  i.workload = "wl-o-r-1";
  i.old_uid = "old";
  i.repo = "o/r";
  i.number = 1;
  in_flight.intent_recorded(i, kNow);
  const steps::Observed o = steps::observe(cache, in_flight, "wl-o-r-1");
  BOOST_REQUIRE(o.intent.has_value());
  BOOST_TEST((o.intent->kind == Intent::Kind::Claim));
  Recorder r;
  const ReconcileResult result = run(r, steps::plan(o, in_flight, kNow, kWall, kSettings));
  BOOST_TEST(joined(r.ran) == "create,clear-intent");
  BOOST_TEST(result.step == "create");
  BOOST_TEST(!result.requeue_after.has_value());
}

// A malformed cached intent is ignored (and said so), the Workload decided on its own.
BOOST_AUTO_TEST_CASE(a_malformed_intent_is_reported_and_ignored) {
  MapCache cache;
  cache.workloads["wl-o-r-1"] = failed_workload("u1");
  cache.intents["wl-o-r-1"] = json::parse(R"({"data":{"kind":"retry","workload":"wl-o-r-1"}})").as_object();
  const steps::Observed o = steps::observe(cache, InFlight{}, "wl-o-r-1");
  BOOST_TEST(!o.intent.has_value());
  BOOST_REQUIRE(o.bad_intent.has_value());
  BOOST_TEST(o.bad_intent->field == "oldUid");
}

BOOST_AUTO_TEST_CASE(a_failed_sweep_is_counted_and_propagates) {
  Recorder r;
  r.fail = "stamp";
  steps::Actions actions{steps::Stamp{"Failed", "2026-01-10T00:00:00.000000Z"}, steps::Requeue{1h, "prune-wait"}};
  BOOST_CHECK_THROW(run(r, std::move(actions)), fdb::kube::ApiError);
  BOOST_TEST(joined(r.failed_sweeps) == "stamp");
  Recorder ok;
  ok.fail = "relane";  // not a sweep: not counted as one
  steps::Actions escalate{steps::Relane{"I_1", "frontier", "cap"}, steps::Done{"x"}};
  BOOST_CHECK_THROW(run(ok, std::move(escalate)), fdb::kube::ApiError);
  BOOST_TEST(ok.failed_sweeps.empty());
}

// Actions after the one that ends the reconcile do not run.
BOOST_AUTO_TEST_CASE(the_first_ending_action_ends_it) {
  Recorder r;
  steps::Actions actions{steps::Log{"a", ""}, steps::Requeue{5s, "await-gone"}, steps::Log{"never", ""}};
  const ReconcileResult result = run(r, std::move(actions));
  BOOST_TEST(joined(r.ran) == "log,requeue");
  BOOST_TEST(result.step == "await-gone");
}

BOOST_AUTO_TEST_SUITE_END()

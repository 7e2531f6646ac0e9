// The leader elector: the coroutine driver of the LeaseMachine against the API server.
#include "watch/leader_io.hpp"

#include "watch/client_io.hpp"
#include "watch/errors.hpp"
#include "watch/log.hpp"
#include "watch/request.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <fmt/format.h>

#include <deque>
#include <stdexcept>

namespace fdb::kube {

namespace asio = boost::asio;
using namespace std::chrono;
using namespace std::chrono_literals;

namespace {
milliseconds at_least_1ms(steady_clock::duration d) { return std::max(1ms, ceil<milliseconds>(d)); }
}  // namespace

// ---------------------------------------------------------------------------------------
// The driver

struct LeaderElector::Impl {
  Impl(asio::any_io_executor e, Client& c, std::string ns, std::string lease, LeaderConfig cfg, LeaderCallbacks cbs)
      : ex(e),
        client(c),
        requests(leases(), std::move(ns)),
        name(std::move(lease)),
        machine(std::move(cfg)),
        callbacks(std::move(cbs)),
        timer(e),
        deadline_timer(e) {}

  asio::any_io_executor ex;
  Client& client;
  Requests requests;
  std::string name;
  LeaseMachine machine;
  LeaderCallbacks callbacks;
  asio::steady_timer timer;
  // Fires at the machine's leader_deadline() whatever the request in flight is doing (a
  // connect or an answer that hangs): leadership ends then, not when the request returns.
  asio::steady_timer deadline_timer;
  std::optional<steady_clock::time_point> watched_deadline;  // what deadline_timer is set to
  std::atomic<bool> leader{false};
  std::atomic<bool> stop_requested{false};
  bool shutting_down = false;
  std::string last_json;  // the lease as last read or written, to keep unknown fields
  std::string holder;     // the holder last reported to on_new_leader
  bool holder_reported = false;
  log::Logger log{"leader"};
};

namespace {

Instant clock_now() {
  return Instant{steady_clock::now(), floor<microseconds>(system_clock::now())};
}

using ImplPtr = std::shared_ptr<LeaderElector::Impl>;

}  // namespace

LeaderElector::LeaderElector(asio::any_io_executor ex, Client& client, std::string ns, std::string lease_name,
                             LeaderConfig config, LeaderCallbacks callbacks)
    : impl_(std::make_shared<Impl>(ex, client, std::move(ns), std::move(lease_name), std::move(config),
                                   std::move(callbacks))) {}

LeaderElector::~LeaderElector() = default;

bool LeaderElector::is_leader() const noexcept { return impl_->leader.load(); }

std::string LeaderElector::current_holder() const {
  const auto& o = impl_->machine.observed();
  return o ? o->holder_identity : std::string();
}

void LeaderElector::stop() {
  impl_->stop_requested = true;
  auto impl = impl_;
  asio::post(impl->ex, [impl] { impl->timer.cancel(); });
}

// The run loop lives in a static member-like free function taking its state by value, so
// the coroutine frame owns it (see the GCC 12 notes in STYLE.md).
static asio::awaitable<void> run_elector(ImplPtr s);

asio::awaitable<void> LeaderElector::run() {
  auto impl = impl_;
  co_await run_elector(impl);
}

namespace {

std::optional<milliseconds> request_timeout(const LeaderElector::Impl& s) {
  // Every request is bounded by the renew deadline; a leader's also by its own deadline,
  // so a hung renewal cannot keep it leading past it.
  milliseconds t = s.machine.config().renew_deadline;
  if (auto d = s.machine.leader_deadline()) t = std::min(t, at_least_1ms(*d - steady_clock::now()));
  return t;
}

void report_holder(LeaderElector::Impl& s) {
  const auto& o = s.machine.observed();
  const std::string holder = o ? o->holder_identity : std::string();
  if (s.holder_reported && holder == s.holder) return;
  s.holder_reported = true;
  s.holder = holder;
  s.log.info("lease holder observed", {{"lease", s.name}, {"holder", holder}});
  if (s.callbacks.on_new_leader) s.callbacks.on_new_leader(holder);
}

// BecomeLeader and StopLeading: the flag other threads read, a log line, the callback.
void perform_leadership(LeaderElector::Impl& s, const LeaseAction& action, std::string_view why) {
  if (std::holds_alternative<lease_action::BecomeLeader>(action)) {
    s.leader = true;
    s.log.info("started leading", {{"lease", s.name}});
    if (s.callbacks.on_started_leading) s.callbacks.on_started_leading();
  } else if (std::holds_alternative<lease_action::StopLeading>(action)) {
    s.leader = false;
    s.log.info("stopped leading", {{"lease", s.name}, {"why", why}});
    if (s.callbacks.on_stopped_leading) s.callbacks.on_stopped_leading();
  }
}

// Keeps deadline_timer at the current leader deadline (cancelled when not leading). When
// it fires, the machine's tick() ends leadership even though a renewal is still pending.
void watch_deadline(const ImplPtr& s) {
  const auto deadline = s->machine.leader_deadline();
  if (deadline == s->watched_deadline) return;
  s->watched_deadline = deadline;
  if (!deadline) {
    s->deadline_timer.cancel();
    return;
  }
  s->deadline_timer.expires_at(*deadline);  // cancels the wait for the previous deadline
  s->deadline_timer.async_wait([s](boost::system::error_code ec) {
    if (ec) return;  // re-armed or cancelled
    s->watched_deadline.reset();
    for (const auto& a : s->machine.tick(clock_now())) perform_leadership(*s, a, "not renewed within the renew deadline");
  });
}

asio::awaitable<LeaseActions> do_get(ImplPtr s) {
  const auto timeout = request_timeout(*s);
  const HttpRequest req = s->requests.get(s->name);
  std::string body;
  bool not_found = false;
  bool failed = false;
  try {
    body = co_await s->client.call(req, timeout);
  } catch (const ApiError& e) {
    if (e.kind() == ErrorKind::NotFound) {
      not_found = true;
    } else {
      failed = true;
      s->log.warn("reading the lease failed", {{"lease", s->name}, {"error", e.what()}});
    }
  }
  if (failed) co_return s->machine.on_get_failed(clock_now());
  if (not_found) {
    s->last_json.clear();
    co_return s->machine.on_get(clock_now(), std::nullopt);
  }
  std::optional<LeaseRecord> rec;
  try {
    rec = parse_lease(body);
  } catch (const std::invalid_argument& e) {
    s->log.warn("the lease cannot be read", {{"lease", s->name}, {"error", e.what()}});
    co_return s->machine.on_get_failed(clock_now());
  }
  s->last_json = std::move(body);
  auto out = s->machine.on_get(clock_now(), rec);
  report_holder(*s);
  co_return out;
}

asio::awaitable<LeaseActions> do_write(ImplPtr s, const LeaseRecord& record_in, bool create) {
  const LeaseRecord record = record_in;
  const auto timeout = request_timeout(*s);
  std::string answer;
  WriteOutcome outcome = WriteOutcome::Ok;
  try {
    const std::string body = render_lease(create ? std::string_view() : std::string_view(s->last_json), record,
                                          s->name, s->requests.ns());
    const HttpRequest req = create ? s->requests.create(body) : s->requests.replace(s->name, body);
    answer = co_await s->client.call(req, timeout);
  } catch (const ApiError& e) {
    if (e.kind() == ErrorKind::Conflict || e.kind() == ErrorKind::AlreadyExists) {
      outcome = WriteOutcome::Conflict;
      s->log.debug("lease write conflict", {{"lease", s->name}});
    } else {
      outcome = WriteOutcome::Error;
      s->log.warn("writing the lease failed", {{"lease", s->name}, {"error", e.what()}});
    }
  } catch (const std::invalid_argument& e) {
    outcome = WriteOutcome::Error;
    s->log.warn("the lease cannot be written", {{"lease", s->name}, {"error", e.what()}});
  }
  std::optional<LeaseRecord> written;
  if (outcome == WriteOutcome::Ok) {
    try {
      written = parse_lease(answer);
      s->last_json = std::move(answer);
    } catch (const std::invalid_argument& e) {
      outcome = WriteOutcome::Error;
      s->log.warn("the lease written cannot be read back", {{"lease", s->name}, {"error", e.what()}});
    }
  }
  auto out = s->machine.on_write(clock_now(), outcome, written);
  if (written) report_holder(*s);
  co_return out;
}

}  // namespace

static asio::awaitable<void> run_elector(ImplPtr s) {
  std::deque<LeaseAction> todo;
  const auto push = [&todo](LeaseActions actions) {
    for (auto& a : actions) todo.push_back(std::move(a));
  };
  push(s->machine.start(clock_now()));
  while (!todo.empty()) {
    watch_deadline(s);
    LeaseAction action = std::move(todo.front());
    todo.pop_front();
    const bool waits = std::holds_alternative<lease_action::Get>(action) ||
                       std::holds_alternative<lease_action::Create>(action) ||
                       std::holds_alternative<lease_action::Update>(action) ||
                       std::holds_alternative<lease_action::Sleep>(action);
    if (waits && s->stop_requested && !s->shutting_down) {
      // Drop the next request or sleep (not started yet) and release instead.
      s->shutting_down = true;
      todo.clear();
      push(s->machine.shutdown(clock_now()));
      continue;
    }
    s->log.debug("lease action", {{"lease", s->name}, {"action", describe(action)}});
    if (std::holds_alternative<lease_action::BecomeLeader>(action) ||
        std::holds_alternative<lease_action::StopLeading>(action)) {
      perform_leadership(*s, action, s->shutting_down ? "shutting down" : "lost the lease or not renewed in time");
    } else if (std::holds_alternative<lease_action::Done>(action)) {
      break;
    } else if (std::holds_alternative<lease_action::Get>(action)) {
      push(co_await do_get(s));
    } else if (auto* c = std::get_if<lease_action::Create>(&action)) {
      const LeaseRecord record = c->record;
      push(co_await do_write(s, record, true));
    } else if (auto* u = std::get_if<lease_action::Update>(&action)) {
      const LeaseRecord record = u->record;
      push(co_await do_write(s, record, false));
    } else if (auto* sl = std::get_if<lease_action::Sleep>(&action)) {
      s->timer.expires_after(sl->duration);
      if (!s->stop_requested) co_await s->timer.async_wait(asio::as_tuple(asio::use_awaitable));
      if (s->stop_requested && !s->shutting_down) {
        s->shutting_down = true;
        push(s->machine.shutdown(clock_now()));
      } else {
        push(s->machine.on_timer(clock_now()));
      }
    }
  }
  s->watched_deadline.reset();
  s->deadline_timer.cancel();
  s->leader = false;
}

}  // namespace fdb::kube

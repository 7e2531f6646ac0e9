// The pure part of leader election: the Lease's JSON, the configuration, the machine.
#include "watch/lease_machine.hpp"

#include "watch/json_input.hpp"

#include <boost/json.hpp>

#include <fmt/format.h>

#include <deque>
#include <stdexcept>

namespace fdb::kube {

namespace json = boost::json;
using namespace std::chrono;
using namespace std::chrono_literals;

// ---------------------------------------------------------------------------------------
// Lease JSON

bool LeaseRecord::same_record(const LeaseRecord& o) const noexcept {
  return holder_identity == o.holder_identity && lease_duration_seconds == o.lease_duration_seconds &&
         acquire_time == o.acquire_time && renew_time == o.renew_time && lease_transitions == o.lease_transitions;
}

namespace {

std::int64_t int_field(const json::object& spec, std::string_view key) {
  const auto* v = spec.if_contains(key);
  if (!v || v->is_null()) return 0;
  if (v->is_int64()) return v->as_int64();
  if (v->is_uint64() && v->as_uint64() <= static_cast<std::uint64_t>(INT64_MAX))
    return static_cast<std::int64_t>(v->as_uint64());
  throw std::invalid_argument(fmt::format("lease spec.{} is not an integer", key));
}

std::optional<MicroTime> time_field(const json::object& spec, std::string_view key) {
  const auto* v = spec.if_contains(key);
  if (!v || v->is_null()) return std::nullopt;
  if (!v->is_string()) throw std::invalid_argument(fmt::format("lease spec.{} is not a string", key));
  return parse_micro_time(v->as_string());
}

json::value time_value(const std::optional<MicroTime>& t) {
  if (!t) return nullptr;
  return json::string(format_micro_time(*t));
}

}  // namespace

LeaseRecord parse_lease(std::string_view text) {
  boost::system::error_code ec;
  auto v = parse_json(text, ec);
  if (ec) throw std::invalid_argument("lease: invalid JSON: " + json_error_text(ec));
  if (!v.is_object()) throw std::invalid_argument("lease: not a JSON object");
  const auto& obj = v.as_object();
  LeaseRecord r;
  if (const auto* md = obj.if_contains("metadata"); md && md->is_object()) {
    if (const auto* rv = md->as_object().if_contains("resourceVersion"); rv && rv->is_string())
      r.resource_version = std::string(rv->as_string());
  }
  const auto* spec_v = obj.if_contains("spec");
  if (!spec_v || spec_v->is_null()) return r;
  if (!spec_v->is_object()) throw std::invalid_argument("lease: spec is not an object");
  const auto& spec = spec_v->as_object();
  if (const auto* h = spec.if_contains("holderIdentity"); h && !h->is_null()) {
    if (!h->is_string()) throw std::invalid_argument("lease spec.holderIdentity is not a string");
    r.holder_identity = std::string(h->as_string());
  }
  r.lease_duration_seconds = int_field(spec, "leaseDurationSeconds");
  r.acquire_time = time_field(spec, "acquireTime");
  r.renew_time = time_field(spec, "renewTime");
  r.lease_transitions = int_field(spec, "leaseTransitions");
  return r;
}

std::string render_lease(std::string_view previous, const LeaseRecord& record, std::string_view name,
                         std::string_view ns) {
  json::object obj;
  if (!previous.empty()) {
    boost::system::error_code ec;
    auto v = parse_json(previous, ec);
    if (ec || !v.is_object()) throw std::invalid_argument("lease: the previous object is not a JSON object");
    obj = std::move(v.as_object());
  } else {
    obj["apiVersion"] = "coordination.k8s.io/v1";
    obj["kind"] = "Lease";
    json::object md;
    md["name"] = name;
    md["namespace"] = ns;
    obj["metadata"] = std::move(md);
  }
  auto& md_v = obj["metadata"];
  if (!md_v.is_object()) md_v = json::object();
  auto& md = md_v.as_object();
  if (record.resource_version.empty()) md.erase("resourceVersion");
  else md["resourceVersion"] = record.resource_version;
  auto& spec_v = obj["spec"];
  if (!spec_v.is_object()) spec_v = json::object();
  auto& spec = spec_v.as_object();
  spec["holderIdentity"] = record.holder_identity;
  spec["leaseDurationSeconds"] = record.lease_duration_seconds;
  spec["acquireTime"] = time_value(record.acquire_time);
  spec["renewTime"] = time_value(record.renew_time);
  spec["leaseTransitions"] = record.lease_transitions;
  return json::serialize(obj);
}

// ---------------------------------------------------------------------------------------
// The state machine

void LeaderConfig::validate() const {
  if (identity.empty()) throw std::invalid_argument("leader election: the identity is empty");
  if (lease_duration <= 0ms || renew_deadline <= 0ms || retry_period <= 0ms)
    throw std::invalid_argument("leader election: durations must be positive");
  if (lease_duration <= renew_deadline)
    throw std::invalid_argument("leader election: the lease duration must exceed the renew deadline");
  if (renew_deadline <= retry_period)
    throw std::invalid_argument("leader election: the renew deadline must exceed the retry period");
}

namespace {

std::string describe_record(const LeaseRecord& r) {
  return fmt::format("holder={},duration={},transitions={},rv={}", r.holder_identity, r.lease_duration_seconds,
                     r.lease_transitions, r.resource_version);
}

}  // namespace

std::string describe(const LeaseAction& action) {
  struct V {
    std::string operator()(const lease_action::Get&) const { return "get"; }
    std::string operator()(const lease_action::Create& a) const { return "create(" + describe_record(a.record) + ")"; }
    std::string operator()(const lease_action::Update& a) const { return "update(" + describe_record(a.record) + ")"; }
    std::string operator()(const lease_action::BecomeLeader&) const { return "become-leader"; }
    std::string operator()(const lease_action::StopLeading&) const { return "stop-leading"; }
    std::string operator()(const lease_action::Sleep& a) const { return fmt::format("sleep({}ms)", a.duration.count()); }
    std::string operator()(const lease_action::Done&) const { return "done"; }
  };
  return std::visit(V{}, action);
}

LeaseMachine::LeaseMachine(LeaderConfig config) : config_(std::move(config)) { config_.validate(); }

namespace {

std::int64_t whole_seconds_up(milliseconds d) { return std::max<std::int64_t>(1, ceil<seconds>(d).count()); }

milliseconds at_least_1ms(steady_clock::duration d) { return std::max(1ms, ceil<milliseconds>(d)); }

}  // namespace

std::optional<steady_clock::time_point> LeaseMachine::leader_deadline() const {
  if (!leader_) return std::nullopt;
  return renewed_at_ + config_.renew_deadline;
}

steady_clock::duration LeaseMachine::duration_of(const LeaseRecord& rec) const {
  if (rec.lease_duration_seconds > 0) return seconds(rec.lease_duration_seconds);
  return config_.lease_duration;
}

void LeaseMachine::check_deadline(Instant now, LeaseActions& out) {
  if (leader_ && now.mono >= renewed_at_ + config_.renew_deadline) {
    leader_ = false;
    out.emplace_back(lease_action::StopLeading{});
  }
}

void LeaseMachine::observe(Instant now, const LeaseRecord& rec) {
  if (!observed_ || !observed_->same_record(rec)) observed_at_ = now.mono;
  observed_ = rec;
}

milliseconds LeaseMachine::sleep_for(Instant now) const {
  milliseconds d = config_.retry_period;
  if (leader_) d = std::min(d, at_least_1ms(renewed_at_ + config_.renew_deadline - now.mono));
  return d;
}

LeaseActions LeaseMachine::write(Instant now, LeaseRecord record, bool create) {
  write_started_ = now.mono;
  pending_ = Pending::Write;
  if (create) return {lease_action::Create{std::move(record)}};
  return {lease_action::Update{std::move(record)}};
}

LeaseActions LeaseMachine::start(Instant now) {
  (void)now;
  if (pending_ != Pending::Idle) throw std::logic_error("lease machine: start() called twice");
  pending_ = Pending::Get;
  return {lease_action::Get{}};
}

LeaseActions LeaseMachine::on_timer(Instant now) {
  if (pending_ != Pending::Timer) throw std::logic_error("lease machine: on_timer() without a pending sleep");
  LeaseActions out;
  check_deadline(now, out);
  LeaseActions next;
  if (leader_ && observed_ && observed_->holder_identity == config_.identity) {
    next = renew(now);
  } else {
    pending_ = Pending::Get;
    next = {lease_action::Get{}};
  }
  out.insert(out.end(), next.begin(), next.end());
  return out;
}

LeaseActions LeaseMachine::renew(Instant now) {
  LeaseRecord r = *observed_;
  r.lease_duration_seconds = whole_seconds_up(config_.lease_duration);
  r.renew_time = now.wall;
  if (!r.acquire_time) r.acquire_time = now.wall;
  return write(now, std::move(r), false);
}

LeaseActions LeaseMachine::on_get(Instant now, const std::optional<LeaseRecord>& rec) {
  if (pending_ != Pending::Get) throw std::logic_error("lease machine: on_get() without a pending get");
  LeaseActions out;
  check_deadline(now, out);
  if (releasing_) {
    if (rec) observe(now, *rec);
    release_or_finish(now, rec && rec->holder_identity == config_.identity, out);
    return out;
  }
  if (!rec) {
    // The lease is gone: anyone may create it now, so a leader stops before competing.
    if (leader_) {
      leader_ = false;
      out.emplace_back(lease_action::StopLeading{});
    }
    observed_.reset();
    LeaseRecord fresh;
    fresh.holder_identity = config_.identity;
    fresh.lease_duration_seconds = whole_seconds_up(config_.lease_duration);
    fresh.acquire_time = now.wall;
    fresh.renew_time = now.wall;
    fresh.lease_transitions = 0;
    auto next = write(now, std::move(fresh), true);
    out.insert(out.end(), next.begin(), next.end());
    return out;
  }
  observe(now, *rec);
  auto next = decide(now);
  out.insert(out.end(), next.begin(), next.end());
  return out;
}

LeaseActions LeaseMachine::decide(Instant now) {
  LeaseActions out;
  const LeaseRecord& rec = *observed_;
  const bool mine = rec.holder_identity == config_.identity;
  const auto expiry = observed_at_ + duration_of(rec);
  if (!mine && !rec.holder_identity.empty() && now.mono < expiry) {
    // A live holder other than us.
    if (leader_) {
      leader_ = false;
      out.emplace_back(lease_action::StopLeading{});
    }
    pending_ = Pending::Timer;
    out.emplace_back(lease_action::Sleep{std::min(config_.retry_period, at_least_1ms(expiry - now.mono))});
    return out;
  }
  if (!mine && leader_) {
    // Someone else rewrote our lease (emptied it): we are not the leader any more.
    leader_ = false;
    out.emplace_back(lease_action::StopLeading{});
  }
  LeaseRecord next;
  next.holder_identity = config_.identity;
  next.lease_duration_seconds = whole_seconds_up(config_.lease_duration);
  next.renew_time = now.wall;
  next.acquire_time = (mine && rec.acquire_time) ? rec.acquire_time : std::optional<MicroTime>(now.wall);
  next.lease_transitions = mine ? rec.lease_transitions : rec.lease_transitions + 1;
  next.resource_version = rec.resource_version;
  auto w = write(now, std::move(next), false);
  out.insert(out.end(), w.begin(), w.end());
  return out;
}

LeaseActions LeaseMachine::on_get_failed(Instant now) {
  if (pending_ != Pending::Get) throw std::logic_error("lease machine: on_get_failed() without a pending get");
  LeaseActions out;
  check_deadline(now, out);
  if (releasing_) {
    pending_ = Pending::Finished;
    out.emplace_back(lease_action::Done{});
    return out;
  }
  pending_ = Pending::Timer;
  out.emplace_back(lease_action::Sleep{sleep_for(now)});
  return out;
}

LeaseActions LeaseMachine::on_write(Instant now, WriteOutcome outcome, const std::optional<LeaseRecord>& written) {
  if (pending_ != Pending::Write) throw std::logic_error("lease machine: on_write() without a pending write");
  if (outcome == WriteOutcome::Ok && !written)
    throw std::logic_error("lease machine: on_write(Ok) needs the written record");
  LeaseActions out;
  if (releasing_) {
    if (outcome == WriteOutcome::Ok) observe(now, *written);
    if (outcome == WriteOutcome::Conflict && release_retries_ < 1) {
      // Someone changed the lease since we read it: look again, release if still ours.
      ++release_retries_;
      pending_ = Pending::Get;
      out.emplace_back(lease_action::Get{});
    } else {
      pending_ = Pending::Finished;
      out.emplace_back(lease_action::Done{});
    }
    return out;
  }
  switch (outcome) {
    case WriteOutcome::Ok: {
      observe(now, *written);
      if (written->holder_identity == config_.identity) {
        // The lease is ours from when the write started: others count its duration from
        // when they see it, which is later.
        renewed_at_ = write_started_;
        if (!leader_ && now.mono < renewed_at_ + config_.renew_deadline) {
          leader_ = true;
          out.emplace_back(lease_action::BecomeLeader{});
        }
      }
      check_deadline(now, out);
      pending_ = Pending::Timer;
      out.emplace_back(lease_action::Sleep{sleep_for(now)});
      return out;
    }
    case WriteOutcome::Conflict:
      // The lease changed under us (or a create raced another): read it again at once.
      check_deadline(now, out);
      pending_ = Pending::Get;
      out.emplace_back(lease_action::Get{});
      return out;
    case WriteOutcome::Error:
      check_deadline(now, out);
      pending_ = Pending::Timer;
      out.emplace_back(lease_action::Sleep{sleep_for(now)});
      return out;
  }
  throw std::logic_error("lease machine: unknown write outcome");
}

LeaseActions LeaseMachine::tick(Instant now) {
  LeaseActions out;
  check_deadline(now, out);
  return out;
}

LeaseActions LeaseMachine::release(Instant now) {
  LeaseRecord r = *observed_;
  r.holder_identity.clear();
  r.lease_duration_seconds = 1;
  r.acquire_time = now.wall;
  r.renew_time = now.wall;
  return write(now, std::move(r), false);
}

LeaseActions LeaseMachine::shutdown(Instant now) {
  if (pending_ == Pending::Finished) return {lease_action::Done{}};
  if (releasing_) return {};
  LeaseActions out;
  if (leader_) {
    leader_ = false;
    out.emplace_back(lease_action::StopLeading{});
  }
  const bool ours = observed_ && observed_->holder_identity == config_.identity;
  if (ours) releasing_ = true;
  release_or_finish(now, ours, out);
  return out;
}

void LeaseMachine::release_or_finish(Instant now, bool ours, LeaseActions& out) {
  if (ours) {
    auto next = release(now);
    out.insert(out.end(), next.begin(), next.end());
  } else {
    pending_ = Pending::Finished;
    out.emplace_back(lease_action::Done{});
  }
}

}  // namespace fdb::kube

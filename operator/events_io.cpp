#include "operator/events_io.hpp"

#include "dispatch/workload.hpp"
#include "watch/client_io.hpp"
#include "watch/errors.hpp"
#include "watch/leader.hpp"
#include "watch/log.hpp"
#include "watch/request.hpp"

#include <boost/json/serialize.hpp>

#include <fmt/format.h>

namespace fdb::op {

namespace json = boost::json;

json::object make_event(const EventTarget& target, const EventSpec& spec, std::string_view identity,
                        std::chrono::system_clock::time_point now) {
  const auto micros = std::chrono::time_point_cast<std::chrono::microseconds>(now);
  const auto nanos = std::chrono::duration_cast<std::chrono::nanoseconds>(now.time_since_epoch()).count();
  return json::object{
      {"apiVersion", "events.k8s.io/v1"},
      {"kind", "Event"},
      {"metadata", json::object{{"name", fmt::format("{}.{:016x}", target.name, static_cast<unsigned long long>(nanos))},
                                {"namespace", target.ns}}},
      {"eventTime", kube::format_micro_time(micros)},
      {"reportingController", "foreman-dispatch-bridge"},
      {"reportingInstance", identity},
      {"action", spec.action},
      {"reason", spec.reason},
      {"type", spec.type},
      {"note", dispatch::utf8_prefix(spec.note, 1024)},
      {"regarding", json::object{{"apiVersion", "foreman.llmkube.dev/v1alpha1"},
                                 {"kind", "Workload"},
                                 {"name", target.name},
                                 {"namespace", target.ns},
                                 {"uid", target.uid}}},
  };
}

EventRecorder::EventRecorder(kube::Client& client, std::string ns, std::string identity)
    : client_(client), ns_(std::move(ns)), identity_(std::move(identity)) {}

boost::asio::awaitable<bool> EventRecorder::record(EventTarget target, EventSpec spec) {
  static const log::Logger logger("events");
  if (target.ns.empty()) target.ns = ns_;
  const auto body = json::serialize(make_event(target, spec, identity_, std::chrono::system_clock::now()));
  const auto req = kube::Requests(kube::events_v1(), target.ns).create(body);
  try {
    co_await client_.call(req);
    co_return true;
  } catch (const kube::ApiError& e) {
    if (e.kind() == kube::ErrorKind::Cancelled) throw;
    ++failures_;
    logger.warn("cannot record an event", {{"workload", target.name}, {"reason", spec.reason}, {"error", e.what()}});
    co_return false;
  }
}

}  // namespace fdb::op

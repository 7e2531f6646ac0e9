// The fault table of the chaos soak; each maker draws its parameters in a fixed order, so a
// seed gives the same schedule.
#include "chaos/fault_schedule.hpp"

#include <fmt/format.h>

namespace fdb::chaos {

namespace json = boost::json;

namespace {

Fault api(std::string kind, json::object body) { return {std::move(kind), {FaultPost{false, std::move(body)}}}; }
Fault dispatch(std::string kind, json::object body) { return {std::move(kind), {FaultPost{true, std::move(body)}}}; }

Fault watch_drop(const Pick&) { return api("watch-drop", json::object{{"action", "dropWatches"}}); }

// Every watch resumes from an expired resourceVersion: 410, relist.
Fault history_expiry(const Pick&) {
  return {"history-expiry",
          {FaultPost{false, json::object{{"action", "expireHistory"}}}, FaultPost{false, json::object{{"action", "dropWatches"}}}}};
}

Fault api_status(const Pick& pick) {
  const int codes[] = {500, 503, 429};
  const int code = codes[pick(0, 2)];
  json::object f{{"path", "/apis"}, {"code", code}, {"count", pick(3, 15)}};
  if (code == 429) f["retryAfter"] = 1;
  return api(fmt::format("api-{}", code), std::move(f));
}

Fault api_latency(const Pick& pick) {
  return api("api-latency", json::object{{"path", "/api"}, {"latencyMs", pick(200, 800)}, {"count", pick(5, 20)}});
}

Fault dispatch_outage(const Pick& pick) {
  return dispatch("dispatch-outage",
                  json::object{{"path", "/api/"}, {"mode", "status"}, {"code", 503}, {"count", pick(5, 30)}});
}

Fault dispatch_garbage(const Pick& pick) {
  return dispatch("dispatch-garbage", json::object{{"path", "/api/agents/"}, {"mode", "garbage"}, {"count", pick(1, 5)}});
}

Fault dispatch_latency(const Pick& pick) {
  return dispatch("dispatch-latency", json::object{{"path", "/api/"},
                                                   {"mode", "latency"},
                                                   {"latencyMs", pick(200, 1500)},
                                                   {"count", pick(3, 10)}});
}

// New connections stall in connect (the listener accepts nothing) and idle ones are closed:
// renewals, creates and claims must connect, and hang.
Fault connect_stall(bool api_side, const Pick& pick) {
  return api(api_side ? "api-connect-stall" : "dispatch-connect-stall",
             json::object{{"action", "stallConnects"}, {"front", api_side ? "api" : "dispatch"}, {"ms", pick(1500, 3500)}});
}
Fault api_connect_stall(const Pick& pick) { return connect_stall(true, pick); }
Fault dispatch_connect_stall(const Pick& pick) { return connect_stall(false, pick); }

// Writes acted on, then the connection reset without an answer.
Fault api_reset_after_write(const Pick& pick) {
  const char* methods[] = {"POST", "PUT", "DELETE"};
  return api("api-reset-after-write", json::object{{"path", "/api"},
                                                   {"method", methods[pick(0, 2)]},
                                                   {"reset", true},
                                                   {"count", pick(1, 4)}});
}

// Half of them aimed at claims (the POSTs of reports, unclaims and parks would take most of
// the others, a status call's retries each taking one).
Fault dispatch_reset_after_write(const Pick& pick) {
  return dispatch("dispatch-reset-after-write",
                  json::object{{"path", pick(0, 1) == 0 ? "/api/issues/claim" : "/api/issues/"},
                               {"method", "POST"},
                               {"mode", "reset"},
                               {"count", pick(1, 4)}});
}

// Watches ended at once, with no event (a proxy that cuts them).
Fault watch_closed_at_once(const Pick& pick) {
  return api("watch-closed-at-once",
             json::object{{"path", "/api"}, {"watchOnly", true}, {"closeAtOnce", true}, {"count", pick(5, 30)}});
}

}  // namespace

const FaultSlot kFaultSchedule[kFaultSlots] = {
    {Gate::None, watch_drop},                  // 0
    {Gate::None, history_expiry},              // 1
    {Gate::None, api_status},                  // 2: 500, 503 or 429 (with Retry-After)
    {Gate::None, api_status},                  // 3
    {Gate::None, api_latency},                 // 4
    {Gate::None, dispatch_outage},             // 5
    {Gate::None, dispatch_garbage},            // 6
    {Gate::None, dispatch_latency},            // 7
    {Gate::Stall, api_connect_stall},          // 8
    {Gate::Stall, dispatch_connect_stall},     // 9
    {Gate::None, api_reset_after_write},       // 10
    {Gate::None, dispatch_reset_after_write},  // 11
    {Gate::None, watch_closed_at_once},        // 12
    {Gate::Kill, nullptr},                     // 13: the leader, killed with SIGKILL
    {Gate::Kill, nullptr},                     // 14
};

int FaultTally::total() const {
  int n = 0;
  for (const auto& [kind, count] : by_kind) n += count;
  return n;
}

}  // namespace fdb::chaos

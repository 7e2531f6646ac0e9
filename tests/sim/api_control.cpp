// kube-sim's control API under /_sim/ as a route table: the dispatch side's control, the
// records, API faults and fault actions, Foreman's rules, Workload churn.
#include "sim/api.hpp"
#include "sim/api_detail.hpp"

#include <boost/json.hpp>

namespace fdb::sim {
using namespace api_detail;

namespace {

int int_or(const json::object& b, const char* k, int def) {
  auto* x = b.if_contains(k);
  return x != nullptr && x->is_int64() ? static_cast<int>(x->as_int64()) : def;
}

bool bool_or(const json::object& b, const char* k, bool def) {
  const auto* x = b.if_contains(k);
  return x != nullptr && x->is_bool() ? x->get_bool() : def;
}

ApiFault fault_from(const json::object& b) {
  ApiFault f;
  f.path = str_at(b, {"path"});
  f.method = str_at(b, {"method"});
  f.code = int_or(b, "code", 0);
  f.count = int_or(b, "count", 1);
  f.retry_after = int_or(b, "retryAfter", -1);
  f.latency_ms = int_or(b, "latencyMs", 0);
  f.stall_ms = int_or(b, "stallMs", 0);
  f.watch_only = bool_or(b, "watchOnly", f.watch_only);
  f.reset = bool_or(b, "reset", f.reset);
  f.close_at_once = bool_or(b, "closeAtOnce", f.close_at_once);
  return f;
}

bool fault_is_valid(const ApiFault& f) {
  return !f.path.empty() && f.count != 0 && (f.code != 0 || f.latency_ms != 0 || f.stall_ms != 0 || f.reset || f.close_at_once) &&
         (f.code == 0 || (f.code >= 400 && f.code <= 599));
}

// One issue's rule: attempt ("1", "2", … or "*") -> outcome.
std::optional<std::map<int, Outcome>> issue_rule(const json::value& rule, const std::string& issue, std::string& error) {
  if (!rule.is_object()) {
    error = "issue rule must map attempt to outcome";
    return std::nullopt;
  }
  std::map<int, Outcome> m;
  for (const auto& [att, out] : rule.as_object()) {
    auto o = out.is_string() ? parse_outcome(std::string(out.as_string())) : std::nullopt;
    int a = att == "*" ? 0 : std::atoi(std::string(att).c_str());
    if (!o || (a <= 0 && att != "*")) {
      error = "bad rule for " + issue + ": attempt " + std::string(att);
      return std::nullopt;
    }
    m[a] = *o;
  }
  return m;
}

}  // namespace

struct Api::ControlRoute {
  const char* method;  // nullptr: any
  const char* path;
  bool prefix;  // `path` is a prefix
  Answer (Api::*fn)(const Request&, const json::object& body, Clock::time_point now);
};

Answer Api::control(const Request& req, Clock::time_point now) {
  // Routes without a body first; the rest read a JSON object body (400 before any 404).
  static const ControlRoute plain[] = {
      {nullptr, "/_sim/dispatch/", true, &Api::control_dispatch},
      {"GET", "/_sim/records", false, &Api::control_records},
      {"DELETE", "/_sim/faults", false, &Api::control_clear_faults},
  };
  static const ControlRoute with_body[] = {
      {"POST", "/_sim/faults", false, &Api::control_faults},
      {"POST", "/_sim/foreman", false, &Api::control_foreman},
      {"POST", "/_sim/churn", false, &Api::control_churn},
  };
  auto matches = [&](const ControlRoute& r) {
    return (r.method == nullptr || req.method == r.method) && (r.prefix ? req.path.rfind(r.path, 0) == 0 : req.path == r.path);
  };
  static const json::object none;
  for (const auto& r : plain)
    if (matches(r)) return (this->*r.fn)(req, none, now);
  boost::system::error_code ec;
  json::value v = json::parse(req.body.empty() ? std::string("{}") : req.body, ec);
  if (ec || !v.is_object()) return json_answer(400, json::object{{"error", "body must be a JSON object"}});
  for (const auto& r : with_body)
    if (matches(r)) return (this->*r.fn)(req, v.as_object(), now);
  return json_answer(404, json::object{{"error", "no control route " + req.method + " " + req.path}});
}

Answer Api::control_dispatch(const Request& req, const json::object&, Clock::time_point) {
  if (dispatch_ == nullptr) return json_answer(404, json::object{{"error", "dispatch is not enabled (--dispatch-listen)"}});
  Answer a;
  a.http = dispatch_->control(req.method, req.path, req.body);
  return a;
}

Answer Api::control_records(const Request&, const json::object&, Clock::time_point) {
  json::array wl;
  for (const auto& r : records_)
    wl.push_back(json::object{{"op", r.op},         {"namespace", r.ns}, {"name", r.name},
                              {"uid", r.uid},       {"attempt", r.attempt}, {"resourceVersion", std::to_string(r.rv)},
                              {"time", r.time},     {"liveExisted", r.live_existed}, {"terminating", r.terminating},
                              {"phase", r.phase}});
  json::object counters;
  for (const auto& [k, v] : counters_) counters[k] = v;
  return json_answer(200, json::object{{"workloads", wl},
                                       {"requests", counters},
                                       {"resourceVersion", std::to_string(store_.resource_version())},
                                       {"compactedResourceVersion", std::to_string(store_.compacted())},
                                       {"foremanActive", static_cast<std::int64_t>(foreman_.active())}});
}

Answer Api::control_clear_faults(const Request&, const json::object&, Clock::time_point) {
  faults_.clear();
  return json_answer(200, json::object{{"cleared", true}});
}

// POST /_sim/faults: an action (dropWatches, expireHistory, stallConnects) or a fault to add.
Answer Api::control_faults(const Request&, const json::object& b, Clock::time_point) {
  std::string action = str_at(b, {"action"});
  if (action == "dropWatches") {
    Answer a = json_answer(200, json::object{{"done", "dropWatches"}});
    a.drop_watches = true;
    return a;
  }
  if (action == "expireHistory") {
    store_.expire_history();
    return json_answer(200, json::object{{"done", "expireHistory"}, {"compactedResourceVersion", std::to_string(store_.compacted())}});
  }
  if (action == "stallConnects") {
    Answer a = json_answer(200, json::object{{"done", "stallConnects"}});
    a.stall_connects_ms = int_or(b, "ms", 0);
    a.stall_front = str_at(b, {"front"});
    if (a.stall_connects_ms <= 0 || (a.stall_front != "api" && a.stall_front != "dispatch"))
      return json_answer(400, json::object{{"error", "stallConnects needs ms > 0 and front api or dispatch"}});
    return a;
  }
  if (!action.empty()) return json_answer(400, json::object{{"error", "unknown action: " + action}});
  ApiFault f = fault_from(b);
  if (!fault_is_valid(f))
    return json_answer(400, json::object{{"error", "a fault needs path, count != 0, and code (400-599), latencyMs, "
                                                   "stallMs, reset or closeAtOnce"}});
  faults_.push_back(f);
  return json_answer(200, json::object{{"faults", static_cast<std::int64_t>(faults_.size())}});
}

Answer Api::control_foreman(const Request&, const json::object& b, Clock::time_point) {
  auto& rules = foreman_.rules();
  if (auto* x = b.if_contains("failRate"); x != nullptr && x->is_number()) rules.fail_rate = x->to_number<double>();
  if (auto* x = b.if_contains("stepMs"); x != nullptr && x->is_int64()) rules.step = std::chrono::milliseconds(x->as_int64());
  if (auto* x = b.if_contains("issues"); x != nullptr && x->is_object()) {
    for (const auto& [issue, rule] : x->as_object()) {
      std::string error;
      auto m = issue_rule(rule, std::string(issue), error);
      if (!m) return json_answer(400, json::object{{"error", error}});
      rules.issues[std::string(issue)] = std::move(*m);
    }
  }
  return json_answer(200, json::object{{"failRate", rules.fail_rate},
                                       {"stepMs", static_cast<std::int64_t>(rules.step.count())},
                                       {"issues", static_cast<std::int64_t>(rules.issues.size())}});
}

// Touches `count` Workloads (an annotation merge patch each, cycling through them): a burst
// of MODIFIED events for watch throughput tests and benchmarks.
Answer Api::control_churn(const Request&, const json::object& b, Clock::time_point now) {
  int count = int_or(b, "count", 0);
  if (count <= 0) return json_answer(400, json::object{{"error", "churn needs a positive count"}});
  auto all = store_.all(workloads());
  if (all.empty()) return json_answer(409, json::object{{"error", "no workloads to churn"}});
  for (int k = 0; k < count; ++k) {
    const auto& o = all[static_cast<std::size_t>(k) % all.size()];
    auto r = store_.patch(workloads(), o.meta.ns, o.meta.name, "application/merge-patch+json",
                          R"({"metadata":{"annotations":{"sim.llmkube.dev/churn":")" + std::to_string(store_.resource_version()) + "\"}}}", false,
                          now);
    if (!r) return error_answer(*r.error);
  }
  return json_answer(200, json::object{{"modified", count}, {"resourceVersion", std::to_string(store_.resource_version())}});
}

}  // namespace fdb::sim

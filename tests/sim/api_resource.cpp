// The Kubernetes resource paths as a route table: collection or object, method -> one
// handler each (list or watch, create, get, replace, patch, delete). Pure: the store does the
// work; the answer carries a watch to start when there is one.
#include "sim/api.hpp"
#include "sim/api_detail.hpp"
#include "sim/events.hpp"

#include <boost/json.hpp>

#include <variant>

namespace fdb::sim {
using namespace api_detail;

struct Api::ResourceCall {
  const Request& req;
  const ResourceInfo& r;
  const std::optional<std::string>& ns;
  std::string nsv;  // ns, or "" for all namespaces / a cluster-scoped resource
  std::string name;
  bool status = false;  // the /status subresource
  Clock::time_point now;
};

namespace {

Answer object_answer(int code, const Object& o) {
  Answer a;
  a.http.status = code;
  a.http.body = *o.json;
  return a;
}

std::optional<ApiError> parse_body(const Request& req, json::object& out) {
  boost::system::error_code ec;
  json::value v = json::parse(req.body, ec);
  if (ec || !v.is_object()) return ApiError{400, "BadRequest", "the body of the request could not be decoded as a JSON object", {}};
  out = std::move(v.as_object());
  return std::nullopt;
}

Answer not_allowed() {
  return error_answer(ApiError{405, "MethodNotAllowed", "the server does not allow this method on the requested resource", {}});
}

// ?watch=true: where the stream starts, bookmarks, the initial-events bookmark, the timeout.
std::variant<WatchSpec, ApiError> watch_spec(const Request& req, Filter f) {
  WatchSpec w;
  w.filter = std::move(f);
  std::string rv = qv(req, "resourceVersion");
  bool send_initial = parse_bool(qv(req, "sendInitialEvents"));
  if (send_initial && qv(req, "resourceVersionMatch") != "NotOlderThan")
    return ApiError{422, "Invalid",
                    "ListOptions.meta.k8s.io \"\" is invalid: resourceVersionMatch: Forbidden: "
                    "sendInitialEvents requires setting resourceVersionMatch to NotOlderThan",
                    {}};
  if (!rv.empty() && rv != "0" && !send_initial) {
    char* end = nullptr;
    unsigned long long v = std::strtoull(rv.c_str(), &end, 10);
    if (end == rv.c_str() || *end != '\0') return ApiError{400, "BadRequest", "invalid resource version: " + rv, {}};
    w.from_rv = v;
  }
  w.bookmarks = parse_bool(qv(req, "allowWatchBookmarks"));
  w.initial_events_end = send_initial;
  std::string to = qv(req, "timeoutSeconds");
  w.timeout_s = to.empty() ? 0 : std::atoi(to.c_str());
  return w;
}

}  // namespace

struct Api::ResourceRoute {
  bool collection;
  const char* method;
  Answer (Api::*fn)(const ResourceCall&);
};

Answer Api::resource(const Request& req, const ResourceInfo& r, const std::optional<std::string>& ns,
                     const std::string& name, const std::string& sub, Clock::time_point now) {
  static const ResourceRoute routes[] = {
      {true, "GET", &Api::list_or_watch},     {true, "POST", &Api::create_object},
      {true, "DELETE", &Api::delete_collection}, {false, "GET", &Api::get_object},
      {false, "PUT", &Api::replace_object},   {false, "PATCH", &Api::patch_object},
      {false, "DELETE", &Api::delete_object},
  };
  const ResourceCall call{req, r, ns, ns.value_or(""), name, sub == "status", now};
  const bool collection = name.empty();
  if (!collection && !ns && r.namespaced) return not_found_answer();
  for (const auto& route : routes)
    if (route.collection == collection && req.method == route.method) return (this->*route.fn)(call);
  return not_allowed();
}

Answer Api::list_or_watch(const ResourceCall& c) {
  Filter f;
  f.res = &c.r;
  f.ns = c.ns;
  try {
    f.labels = fdb::kube::LabelSelector::parse(qv(c.req, "labelSelector"));
    f.fields = FieldSelector::parse(qv(c.req, "fieldSelector"), &c.r);
  } catch (const fdb::kube::SelectorError& e) {
    return error_answer(ApiError{400, "BadRequest", std::string("unable to parse requirement: ") + e.what(), {}});
  } catch (const ApiError& e) {
    return error_answer(e);
  }
  if (parse_bool(qv(c.req, "watch"))) {
    auto w = watch_spec(c.req, std::move(f));
    if (auto* e = std::get_if<ApiError>(&w)) return error_answer(*e);
    Answer a;
    a.watch = std::move(std::get<WatchSpec>(w));
    return a;
  }
  ListOptions lo;
  std::string limit = qv(c.req, "limit");
  lo.limit = limit.empty() ? 0 : std::atoll(limit.c_str());
  lo.continue_token = qv(c.req, "continue");
  auto l = store_.list(f, lo);
  if (l.error) return error_answer(*l.error);
  Answer a;
  a.http.body = std::move(l.body);
  return a;
}

Answer Api::create_object(const ResourceCall& c) {
  if (!c.ns && c.r.namespaced) return not_found_answer();
  json::object body;
  if (auto e = parse_body(c.req, body)) return error_answer(*e);
  std::string attempt = str_at(body, {"metadata", "annotations", "foreman.llmkube.dev/attempt"});
  std::string wanted = str_at(body, {"metadata", "name"});
  const bool event = c.r.resource == "events";
  json::object mirror = event ? (c.r.group.empty() ? events_v1_event_of(body) : core_event_of(body)) : json::object();
  auto res = store_.create(c.r, c.nsv, std::move(body), c.now);
  if (res && event) {
    // One Event, read through both groups (sim/events.hpp); the mirror gets the name
    // the store gave the original (generateName).
    json::object meta = mirror["metadata"].as_object();
    meta["name"] = res.object.meta.name;
    mirror["metadata"] = std::move(meta);
    const ResourceInfo* other = find_resource(c.r.group.empty() ? "events.k8s.io" : "", "v1", "events");
    auto m = store_.create(*other, c.nsv, std::move(mirror), c.now);
    if (!m && m.error->reason != "AlreadyExists")
      return error_answer(ApiError{500, "InternalError", "kube-sim: mirroring the Event: " + m.error->message, {}});
  }
  if (!res && &c.r == &workloads() && res.error->reason == "AlreadyExists") record_create_conflict(c, wanted, attempt);
  if (!res) return error_answer(*res.error);
  return object_answer(201, res.object);
}

// A refused create of a name that is live (possibly terminating), for invariant checks.
void Api::record_create_conflict(const ResourceCall& c, const std::string& name, const std::string& attempt) {
  auto cur = store_.get(c.r, c.nsv, name);
  WorkloadRecord rec;
  rec.op = "create-conflict";
  rec.ns = c.nsv;
  rec.name = name;
  rec.uid = cur ? cur.object.meta.uid : "";
  rec.attempt = attempt;
  rec.rv = store_.resource_version();
  rec.time = format_time(c.now);
  rec.live_existed = true;
  rec.terminating = cur && cur.object.meta.deleting;
  records_.push_back(std::move(rec));
}

Answer Api::delete_collection(const ResourceCall&) {
  return error_answer(ApiError{405, "MethodNotAllowed", "deletecollection is not supported by kube-sim", {}});
}

Answer Api::get_object(const ResourceCall& c) {
  auto res = store_.get(c.r, c.nsv, c.name);
  if (!res) return error_answer(*res.error);
  return object_answer(200, res.object);
}

Answer Api::replace_object(const ResourceCall& c) {
  json::object body;
  if (auto e = parse_body(c.req, body)) return error_answer(*e);
  auto res = store_.update(c.r, c.nsv, c.name, std::move(body), c.status, c.now);
  if (!res) return error_answer(*res.error);
  return object_answer(200, res.object);
}

Answer Api::patch_object(const ResourceCall& c) {
  auto res = store_.patch(c.r, c.nsv, c.name, c.req.content_type, c.req.body, c.status, c.now);
  if (!res) return error_answer(*res.error);
  return object_answer(200, res.object);
}

Answer Api::delete_object(const ResourceCall& c) {
  if (c.status) return not_allowed();
  DeleteOptions o;
  o.propagation = qv(c.req, "propagationPolicy");
  if (!c.req.body.empty()) {
    json::object body;
    if (auto e = parse_body(c.req, body)) return error_answer(*e);
    if (auto* p = body.if_contains("propagationPolicy"); p != nullptr && p->is_string()) o.propagation = p->as_string();
    if (auto* oo = body.if_contains("orphanDependents"); oo != nullptr && oo->is_bool() && o.propagation.empty())
      o.propagation = oo->as_bool() ? "Orphan" : "Background";
    if (auto* pre = body.if_contains("preconditions"); pre != nullptr && pre->is_object()) {
      if (auto* u = pre->as_object().if_contains("uid"); u != nullptr && u->is_string()) o.uid = std::string(u->as_string());
      if (auto* v = pre->as_object().if_contains("resourceVersion"); v != nullptr && v->is_string())
        o.resource_version = std::string(v->as_string());
    }
  }
  auto res = store_.remove(c.r, c.nsv, c.name, o, c.now);
  if (!res) return error_answer(*res.error);
  return object_answer(200, res.object);
}

}  // namespace fdb::sim

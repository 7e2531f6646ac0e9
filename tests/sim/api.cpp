#include "sim/api.hpp"
#include "sim/events.hpp"

#include <boost/json.hpp>

#include <fmt/format.h>

#include <set>

namespace fdb::sim {
namespace json = boost::json;

Answer error_answer(const ApiError& e) {
  Answer a;
  a.http.status = e.code;
  a.http.body = status_json(e);
  return a;
}

namespace {
Answer json_answer(int code, const json::value& v) {
  Answer a;
  a.http.status = code;
  a.http.body = json::serialize(v);
  return a;
}
std::vector<std::string> split_path(const std::string& p) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  while (pos < p.size()) {
    auto n = p.find('/', pos);
    if (n == std::string::npos) n = p.size();
    if (n > pos) out.push_back(p.substr(pos, n - pos));
    pos = n + 1;
  }
  return out;
}
// Go's strconv.ParseBool, as the real server parses boolean query parameters.
bool parse_bool(const std::string& v) {
  return v == "1" || v == "t" || v == "T" || v == "true" || v == "TRUE" || v == "True";
}
std::string qv(const Request& r, const char* k) {
  auto it = r.query.find(k);
  return it == r.query.end() ? std::string() : it->second;
}
std::string str_at(const json::object& o, std::initializer_list<const char*> path) {
  const json::value* v = nullptr;
  const json::object* cur = &o;
  for (const char* k : path) {
    if (cur == nullptr) return {};
    v = cur->if_contains(k);
    if (v == nullptr) return {};
    cur = v->is_object() ? &v->as_object() : nullptr;
  }
  return v != nullptr && v->is_string() ? std::string(v->as_string()) : std::string();
}
}  // namespace

std::string url_decode(std::string_view s, bool plus_is_space) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '+' && plus_is_space) {
      out += ' ';
    } else if (c == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) != 0 &&
               std::isxdigit(static_cast<unsigned char>(s[i + 2])) != 0) {
      out += static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else {
      out += c;
    }
  }
  return out;
}

std::map<std::string, std::string> parse_query(std::string_view q) {
  std::map<std::string, std::string> out;
  std::size_t pos = 0;
  while (pos < q.size()) {
    auto amp = q.find('&', pos);
    if (amp == std::string_view::npos) amp = q.size();
    auto part = q.substr(pos, amp - pos);
    auto eq = part.find('=');
    if (!part.empty())
      out[url_decode(part.substr(0, eq), true)] = eq == std::string_view::npos ? "" : url_decode(part.substr(eq + 1), true);
    pos = amp + 1;
  }
  return out;
}

Api::Api(Store& store, Foreman& foreman, Dispatch* dispatch, Options opts)
    : store_(store), foreman_(foreman), dispatch_(dispatch), opts_(std::move(opts)) {}

void Api::observe(const Event& ev, Clock::time_point now) {
  if (ev.res != &workloads() || (ev.type != "ADDED" && ev.type != "DELETED")) return;
  std::string key = ev.meta.ns + "/" + ev.meta.name;
  WorkloadRecord rec;
  rec.op = ev.type == "ADDED" ? "create" : "delete";
  rec.ns = ev.meta.ns;
  rec.name = ev.meta.name;
  rec.uid = ev.meta.uid;
  rec.rv = ev.rv;
  rec.time = format_time(now);
  json::object o = json::parse(*ev.object).as_object();
  rec.attempt = str_at(o, {"metadata", "annotations", "foreman.llmkube.dev/attempt"});
  rec.phase = str_at(o, {"status", "phase"});
  if (ev.type == "ADDED") {
    rec.live_existed = live_uid_.count(key) != 0;
    live_uid_[key] = ev.meta.uid;
  } else {
    live_uid_.erase(key);
  }
  records_.push_back(std::move(rec));
}

namespace {
// OpenAPI v3: a root listing each group version, and per group version the paths with the
// query parameters kubectl checks (fieldValidation) so that it uses server-side validation.
Answer openapi_v3(const std::string& path) {
  std::map<std::string, std::vector<const ResourceInfo*>> gvs;
  for (const auto& r : served_resources())
    gvs[r.group.empty() ? "api/" + r.version : "apis/" + r.group + "/" + r.version].push_back(&r);
  if (path == "/openapi/v3") {
    json::object paths;
    for (const auto& [gv, rs] : gvs)
      paths[gv] = json::object{{"serverRelativeURL", "/openapi/v3/" + gv + "?hash=0000000000000000"}};
    return json_answer(200, json::object{{"paths", paths}});
  }
  std::string gv = path.substr(std::string("/openapi/v3/").size());
  auto it = gvs.find(gv);
  if (it == gvs.end()) return error_answer(ApiError{404, "NotFound", "the server could not find the requested resource", {}});
  json::object paths;
  for (const ResourceInfo* r : it->second) {
    json::object gvk{{"group", r->group}, {"version", r->version}, {"kind", r->kind}};
    auto param = [](const char* name) { return json::object{{"name", name}, {"in", "query"}, {"schema", json::object{{"type", "string"}}}}; };
    json::array params{param("dryRun"), param("fieldManager"), param("fieldValidation")};
    auto op = [&](const char* verb) {
      return json::object{{"operationId", std::string(verb) + r->kind},
                          {"parameters", params},
                          {"responses", json::object{{"200", json::object{{"description", "OK"}}}}},
                          {"x-kubernetes-action", verb},
                          {"x-kubernetes-group-version-kind", gvk}};
    };
    std::string base = "/" + gv + "/namespaces/{namespace}/" + r->resource;
    paths[base] = json::object{{"post", op("post")}, {"get", op("list")}};
    paths[base + "/{name}"] = json::object{{"put", op("put")}, {"patch", op("patch")}, {"get", op("get")}, {"delete", op("delete")}};
    if (r->status_subresource)
      paths[base + "/{name}/status"] = json::object{{"put", op("put")}, {"patch", op("patch")}};
  }
  return json_answer(200, json::object{{"openapi", "3.0.0"},
                                       {"info", json::object{{"title", "Kubernetes"}, {"version", "v1.32.0"}}},
                                       {"paths", paths},
                                       {"components", json::object{{"schemas", json::object{}}}}});
}
}  // namespace

Answer Api::discovery(const std::string& path) const {
  if (path == "/version")
    return json_answer(200, json::object{{"major", "1"},
                                         {"minor", "32"},
                                         {"gitVersion", "v1.32.0-kube-sim"},
                                         {"gitCommit", "0000000000000000000000000000000000000000"},
                                         {"gitTreeState", "clean"},
                                         {"buildDate", "2026-01-01T00:00:00Z"},
                                         {"goVersion", "go1.23.0"},
                                         {"compiler", "gc"},
                                         {"platform", "linux/amd64"}});
  if (path == "/api")
    return json_answer(200, json::object{{"kind", "APIVersions"},
                                         {"versions", json::array{"v1"}},
                                         {"serverAddressByClientCIDRs",
                                          json::array{json::object{{"clientCIDR", "0.0.0.0/0"}, {"serverAddress", opts_.host}}}}});
  if (path == "/openapi/v3" || path.rfind("/openapi/v3/", 0) == 0) return openapi_v3(path);
  std::map<std::string, std::vector<std::string>> groups;  // ordered, versions
  for (const auto& r : served_resources())
    if (!r.group.empty()) {
      auto& v = groups[r.group];
      if (std::find(v.begin(), v.end(), r.version) == v.end()) v.push_back(r.version);
    }
  auto group_json = [](const std::string& g, const std::vector<std::string>& vs) {
    json::array versions;
    for (const auto& v : vs) versions.push_back(json::object{{"groupVersion", g + "/" + v}, {"version", v}});
    return json::object{{"name", g}, {"versions", versions}, {"preferredVersion", versions.front()}};
  };
  if (path == "/apis") {
    json::array arr;
    for (const auto& [g, vs] : groups) arr.push_back(group_json(g, vs));
    return json_answer(200, json::object{{"kind", "APIGroupList"}, {"apiVersion", "v1"}, {"groups", arr}});
  }
  auto parts = split_path(path);
  if (parts.size() == 2 && parts[0] == "apis" && groups.count(parts[1])) {
    json::object g = group_json(parts[1], groups[parts[1]]);
    g["kind"] = "APIGroup";
    g["apiVersion"] = "v1";
    return json_answer(200, g);
  }
  std::string group, version;
  if (parts.size() == 2 && parts[0] == "api") version = parts[1];
  else if (parts.size() == 3 && parts[0] == "apis") group = parts[1], version = parts[2];
  json::array resources;
  for (const auto& r : served_resources()) {
    if (r.group != group || r.version != version) continue;
    json::array shorts;
    for (const auto& s : r.short_names) shorts.push_back(json::value(s));
    json::object o{{"name", r.resource},
                   {"singularName", r.singular},
                   {"namespaced", r.namespaced},
                   {"kind", r.kind},
                   {"verbs", json::array{"create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"}}};
    if (!shorts.empty()) o["shortNames"] = shorts;
    if (r.custom) o["categories"] = json::array{"all"};
    resources.push_back(o);
    if (r.status_subresource)
      resources.push_back(json::object{{"name", r.resource + "/status"},
                                       {"singularName", ""},
                                       {"namespaced", r.namespaced},
                                       {"kind", r.kind},
                                       {"verbs", json::array{"get", "patch", "update"}}});
  }
  if (resources.empty() || version.empty())
    return error_answer(ApiError{404, "NotFound", "the server could not find the requested resource", {}});
  return json_answer(200, json::object{{"kind", "APIResourceList"},
                                       {"apiVersion", "v1"},
                                       {"groupVersion", group.empty() ? version : group + "/" + version},
                                       {"resources", resources}});
}

Answer Api::handle(const Request& req, Clock::time_point now) {
  if (req.path.rfind("/_sim/", 0) == 0) return control(req, now);
  if (!opts_.token.empty() && req.authorization != "Bearer " + opts_.token)
    return error_answer(ApiError{401, "Unauthorized", "Unauthorized", {}});
  // Faults, applied after the request is counted.
  int latency = 0, stall = 0;
  bool reset = false, close_at_once = false;
  auto fault = [&]() -> std::optional<Answer> {
  for (auto it = faults_.begin(); it != faults_.end();) {
    const bool watching = parse_bool(qv(req, "watch"));
    if (req.path.rfind(it->path, 0) != 0 || (!it->method.empty() && it->method != req.method) ||
        (it->watch_only && !watching)) {
      ++it;
      continue;
    }
    ApiFault f = *it;
    if (it->count > 0 && --it->count == 0) it = faults_.erase(it);
    else ++it;
    latency += f.latency_ms;
    stall = std::max(stall, f.stall_ms);
    reset = reset || f.reset;
    close_at_once = close_at_once || f.close_at_once;
    if (f.code != 0) {
      std::string reason = f.code == 429 ? "TooManyRequests" : f.code == 503 ? "ServiceUnavailable" : "InternalError";
      ApiError e{f.code, reason, fmt::format("injected fault: {} {}", f.code, reason), {}};
      if (f.retry_after >= 0) e.details = json::object{{"retryAfterSeconds", f.retry_after}};
      Answer a = error_answer(e);
      if (f.retry_after >= 0) a.http.headers["Retry-After"] = std::to_string(f.retry_after);
      a.http.delay_ms = latency;
      return std::optional<Answer>(std::move(a));
    }
  }
    return std::nullopt;
  };
  auto finish = [&](Answer a) {
    a.http.delay_ms += latency;
    a.stall_ms = stall;
    if (a.watch) a.watch->end_at_once = close_at_once;
    else a.http.reset = reset;
    return a;
  };
  auto parts = split_path(req.path);
  // /api/v1/... or /apis/g/v/...
  std::string group, version;
  std::size_t i = 0;
  if (parts.size() >= 3 && parts[0] == "api") version = parts[1], i = 2;
  else if (parts.size() >= 4 && parts[0] == "apis") group = parts[1], version = parts[2], i = 3;
  else if (auto fa = fault()) return *fa;
  else if (req.method == "GET") return finish(discovery(req.path));
  else return finish(error_answer(ApiError{404, "NotFound", "the server could not find the requested resource", {}}));
  std::optional<std::string> ns;
  if (parts.size() >= i + 3 && parts[i] == "namespaces") {
    ns = parts[i + 1];
    i += 2;
  }
  const ResourceInfo* r = find_resource(group, version, parts[i]);
  if (r == nullptr || parts.size() > i + 3)
    return finish(error_answer(ApiError{404, "NotFound", "the server could not find the requested resource", {}}));
  std::string name = parts.size() > i + 1 ? parts[i + 1] : "";
  std::string sub = parts.size() > i + 2 ? parts[i + 2] : "";
  if (!sub.empty() && (sub != "status" || !r->status_subresource))
    return finish(error_answer(ApiError{404, "NotFound", "the server could not find the requested resource", {}}));
  counters_[req.method + " " + r->resource + (sub.empty() ? "" : "/" + sub)]++;
  if (auto fa = fault()) return *fa;
  return finish(resource(req, *r, ns, name, sub, now));
}

Answer Api::resource(const Request& req, const ResourceInfo& r, const std::optional<std::string>& ns,
                     const std::string& name, const std::string& sub, Clock::time_point now) {
  const std::string nsv = ns.value_or("");
  auto object_answer = [](int code, const Object& o) {
    Answer a;
    a.http.status = code;
    a.http.body = *o.json;
    return a;
  };
  auto parse_body = [&](json::object& out) -> std::optional<ApiError> {
    boost::system::error_code ec;
    json::value v = json::parse(req.body, ec);
    if (ec || !v.is_object())
      return ApiError{400, "BadRequest", "the body of the request could not be decoded as a JSON object", {}};
    out = std::move(v.as_object());
    return std::nullopt;
  };
  if (name.empty()) {
    if (req.method == "GET") {
      Filter f;
      f.res = &r;
      f.ns = ns;
      try {
        f.labels = fdb::kube::LabelSelector::parse(qv(req, "labelSelector"));
        f.fields = FieldSelector::parse(qv(req, "fieldSelector"), &r);
      } catch (const fdb::kube::SelectorError& e) {
        return error_answer(ApiError{400, "BadRequest", std::string("unable to parse requirement: ") + e.what(), {}});
      } catch (const ApiError& e) {
        return error_answer(e);
      }
      if (parse_bool(qv(req, "watch"))) {
        WatchSpec w;
        w.filter = std::move(f);
        std::string rv = qv(req, "resourceVersion");
        bool send_initial = parse_bool(qv(req, "sendInitialEvents"));
        if (send_initial && qv(req, "resourceVersionMatch") != "NotOlderThan")
          return error_answer(ApiError{422, "Invalid",
                                       "ListOptions.meta.k8s.io \"\" is invalid: resourceVersionMatch: Forbidden: "
                                       "sendInitialEvents requires setting resourceVersionMatch to NotOlderThan",
                                       {}});
        if (!rv.empty() && rv != "0" && !send_initial) {
          char* end = nullptr;
          unsigned long long v = std::strtoull(rv.c_str(), &end, 10);
          if (end == rv.c_str() || *end != '\0')
            return error_answer(ApiError{400, "BadRequest", "invalid resource version: " + rv, {}});
          w.from_rv = v;
        }
        w.bookmarks = parse_bool(qv(req, "allowWatchBookmarks"));
        w.initial_events_end = send_initial;
        std::string to = qv(req, "timeoutSeconds");
        w.timeout_s = to.empty() ? 0 : std::atoi(to.c_str());
        Answer a;
        a.watch = std::move(w);
        return a;
      }
      ListOptions lo;
      std::string limit = qv(req, "limit");
      lo.limit = limit.empty() ? 0 : std::atoll(limit.c_str());
      lo.continue_token = qv(req, "continue");
      auto l = store_.list(f, lo);
      if (l.error) return error_answer(*l.error);
      Answer a;
      a.http.body = std::move(l.body);
      return a;
    }
    if (req.method == "POST") {
      if (!ns && r.namespaced)
        return error_answer(ApiError{404, "NotFound", "the server could not find the requested resource", {}});
      json::object body;
      if (auto e = parse_body(body)) return error_answer(*e);
      std::string attempt = str_at(body, {"metadata", "annotations", "foreman.llmkube.dev/attempt"});
      std::string wanted = str_at(body, {"metadata", "name"});
      const bool event = r.resource == "events";
      json::object mirror = event ? (r.group.empty() ? events_v1_event_of(body) : core_event_of(body)) : json::object();
      auto res = store_.create(r, nsv, std::move(body), now);
      if (res && event) {
        // One Event, read through both groups (sim/events.hpp); the mirror gets the name
        // the store gave the original (generateName).
        json::object meta = mirror["metadata"].as_object();
        meta["name"] = res.object.meta.name;
        mirror["metadata"] = std::move(meta);
        const ResourceInfo* other = find_resource(r.group.empty() ? "events.k8s.io" : "", "v1", "events");
        auto m = store_.create(*other, nsv, std::move(mirror), now);
        if (!m && m.error->reason != "AlreadyExists")
          return error_answer(ApiError{500, "InternalError", "kube-sim: mirroring the Event: " + m.error->message, {}});
      }
      if (!res && &r == &workloads() && res.error->reason == "AlreadyExists") {
        // A refused create of a name that is live (possibly terminating), for invariant checks.
        auto cur = store_.get(r, nsv, wanted);
        WorkloadRecord rec;
        rec.op = "create-conflict";
        rec.ns = nsv;
        rec.name = wanted;
        rec.uid = cur ? cur.object.meta.uid : "";
        rec.attempt = attempt;
        rec.rv = store_.resource_version();
        rec.time = format_time(now);
        rec.live_existed = true;
        rec.terminating = cur && cur.object.meta.deleting;
        records_.push_back(std::move(rec));
      }
      if (!res) return error_answer(*res.error);
      return object_answer(201, res.object);
    }
    if (req.method == "DELETE") {
      return error_answer(ApiError{405, "MethodNotAllowed", "deletecollection is not supported by kube-sim", {}});
    }
    return error_answer(ApiError{405, "MethodNotAllowed", "the server does not allow this method on the requested resource", {}});
  }
  if (!ns && r.namespaced)
    return error_answer(ApiError{404, "NotFound", "the server could not find the requested resource", {}});
  bool status = sub == "status";
  if (req.method == "GET") {
    auto res = store_.get(r, nsv, name);
    if (!res) return error_answer(*res.error);
    return object_answer(200, res.object);
  }
  if (req.method == "PUT") {
    json::object body;
    if (auto e = parse_body(body)) return error_answer(*e);
    auto res = store_.update(r, nsv, name, std::move(body), status, now);
    if (!res) return error_answer(*res.error);
    return object_answer(200, res.object);
  }
  if (req.method == "PATCH") {
    auto res = store_.patch(r, nsv, name, req.content_type, req.body, status, now);
    if (!res) return error_answer(*res.error);
    return object_answer(200, res.object);
  }
  if (req.method == "DELETE" && !status) {
    DeleteOptions o;
    o.propagation = qv(req, "propagationPolicy");
    if (!req.body.empty()) {
      json::object body;
      if (auto e = parse_body(body)) return error_answer(*e);
      if (auto* p = body.if_contains("propagationPolicy"); p != nullptr && p->is_string()) o.propagation = p->as_string();
      if (auto* oo = body.if_contains("orphanDependents"); oo != nullptr && oo->is_bool() && o.propagation.empty())
        o.propagation = oo->as_bool() ? "Orphan" : "Background";
      if (auto* pre = body.if_contains("preconditions"); pre != nullptr && pre->is_object()) {
        if (auto* u = pre->as_object().if_contains("uid"); u != nullptr && u->is_string()) o.uid = std::string(u->as_string());
        if (auto* v = pre->as_object().if_contains("resourceVersion"); v != nullptr && v->is_string())
          o.resource_version = std::string(v->as_string());
      }
    }
    auto res = store_.remove(r, nsv, name, o, now);
    if (!res) return error_answer(*res.error);
    return object_answer(200, res.object);
  }
  return error_answer(ApiError{405, "MethodNotAllowed", "the server does not allow this method on the requested resource", {}});
}

Answer Api::control(const Request& req, Clock::time_point now) {
  if (req.path.rfind("/_sim/dispatch/", 0) == 0) {
    if (dispatch_ == nullptr) return json_answer(404, json::object{{"error", "dispatch is not enabled (--dispatch-listen)"}});
    Answer a;
    a.http = dispatch_->control(req.method, req.path, req.body);
    return a;
  }
  if (req.method == "GET" && req.path == "/_sim/records") {
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
  if (req.method == "DELETE" && req.path == "/_sim/faults") {
    faults_.clear();
    return json_answer(200, json::object{{"cleared", true}});
  }
  boost::system::error_code ec;
  json::value v = json::parse(req.body.empty() ? std::string("{}") : req.body, ec);
  if (ec || !v.is_object()) return json_answer(400, json::object{{"error", "body must be a JSON object"}});
  const auto& b = v.as_object();
  auto num = [&](const char* k, int def) {
    auto* x = b.if_contains(k);
    return x != nullptr && x->is_int64() ? static_cast<int>(x->as_int64()) : def;
  };
  if (req.method == "POST" && req.path == "/_sim/faults") {
    std::string action = str_at(b, {"action"});
    if (action == "dropWatches") {
      Answer a = json_answer(200, json::object{{"done", "dropWatches"}});
      a.drop_watches = true;
      return a;
    }
    if (action == "expireHistory") {
      store_.expire_history();
      return json_answer(200, json::object{{"done", "expireHistory"},
                                           {"compactedResourceVersion", std::to_string(store_.compacted())}});
    }
    if (action == "stallConnects") {
      Answer a = json_answer(200, json::object{{"done", "stallConnects"}});
      a.stall_connects_ms = num("ms", 0);
      a.stall_front = str_at(b, {"front"});
      if (a.stall_connects_ms <= 0 || (a.stall_front != "api" && a.stall_front != "dispatch"))
        return json_answer(400, json::object{{"error", "stallConnects needs ms > 0 and front api or dispatch"}});
      return a;
    }
    if (!action.empty()) return json_answer(400, json::object{{"error", "unknown action: " + action}});
    ApiFault f;
    f.path = str_at(b, {"path"});
    f.method = str_at(b, {"method"});
    f.code = num("code", 0);
    f.count = num("count", 1);
    f.retry_after = num("retryAfter", -1);
    f.latency_ms = num("latencyMs", 0);
    f.stall_ms = num("stallMs", 0);
    if (const auto* x = b.if_contains("watchOnly"); x != nullptr && x->is_bool()) f.watch_only = x->get_bool();
    if (const auto* x = b.if_contains("reset"); x != nullptr && x->is_bool()) f.reset = x->get_bool();
    if (const auto* x = b.if_contains("closeAtOnce"); x != nullptr && x->is_bool()) f.close_at_once = x->get_bool();
    if (f.path.empty() || f.count == 0 ||
        (f.code == 0 && f.latency_ms == 0 && f.stall_ms == 0 && !f.reset && !f.close_at_once) ||
        (f.code != 0 && (f.code < 400 || f.code > 599)))
      return json_answer(400, json::object{{"error", "a fault needs path, count != 0, and code (400-599), latencyMs, "
                                                     "stallMs, reset or closeAtOnce"}});
    faults_.push_back(f);
    return json_answer(200, json::object{{"faults", static_cast<std::int64_t>(faults_.size())}});
  }
  if (req.method == "POST" && req.path == "/_sim/foreman") {
    auto& rules = foreman_.rules();
    if (auto* x = b.if_contains("failRate"); x != nullptr && x->is_number()) rules.fail_rate = x->to_number<double>();
    if (auto* x = b.if_contains("stepMs"); x != nullptr && x->is_int64()) rules.step = std::chrono::milliseconds(x->as_int64());
    if (auto* x = b.if_contains("issues"); x != nullptr && x->is_object()) {
      for (const auto& [issue, rule] : x->as_object()) {
        if (!rule.is_object()) return json_answer(400, json::object{{"error", "issue rule must map attempt to outcome"}});
        std::map<int, Outcome> m;
        for (const auto& [att, out] : rule.as_object()) {
          auto o = out.is_string() ? parse_outcome(std::string(out.as_string())) : std::nullopt;
          int a = att == "*" ? 0 : std::atoi(std::string(att).c_str());
          if (!o || (a <= 0 && att != "*"))
            return json_answer(400, json::object{{"error", "bad rule for " + std::string(issue) + ": attempt " + std::string(att)}});
          m[a] = *o;
        }
        rules.issues[std::string(issue)] = std::move(m);
      }
    }
    return json_answer(200, json::object{{"failRate", rules.fail_rate},
                                         {"stepMs", static_cast<std::int64_t>(rules.step.count())},
                                         {"issues", static_cast<std::int64_t>(rules.issues.size())}});
  }
  if (req.method == "POST" && req.path == "/_sim/churn") {
    // Touches `count` Workloads (an annotation merge patch each, cycling through them): a
    // burst of MODIFIED events for watch throughput tests and benchmarks.
    int count = num("count", 0);
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
  return json_answer(404, json::object{{"error", "no control route " + req.method + " " + req.path}});
}

}  // namespace fdb::sim

#include "sim/store.hpp"

#include "sim/patch.hpp"
#include "watch/rfc3339.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <cstdio>
#include <random>

namespace fdb::sim {
namespace json = boost::json;

const std::vector<ResourceInfo>& served_resources() {
  static const std::vector<ResourceInfo> all = {
      {"foreman.llmkube.dev", "v1alpha1", "workloads", "workload", "Workload", true, true, true, {"wl"}},
      {"foreman.llmkube.dev", "v1alpha1", "agentictasks", "agentictask", "AgenticTask", true, true, true, {}},
      {"coordination.k8s.io", "v1", "leases", "lease", "Lease", true, false, false, {}},
      {"events.k8s.io", "v1", "events", "event", "Event", true, false, false, {"ev"}},
      {"", "v1", "events", "event", "Event", true, false, false, {"ev"}},
      {"", "v1", "configmaps", "configmap", "ConfigMap", true, false, false, {"cm"}},
  };
  return all;
}

const ResourceInfo* find_resource(const std::string& group, const std::string& version, const std::string& plural) {
  for (const auto& r : served_resources())
    if (r.group == group && r.version == version && r.resource == plural) return &r;
  return nullptr;
}

std::string status_json(const ApiError& e) {
  json::object o;
  o["kind"] = "Status";
  o["apiVersion"] = "v1";
  o["metadata"] = json::object();
  o["status"] = "Failure";
  o["message"] = e.message;
  o["reason"] = e.reason;
  if (!e.details.empty()) o["details"] = e.details;
  o["code"] = e.code;
  return json::serialize(o);
}

namespace {
json::object details(const ResourceInfo& r, const std::string& name) {
  json::object d;
  d["name"] = name;
  if (!r.group.empty()) d["group"] = r.group;
  d["kind"] = r.resource;
  return d;
}
ApiError bad_request(std::string msg) { return ApiError{400, "BadRequest", std::move(msg), {}}; }
ApiError conflict(const ResourceInfo& r, const std::string& name, const std::string& why) {
  return ApiError{409, "Conflict",
                  "Operation cannot be fulfilled on " + r.qualified() + " \"" + name + "\": " + why, details(r, name)};
}
ApiError invalid(const ResourceInfo& r, const std::string& name, const std::string& field, const std::string& value,
                 const std::string& why) {
  json::object d = details(r, name);
  d["kind"] = r.kind;
  json::array causes;
  causes.push_back(json::object{{"reason", "FieldValueInvalid"},
                                {"message", "Invalid value: \"" + value + "\": " + why},
                                {"field", field}});
  d["causes"] = std::move(causes);
  return ApiError{422, "Invalid",
                  r.kind + ".\"" + (r.group.empty() ? "" : r.group) + "\" \"" + name + "\" is invalid: " + field +
                      ": Invalid value: \"" + value + "\": " + why,
                  std::move(d)};
}

std::string str_or(const json::object& o, const char* k) {
  auto* v = o.if_contains(k);
  return v != nullptr && v->is_string() ? std::string(v->as_string()) : std::string();
}

json::object& obj_at(json::object& o, const char* k) {
  auto& v = o[k];
  if (!v.is_object()) v = json::object();
  return v.as_object();
}

Meta read_meta(const json::object& o) {
  Meta m;
  auto* mdv = o.if_contains("metadata");
  if (mdv == nullptr || !mdv->is_object()) return m;
  const auto& md = mdv->as_object();
  m.ns = str_or(md, "namespace");
  m.name = str_or(md, "name");
  m.uid = str_or(md, "uid");
  auto rvs = str_or(md, "resourceVersion");
  m.rv = rvs.empty() ? 0 : std::strtoull(rvs.c_str(), nullptr, 10);
  if (auto* l = md.if_contains("labels"); l != nullptr && l->is_object())
    for (const auto& [k, v] : l->as_object())
      if (v.is_string()) m.labels.emplace(std::string(k), std::string(v.as_string()));
  if (auto* refs = md.if_contains("ownerReferences"); refs != nullptr && refs->is_array())
    for (const auto& ref : refs->as_array())
      if (ref.is_object()) m.owner_uids.push_back(str_or(ref.as_object(), "uid"));
  if (auto* f = md.if_contains("finalizers"); f != nullptr && f->is_array())
    for (const auto& v : f->as_array())
      if (v.is_string()) m.finalizers.emplace_back(v.as_string());
  m.deleting = md.contains("deletionTimestamp") && !md.at("deletionTimestamp").is_null();
  if (str_or(o, "kind") == "Event" && str_or(o, "apiVersion") == "v1") {
    const auto* io = o.if_contains("involvedObject");
    const json::object empty;
    const json::object& inv = io != nullptr && io->is_object() ? io->as_object() : empty;
    for (const auto& f : core_event_fields()) {
      std::string_view name = f;
      if (name.starts_with("involvedObject."))
        m.fields.emplace_back(f, str_or(inv, std::string(name.substr(15)).c_str()));
      else if (name == "source") {
        const auto* src = o.if_contains("source");
        m.fields.emplace_back(f, src != nullptr && src->is_object() ? str_or(src->as_object(), "component") : "");
      } else
        m.fields.emplace_back(f, str_or(o, f.c_str()));
    }
  }
  return m;
}

std::string key_of(const std::string& ns, const std::string& name) { return ns + "/" + name; }

// Go's time.Parse with the MicroTime layout 2006-01-02T15:04:05.000000Z07:00: exactly six
// fractional digits, then Z or a numeric offset.
bool is_micro_time(const std::string& t) {
  auto digits = [&](std::size_t from, std::size_t n) {
    if (from + n > t.size()) return false;
    for (std::size_t i = from; i < from + n; ++i)
      if (t[i] < '0' || t[i] > '9') return false;
    return true;
  };
  if (!(digits(0, 4) && t.size() > 26 && t[4] == '-' && digits(5, 2) && t[7] == '-' && digits(8, 2) && t[10] == 'T' &&
        digits(11, 2) && t[13] == ':' && digits(14, 2) && t[16] == ':' && digits(17, 2) && t[19] == '.' && digits(20, 6)))
    return false;
  std::string zone = t.substr(26);
  return zone == "Z" || (zone.size() == 6 && (zone[0] == '+' || zone[0] == '-') && digits(27, 2) && zone[3] == ':' && digits(30, 2));
}

// What the real server's decoding rejects for the kinds the bridge writes (400 BadRequest).
std::optional<ApiError> validate(const ResourceInfo& r, const json::object& obj) {
  if (r.kind != "Lease") return std::nullopt;
  auto* spec = obj.if_contains("spec");
  if (spec == nullptr || spec->is_null()) return std::nullopt;
  auto fail = [&](const std::string& why) {
    return ApiError{400, "BadRequest", "Lease in version \"v1\" cannot be handled as a Lease: " + why, {}};
  };
  if (!spec->is_object()) return fail("spec: expected an object");
  for (const char* k : {"acquireTime", "renewTime"}) {
    auto* v = spec->as_object().if_contains(k);
    if (v == nullptr || v->is_null()) continue;
    if (!v->is_string() || !is_micro_time(std::string(v->as_string())))
      return fail(std::string("parsing time ") + (v->is_string() ? "\"" + std::string(v->as_string()) + "\"" : json::serialize(*v)) +
                  " as \"2006-01-02T15:04:05.000000Z07:00\": cannot parse " + k);
  }
  for (const char* k : {"leaseDurationSeconds", "leaseTransitions"}) {
    auto* v = spec->as_object().if_contains(k);
    if (v != nullptr && !v->is_null() && !v->is_int64() && !v->is_uint64())
      return fail(std::string("spec.") + k + ": expected an integer");
  }
  auto* h = spec->as_object().if_contains("holderIdentity");
  if (h != nullptr && !h->is_null() && !h->is_string()) return fail("spec.holderIdentity: expected a string");
  return std::nullopt;
}

std::string make_uid(std::uint64_t n) {
  static std::mt19937_64 rng(std::random_device{}());
  std::uint64_t a = rng(), b = rng() ^ n;
  char buf[40];
  std::snprintf(buf, sizeof buf, "%08x-%04x-4%03x-%04x-%012llx", static_cast<unsigned>(a >> 32),
                static_cast<unsigned>((a >> 16) & 0xffff), static_cast<unsigned>(a & 0xfff),
                static_cast<unsigned>(0x8000 | ((b >> 48) & 0x3fff)),
                static_cast<unsigned long long>(b & 0xffffffffffffULL));
  return buf;
}

std::string b64(const std::string& in) {
  static const char* t = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    unsigned v = (static_cast<unsigned char>(in[i]) << 16) | (static_cast<unsigned char>(in[i + 1]) << 8) |
                 static_cast<unsigned char>(in[i + 2]);
    out += t[v >> 18], out += t[(v >> 12) & 63], out += t[(v >> 6) & 63], out += t[v & 63];
  }
  if (i + 1 == in.size()) {
    unsigned v = static_cast<unsigned char>(in[i]) << 16;
    out += t[v >> 18], out += t[(v >> 12) & 63], out += "==";
  } else if (i + 2 == in.size()) {
    unsigned v = (static_cast<unsigned char>(in[i]) << 16) | (static_cast<unsigned char>(in[i + 1]) << 8);
    out += t[v >> 18], out += t[(v >> 12) & 63], out += t[(v >> 6) & 63], out += '=';
  }
  return out;
}
std::optional<std::string> unb64(const std::string& in) {
  std::string out;
  unsigned v = 0;
  int bits = 0;
  for (char c : in) {
    int d;
    if (c >= 'A' && c <= 'Z') d = c - 'A';
    else if (c >= 'a' && c <= 'z') d = c - 'a' + 26;
    else if (c >= '0' && c <= '9') d = c - '0' + 52;
    else if (c == '+' || c == '-') d = 62;
    else if (c == '/' || c == '_') d = 63;
    else if (c == '=') break;
    else return std::nullopt;
    v = (v << 6) | static_cast<unsigned>(d);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((v >> bits) & 0xff);
    }
  }
  return out;
}
}  // namespace

ApiError not_found(const ResourceInfo& r, const std::string& name) {
  return ApiError{404, "NotFound", r.qualified() + " \"" + name + "\" not found", details(r, name)};
}

std::string format_time(Clock::time_point t) {
  return fdb::kube::format_seconds(std::chrono::floor<std::chrono::seconds>(t));
}

bool is_dns1123_label(const std::string& s) {
  if (s.empty() || s.size() > 63) return false;
  for (char c : s)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  return s.front() != '-' && s.back() != '-';
}

bool is_dns1123_subdomain(const std::string& s) {
  if (s.empty() || s.size() > 253) return false;
  std::size_t pos = 0;
  for (;;) {
    auto dot = s.find('.', pos);
    std::string part = s.substr(pos, dot == std::string::npos ? std::string::npos : dot - pos);
    // Each part follows label characters; only the whole name has a length limit (253).
    if (part.empty() || part.front() == '-' || part.back() == '-') return false;
    for (char c : part)
      if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
    if (dot == std::string::npos) return true;
    pos = dot + 1;
  }
}

json::object Object::parse() const { return json::parse(*json).as_object(); }

std::string event_line(const std::string& type, const std::string& object_json) {
  std::string s;
  s.reserve(object_json.size() + type.size() + 24);
  s += "{\"type\":\"";
  s += type;
  s += "\",\"object\":";
  s += object_json;
  s += "}\n";
  return s;
}

const std::vector<std::string>& core_event_fields() {
  // Kubernetes' pkg/apis/core/v1: the field label conversion of Event.
  static const std::vector<std::string> f = {
      "involvedObject.kind",      "involvedObject.namespace",       "involvedObject.name",
      "involvedObject.uid",       "involvedObject.apiVersion",      "involvedObject.resourceVersion",
      "involvedObject.fieldPath", "reason",                         "reportingComponent",
      "source",                   "type"};
  return f;
}

FieldSelector FieldSelector::parse(const std::string& text, const ResourceInfo* res) {
  const bool core_event = res != nullptr && res->group.empty() && res->resource == "events";
  FieldSelector fs;
  std::size_t pos = 0;
  while (pos < text.size()) {
    auto comma = text.find(',', pos);
    std::string part = text.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    pos = comma == std::string::npos ? text.size() : comma + 1;
    if (part.empty()) continue;
    Req r;
    std::size_t op;
    std::size_t oplen;
    if ((op = part.find("!=")) != std::string::npos) r.equals = false, oplen = 2;
    else if ((op = part.find("==")) != std::string::npos) oplen = 2;
    else if ((op = part.find('=')) != std::string::npos) oplen = 1;
    else throw ApiError{400, "BadRequest", "invalid field selector: \"" + part + "\": no operator", {}};
    r.field = part.substr(0, op);
    r.value = part.substr(op + oplen);
    const auto& ev = core_event_fields();
    if (r.field != "metadata.name" && r.field != "metadata.namespace" &&
        !(core_event && std::find(ev.begin(), ev.end(), r.field) != ev.end()))
      throw ApiError{400, "BadRequest", "field label not supported: " + r.field, {}};
    fs.reqs.push_back(std::move(r));
  }
  return fs;
}

bool FieldSelector::matches(const Meta& m) const {
  static const std::string none;
  for (const auto& r : reqs) {
    const std::string* v = r.field == "metadata.name" ? &m.name : r.field == "metadata.namespace" ? &m.ns : &none;
    for (const auto& [k, val] : m.fields)
      if (k == r.field) v = &val;
    if ((*v == r.value) != r.equals) return false;
  }
  return true;
}

bool Filter::matches(const Meta& m) const {
  if (ns && *ns != m.ns) return false;
  return labels.matches(m.labels) && fields.matches(m);
}

std::optional<std::string> Filter::classify(const Event& ev) const {
  if (ev.res != res) return std::nullopt;
  bool now = matches(ev.meta);
  if (ev.type != "MODIFIED" || !ev.old) return now ? std::optional<std::string>(ev.type) : std::nullopt;
  bool before = matches(*ev.old);
  if (now && before) return std::string("MODIFIED");
  if (now) return std::string("ADDED");
  if (before) return std::string("DELETED");
  return std::nullopt;
}

std::optional<ApiError> Store::check_schema(const ResourceInfo& r, const std::string& name, json::object& obj) const {
  auto it = schemas_.find(&r);
  if (it == schemas_.end()) return std::nullopt;
  auto causes = it->second.apply(obj);
  if (causes.empty()) return std::nullopt;
  json::array cs;
  std::string list;
  for (const auto& c : causes) {
    cs.push_back(json::object{{"reason", c.reason}, {"message", c.message}, {"field", c.field}});
    if (!list.empty()) list += ", ";
    list += c.field + ": " + c.message;
  }
  json::object d = details(r, name);
  d["kind"] = r.kind;
  d["causes"] = std::move(cs);
  return ApiError{422, "Invalid",
                  r.kind + "." + r.group + " \"" + name + "\" is invalid: " + (causes.size() == 1 ? list : "[" + list + "]"),
                  std::move(d)};
}

Store::Store() : Store(Options{}) {}
Store::Store(Options opts) : opts_(opts) {}

const Store::Table* Store::table_if(const ResourceInfo& r) const {
  auto it = tables_.find(&r);
  return it == tables_.end() ? nullptr : &it->second;
}

void Store::emit(const ResourceInfo& r, const std::string& type, const Object& o, const std::optional<Meta>& old) {
  auto ev = std::make_shared<Event>();
  ev->rv = rv_;
  ev->type = type;
  ev->res = &r;
  ev->meta = o.meta;
  ev->old = old;
  ev->object = o.json;
  ev->line = std::make_shared<const std::string>(event_line(type, *o.json));
  history_.push_back(ev);
  while (history_.size() > opts_.history) {
    compacted_ = history_.front()->rv;
    history_.pop_front();
  }
  if (on_event) on_event(ev);
}

Object Store::store_object(const ResourceInfo& r, json::object obj, const std::string& type,
                           const std::optional<Meta>& old) {
  ++rv_;
  obj_at(obj, "metadata")["resourceVersion"] = std::to_string(rv_);
  Object o;
  o.res = &r;
  o.meta = read_meta(obj);
  o.json = std::make_shared<const std::string>(json::serialize(obj));
  put(r, key_of(o.meta.ns, o.meta.name), o);
  emit(r, type, o, old);
  return o;
}

Result Store::create(const ResourceInfo& r, const std::string& ns, json::object body, Clock::time_point now,
                     bool keep_status) {
  Result res;
  auto av = str_or(body, "apiVersion");
  auto kind = str_or(body, "kind");
  if ((!av.empty() && av != r.api_version()) || (!kind.empty() && kind != r.kind)) {
    res.error = bad_request("the API version in the data (" + av + ") does not match the expected API version (" +
                            r.api_version() + ")");
    if (av == r.api_version())
      res.error = bad_request("the kind in the data (" + kind + ") does not match the expected kind (" + r.kind + ")");
    return res;
  }
  body["apiVersion"] = r.api_version();
  body["kind"] = r.kind;
  auto& md = obj_at(body, "metadata");
  std::string name = str_or(md, "name");
  std::string body_ns = str_or(md, "namespace");
  if (r.namespaced && !body_ns.empty() && body_ns != ns) {
    res.error = bad_request("the namespace of the provided object does not match the namespace sent on the request");
    return res;
  }
  if (name.empty()) {
    std::string gen = str_or(md, "generateName");
    if (gen.empty()) {
      res.error = invalid(r, "", "metadata.name", "", "name or generateName is required");
      res.error->message = r.kind + ".\"" + r.group + "\" \"\" is invalid: metadata.name: Required value: name or generateName is required";
      return res;
    }
    static const char* alnum = "bcdfghjklmnpqrstvwxz2456789";
    static std::mt19937 rng(12345);
    do {
      name = gen.substr(0, 58);
      for (int i = 0; i < 5; ++i) name += alnum[rng() % 27];
    } while (table(r).count(key_of(ns, name)) != 0);
  }
  if (!is_dns1123_subdomain(name)) {
    res.error = invalid(r, name, "metadata.name", name,
                        "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or "
                        "'.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used "
                        "for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')");
    return res;
  }
  if (r.namespaced && !is_dns1123_label(ns)) {
    res.error = invalid(r, name, "metadata.namespace", ns, "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-'");
    return res;
  }
  if (table(r).count(key_of(ns, name)) != 0) {
    res.error = ApiError{409, "AlreadyExists", r.qualified() + " \"" + name + "\" already exists", details(r, name)};
    return res;
  }
  if (auto e = validate(r, body)) {
    res.error = std::move(e);
    return res;
  }
  if (auto e = check_schema(r, name, body)) {
    res.error = std::move(e);
    return res;
  }
  md["name"] = name;
  if (r.namespaced) md["namespace"] = ns;
  md["uid"] = make_uid(++uid_counter_);
  md["creationTimestamp"] = format_time(now);
  md.erase("deletionTimestamp");
  md.erase("deletionGracePeriodSeconds");
  if (r.custom) md["generation"] = 1;
  if (r.status_subresource && !keep_status) body.erase("status");
  res.object = store_object(r, std::move(body), "ADDED", std::nullopt);
  return res;
}

Result Store::get(const ResourceInfo& r, const std::string& ns, const std::string& name) const {
  Result res;
  const Table* t = table_if(r);
  auto it = t == nullptr ? Table::const_iterator() : t->find(key_of(ns, name));
  if (t == nullptr || it == t->end()) {
    res.error = not_found(r, name);
    return res;
  }
  res.object = it->second;
  return res;
}

Result Store::write_update(const ResourceInfo& r, const std::string& key, const Object& cur, json::object next,
                           bool status, Clock::time_point now) {
  Result res;
  const auto& name = cur.meta.name;
  json::object old = cur.parse();
  auto& nmd = obj_at(next, "metadata");
  std::string nrv = str_or(nmd, "resourceVersion");
  if (!nrv.empty() && nrv != std::to_string(cur.meta.rv)) {
    res.error = conflict(r, name, "the object has been modified; please apply your changes to the latest version and try again");
    return res;
  }
  if (!str_or(nmd, "name").empty() && str_or(nmd, "name") != name) {
    res.error = bad_request("the name of the object (" + str_or(nmd, "name") +
                            ") does not match the name on the URL (" + name + ")");
    return res;
  }
  auto av = str_or(next, "apiVersion");
  if (!av.empty() && av != r.api_version()) {
    res.error = bad_request("the API version in the data (" + av + ") does not match the expected API version (" +
                            r.api_version() + ")");
    return res;
  }
  json::object out;
  if (status) {
    // Only status changes through /status.
    out = old;
    if (auto* s = next.if_contains("status")) out["status"] = *s;
    else out.erase("status");
  } else {
    out = std::move(next);
    out["apiVersion"] = r.api_version();
    out["kind"] = r.kind;
    if (r.status_subresource) {
      if (auto* s = old.if_contains("status")) out["status"] = *s;
      else out.erase("status");
    }
    auto& omd = obj_at(out, "metadata");
    const auto& pmd = old.at("metadata").as_object();
    for (const char* k : {"name", "namespace", "uid", "creationTimestamp", "deletionTimestamp", "generation",
                          "deletionGracePeriodSeconds"}) {
      if (auto* v = pmd.if_contains(k)) omd[k] = *v;
      else omd.erase(k);
    }
    if (r.custom) {
      const json::value* os = old.if_contains("spec");
      const json::value* ns = out.if_contains("spec");
      bool changed = (os == nullptr) != (ns == nullptr) || (os != nullptr && *os != *ns);
      if (changed) {
        auto* g = pmd.if_contains("generation");
        std::int64_t gen = g != nullptr && g->is_int64() ? g->as_int64() : 1;
        omd["generation"] = gen + 1;
      }
    }
  }
  if (auto e = validate(r, out)) {
    res.error = std::move(e);
    return res;
  }
  if (auto e = check_schema(r, name, out)) {
    res.error = std::move(e);
    return res;
  }
  // A no-op write does not change the resourceVersion, as on the real server.
  {
    json::object cmp = out;
    obj_at(cmp, "metadata")["resourceVersion"] = std::to_string(cur.meta.rv);
    if (cmp == old) {
      res.object = cur;
      return res;
    }
  }
  Meta before = cur.meta;
  res.object = store_object(r, std::move(out), "MODIFIED", before);
  if (res.object.meta.deleting && res.object.meta.finalizers.empty()) erase(r, key, now);
  return res;
}

Result Store::update(const ResourceInfo& r, const std::string& ns, const std::string& name, json::object body,
                     bool status, Clock::time_point now) {
  auto cur = get(r, ns, name);
  if (!cur) return cur;
  return write_update(r, key_of(ns, name), cur.object, std::move(body), status, now);
}

Result Store::patch(const ResourceInfo& r, const std::string& ns, const std::string& name,
                    const std::string& content_type, const std::string& body, bool status, Clock::time_point now) {
  Result res;
  std::string ct = content_type.substr(0, content_type.find(';'));
  bool strategic = ct == "application/strategic-merge-patch+json";
  if ((strategic && r.custom) ||
      (ct != "application/merge-patch+json" && ct != "application/json-patch+json" && !strategic)) {
    res.error = ApiError{415, "UnsupportedMediaType",
                         "the body of the request was in an unknown format - accepted media types include: "
                         "application/json-patch+json, application/merge-patch+json" +
                             std::string(r.custom ? "" : ", application/strategic-merge-patch+json"),
                         {}};
    return res;
  }
  auto cur = get(r, ns, name);
  if (!cur) return cur;
  boost::system::error_code ec;
  json::value p = json::parse(body, ec);
  if (ec) {
    res.error = bad_request("error decoding patch: " + ec.message());
    return res;
  }
  json::value merged;
  try {
    json::value doc = cur.object.parse();
    merged = ct == "application/json-patch+json" ? json_patch(std::move(doc), p) : merge_patch(std::move(doc), p);
  } catch (const PatchError& e) {
    res.error = ApiError{422, "Invalid", std::string("the server rejected our request due to an error in our request: ") + e.what(), {}};
    return res;
  }
  if (!merged.is_object()) {
    res.error = bad_request("the patched object is not a JSON object");
    return res;
  }
  return write_update(r, key_of(ns, name), cur.object, std::move(merged.as_object()), status, now);
}

std::vector<std::pair<const ResourceInfo*, std::string>> Store::dependents_of(const std::string& uid) const {
  const auto it = owners_.find(uid);
  if (it == owners_.end()) return {};
  return {it->second.begin(), it->second.end()};
}

void Store::put(const ResourceInfo& r, const std::string& key, const Object& o) {
  auto& t = table(r);
  if (auto it = t.find(key); it != t.end()) {
    for (const auto& uid : it->second.meta.owner_uids) {
      auto o_it = owners_.find(uid);
      if (o_it == owners_.end()) continue;
      o_it->second.erase({&r, key});
      if (o_it->second.empty()) owners_.erase(o_it);
    }
  }
  t[key] = o;
  for (const auto& uid : o.meta.owner_uids) owners_[uid].insert({&r, key});
}

void Store::drop(const ResourceInfo& r, Table::iterator it) {
  for (const auto& uid : it->second.meta.owner_uids) {
    auto o_it = owners_.find(uid);
    if (o_it == owners_.end()) continue;
    o_it->second.erase({&r, it->first});
    if (o_it->second.empty()) owners_.erase(o_it);
  }
  table(r).erase(it);
}

void Store::erase(const ResourceInfo& r, const std::string& key, Clock::time_point now) {
  auto& t = table(r);
  auto it = t.find(key);
  if (it == t.end()) return;
  Object o = it->second;
  drop(r, it);
  ++rv_;
  // The DELETED event carries the object at the deletion's resourceVersion.
  json::object obj = o.parse();
  obj_at(obj, "metadata")["resourceVersion"] = std::to_string(rv_);
  o.meta.rv = rv_;
  o.json = std::make_shared<const std::string>(json::serialize(obj));
  emit(r, "DELETED", o, std::nullopt);
  // Background cascade to dependents.
  for (const auto& [dres, dkey] : dependents_of(o.meta.uid)) {
    auto& dt = table(*dres);
    auto dit = dt.find(dkey);
    if (dit == dt.end()) continue;
    if (dit->second.meta.finalizers.empty()) {
      erase(*dres, dkey, now);
    } else if (!dit->second.meta.deleting) {
      json::object d = dit->second.parse();
      obj_at(d, "metadata")["deletionTimestamp"] = format_time(now);
      Meta before = dit->second.meta;
      store_object(*dres, std::move(d), "MODIFIED", before);
    }
  }
}

Result Store::remove(const ResourceInfo& r, const std::string& ns, const std::string& name, const DeleteOptions& opts,
                     Clock::time_point now) {
  auto cur = get(r, ns, name);
  if (!cur) return cur;
  Result res;
  if (opts.uid && *opts.uid != cur.object.meta.uid) {
    res.error = conflict(r, name, "Precondition failed: UID in precondition: " + *opts.uid +
                                      ", UID in object meta: " + cur.object.meta.uid);
    return res;
  }
  if (opts.resource_version && *opts.resource_version != std::to_string(cur.object.meta.rv)) {
    res.error = conflict(r, name, "Precondition failed: ResourceVersion in precondition: " + *opts.resource_version +
                                      ", ResourceVersion in object meta: " + std::to_string(cur.object.meta.rv));
    return res;
  }
  if (!opts.propagation.empty() && opts.propagation != "Foreground" && opts.propagation != "Background" &&
      opts.propagation != "Orphan") {
    res.error = ApiError{422, "Invalid", "DeleteOptions.meta.k8s.io \"\" is invalid: propagationPolicy: Unsupported value: \"" +
                                             opts.propagation + "\": supported values: \"Foreground\", \"Background\", \"Orphan\", \"nil\"",
                         {}};
    return res;
  }
  std::string key = key_of(ns, name);
  const Object& o = cur.object;
  bool foreground = opts.propagation == "Foreground";
  if (foreground || !o.meta.finalizers.empty() || o.meta.deleting) {
    json::object obj = o.parse();
    auto& md = obj_at(obj, "metadata");
    bool changed = false;
    if (!o.meta.deleting) {
      md["deletionTimestamp"] = format_time(now);
      md["deletionGracePeriodSeconds"] = 0;
      changed = true;
    }
    if (foreground &&
        std::find(o.meta.finalizers.begin(), o.meta.finalizers.end(), "foregroundDeletion") == o.meta.finalizers.end()) {
      auto& f = md["finalizers"];
      if (!f.is_array()) f = json::array();
      f.as_array().push_back("foregroundDeletion");
      changed = true;
      foreground_.push_back(Pending{&r, key, o.meta.uid, std::nullopt});
    }
    res.object = changed ? store_object(r, std::move(obj), "MODIFIED", o.meta) : o;
    return res;
  }
  res.object = o;
  if (opts.propagation == "Orphan") {
    // Orphan: dependents lose their ownerReference to this object.
    auto deps = dependents_of(o.meta.uid);
    auto& t = table(r);
    if (auto it = t.find(key); it != t.end()) drop(r, it);
    ++rv_;
    json::object obj = o.parse();
    obj_at(obj, "metadata")["resourceVersion"] = std::to_string(rv_);
    Object gone = o;
    gone.meta.rv = rv_;
    gone.json = std::make_shared<const std::string>(json::serialize(obj));
    emit(r, "DELETED", gone, std::nullopt);
    for (const auto& [dres, dkey] : deps) {
      auto dit = table(*dres).find(dkey);
      if (dit == table(*dres).end()) continue;
      json::object d = dit->second.parse();
      auto& refs = obj_at(d, "metadata")["ownerReferences"].as_array();
      refs.erase(std::remove_if(refs.begin(), refs.end(),
                                [&](const json::value& v) {
                                  return v.is_object() && str_or(v.as_object(), "uid") == o.meta.uid;
                                }),
                 refs.end());
      Meta before = dit->second.meta;
      store_object(*dres, std::move(d), "MODIFIED", before);
    }
    return res;
  }
  erase(r, key, now);
  return res;
}

bool Store::tick(Clock::time_point now) {
  bool changed = false;
  for (std::size_t i = 0; i < foreground_.size();) {
    auto& p = foreground_[i];
    auto& t = table(*p.res);
    auto it = t.find(p.key);
    if (it == t.end() || it->second.meta.uid != p.uid) {
      foreground_.erase(foreground_.begin() + static_cast<std::ptrdiff_t>(i));
      continue;
    }
    auto deps = dependents_of(p.uid);
    if (!deps.empty()) {
      for (const auto& [dres, dkey] : deps) {
        auto dit = table(*dres).find(dkey);
        if (dit == table(*dres).end() || dit->second.meta.deleting) continue;
        remove(*dres, dit->second.meta.ns, dit->second.meta.name, DeleteOptions{"Background", {}, {}}, now);
        changed = true;
      }
      ++i;
      continue;
    }
    if (!p.deps_gone) p.deps_gone = now;
    if (now - *p.deps_gone < opts_.foreground_delay) {
      ++i;
      continue;
    }
    // Dependents are gone: drop the foregroundDeletion finalizer; the object goes when none remain.
    json::object obj = it->second.parse();
    auto& fin = obj_at(obj, "metadata")["finalizers"];
    if (fin.is_array()) {
      auto& a = fin.as_array();
      a.erase(std::remove(a.begin(), a.end(), json::value("foregroundDeletion")), a.end());
      if (a.empty()) obj_at(obj, "metadata").erase("finalizers");
    }
    std::string key = p.key;
    const ResourceInfo* res = p.res;
    foreground_.erase(foreground_.begin() + static_cast<std::ptrdiff_t>(i));
    Meta before = it->second.meta;
    Object o = store_object(*res, std::move(obj), "MODIFIED", before);
    if (o.meta.finalizers.empty()) erase(*res, key, now);
    changed = true;
  }
  return changed;
}

void Store::expire_history() {
  history_.clear();
  compacted_ = rv_;
}

std::optional<std::vector<std::shared_ptr<const Event>>> Store::since(std::uint64_t rv) const {
  if (rv < compacted_) return std::nullopt;
  std::vector<std::shared_ptr<const Event>> out;
  auto it = std::upper_bound(history_.begin(), history_.end(), rv,
                             [](std::uint64_t v, const std::shared_ptr<const Event>& e) { return v < e->rv; });
  out.assign(it, history_.end());
  return out;
}

Store::ListAnswer Store::list(const Filter& f, const ListOptions& opts) const {
  ListAnswer ans;
  const ResourceInfo& r = *f.res;
  std::uint64_t snapshot_rv = rv_;
  std::string start;
  if (!opts.continue_token.empty()) {
    auto dec = unb64(opts.continue_token);
    boost::system::error_code ec;
    json::value v = dec ? json::parse(*dec, ec) : json::value();
    if (!dec || ec || !v.is_object() || !v.as_object().contains("rv") || !v.as_object().at("rv").is_int64() ||
        !v.as_object().contains("start") || !v.as_object().at("start").is_string()) {
      ans.error = bad_request("continue key is not valid: could not decode the continue token");
      return ans;
    }
    snapshot_rv = static_cast<std::uint64_t>(v.as_object().at("rv").as_int64());
    start = std::string(v.as_object().at("start").as_string());
    if (snapshot_rv < compacted_) {
      ans.error = ApiError{410, "Expired",
                           "The provided continue parameter is too old to display a consistent list result. You can "
                           "start a new list without the continue parameter, or use the continue token in this "
                           "response to retrieve the remainder of the results. Continuing with the provided token "
                           "results in an inconsistent list - objects that were created, modified, or deleted "
                           "between the time the first chunk was returned and now may show up in the list.",
                           {}};
      return ans;
    }
  }
  std::string body;
  body.reserve(1024);
  body += "{\"kind\":\"" + r.kind + "List\",\"apiVersion\":\"" + r.api_version() + "\",\"metadata\":{";
  std::string items;
  std::size_t n = 0;
  std::string last;
  bool more = false;
  std::size_t remaining = 0;
  if (const Table* t = table_if(r)) {
    auto it = start.empty() ? t->begin() : t->upper_bound(start);
    if (f.ns && start.empty()) it = t->lower_bound(*f.ns + "/");
    if (opts.limit <= 0) {
      std::size_t total_bytes = 0;
      for (auto j = it; j != t->end(); ++j) total_bytes += j->second.json->size() + 1;
      items.reserve(total_bytes);
    }
    for (; it != t->end(); ++it) {
      const Object& o = it->second;
      if (f.ns && o.meta.ns != *f.ns) {
        if (o.meta.ns > *f.ns) break;
        continue;
      }
      if (opts.limit > 0 && static_cast<std::int64_t>(n) == opts.limit) {
        // A full page and more keys in range: a continue token (like the API server,
        // which filters after paging, so a later page may come back empty). The count of
        // the rest (optional in the API) is only given without selectors and when it is
        // cheap: a walk over at most kMaxCounted keys, so a page costs O(limit), not O(N).
        more = true;
        if (!f.labels.empty() || !f.fields.reqs.empty()) break;
        constexpr std::size_t kMaxCounted = 10000;
        for (; it != t->end() && (!f.ns || it->second.meta.ns == *f.ns) && remaining <= kMaxCounted; ++it) ++remaining;
        if (remaining > kMaxCounted) remaining = 0;  // not counted
        break;
      }
      if (!f.matches(o.meta)) continue;
      if (n != 0) items += ',';
      items += *o.json;
      last = it->first;
      ++n;
    }
  }
  body += "\"resourceVersion\":\"" + std::to_string(snapshot_rv) + "\"";
  if (more) {
    json::object tok{{"rv", static_cast<std::int64_t>(snapshot_rv)}, {"start", last}};
    body += ",\"continue\":\"" + b64(json::serialize(tok)) + "\"";
    if (remaining > 0) body += ",\"remainingItemCount\":" + std::to_string(remaining);
  }
  body += "},\"items\":[";
  body += items;
  body += "]}";
  ans.body = std::move(body);
  ans.items = n;
  return ans;
}

std::vector<Object> Store::snapshot(const Filter& f) const {
  std::vector<Object> out;
  if (const Table* t = table_if(*f.res))
    for (const auto& [k, o] : *t)
      if (f.matches(o.meta)) out.push_back(o);
  return out;
}

std::size_t Store::count(const ResourceInfo& r) const {
  const Table* t = table_if(r);
  return t == nullptr ? 0 : t->size();
}

std::vector<Object> Store::all(const ResourceInfo& r) const {
  std::vector<Object> out;
  if (const Table* t = table_if(r))
    for (const auto& [k, o] : *t) out.push_back(o);
  return out;
}

}  // namespace fdb::sim

#include "sim/store.hpp"

#include "sim/store_detail.hpp"

#include <boost/json.hpp>

#include <random>

namespace fdb::sim {
namespace json = boost::json;
using namespace detail;

json::object Object::parse() const { return json::parse(*json).as_object(); }

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


Object Store::store_object(const ResourceInfo& r, json::object obj, const std::string& type,
                           const std::optional<Meta>& old) {
  ++rv_;
  normalize_meta(obj);
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
  normalize_meta(out);
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

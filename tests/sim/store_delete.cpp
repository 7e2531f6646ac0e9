// Deletion: preconditions, finalizers and deletionTimestamp, the three propagation policies
// (foreground through the foregroundDeletion finalizer, background cascade, orphan) and the
// garbage collector's tick.
#include "sim/store_detail.hpp"

#include <boost/json.hpp>

#include <algorithm>

namespace fdb::sim {
namespace json = boost::json;
using namespace detail;

std::vector<std::pair<const ResourceInfo*, std::string>> Store::dependents_of(const std::string& uid) const {
  const auto it = owners_.find(uid);
  if (it == owners_.end()) return {};
  return {it->second.begin(), it->second.end()};
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

}  // namespace fdb::sim

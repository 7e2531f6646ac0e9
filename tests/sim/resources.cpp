// The resources kube-sim serves and the Status errors it answers about them.
#include "sim/store_detail.hpp"

#include <boost/json.hpp>

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

namespace detail {

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

}  // namespace detail

ApiError not_found(const ResourceInfo& r, const std::string& name) {
  return ApiError{404, "NotFound", r.qualified() + " \"" + name + "\" not found", detail::details(r, name)};
}

}  // namespace fdb::sim

// Discovery: /version, /api, /apis, the group and resource lists, and OpenAPI v3 (enough
// for kubectl to use server-side field validation).
#include "sim/api.hpp"
#include "sim/api_detail.hpp"

#include <boost/json.hpp>

#include <algorithm>

namespace fdb::sim {
using namespace api_detail;

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

}  // namespace fdb::sim

#include "watch/request.hpp"

#include "watch/url.hpp"

#include <fmt/format.h>

#include <stdexcept>

namespace fdb::kube {

std::string ResourceType::api_version() const {
  return group.empty() ? version : group + "/" + version;
}

std::string ResourceType::base_path() const {
  return group.empty() ? "/api/" + version : "/apis/" + group + "/" + version;
}

ResourceType workloads() { return {"foreman.llmkube.dev", "v1alpha1", "workloads", true}; }
ResourceType agentic_tasks() { return {"foreman.llmkube.dev", "v1alpha1", "agentictasks", true}; }
ResourceType leases() { return {"coordination.k8s.io", "v1", "leases", true}; }
ResourceType events_v1() { return {"events.k8s.io", "v1", "events", true}; }
ResourceType core_events() { return {"", "v1", "events", true}; }
ResourceType config_maps() { return {"", "v1", "configmaps", true}; }

std::string encode_query_value(std::string_view value) { return percent_encode(value); }

namespace {

// The parameters of a request's query, in the order they are added (watch/url.hpp
// encodes them and builds the target).
class Query {
 public:
  void add(std::string_view key, std::string value) { params_.emplace_back(key, std::move(value)); }
  void add_if(std::string_view key, const std::string& value) {
    if (!value.empty()) add(key, value);
  }
  std::string target(std::string_view path) const { return with_query(path, params_); }

 private:
  std::vector<std::pair<std::string_view, std::string>> params_;
};

void check_name(std::string_view name) {
  if (name.empty()) throw std::invalid_argument("object name must not be empty");
  if (name.find('/') != std::string_view::npos || name == "." || name == "..") {
    throw std::invalid_argument(fmt::format("object name {:?} is not a valid path segment", name));
  }
}

std::string json_string(std::string_view s) {
  std::string out = "\"";
  for (const char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += fmt::format("\\u{:04x}", static_cast<unsigned>(c));
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

constexpr std::string_view kJson = "application/json";

}  // namespace

Requests::Requests(ResourceType type, std::string ns) : type_(std::move(type)), ns_(std::move(ns)) {
  if (!type_.namespaced) ns_.clear();
}

std::string Requests::collection_path() const {
  std::string path = type_.base_path();
  if (type_.namespaced && !ns_.empty()) path += "/namespaces/" + ns_;
  path += "/" + type_.plural;
  return path;
}

std::string Requests::object_path(std::string_view name, std::string_view subresource) const {
  check_name(name);
  if (type_.namespaced && ns_.empty()) {
    throw std::invalid_argument(fmt::format("{} is namespaced: a namespace is required for {:?}",
                                            type_.plural, name));
  }
  std::string path = collection_path() + "/" + std::string(name);
  if (!subresource.empty()) path += "/" + std::string(subresource);
  return path;
}

HttpRequest Requests::get(std::string_view name) const {
  return {"GET", object_path(name), {}, {}, false};
}

HttpRequest Requests::list(const ListOptions& o) const {
  Query q;
  q.add_if("labelSelector", o.label_selector);
  q.add_if("fieldSelector", o.field_selector);
  if (o.limit) q.add("limit", std::to_string(*o.limit));
  q.add_if("continue", o.continue_token);
  if (o.resource_version) q.add("resourceVersion", *o.resource_version);
  q.add_if("resourceVersionMatch", o.resource_version_match);
  return {"GET", q.target(collection_path()), {}, {}, false};
}

HttpRequest Requests::watch(const WatchOptions& o) const {
  Query q;
  q.add("watch", "true");
  q.add_if("labelSelector", o.label_selector);
  q.add_if("fieldSelector", o.field_selector);
  if (o.resource_version) q.add("resourceVersion", *o.resource_version);
  q.add_if("resourceVersionMatch", o.resource_version_match);
  if (o.allow_watch_bookmarks) q.add("allowWatchBookmarks", "true");
  if (o.send_initial_events) q.add("sendInitialEvents", "true");
  if (o.timeout_seconds) q.add("timeoutSeconds", std::to_string(*o.timeout_seconds));
  return {"GET", q.target(collection_path()), {}, {}, true};
}

HttpRequest Requests::create(std::string body) const {
  if (type_.namespaced && ns_.empty()) {
    throw std::invalid_argument(fmt::format("{} is namespaced: create needs a namespace", type_.plural));
  }
  return {"POST", collection_path(), std::move(body), std::string(kJson), false};
}

HttpRequest Requests::replace(std::string_view name, std::string body) const {
  return {"PUT", object_path(name), std::move(body), std::string(kJson), false};
}

HttpRequest Requests::replace_status(std::string_view name, std::string body) const {
  return {"PUT", object_path(name, "status"), std::move(body), std::string(kJson), false};
}

HttpRequest Requests::patch(std::string_view name, PatchType type, std::string body,
                            std::string_view subresource) const {
  std::string content_type;
  switch (type) {
    case PatchType::Merge: content_type = "application/merge-patch+json"; break;
    case PatchType::Json: content_type = "application/json-patch+json"; break;
    case PatchType::StrategicMerge: content_type = "application/strategic-merge-patch+json"; break;
  }
  return {"PATCH", object_path(name, subresource), std::move(body), std::move(content_type), false};
}

HttpRequest Requests::remove(std::string_view name, const DeleteOptions& o) const {
  // DeleteOptions travel in the body, as client-go sends them.
  std::string body;
  const bool has_preconditions = o.precondition_uid || o.precondition_resource_version;
  if (!o.propagation_policy.empty() || has_preconditions || o.grace_period_seconds) {
    body = R"({"kind":"DeleteOptions","apiVersion":"v1")";
    if (!o.propagation_policy.empty()) body += R"(,"propagationPolicy":)" + json_string(o.propagation_policy);
    if (o.grace_period_seconds) body += fmt::format(R"(,"gracePeriodSeconds":{})", *o.grace_period_seconds);
    if (has_preconditions) {
      body += R"(,"preconditions":{)";
      bool first = true;
      if (o.precondition_uid) {
        body += R"("uid":)" + json_string(*o.precondition_uid);
        first = false;
      }
      if (o.precondition_resource_version) {
        if (!first) body += ',';
        body += R"("resourceVersion":)" + json_string(*o.precondition_resource_version);
      }
      body += '}';
    }
    body += '}';
  }
  HttpRequest req{"DELETE", object_path(name), std::move(body), {}, false};
  if (!req.body.empty()) req.content_type = std::string(kJson);
  return req;
}

}  // namespace fdb::kube

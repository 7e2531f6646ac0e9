// A pure request builder for the Kubernetes API (after kube-core's request.rs): every
// function returns the HTTP request to send — method, path and query, body — and does no
// I/O. The client sends them; the tests check them byte for byte.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace fdb::kube {

// A resource type: its API group (empty for the core group), version and plural name.
struct ResourceType {
  std::string group;    // "" for core, "foreman.llmkube.dev", "coordination.k8s.io"
  std::string version;  // "v1", "v1alpha1"
  std::string plural;   // "workloads", "leases", "events"
  bool namespaced = true;

  // "v1" for the core group, "group/version" otherwise.
  std::string api_version() const;
  // "/api/v1" or "/apis/group/version".
  std::string base_path() const;
};

// The resource types the bridge uses.
ResourceType workloads();      // foreman.llmkube.dev/v1alpha1 workloads
ResourceType agentic_tasks();  // foreman.llmkube.dev/v1alpha1 agentictasks
ResourceType leases();         // coordination.k8s.io/v1 leases
ResourceType events_v1();      // events.k8s.io/v1 events
ResourceType core_events();    // v1 events
ResourceType config_maps();    // v1 configmaps

struct HttpRequest {
  std::string method;        // "GET", "POST", "PUT", "PATCH", "DELETE"
  std::string target;        // path and query, e.g. "/api/v1/namespaces/x/pods?limit=5"
  std::string body;          // JSON, empty when none
  std::string content_type;  // empty when there is no body
  bool watch = false;        // true: the answer is an endless stream of events
};

struct ListOptions {
  std::string label_selector;
  std::string field_selector;
  std::optional<std::int64_t> limit;
  std::string continue_token;
  std::optional<std::string> resource_version;  // "0": any version, from the server's cache
  std::string resource_version_match;           // "NotOlderThan" or "Exact"
};

struct WatchOptions {
  std::string label_selector;
  std::string field_selector;
  std::optional<std::string> resource_version;
  bool allow_watch_bookmarks = true;
  std::optional<std::int64_t> timeout_seconds;
  bool send_initial_events = false;             // needs resource_version_match NotOlderThan
  std::string resource_version_match;
};

struct DeleteOptions {
  std::string propagation_policy;  // "Foreground", "Background", "Orphan" or empty
  std::optional<std::string> precondition_uid;
  std::optional<std::string> precondition_resource_version;
  std::optional<std::int64_t> grace_period_seconds;
};

enum class PatchType { Merge, Json, StrategicMerge };

// Percent-encodes a query parameter value (RFC 3986 unreserved characters stay).
std::string encode_query_value(std::string_view value);

// Builds requests for one resource type in one namespace; an empty namespace means all
// namespaces for list and watch (and is an error for the other verbs of a namespaced type).
class Requests {
 public:
  // No defaulted class-type arguments here: GCC 12 destroys a defaulted `= {}` temporary
  // twice when the call sits inside a co_await expression, so these are overloads.
  explicit Requests(ResourceType type) : Requests(std::move(type), std::string()) {}
  Requests(ResourceType type, std::string ns);

  const ResourceType& type() const noexcept { return type_; }
  const std::string& ns() const noexcept { return ns_; }

  // The collection path, e.g. /apis/g/v/namespaces/ns/workloads.
  std::string collection_path() const;
  // The object path; throws std::invalid_argument on an empty name.
  std::string object_path(std::string_view name, std::string_view subresource = {}) const;

  HttpRequest get(std::string_view name) const;
  HttpRequest list() const { return list(ListOptions()); }
  HttpRequest list(const ListOptions& opts) const;
  HttpRequest watch() const { return watch(WatchOptions()); }
  HttpRequest watch(const WatchOptions& opts) const;
  HttpRequest create(std::string body) const;
  HttpRequest replace(std::string_view name, std::string body) const;
  HttpRequest replace_status(std::string_view name, std::string body) const;
  HttpRequest patch(std::string_view name, PatchType type, std::string body,
                    std::string_view subresource = {}) const;
  HttpRequest remove(std::string_view name) const { return remove(name, DeleteOptions()); }
  HttpRequest remove(std::string_view name, const DeleteOptions& opts) const;

 private:
  ResourceType type_;
  std::string ns_;
};

}  // namespace fdb::kube

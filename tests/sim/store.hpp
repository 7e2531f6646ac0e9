// The simulated API server's storage: typed resources, one global resourceVersion, a bounded
// event history, selectors, patching and deletion (foreground/background cascade). Pure: no
// I/O; time comes from the caller. Objects are kept serialized so that lists and watch
// events are built by concatenation.
#pragma once

#include "sim/schema.hpp"
#include "watch/selector.hpp"

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <set>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace fdb::sim {

using Clock = std::chrono::system_clock;

// One served resource (as in an APIResourceList).
struct ResourceInfo {
  std::string group;     // "" for the core group
  std::string version;   // "v1alpha1", "v1"
  std::string resource;  // plural: "workloads"
  std::string singular;  // "workload"
  std::string kind;      // "Workload"
  bool namespaced = true;
  bool status_subresource = false;
  bool custom = false;  // a CustomResourceDefinition (no strategic merge patch, generation set)
  std::vector<std::string> short_names;
  std::string api_version() const { return group.empty() ? version : group + "/" + version; }
  std::string qualified() const { return group.empty() ? resource : resource + "." + group; }
};

const std::vector<ResourceInfo>& served_resources();
const ResourceInfo* find_resource(const std::string& group, const std::string& version, const std::string& plural);

// A failure answered as a Kubernetes Status object.
struct ApiError {
  int code = 500;
  std::string reason;  // NotFound, AlreadyExists, Conflict, Invalid, BadRequest, Expired, ...
  std::string message;
  boost::json::object details;
};
std::string status_json(const ApiError& e);
ApiError not_found(const ResourceInfo& r, const std::string& name);

// The metadata kept parsed next to each serialized object.
struct Meta {
  std::string ns;
  std::string name;
  std::string uid;
  std::uint64_t rv = 0;
  fdb::kube::Labels labels;
  std::vector<std::string> owner_uids;
  std::vector<std::string> finalizers;
  bool deleting = false;
  // The selectable fields beyond metadata.name/namespace, as the API server offers them
  // (a core/v1 Event's involvedObject.*, reason, type, …); empty for other kinds.
  std::vector<std::pair<std::string, std::string>> fields;
};

struct Object {
  const ResourceInfo* res = nullptr;
  Meta meta;
  std::shared_ptr<const std::string> json;  // the full object, serialized
  boost::json::object parse() const;
};

struct Event {
  std::uint64_t rv = 0;
  std::string type;  // ADDED, MODIFIED, DELETED
  const ResourceInfo* res = nullptr;
  Meta meta;                // of the object after the change (before removal for DELETED)
  std::optional<Meta> old;  // before the change, for MODIFIED
  std::shared_ptr<const std::string> object;
  std::shared_ptr<const std::string> line;  // {"type":..,"object":..}\n, built once
};
std::string event_line(const std::string& type, const std::string& object_json);

// name=, name!=, namespace= field selectors.
struct FieldSelector {
  struct Req {
    std::string field;  // metadata.name, metadata.namespace, or one of the kind's own
    bool equals = true;
    std::string value;
  };
  std::vector<Req> reqs;
  // Throws ApiError (400) for a field `res` does not offer (metadata.name and
  // metadata.namespace for every resource; core/v1 Events: see core_event_fields()).
  static FieldSelector parse(const std::string& text, const ResourceInfo* res = nullptr);
  bool matches(const Meta& m) const;
};

// The field labels a core/v1 Event offers besides metadata.name and metadata.namespace.
const std::vector<std::string>& core_event_fields();

// What a watcher or a list asks for.
struct Filter {
  const ResourceInfo* res = nullptr;
  std::optional<std::string> ns;  // nullopt: all namespaces
  fdb::kube::LabelSelector labels;
  FieldSelector fields;
  bool matches(const Meta& m) const;
  // The event type a watcher with this filter sees for `ev` (an object that stops matching is
  // DELETED, one that starts is ADDED), or nullopt when it sees nothing.
  std::optional<std::string> classify(const Event& ev) const;
};

struct ListOptions {
  std::int64_t limit = 0;
  std::string continue_token;
};

struct DeleteOptions {
  std::string propagation;  // "", Foreground, Background, Orphan
  std::optional<std::string> uid;
  std::optional<std::string> resource_version;
};

struct Result {
  std::optional<ApiError> error;
  Object object;  // on success
  explicit operator bool() const { return !error; }
};

class Store {
 public:
  struct Options {
    std::size_t history = 10000;
    std::chrono::milliseconds foreground_delay{100};
  };
  Store();
  explicit Store(Options opts);

  // Called after every change, once per event, in resourceVersion order.
  std::function<void(const std::shared_ptr<const Event>&)> on_event;

  std::uint64_t resource_version() const noexcept { return rv_; }
  // Events with rv > compacted are kept; a watch from an older rv gets 410.
  std::uint64_t compacted() const noexcept { return compacted_; }

  // API create: validates, sets system metadata; drops status for status subresources
  // unless `keep_status` (the simulator's own writers).
  Result create(const ResourceInfo& r, const std::string& ns, boost::json::object body, Clock::time_point now,
                bool keep_status = false);
  Result get(const ResourceInfo& r, const std::string& ns, const std::string& name) const;
  // PUT. `status` selects the /status subresource.
  Result update(const ResourceInfo& r, const std::string& ns, const std::string& name, boost::json::object body,
                bool status, Clock::time_point now);
  // PATCH with a content type (merge, json-patch, strategic merge).
  Result patch(const ResourceInfo& r, const std::string& ns, const std::string& name, const std::string& content_type,
               const std::string& body, bool status, Clock::time_point now);
  Result remove(const ResourceInfo& r, const std::string& ns, const std::string& name, const DeleteOptions& opts,
                Clock::time_point now);

  // A serialized List answer, or an error (410 for an expired continue).
  struct ListAnswer {
    std::optional<ApiError> error;
    std::string body;
    std::size_t items = 0;
  };
  ListAnswer list(const Filter& f, const ListOptions& opts) const;
  // Current objects matching `f`, for synthetic ADDED events.
  std::vector<Object> snapshot(const Filter& f) const;
  // History after `rv` for `f`; nullopt when `rv` is older than what is kept.
  std::optional<std::vector<std::shared_ptr<const Event>>> since(std::uint64_t rv) const;

  // Advances garbage collection (foreground deletions). Returns true if anything changed.
  bool tick(Clock::time_point now);
  // Drops all kept history (fault injection): every resume from an older rv gets 410.
  void expire_history();

  // Validates and prunes objects of `r` by a CRD schema from now on.
  void set_schema(const ResourceInfo& r, Schema s) { schemas_.insert_or_assign(&r, std::move(s)); }

  std::size_t count(const ResourceInfo& r) const;
  std::vector<Object> all(const ResourceInfo& r) const;

 private:
  using Table = std::map<std::string, Object>;  // key: ns + '/' + name
  Table& table(const ResourceInfo& r) { return tables_[&r]; }
  const Table* table_if(const ResourceInfo& r) const;
  Object store_object(const ResourceInfo& r, boost::json::object obj, const std::string& type,
                      const std::optional<Meta>& old);
  void emit(const ResourceInfo& r, const std::string& type, const Object& o, const std::optional<Meta>& old);
  void erase(const ResourceInfo& r, const std::string& key, Clock::time_point now);
  std::vector<std::pair<const ResourceInfo*, std::string>> dependents_of(const std::string& uid) const;
  // Every write goes through these, so that owners_ stays the index of the tables.
  void put(const ResourceInfo& r, const std::string& key, const Object& o);
  void drop(const ResourceInfo& r, Table::iterator it);
  Result write_update(const ResourceInfo& r, const std::string& key, const Object& cur, boost::json::object next,
                      bool status, Clock::time_point now);

  Options opts_;
  std::uint64_t rv_ = 0;
  std::uint64_t compacted_ = 0;
  std::map<const ResourceInfo*, Table> tables_;
  // owner uid → the (resource, key) of objects with an ownerReference to it: garbage
  // collection looks dependents up here rather than scanning every table.
  std::map<std::string, std::set<std::pair<const ResourceInfo*, std::string>>> owners_;
  std::deque<std::shared_ptr<const Event>> history_;
  struct Pending {
    const ResourceInfo* res;
    std::string key;
    std::string uid;
    std::optional<Clock::time_point> deps_gone;
  };
  std::vector<Pending> foreground_;
  std::uint64_t uid_counter_ = 0;
  std::map<const ResourceInfo*, Schema> schemas_;
  std::optional<ApiError> check_schema(const ResourceInfo& r, const std::string& name, boost::json::object& obj) const;
};

std::string format_time(Clock::time_point t);
bool is_dns1123_subdomain(const std::string& s);
bool is_dns1123_label(const std::string& s);

}  // namespace fdb::sim

// Small helpers over the Kubernetes client for the answers a flow expects (a missing
// object, an object replaced or gone before a delete, an object that exists already), so
// that callers handle outcomes as values and only the unexpected throws (kube::ApiError).
// These await.
#pragma once

#include "watch/request.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace fdb::kube {
class Client;
}

namespace fdb::op {

// GET: the object, or nullopt on NotFound. Throws ApiError otherwise, and a Decode
// ApiError when the answer is not a JSON object (`what` names the request in it).
boost::asio::awaitable<std::optional<boost::json::object>> get_or_null(kube::Client& kube, kube::HttpRequest req,
                                                                       std::string what);

enum class DeleteOutcome {
  Deleted,   // accepted (the object now has a deletionTimestamp, or is gone)
  NotFound,  // gone already
  Conflict,  // the uid precondition failed: a different object holds the name
};
std::string_view to_string(DeleteOutcome o) noexcept;

// DELETE with propagationPolicy Foreground and, when `uid` is not empty, the precondition
// uid: only that object may be deleted. NotFound and Conflict are outcomes, not errors.
boost::asio::awaitable<DeleteOutcome> delete_foreground(kube::Client& kube, kube::ResourceType resource,
                                                        std::string ns, std::string name, std::string uid);

struct CreateOutcome {
  bool created = false;  // false: AlreadyExists
  std::string uid;       // the created object's metadata.uid ("" when it existed or the answer had none)
};
// POST: created (with the new object's uid), or it existed already. Throws otherwise.
boost::asio::awaitable<CreateOutcome> create_or_exists(kube::Client& kube, kube::HttpRequest req);

// DELETE that treats NotFound as done; true when it was there.
boost::asio::awaitable<bool> remove_if_present(kube::Client& kube, kube::HttpRequest req);

// A JSON merge patch of metadata.annotations.
boost::asio::awaitable<void> patch_annotations(kube::Client& kube, kube::ResourceType resource, std::string ns,
                                               std::string name, boost::json::object annotations);

}  // namespace fdb::op

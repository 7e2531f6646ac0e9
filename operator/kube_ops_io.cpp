#include "operator/kube_ops_io.hpp"

#include "watch/client_io.hpp"
#include "watch/errors.hpp"
#include "watch/json_access.hpp"
#include "watch/json_input.hpp"

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

namespace fdb::op {

namespace json = boost::json;
using boost::asio::awaitable;

std::string_view to_string(DeleteOutcome o) noexcept {
  switch (o) {
    case DeleteOutcome::Deleted: return "deleted";
    case DeleteOutcome::NotFound: return "not-found";
    case DeleteOutcome::Conflict: return "conflict";
  }
  return "?";
}

awaitable<std::optional<json::object>> get_or_null(kube::Client& kube, kube::HttpRequest req, std::string what) {
  std::string body;
  try {
    body = co_await kube.call(req);
  } catch (const kube::ApiError& e) {
    if (e.kind() == kube::ErrorKind::NotFound) co_return std::nullopt;
    throw;
  }
  co_return kube::parse_api_object(body, what);
}

awaitable<DeleteOutcome> delete_foreground(kube::Client& kube, kube::ResourceType resource, std::string ns,
                                           std::string name, std::string uid) {
  kube::DeleteOptions opts;
  opts.propagation_policy = "Foreground";
  if (!uid.empty()) opts.precondition_uid = uid;
  const auto req = kube::Requests(resource, ns).remove(name, opts);
  try {
    co_await kube.call(req);
  } catch (const kube::ApiError& e) {
    if (e.kind() == kube::ErrorKind::NotFound) co_return DeleteOutcome::NotFound;
    if (e.kind() == kube::ErrorKind::Conflict) co_return DeleteOutcome::Conflict;
    throw;
  }
  co_return DeleteOutcome::Deleted;
}

awaitable<CreateOutcome> create_or_exists(kube::Client& kube, kube::HttpRequest req) {
  CreateOutcome out;
  std::string answer;
  try {
    answer = co_await kube.call(req);
  } catch (const kube::ApiError& e) {
    if (e.kind() != kube::ErrorKind::AlreadyExists) throw;
    co_return out;
  }
  out.created = true;
  boost::system::error_code ec;
  const json::value created = kube::parse_json(answer, ec);
  if (!ec && created.is_object()) {
    out.uid = kube::string_field(kube::object_field(&created.as_object(), "metadata"), "uid");
  }
  co_return out;
}

awaitable<bool> remove_if_present(kube::Client& kube, kube::HttpRequest req) {
  try {
    co_await kube.call(req);
  } catch (const kube::ApiError& e) {
    if (e.kind() != kube::ErrorKind::NotFound) throw;
    co_return false;
  }
  co_return true;
}

awaitable<void> patch_annotations(kube::Client& kube, kube::ResourceType resource, std::string ns, std::string name,
                                  json::object annotations) {
  const json::object patch{{"metadata", json::object{{"annotations", std::move(annotations)}}}};
  const auto req = kube::Requests(resource, ns).patch(name, kube::PatchType::Merge, json::serialize(patch));
  co_await kube.call(req);
}

}  // namespace fdb::op

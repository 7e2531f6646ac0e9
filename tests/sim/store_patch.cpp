// PATCH: the three content types (merge, JSON patch, strategic merge on built-in kinds),
// applied to the current object and written as an update.
#include "sim/patch.hpp"
#include "sim/store_detail.hpp"

#include <boost/json.hpp>

namespace fdb::sim {
namespace json = boost::json;
using namespace detail;

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

}  // namespace fdb::sim

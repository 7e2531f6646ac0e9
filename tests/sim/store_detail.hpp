// The store's internal helpers, shared by its files (store*.cpp, resources.cpp, selector.cpp):
// metadata reading and normalizing, Status errors, keys, the Lease decode check. Pure.
#pragma once

#include "sim/store.hpp"

#include <boost/json/object.hpp>

#include <cstdint>
#include <optional>
#include <string>

namespace fdb::sim::detail {

boost::json::object details(const ResourceInfo& r, const std::string& name);
ApiError bad_request(std::string msg);
ApiError conflict(const ResourceInfo& r, const std::string& name, const std::string& why);
ApiError invalid(const ResourceInfo& r, const std::string& name, const std::string& field, const std::string& value,
                 const std::string& why);

// The string at `k`, or "" when it is missing or not a string.
std::string str_or(const boost::json::object& o, const char* k);
// The object at `k`, made one when it is missing or not an object.
boost::json::object& obj_at(boost::json::object& o, const char* k);
Meta read_meta(const boost::json::object& o);
// Drops what ObjectMeta does not keep: empty or null labels, annotations, finalizers,
// ownerReferences and managedFields (they are omitempty), so that a write which only adds
// such an empty field is the no-op it is on a real API server.
void normalize_meta(boost::json::object& obj);
std::string key_of(const std::string& ns, const std::string& name);
// What the real server's decoding rejects for the kinds the bridge writes (400 BadRequest).
std::optional<ApiError> validate(const ResourceInfo& r, const boost::json::object& obj);
std::string make_uid(std::uint64_t n);

}  // namespace fdb::sim::detail

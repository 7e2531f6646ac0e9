// JSON merge patch (RFC 7386) and JSON patch (RFC 6902) over Boost.JSON values. Pure.
#pragma once

#include <boost/json/value.hpp>

#include <stdexcept>
#include <string>

namespace fdb::sim {

// A patch that cannot be applied (bad pointer, failed test, malformed operation).
class PatchError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Applies a merge patch: objects merge recursively, null removes, anything else replaces.
boost::json::value merge_patch(boost::json::value target, const boost::json::value& patch);

// Applies a JSON patch (an array of operations add, remove, replace, move, copy, test).
// Throws PatchError naming the failing operation.
boost::json::value json_patch(boost::json::value target, const boost::json::value& patch);

}  // namespace fdb::sim

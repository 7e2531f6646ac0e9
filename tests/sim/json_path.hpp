// Reading a string at a path of object keys, for kube-sim's API router and its Foreman.
#pragma once

#include <boost/json.hpp>

#include <initializer_list>
#include <string>

namespace fdb::sim {

// The string at `path` (object keys, outermost first), or empty when a key is missing, a
// step is not an object or the value is not a string.
inline std::string str_at(const boost::json::object& o, std::initializer_list<const char*> path) {
  const boost::json::value* v = nullptr;
  const boost::json::object* cur = &o;
  for (const char* k : path) {
    if (cur == nullptr) return {};
    v = cur->if_contains(k);
    if (v == nullptr) return {};
    cur = v->is_object() ? &v->as_object() : nullptr;
  }
  return v != nullptr && v->is_string() ? std::string(v->as_string()) : std::string();
}

}  // namespace fdb::sim

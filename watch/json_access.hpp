// Reading fields of JSON objects that may be absent or of the wrong type (Kubernetes
// objects, dispatch and GitHub answers): the field when it has the type asked for, else
// null or empty. A null object reads as empty, so lookups chain: string_field(
// object_field(object_field(&w, "metadata"), "annotations"), key).
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <string>
#include <string_view>

namespace fdb::kube {

// o[key] when it is an object; null when o is null, or the key is absent or not an object.
inline const boost::json::object* object_field(const boost::json::object* o, std::string_view key) {
  const auto* v = o != nullptr ? o->if_contains(key) : nullptr;
  return v != nullptr && v->is_object() ? &v->get_object() : nullptr;
}

// o[key] when it is a string; empty otherwise.
inline std::string string_field(const boost::json::object* o, std::string_view key) {
  const auto* v = o != nullptr ? o->if_contains(key) : nullptr;
  return v != nullptr && v->is_string() ? std::string(v->get_string()) : std::string();
}

// The kind of a JSON value as an error message names it: "null", "a boolean", "a number",
// "a string", "an array", "an object" ("expected an object, got an array").
inline std::string_view json_kind_name(const boost::json::value& v) noexcept {
  switch (v.kind()) {
    case boost::json::kind::null: return "null";
    case boost::json::kind::bool_: return "a boolean";
    case boost::json::kind::int64:
    case boost::json::kind::uint64:
    case boost::json::kind::double_: return "a number";
    case boost::json::kind::string: return "a string";
    case boost::json::kind::array: return "an array";
    case boost::json::kind::object: return "an object";
  }
  return "?";
}

}  // namespace fdb::kube

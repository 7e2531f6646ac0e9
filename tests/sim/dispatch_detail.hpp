// The dispatch simulator's small shared pieces (answers, body fields), for dispatch.cpp and
// dispatch_routes.cpp. Pure.
#pragma once

#include "sim/dispatch.hpp"

#include <boost/json.hpp>

#include <optional>
#include <string>
#include <vector>

namespace fdb::sim::dispatch_detail {
namespace json = boost::json;

inline HttpAnswer answer(int code, const json::value& v) { return HttpAnswer{code, json::serialize(v) + "\n", "application/json", {}, 0}; }
inline HttpAnswer error(int code, const std::string& msg) { return answer(code, json::object{{"error", msg}}); }

inline std::string str(const json::object& o, const char* k) {
  auto* v = o.if_contains(k);
  if (v == nullptr) return {};
  if (v->is_string()) return std::string(v->as_string());
  if (v->is_int64()) return std::to_string(v->as_int64());
  return {};
}
inline int num(const json::object& o, const char* k) {
  auto* v = o.if_contains(k);
  if (v == nullptr) return 0;
  if (v->is_int64()) return static_cast<int>(v->as_int64());
  if (v->is_string()) {
    try {
      return std::stoi(std::string(v->as_string()));
    } catch (const std::exception&) {
      return 0;
    }
  }
  return 0;
}
inline std::optional<json::object> parse_obj(const std::string& body) {
  boost::system::error_code ec;
  auto v = json::parse(body, ec);
  if (ec || !v.is_object()) return std::nullopt;
  return v.as_object();
}
inline const std::vector<std::string> kStatuses = {"backlog", "ready", "in-progress", "in-review", "blocked", "done"};

}  // namespace fdb::sim::dispatch_detail

// kube-sim's request router's small shared pieces (answers, paths, query values), for
// api.cpp, api_discovery.cpp, api_resource.cpp and api_control.cpp. Pure.
#pragma once

#include "sim/api.hpp"
#include "sim/json_path.hpp"

#include <boost/json.hpp>

#include <initializer_list>
#include <string>
#include <vector>

namespace fdb::sim::api_detail {
namespace json = boost::json;

inline Answer json_answer(int code, const json::value& v) {
  Answer a;
  a.http.status = code;
  a.http.body = json::serialize(v);
  return a;
}
inline std::vector<std::string> split_path(const std::string& p) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  while (pos < p.size()) {
    auto n = p.find('/', pos);
    if (n == std::string::npos) n = p.size();
    if (n > pos) out.push_back(p.substr(pos, n - pos));
    pos = n + 1;
  }
  return out;
}
// Go's strconv.ParseBool, as the real server parses boolean query parameters.
inline bool parse_bool(const std::string& v) {
  return v == "1" || v == "t" || v == "T" || v == "true" || v == "TRUE" || v == "True";
}
inline std::string qv(const Request& r, const char* k) {
  auto it = r.query.find(k);
  return it == r.query.end() ? std::string() : it->second;
}
using sim::str_at;

inline Answer not_found_answer() {
  return error_answer(ApiError{404, "NotFound", "the server could not find the requested resource", {}});
}

}  // namespace fdb::sim::api_detail

// JSON that arrives from the network (API server answers, watch events, dispatch answers)
// is parsed with a bounded nesting depth: a hostile or broken answer cannot make the code
// that walks, copies, compares or destroys the value recurse without limit, and the error
// says what was wrong. Invalid UTF-8 is refused (Boost.JSON's default).
#pragma once

#include <boost/json/value.hpp>
#include <boost/system/error_code.hpp>

#include <cstddef>
#include <string>
#include <string_view>

namespace fdb::kube {

// Deeper than any Kubernetes object or dispatch answer (a Workload with its managedFields
// is about 15 levels); Boost.JSON's own default is 32.
inline constexpr std::size_t kMaxJsonDepth = 64;

// Parses one JSON text; on failure sets `ec` (error::too_deep past `max_depth`) and
// returns null.
boost::json::value parse_json(std::string_view text, boost::system::error_code& ec,
                              std::size_t max_depth = kMaxJsonDepth);

// A short description of a parse failure: "nested deeper than 64 levels", "syntax error",
// "incomplete JSON", …
std::string json_error_text(const boost::system::error_code& ec, std::size_t max_depth = kMaxJsonDepth);

}  // namespace fdb::kube

#include "watch/json_input.hpp"

#include <boost/json/error.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/parse_options.hpp>

#include <fmt/format.h>

namespace fdb::kube {

boost::json::value parse_json(std::string_view text, boost::system::error_code& ec, std::size_t max_depth) {
  boost::json::parse_options opts;
  opts.max_depth = max_depth;
  boost::json::value v = boost::json::parse(text, ec, {}, opts);
  if (ec) return nullptr;
  return v;
}

std::string json_error_text(const boost::system::error_code& ec, std::size_t max_depth) {
  if (ec == boost::json::error::too_deep) return fmt::format("nested deeper than {} levels", max_depth);
  return ec.message();
}

}  // namespace fdb::kube

#include "watch/json_input.hpp"

#include "watch/errors.hpp"

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

boost::json::object parse_api_object(std::string_view body, std::string_view what) {
  boost::system::error_code ec;
  boost::json::value v = parse_json(body, ec);
  if (ec) {
    throw ApiError(ErrorKind::Decode, 200, {}, fmt::format("the answer is not JSON ({}) in {} bytes", json_error_text(ec), body.size()),
                   std::string(what));
  }
  if (!v.is_object()) throw ApiError(ErrorKind::Decode, 200, {}, "the answer is not a JSON object", std::string(what));
  return std::move(v.get_object());
}

}  // namespace fdb::kube

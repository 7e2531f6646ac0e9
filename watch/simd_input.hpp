// simdjson's DOM parser with the input buffer it needs, for the fast decoders
// (watch/simd_parse.cpp, watch/simd_pack.cpp). Include from .cpp files only: simdjson is a
// private dependency of the watch library. No I/O.
#pragma once

#include "watch/json_input.hpp"

#include <simdjson.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <new>
#include <string_view>

namespace fdb::kube {

class SimdInput {
 public:
  SimdInput() {
    if (parser_.allocate(64 * 1024, kMaxJsonDepth) != simdjson::SUCCESS) throw std::bad_alloc();
  }

  // Parses `text` (validating all of it); false when simdjson refuses it. Depth: simdjson
  // refuses a document nested kMaxJsonDepth deep, one level before Boost.JSON with max_depth
  // kMaxJsonDepth does; such a line is for the caller's fallback.
  bool parse(std::string_view text, simdjson::dom::element& root) {
    return parser_.parse(padded(text), text.size(), false).get(root) == simdjson::SUCCESS;
  }

 private:
  // The line, copied where simdjson may read SIMDJSON_PADDING bytes past its end: a line
  // handed over in place lies in the connection's read buffer, whose bytes past the line
  // are not ours to promise.
  const char* padded(std::string_view text) {
    const std::size_t need = text.size() + simdjson::SIMDJSON_PADDING;
    if (need > cap_) {
      cap_ = std::max(need, cap_ * 2);
      buf_ = std::make_unique<char[]>(cap_);
    }
    std::memcpy(buf_.get(), text.data(), text.size());
    std::memset(buf_.get() + text.size(), 0, simdjson::SIMDJSON_PADDING);
    return buf_.get();
  }

  simdjson::dom::parser parser_;
  std::unique_ptr<char[]> buf_;
  std::size_t cap_ = 0;
};

}  // namespace fdb::kube

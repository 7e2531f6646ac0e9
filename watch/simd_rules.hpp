// A FieldMask's rules (watch/field_mask.hpp) asked of simdjson's DOM: the two questions
// whose answer depends on the parser, for every walk over a DOM that honours a mask
// (FastParse's in watch/simd_parse.cpp, and any other). Pure, header-only (the walks are
// hot loops); no I/O.
#pragma once

#include "watch/field_mask.hpp"

#include <simdjson.h>

#include <cstdint>
#include <optional>
#include <string_view>

namespace fdb::kube {

// What FieldMask::admits and admits_element look at of a DOM element.
inline JsonShape dom_shape(simdjson::dom::element e) noexcept {
  const auto t = e.type();
  if (t == simdjson::dom::element_type::OBJECT) return JsonShape::Object;
  return t == simdjson::dom::element_type::ARRAY ? JsonShape::Array : JsonShape::Other;
}

// Whether an element object of an array at node `m` (which has an element filter) is kept,
// looked up before anything of it is built. The DOM keeps a key named twice where
// Boost.JSON keeps the last: then the answer is Repeated and the line must go to the
// Boost.JSON decoder.
enum class FilterAnswer : std::uint8_t { Pass, Drop, Repeated };

inline FilterAnswer dom_filter(simdjson::dom::object element, const FieldMask& m) noexcept {
  const std::string_view key = m.element_filter()->first;
  std::optional<std::string_view> found;
  bool seen = false;
  for (const auto kv : element) {
    if (kv.key != key) continue;
    if (seen) return FilterAnswer::Repeated;
    seen = true;
    if (kv.value.type() == simdjson::dom::element_type::STRING) found = kv.value.get_string().value_unsafe();
  }
  return m.passes(found) ? FilterAnswer::Pass : FilterAnswer::Drop;
}

}  // namespace fdb::kube

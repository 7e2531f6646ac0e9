// The walk the fast decoders share: what a FieldMask keeps of a simdjson DOM element, its
// rules honoured as MaskHandler honours them from Boost.JSON's tokens (field_mask.cpp),
// written to `Out` value by value. FastParse (watch/simd_parse.cpp) writes onto a
// Boost.JSON value_stack; PackingEventDecoder (watch/simd_pack.cpp) writes the store's
// packed bytes (PackWriter). Where the DOM and Boost.JSON could disagree the walk gives up
// and says why: a kept number that is not an integer (the two may round it differently), a
// kept key named twice (the DOM keeps both, Boost.JSON the last).
//
// Out: null(), boolean(b), int64(i), uint64(u), string(s), key(k); begin_object() and
// begin_array() return a mark that end_object(mark, count) / end_array(mark, count) take.
// Include from .cpp files only (simdjson is private to the watch library). No I/O.
#pragma once

#include "watch/field_mask.hpp"
#include "watch/short_compare.hpp"
#include "watch/simd_parse.hpp"
#include "watch/simd_rules.hpp"

#include <simdjson.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace fdb::kube {

// The kept keys of the open objects, reused from line to line.
struct WalkKeys {
  std::vector<std::string_view> open, sorted;
};

template <class Out>
class MaskWalk {
 public:
  MaskWalk(Out& out, WalkKeys& keys) : out_(out), keys_(keys.open), sorted_(keys.sorted) { keys_.clear(); }

  FastOutcome why = FastOutcome::Decoded;

  bool value(simdjson::dom::element e, const FieldMask& m) {
    namespace dom = simdjson::dom;
    switch (e.type()) {
      case dom::element_type::OBJECT: return object(e.get_object().value_unsafe(), m);
      case dom::element_type::ARRAY: return array(e.get_array().value_unsafe(), m);
      case dom::element_type::STRING: out_.string(e.get_string().value_unsafe()); return true;
      case dom::element_type::INT64: out_.int64(e.get_int64().value_unsafe()); return true;
      case dom::element_type::UINT64: out_.uint64(e.get_uint64().value_unsafe()); return true;
      case dom::element_type::BOOL: out_.boolean(e.get_bool().value_unsafe()); return true;
      case dom::element_type::NULL_VALUE: out_.null(); return true;
      case dom::element_type::DOUBLE: break;
    }
    why = FastOutcome::KeptDouble;
    return false;
  }

  // A constant's key with the constant for its value, then the keys the mask keeps whose
  // value the child admits, then the constants the object did not have.
  bool object(simdjson::dom::object o, const FieldMask& m) {
    const auto at = out_.begin_object();
    const std::size_t mark = keys_.size();
    const bool constants = !m.constants().empty();
    std::uint32_t met = 0;
    for (const auto kv : o) {
      const FieldMask* c = m.child(kv.key);
      if (c == nullptr) continue;
      if (const int i = constants ? m.constant_index(kv.key) : -1; i >= 0) {
        met |= 1u << i;
        keys_.push_back(kv.key);
        out_.key(kv.key);
        out_.string(m.constants()[static_cast<std::size_t>(i)].second);
        continue;
      }
      if (!c->admits(dom_shape(kv.value))) continue;
      keys_.push_back(kv.key);
      out_.key(kv.key);
      if (!value(kv.value, *c)) return false;
    }
    std::size_t n = keys_.size() - mark;
    if (has_duplicate(mark)) {
      why = FastOutcome::DuplicateKey;
      return false;
    }
    keys_.resize(mark);
    for (std::size_t i = 0; i < m.constants().size(); ++i) {
      if ((met & (1u << i)) != 0) continue;
      out_.key(m.constants()[i].first);
      out_.string(m.constants()[i].second);
      ++n;
    }
    out_.end_object(at, n);
    return true;
  }

 private:
  bool array(simdjson::dom::array a, const FieldMask& m) {
    const auto at = out_.begin_array();
    std::size_t n = 0;
    for (const simdjson::dom::element e : a) {
      if (!m.admits_element(dom_shape(e))) continue;
      if (m.element_filter()) {
        const FilterAnswer f = dom_filter(e.get_object().value_unsafe(), m);
        if (f == FilterAnswer::Repeated) {
          why = FastOutcome::DuplicateKey;
          return false;
        }
        if (f == FilterAnswer::Drop) continue;
      }
      if (!value(e, m)) return false;
      ++n;
    }
    out_.end_array(at, n);
    return true;
  }

  // Whether the keys kept of the object being closed (keys_ from `mark` on) repeat.
  bool has_duplicate(std::size_t mark) {
    const std::size_t n = keys_.size() - mark;
    if (n < 2) return false;
    if (n <= 16) {
      for (std::size_t i = mark; i < keys_.size(); ++i) {
        for (std::size_t j = i + 1; j < keys_.size(); ++j) {
          if (same_key(keys_[i], keys_[j])) return true;
        }
      }
      return false;
    }
    sorted_.assign(keys_.begin() + static_cast<std::ptrdiff_t>(mark), keys_.end());
    std::sort(sorted_.begin(), sorted_.end());
    return std::adjacent_find(sorted_.begin(), sorted_.end()) != sorted_.end();
  }

  Out& out_;
  std::vector<std::string_view>& keys_;  // the kept keys of the open objects, outermost first
  std::vector<std::string_view>& sorted_;
};

}  // namespace fdb::kube

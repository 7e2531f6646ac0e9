#include "watch/simd_parse.hpp"

#include "watch/json_input.hpp"
#include "watch/simd_rules.hpp"

#include <boost/json/value_stack.hpp>

#include <simdjson.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <vector>

namespace fdb::kube {

namespace json = boost::json;
namespace dom = simdjson::dom;

namespace {

// Builds what a mask keeps of a DOM element onto a value_stack, as MaskHandler does from
// Boost.JSON's tokens (field_mask.cpp): the same pushes, so the same values.
class Walk {
 public:
  Walk(json::value_stack& st, std::vector<std::string_view>& keys, std::vector<std::string_view>& sorted)
      : st_(st), keys_(keys), sorted_(sorted) {
    keys_.clear();
  }

  FastOutcome why = FastOutcome::Decoded;

  bool value(dom::element e, const FieldMask& m) {
    switch (e.type()) {
      case dom::element_type::OBJECT: return object(e.get_object().value_unsafe(), m);
      case dom::element_type::ARRAY: return array(e.get_array().value_unsafe(), m);
      case dom::element_type::STRING: st_.push_string(e.get_string().value_unsafe()); return true;
      case dom::element_type::INT64: st_.push_int64(e.get_int64().value_unsafe()); return true;
      case dom::element_type::UINT64: st_.push_uint64(e.get_uint64().value_unsafe()); return true;
      case dom::element_type::BOOL: st_.push_bool(e.get_bool().value_unsafe()); return true;
      case dom::element_type::NULL_VALUE: st_.push_null(); return true;
      case dom::element_type::DOUBLE: break;
    }
    why = FastOutcome::KeptDouble;
    return false;
  }

 private:

  // The rules as MaskHandler honours them: a constant's key with the constant for its
  // value, then the keys the mask keeps whose value the child admits, then the constants
  // the object did not have.
  bool object(dom::object o, const FieldMask& m) {
    const std::size_t mark = keys_.size();
    const bool constants = !m.constants().empty();
    std::uint32_t met = 0;
    for (const auto kv : o) {
      const FieldMask* c = m.child(kv.key);
      if (c == nullptr) continue;
      if (const int i = constants ? m.constant_index(kv.key) : -1; i >= 0) {
        met |= 1u << i;
        keys_.push_back(kv.key);
        st_.push_key(kv.key);
        st_.push_string(m.constants()[static_cast<std::size_t>(i)].second);
        continue;
      }
      if (!c->admits(dom_shape(kv.value))) continue;
      keys_.push_back(kv.key);
      st_.push_key(kv.key);
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
      st_.push_key(m.constants()[i].first);
      st_.push_string(m.constants()[i].second);
      ++n;
    }
    st_.push_object(n);
    return true;
  }

  bool array(dom::array a, const FieldMask& m) {
    std::size_t n = 0;
    for (const dom::element e : a) {
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
    st_.push_array(n);
    return true;
  }

  // Whether the keys kept of the object being closed (keys_ from `mark` on) repeat.
  bool has_duplicate(std::size_t mark) {
    const std::size_t n = keys_.size() - mark;
    if (n < 2) return false;
    if (n <= 16) {
      for (std::size_t i = mark; i < keys_.size(); ++i) {
        for (std::size_t j = i + 1; j < keys_.size(); ++j) {
          if (keys_[i] == keys_[j]) return true;
        }
      }
      return false;
    }
    sorted_.assign(keys_.begin() + static_cast<std::ptrdiff_t>(mark), keys_.end());
    std::sort(sorted_.begin(), sorted_.end());
    return std::adjacent_find(sorted_.begin(), sorted_.end()) != sorted_.end();
  }

  json::value_stack& st_;
  std::vector<std::string_view>& keys_;  // the kept keys of the open objects, outermost first
  std::vector<std::string_view>& sorted_;
};

}  // namespace

struct FastParse::Impl {
  Impl() {
    if (parser.allocate(64 * 1024, kMaxJsonDepth) != simdjson::SUCCESS) throw std::bad_alloc();
  }
  // The line, copied where simdjson may read SIMDJSON_PADDING bytes past its end: a line
  // handed over in place lies in the connection's read buffer, whose bytes past the line
  // are not ours to promise.
  const char* padded(std::string_view text) {
    const std::size_t need = text.size() + simdjson::SIMDJSON_PADDING;
    if (need > cap) {
      cap = std::max(need, cap * 2);
      buf = std::make_unique<char[]>(cap);
    }
    std::memcpy(buf.get(), text.data(), text.size());
    std::memset(buf.get() + text.size(), 0, simdjson::SIMDJSON_PADDING);
    return buf.get();
  }

  // Depth: simdjson refuses a document nested kMaxJsonDepth deep, one level before
  // Boost.JSON with max_depth kMaxJsonDepth does; that line falls back.
  dom::parser parser;
  json::value_stack st;
  std::vector<std::string_view> keys, sorted;  // Walk's, reused line after line
  std::unique_ptr<char[]> buf;
  std::size_t cap = 0;
};

FastParse::FastParse() : impl_(std::make_unique<Impl>()) {}
FastParse::~FastParse() = default;

FastOutcome FastParse::parse(std::string_view text, const FieldMask& mask, json::storage_ptr sp, json::value& out) {
  dom::element root;
  if (impl_->parser.parse(impl_->padded(text), text.size(), false).get(root) != simdjson::SUCCESS) {
    ++counts_.refused;
    return FastOutcome::Refused;
  }
  if (!mask.admits(dom_shape(root))) {
    out = json::value(std::move(sp));  // the top value is dropped: null, as MaskedParser gives
  } else {
    impl_->st.reset(std::move(sp));
    Walk walk(impl_->st, impl_->keys, impl_->sorted);
    if (!walk.value(root, mask)) {
      ++(walk.why == FastOutcome::KeptDouble ? counts_.kept_double : counts_.duplicate_key);
      return walk.why;
    }
    out = impl_->st.release();
  }
  ++counts_.decoded;
  return FastOutcome::Decoded;
}

}  // namespace fdb::kube

#include "watch/simd_parse.hpp"

#include "watch/mask_walk.hpp"
#include "watch/simd_input.hpp"

#include <boost/json/value_stack.hpp>

#include <cstdint>

namespace fdb::kube {

namespace json = boost::json;
namespace dom = simdjson::dom;

namespace {

// What MaskWalk writes, pushed onto a Boost.JSON value_stack as MaskHandler pushes from
// Boost.JSON's tokens (masked_parser.cpp): the same pushes, so the same values.
struct StackOut {
  json::value_stack& st;
  void null() { st.push_null(); }
  void boolean(bool b) { st.push_bool(b); }
  void int64(std::int64_t i) { st.push_int64(i); }
  void uint64(std::uint64_t u) { st.push_uint64(u); }
  void string(std::string_view s) { st.push_string(s); }
  void key(std::string_view k) { st.push_key(k); }
  int begin_object() { return 0; }
  void end_object(int, std::size_t n) { st.push_object(n); }
  int begin_array() { return 0; }
  void end_array(int, std::size_t n) { st.push_array(n); }
};

}  // namespace

struct FastParse::Impl {
  SimdInput input;
  json::value_stack st;
  WalkKeys keys;  // the walk's, reused line after line
};

FastParse::FastParse() : impl_(std::make_unique<Impl>()) {}
FastParse::~FastParse() = default;

FastOutcome FastParse::parse(std::string_view text, const FieldMask& mask, json::storage_ptr sp, json::value& out) {
  dom::element root;
  if (!impl_->input.parse(text, root)) {
    ++counts_.refused;
    return FastOutcome::Refused;
  }
  if (!mask.admits(dom_shape(root))) {
    out = json::value(std::move(sp));  // the top value is dropped: null, as MaskedParser gives
  } else {
    impl_->st.reset(std::move(sp));
    StackOut st{impl_->st};
    MaskWalk<StackOut> walk(st, impl_->keys);
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

// MaskedParser (watch/field_mask.hpp): JSON text through a FieldMask with Boost.JSON's
// tokenizer, building only what the mask keeps. No I/O.
#include "watch/field_mask.hpp"

#include "watch/json_input.hpp"

#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/value_stack.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace fdb::kube {

namespace json = boost::json;
using boost::system::error_code;

// ---- The streaming parser ------------------------------------------------------------
//
// A Boost.JSON basic_parser (the tokenizer under boost::json::parse, which validates
// everything: UTF-8, numbers, nesting) with a handler that walks the mask as the tokens
// come. A value the mask keeps is pushed onto a value_stack (what boost::json::parser
// builds with too), in the caller's storage; a value it drops is only counted through
// (its depth), never built.

namespace {

struct Frame {
  const FieldMask* mask;  // what this object or array keeps (its elements, its keys)
  std::size_t count;      // values (arrays) or key/value pairs (objects) pushed so far
  bool is_object;
  std::uint32_t met;  // of an object, the mask's constants met (by index)
};

class MaskHandler {
 public:
  static constexpr std::size_t max_object_size = static_cast<std::size_t>(-1);
  static constexpr std::size_t max_array_size = static_cast<std::size_t>(-1);
  static constexpr std::size_t max_key_size = static_cast<std::size_t>(-1);
  static constexpr std::size_t max_string_size = static_cast<std::size_t>(-1);

  void reset(const FieldMask* root, json::storage_ptr sp) {
    root_ = root;
    sp_ = sp;
    st_.reset(std::move(sp));
    frames_.clear();
    skip_ = 0;
    next_ = nullptr;
    key_pending_ = in_string_ = root_dropped_ = filtered_ = false;
    part_.clear();
  }
  // The value built: null when the top value was not admitted.
  json::value release() { return root_dropped_ ? json::value(sp_) : st_.release(); }
  // Whether an array with an element filter was built (its elements are not filtered yet).
  bool filtered() const noexcept { return filtered_; }

  bool on_document_begin(error_code&) { return true; }
  bool on_document_end(error_code&) { return true; }
  bool on_comment_part(json::string_view, error_code&) { return true; }
  bool on_comment(json::string_view, error_code&) { return true; }
  bool on_number_part(json::string_view, error_code&) { return true; }

  bool on_object_begin(error_code&) {
    begin_container(JsonShape::Object);
    return true;
  }
  bool on_object_end(std::size_t, error_code&) {
    if (end_container()) {
      add_missing_constants();
      st_.push_object(frames_.back().count), pop_frame();
    }
    return true;
  }
  bool on_array_begin(error_code&) {
    begin_container(JsonShape::Array);
    return true;
  }
  bool on_array_end(std::size_t, error_code&) {
    if (end_container()) {
      filtered_ = filtered_ || frames_.back().mask->element_filter().has_value();
      st_.push_array(frames_.back().count), pop_frame();
    }
    return true;
  }

  bool on_key_part(json::string_view s, std::size_t, error_code&) {
    if (skip_ == 0) part_.append(s.data(), s.size());
    return true;
  }
  bool on_key(json::string_view s, std::size_t, error_code&) {
    if (skip_ > 0) return true;
    std::string_view key(s.data(), s.size());
    if (!part_.empty()) {
      part_.append(key);
      key = part_;
    }
    on_full_key(key);
    part_.clear();
    return true;
  }

  bool on_string_part(json::string_view s, std::size_t, error_code&) {
    if (!in_string_) string_mask_ = begin_value(JsonShape::Other), in_string_ = true;
    if (string_mask_ != nullptr) st_.push_chars(s);
    return true;
  }
  bool on_string(json::string_view s, std::size_t, error_code&) {
    if (!in_string_) string_mask_ = begin_value(JsonShape::Other);
    in_string_ = false;
    if (string_mask_ != nullptr) st_.push_string(s), counted();
    return true;
  }
  bool on_int64(std::int64_t i, json::string_view, error_code&) { return scalar([&] { st_.push_int64(i); }); }
  bool on_uint64(std::uint64_t u, json::string_view, error_code&) { return scalar([&] { st_.push_uint64(u); }); }
  bool on_double(double d, json::string_view, error_code&) { return scalar([&] { st_.push_double(d); }); }
  bool on_bool(bool b, error_code&) { return scalar([&] { st_.push_bool(b); }); }
  bool on_null(error_code&) { return scalar([&] { st_.push_null(); }); }

 private:
  // A key of a built object: its value's node, and the key pushed now, or when the value
  // starts if the node has a shape rule (it may not admit the value), or with the
  // constant in place of the value (which is then dropped).
  void on_full_key(std::string_view key) {
    Frame& f = frames_.back();
    next_ = f.mask->child(key);
    if (next_ == nullptr) return;
    if (const int i = f.mask->constants().empty() ? -1 : f.mask->constant_index(key); i >= 0) {
      st_.push_key(key);
      st_.push_string(f.mask->constants()[static_cast<std::size_t>(i)].second);
      ++f.count;
      f.met |= 1u << i;
      next_ = nullptr;
    } else if (next_->object_required() || next_->objects_only()) {
      pending_key_.assign(key);
      key_pending_ = true;
    } else {
      st_.push_key(key);
    }
  }

  // The node the value now starting (of shape `s`) is built with, or null when it is
  // dropped: the root's; an array's own for its elements; the one its key found in an
  // object. Each only when it admits the value (FieldMask::admits, admits_element).
  const FieldMask* begin_value(JsonShape s) {
    if (skip_ > 0) return nullptr;
    if (frames_.empty()) {
      root_dropped_ = !root_->admits(s);
      return root_dropped_ ? nullptr : root_;
    }
    const Frame& f = frames_.back();
    if (!f.is_object) return f.mask->admits_element(s) ? f.mask : nullptr;
    const FieldMask* m = next_;
    next_ = nullptr;
    if (m == nullptr) return nullptr;
    if (key_pending_) {
      key_pending_ = false;
      if (!m->admits(s)) return nullptr;
      st_.push_key(pending_key_);
    }
    return m;
  }

  void counted() {
    if (!frames_.empty()) ++frames_.back().count;
  }

  template <class Push>
  bool scalar(Push push) {
    if (begin_value(JsonShape::Other) == nullptr) return true;
    push();
    counted();
    return true;
  }

  void begin_container(JsonShape s) {
    const FieldMask* mask = begin_value(s);
    if (mask == nullptr) {
      ++skip_;
      return;
    }
    frames_.push_back({mask, 0, s == JsonShape::Object, 0});
  }

  // True when the container closing is a built one.
  bool end_container() {
    if (skip_ == 0) return true;
    --skip_;
    return false;
  }

  // The constants of the object closing that it did not have, after its keys.
  void add_missing_constants() {
    Frame& f = frames_.back();
    const auto& constants = f.mask->constants();
    for (std::size_t i = 0; i < constants.size(); ++i) {
      if ((f.met & (1u << i)) != 0) continue;
      st_.push_key(constants[i].first);
      st_.push_string(constants[i].second);
      ++f.count;
    }
  }

  void pop_frame() {
    frames_.pop_back();
    counted();
    next_ = nullptr;
  }

  const FieldMask* root_ = nullptr;
  json::storage_ptr sp_;
  json::value_stack st_;
  std::vector<Frame> frames_;
  std::size_t skip_ = 0;  // depth inside a dropped container
  const FieldMask* next_ = nullptr;
  const FieldMask* string_mask_ = nullptr;  // the node of the string value being read
  std::string part_;
  std::string pending_key_;
  bool key_pending_ = false;
  bool in_string_ = false;
  bool root_dropped_ = false;
  bool filtered_ = false;
};

// The finishing pass of MaskedParser: erases from the arrays built the elements that do
// not pass their node's filter (FieldMask::passes), wherever the mask has one.
void erase_filtered(json::value& v, const FieldMask& m) {
  if (!m.filters_below()) return;
  if (v.is_object()) {
    for (auto& kv : v.get_object()) {
      if (const FieldMask* c = m.child(kv.key())) erase_filtered(kv.value(), *c);
    }
    return;
  }
  if (!v.is_array()) return;
  auto& a = v.get_array();
  if (m.element_filter()) {
    // Kept elements are objects (admits_element), and the filter's key is kept in them.
    for (auto e = a.begin(); e != a.end();) e = m.passes(e->get_object()) ? e + 1 : a.erase(e);
  }
  for (auto& e : a) erase_filtered(e, m);
}

}  // namespace

struct MaskedParser::Impl {
  explicit Impl(std::size_t max_depth) : p(options(max_depth)) {}
  static json::parse_options options(std::size_t max_depth) {
    json::parse_options o;
    o.max_depth = max_depth;
    return o;
  }
  json::basic_parser<MaskHandler> p;
};

MaskedParser::MaskedParser(std::size_t max_depth) : impl_(std::make_unique<Impl>(max_depth)) {}
MaskedParser::~MaskedParser() = default;

json::value MaskedParser::parse(std::string_view text, const FieldMask& mask, json::storage_ptr sp, error_code& ec) {
  auto& p = impl_->p;
  p.reset();
  p.handler().reset(&mask, std::move(sp));
  ec = {};
  const std::size_t used = p.write_some(false, text.data(), text.size(), ec);
  if (!ec && used != text.size()) ec = json::error::extra_data;
  if (ec) return nullptr;
  json::value v = p.handler().release();
  if (p.handler().filtered()) erase_filtered(v, mask);
  return v;
}

}  // namespace fdb::kube

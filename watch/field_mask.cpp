#include "watch/field_mask.hpp"

#include "watch/json_input.hpp"
#include "watch/short_compare.hpp"
#include "watch/simd_parse.hpp"

#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/value_stack.hpp>

#include <algorithm>

namespace fdb::kube {

namespace json = boost::json;
using boost::system::error_code;

// ---- FieldMask -----------------------------------------------------------------------

const FieldMask* FieldMask::find(std::string_view key) const noexcept {
  // Called for every key of every kept object: no call to memcmp for short keys.
  for (const auto& [k, sub] : fields_) {
    if (same_key(k, key)) return &sub;
  }
  return nullptr;
}

FieldMask& FieldMask::at(std::initializer_list<std::string_view> path) {
  FieldMask* node = this;
  for (const auto key : path) {
    if (node->whole_) return *node;  // keeps all below already
    FieldMask* next = node->find(key);
    if (next == nullptr) next = &node->fields_.emplace_back(std::string(key), FieldMask{}).second;
    node = next;
  }
  return *node;
}

FieldMask& FieldMask::keep(std::initializer_list<std::string_view> path) {
  if (path.size() == 0) throw std::invalid_argument("FieldMask::keep: an empty path");
  FieldMask& node = at(path);
  node.fields_.clear();
  node.prefixes_.clear();
  node.whole_ = true;
  return *this;
}

FieldMask& FieldMask::keep_prefix(std::initializer_list<std::string_view> path, std::string_view prefix) {
  if (prefix.empty()) throw std::invalid_argument("FieldMask::keep_prefix: an empty prefix (use keep)");
  FieldMask& node = at(path);
  if (node.whole_) return *this;  // keeps every key already
  if (std::find(node.prefixes_.begin(), node.prefixes_.end(), prefix) == node.prefixes_.end()) {
    node.prefixes_.emplace_back(prefix);
  }
  return *this;
}

FieldMask& FieldMask::merge(const FieldMask& other) {
  if (whole()) return *this;  // keeps everything already
  if (other.whole()) {
    fields_.clear();
    prefixes_.clear();
    whole_ = true;
    return *this;
  }
  for (const auto& p : other.prefixes_) {
    if (std::find(prefixes_.begin(), prefixes_.end(), p) == prefixes_.end()) prefixes_.push_back(p);
  }
  for (const auto& [k, sub] : other.fields_) {
    if (FieldMask* mine = find(k)) mine->merge(sub);
    else fields_.emplace_back(k, sub);
  }
  return *this;
}

const FieldMask* FieldMask::child(std::string_view key) const noexcept {
  if (whole()) return this;
  if (const FieldMask* sub = find(key)) return sub;
  for (const auto& p : prefixes_) {
    if (key.starts_with(p)) {
      static const FieldMask kWhole = [] {
        FieldMask m;
        m.whole_ = true;
        return m;
      }();
      return &kWhole;
    }
  }
  return nullptr;
}

json::value FieldMask::apply(const json::value& v, json::storage_ptr sp) const {
  if (whole()) return json::value(v, sp);
  if (v.is_object()) {
    json::object out(sp);
    for (const auto& kv : v.get_object()) {
      if (const FieldMask* c = child(kv.key())) out[kv.key()] = c->apply(kv.value(), sp);
    }
    return out;
  }
  if (v.is_array()) {
    json::array out(sp);
    for (const auto& e : v.get_array()) out.push_back(apply(e, sp));
    return out;
  }
  return json::value(v, sp);
}

FieldMask FieldMask::informer_minimum() {
  FieldMask m;
  m.keep({"metadata", "name"});
  m.keep({"metadata", "namespace"});
  m.keep({"metadata", "resourceVersion"});
  m.keep({"metadata", "annotations", "k8s.io/initial-events-end"});
  return m;
}

FieldMask FieldMask::list_answer(const FieldMask& items) {
  FieldMask m;
  m.keep({"metadata", "resourceVersion"});
  m.keep({"metadata", "continue"});
  m.nest({"items"}, items);
  return m;
}

FieldMask& FieldMask::nest(std::initializer_list<std::string_view> path, const FieldMask& sub) {
  if (path.size() == 0) return merge(sub);
  at(path).merge(sub);
  return *this;
}

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
};

class MaskHandler {
 public:
  static constexpr std::size_t max_object_size = static_cast<std::size_t>(-1);
  static constexpr std::size_t max_array_size = static_cast<std::size_t>(-1);
  static constexpr std::size_t max_key_size = static_cast<std::size_t>(-1);
  static constexpr std::size_t max_string_size = static_cast<std::size_t>(-1);

  void reset(const FieldMask* root, json::storage_ptr sp) {
    root_ = root;
    st_.reset(std::move(sp));
    frames_.clear();
    skip_ = 0;
    next_ = nullptr;
    part_.clear();
  }
  json::value release() { return st_.release(); }

  bool on_document_begin(error_code&) { return true; }
  bool on_document_end(error_code&) { return true; }
  bool on_comment_part(json::string_view, error_code&) { return true; }
  bool on_comment(json::string_view, error_code&) { return true; }
  bool on_number_part(json::string_view, error_code&) { return true; }

  bool on_object_begin(error_code&) {
    begin_container(true);
    return true;
  }
  bool on_object_end(std::size_t, error_code&) {
    if (end_container()) st_.push_object(frames_.back().count), pop_frame();
    return true;
  }
  bool on_array_begin(error_code&) {
    begin_container(false);
    return true;
  }
  bool on_array_end(std::size_t, error_code&) {
    if (end_container()) st_.push_array(frames_.back().count), pop_frame();
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
    next_ = frames_.back().mask->child(key);
    if (next_ != nullptr) st_.push_key(key);
    part_.clear();
    return true;
  }

  bool on_string_part(json::string_view s, std::size_t, error_code&) {
    if (value_kept() != nullptr) st_.push_chars(s);
    return true;
  }
  bool on_string(json::string_view s, std::size_t, error_code&) {
    return scalar([&] { st_.push_string(s); });
  }
  bool on_int64(std::int64_t i, json::string_view, error_code&) { return scalar([&] { st_.push_int64(i); }); }
  bool on_uint64(std::uint64_t u, json::string_view, error_code&) { return scalar([&] { st_.push_uint64(u); }); }
  bool on_double(double d, json::string_view, error_code&) { return scalar([&] { st_.push_double(d); }); }
  bool on_bool(bool b, error_code&) { return scalar([&] { st_.push_bool(b); }); }
  bool on_null(error_code&) { return scalar([&] { st_.push_null(); }); }

 private:
  // The node the value now starting is built with, or null when it is dropped: the
  // root's; an array's own for its elements; the one its key found in an object.
  const FieldMask* value_kept() const noexcept {
    if (skip_ > 0) return nullptr;
    if (frames_.empty()) return root_;
    return frames_.back().is_object ? next_ : frames_.back().mask;
  }

  template <class Push>
  bool scalar(Push push) {
    if (value_kept() == nullptr) return true;
    push();
    if (!frames_.empty()) ++frames_.back().count;
    next_ = nullptr;
    return true;
  }

  void begin_container(bool is_object) {
    const FieldMask* mask = value_kept();
    if (mask == nullptr) {
      ++skip_;
      return;
    }
    frames_.push_back({mask, 0, is_object});
    next_ = nullptr;
  }

  // True when the container closing is a built one.
  bool end_container() {
    if (skip_ == 0) return true;
    --skip_;
    return false;
  }

  void pop_frame() {
    frames_.pop_back();
    if (!frames_.empty()) ++frames_.back().count;
    next_ = nullptr;
  }

  const FieldMask* root_ = nullptr;
  json::value_stack st_;
  std::vector<Frame> frames_;
  std::size_t skip_ = 0;  // depth inside a dropped container
  const FieldMask* next_ = nullptr;
  std::string part_;
};

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
  return p.handler().release();
}

MaskedEventDecoder::MaskedEventDecoder(FieldMask mask, bool fast)
    : mask_(std::move(mask)), parser_(kMaxJsonDepth), fast_(fast ? std::make_unique<FastParse>() : nullptr) {
  envelope_.keep({"type"});
  envelope_.nest({"object"}, mask_);
}

MaskedEventDecoder::~MaskedEventDecoder() = default;

const FastCounts& MaskedEventDecoder::fast_counts() const noexcept {
  static const FastCounts kNone;
  return fast_ ? fast_->counts() : kNone;
}

WatchEvent MaskedEventDecoder::decode(std::string_view line, json::storage_ptr storage) {
  error_code ec;
  json::value doc(storage);  // in `storage`: what is moved into it is not copied
  if (!fast_ || fast_->parse(line, envelope_, storage, doc) != FastOutcome::Decoded) {
    doc = parser_.parse(line, envelope_, storage, ec);
  }
  if (!ec && doc.is_object()) {
    auto& o = doc.get_object();
    const auto* type = o.if_contains("type");
    auto* object = o.if_contains("object");
    const auto et = type != nullptr && type->is_string() ? event_type_of(type->get_string()) : std::nullopt;
    if (et && *et != EventType::Error && object != nullptr && object->is_object()) {
      return WatchEvent{*et, json::object(std::move(object->get_object()))};
    }
  }
  // Anything else — not JSON, an ERROR event (its Status is kept whole), no or an unknown
  // type, an object that is not one — goes through the tree decoder, so that both say the
  // same, error or event. It is rare: the common lines never come here.
  WatchEvent ev = decode_event(line, storage);
  if (ev.type != EventType::Error) {
    json::value masked = mask_.apply(ev.object, storage);
    ev.object = std::move(masked.as_object());
  }
  return ev;
}

}  // namespace fdb::kube

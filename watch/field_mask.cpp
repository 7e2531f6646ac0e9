#include "watch/field_mask.hpp"

#include "watch/json_input.hpp"

#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/value_stack.hpp>

#include <algorithm>
#include <cstring>

namespace fdb::kube {

namespace json = boost::json;
using boost::system::error_code;

// ---- FieldMask -----------------------------------------------------------------------

FieldMask* FieldMask::find(std::string_view key) noexcept {
  for (auto& [k, sub] : fields_) {
    if (k == key) return &sub;
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
  for (const auto& [k, sub] : fields_) {
    if (k.size() == key.size() && std::memcmp(k.data(), key.data(), key.size()) == 0) return &sub;
  }
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

// ---- The streaming decoder -----------------------------------------------------------
//
// A Boost.JSON basic_parser (the tokenizer under boost::json::parse, which validates
// everything: UTF-8, numbers, nesting) with a handler that walks the mask as the tokens
// come. A value the mask keeps is pushed onto a value_stack, in the line's storage; a
// value it drops is only counted through (its depth), never built.

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

  explicit MaskHandler(const FieldMask* mask) : object_mask_(mask) {}

  void reset(json::storage_ptr sp) {
    st_.reset(std::move(sp));
    frames_.clear();
    skip_ = 0;
    level_ = 0;
    next_ = nullptr;
    role_ = Role::None;
    part_.clear();
    type_.clear();
    have_object_ = false;
    object_twice_ = false;
  }

  // After a successful parse: the event's type and its masked object (null when absent).
  std::string_view type() const noexcept { return type_; }
  bool have_object() const noexcept { return have_object_; }
  bool object_twice() const noexcept { return object_twice_; }
  json::value release() { return st_.release(); }

  bool on_document_begin(error_code&) { return true; }
  bool on_document_end(error_code&) { return true; }
  bool on_comment_part(json::string_view, error_code&) { return true; }
  bool on_comment(json::string_view, error_code&) { return true; }
  bool on_number_part(json::string_view, error_code&) { return true; }

  bool on_object_begin(error_code&) {
    if (begin_container()) frames_.push_back({next_, 0, true});
    return true;
  }
  bool on_object_end(std::size_t, error_code&) {
    if (end_container()) {
      st_.push_object(frames_.back().count);
      pop_frame();
    }
    return true;
  }
  bool on_array_begin(error_code&) {
    if (begin_container()) frames_.push_back({next_, 0, false});
    return true;
  }
  bool on_array_end(std::size_t, error_code&) {
    if (end_container()) {
      st_.push_array(frames_.back().count);
      pop_frame();
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
    if (level_ == 1) {  // the event envelope
      if (key == "type") {
        role_ = Role::Type;
        type_.clear();  // the last one counts, as in a parse into a tree
      } else if (key == "object") role_ = have_object_ ? (object_twice_ = true, Role::None) : Role::Object;
      else role_ = Role::None;
      next_ = role_ == Role::Object ? object_mask_ : nullptr;
    } else {
      next_ = frames_.back().mask->child(key);
      if (next_ != nullptr) st_.push_key(key);
    }
    part_.clear();
    return true;
  }

  bool on_string_part(json::string_view s, std::size_t, error_code&) {
    if (skip_ > 0) return true;
    if (level_ == 1) {
      if (role_ == Role::Type) type_.append(s.data(), s.size());
    } else if (building()) {
      st_.push_chars(s);
    }
    return true;
  }
  bool on_string(json::string_view s, std::size_t, error_code&) {
    if (skip_ > 0) return true;
    if (level_ == 1) {
      if (role_ == Role::Type) type_.append(s.data(), s.size());
    } else if (building()) {
      st_.push_string(s);
      scalar_pushed();
    }
    return true;
  }
  bool on_int64(std::int64_t i, json::string_view, error_code&) { return scalar([&] { st_.push_int64(i); }); }
  bool on_uint64(std::uint64_t u, json::string_view, error_code&) { return scalar([&] { st_.push_uint64(u); }); }
  bool on_double(double d, json::string_view, error_code&) { return scalar([&] { st_.push_double(d); }); }
  bool on_bool(bool b, error_code&) { return scalar([&] { st_.push_bool(b); }); }
  bool on_null(error_code&) { return scalar([&] { st_.push_null(); }); }

 private:
  enum class Role { None, Type, Object };

  // Whether the value now starting is built: inside a kept value (an array's elements, or
  // after a kept key), or the envelope's object.
  bool building() const noexcept {
    if (level_ == 1) return role_ == Role::Object;
    if (frames_.empty()) return false;
    return frames_.back().is_object ? next_ != nullptr : true;
  }

  // For an array element, the node is the array's own.
  void element_mask() noexcept {
    if (!frames_.empty() && !frames_.back().is_object) next_ = frames_.back().mask;
  }

  template <class Push>
  bool scalar(Push push) {
    if (skip_ > 0 || level_ == 0) return true;
    if (level_ == 1) return true;  // a scalar "object" is caught after the parse
    if (building()) {
      push();
      scalar_pushed();
    }
    return true;
  }

  void scalar_pushed() {
    if (!frames_.empty()) ++frames_.back().count;
    next_ = nullptr;
  }

  // Returns true when the container is built (a frame is pushed).
  bool begin_container() {
    if (skip_ > 0) {
      ++skip_;
      return false;
    }
    ++level_;
    if (level_ == 1) return false;  // the envelope
    if (level_ == 2 && role_ != Role::Object) {
      skip_ = 1;
      --level_;
      return false;
    }
    if (level_ > 2) {
      element_mask();
      if (!building()) {
        skip_ = 1;
        --level_;
        return false;
      }
    }
    return true;
  }

  // Returns true when the container closing is a built one.
  bool end_container() {
    if (skip_ > 0) {
      --skip_;
      return false;
    }
    --level_;
    return level_ >= 1;
  }

  void pop_frame() {
    frames_.pop_back();
    next_ = nullptr;
    if (frames_.empty()) {  // the envelope's object is complete
      have_object_ = true;
      role_ = Role::None;
    } else {
      ++frames_.back().count;
    }
  }

  const FieldMask* object_mask_;
  json::value_stack st_;
  std::vector<Frame> frames_;
  std::size_t skip_ = 0;   // depth inside a dropped container
  std::size_t level_ = 0;  // depth of built containers and the envelope
  const FieldMask* next_ = nullptr;
  Role role_ = Role::None;
  std::string part_;
  std::string type_;
  bool have_object_ = false;
  bool object_twice_ = false;
};

}  // namespace

struct MaskedEventDecoder::Parser {
  explicit Parser(const FieldMask* mask) : p(options(), mask) {}
  static json::parse_options options() {
    json::parse_options o;
    o.max_depth = kMaxJsonDepth;
    return o;
  }
  json::basic_parser<MaskHandler> p;
};

MaskedEventDecoder::MaskedEventDecoder(FieldMask mask)
    : mask_(std::move(mask)), parser_(std::make_unique<Parser>(&mask_)) {}

MaskedEventDecoder::~MaskedEventDecoder() = default;

WatchEvent MaskedEventDecoder::decode(std::string_view line, json::storage_ptr storage) {
  auto& p = parser_->p;
  p.reset();
  p.handler().reset(storage);
  error_code ec;
  const std::size_t used = p.write_some(false, line.data(), line.size(), ec);
  if (!ec && used != line.size()) ec = json::error::extra_data;
  auto& h = p.handler();
  const std::string_view t = h.type();
  EventType et{};
  bool known = true;
  if (t == "ADDED") et = EventType::Added;
  else if (t == "MODIFIED") et = EventType::Modified;
  else if (t == "DELETED") et = EventType::Deleted;
  else if (t == "BOOKMARK") et = EventType::Bookmark;
  else known = false;
  if (!ec && known && h.have_object() && !h.object_twice()) {
    json::value v = h.release();
    if (v.is_object()) return WatchEvent{et, json::object(std::move(v.get_object()))};
  }
  // Anything else — not JSON, an ERROR event (its Status is kept whole), no or an unknown
  // type, an object that is not one, an "object" given twice — goes through the tree
  // decoder, so that both say the same, error or event. It is rare: the common lines never
  // come here.
  WatchEvent ev = decode_event(line, storage);
  if (ev.type != EventType::Error) {
    json::value masked = mask_.apply(ev.object, storage);
    ev.object = std::move(masked.as_object());
  }
  return ev;
}

}  // namespace fdb::kube

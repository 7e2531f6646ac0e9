#include "watch/field_mask.hpp"

#include "watch/json_input.hpp"
#include "watch/short_compare.hpp"
#include "watch/simd_parse.hpp"

#include <algorithm>
#include <atomic>
#include <stdexcept>

namespace fdb::kube {

namespace json = boost::json;
using boost::system::error_code;

// ---- FieldMask -----------------------------------------------------------------------

std::uint64_t FieldMask::Stamp::next() noexcept {
  static std::atomic<std::uint64_t> last{0};
  return last.fetch_add(1, std::memory_order_relaxed) + 1;
}

const FieldMask* FieldMask::find(std::string_view key) const noexcept {
  // Called for every key of every kept object: no call to memcmp for short keys.
  for (const auto& [k, sub] : fields_) {
    if (same_key(k, key)) return &sub;
  }
  return nullptr;
}

FieldMask& FieldMask::at(std::initializer_list<std::string_view> path) {
  // Every node on the path is touched: the caller changes the last, and each may gain a key.
  FieldMask* node = this;
  for (const auto key : path) {
    node->touch();
    if (node->whole_) return *node;  // keeps all below already
    FieldMask* next = node->find(key);
    if (next == nullptr) next = &node->fields_.emplace_back(std::string(key), FieldMask{}).second;
    node = next;
  }
  node->touch();
  return *node;
}

FieldMask& FieldMask::keep(std::initializer_list<std::string_view> path) {
  if (path.size() == 0) throw std::invalid_argument("FieldMask::keep: an empty path");
  at(path).make_whole();
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

// Whole, with the rules below kept (each node below made whole too) and the children
// that carry none dropped: child() answers for them.
void FieldMask::make_whole() {
  touch();
  whole_ = true;
  prefixes_.clear();
  for (auto& [k, sub] : fields_) sub.make_whole();
  std::erase_if(fields_, [](const auto& kv) { return !kv.second.has_rules(); });
}

bool FieldMask::has_rules() const noexcept {
  if (object_required_ || objects_only_ || filter_ || !constants_.empty()) return true;
  return std::any_of(fields_.begin(), fields_.end(), [](const auto& kv) { return kv.second.has_rules(); });
}

FieldMask& FieldMask::merge(const FieldMask& other) {
  merge_node(other);
  check_rules();
  return *this;
}

void FieldMask::merge_node(const FieldMask& other) {
  touch();
  merge_rules(other);
  if (!whole_) {
    for (const auto& p : other.prefixes_) {
      if (std::find(prefixes_.begin(), prefixes_.end(), p) == prefixes_.end()) prefixes_.push_back(p);
    }
  }
  for (const auto& [k, sub] : other.fields_) {
    if (FieldMask* mine = find(k)) {
      mine->merge_node(sub);
    } else if (!whole_ || sub.has_rules()) {
      FieldMask& added = fields_.emplace_back(k, sub).second;
      if (whole_) added.make_whole();
    }
  }
  if (other.whole_ && !whole_) make_whole();
}

void FieldMask::merge_rules(const FieldMask& other) {
  touch();
  object_required_ = object_required_ || other.object_required_;
  objects_only_ = objects_only_ || other.objects_only_;
  filters_below_ = filters_below_ || other.filters_below_;
  if (other.filter_) {
    if (filter_ && *filter_ != *other.filter_) {
      throw std::invalid_argument("FieldMask: two element filters on one array (" + filter_->first + "=" + filter_->second +
                                  ", " + other.filter_->first + "=" + other.filter_->second + ")");
    }
    filter_ = other.filter_;
  }
  for (const auto& [k, v] : other.constants_) constant(k, v);
}

// Throws on a node (here or below) whose rules cannot all hold.
void FieldMask::check_rules() const {
  if (object_required_ && objects_only_) {
    throw std::invalid_argument("FieldMask: a value required to be an object and an array of objects");
  }
  if (filter_) {
    const FieldMask* key = child(filter_->first);
    if (key == nullptr || key->object_required_ || key->objects_only_) {
      throw std::invalid_argument("FieldMask: the element filter's key " + filter_->first + " must be kept as it is");
    }
  }
  for (const auto& [k, sub] : fields_) sub.check_rules();
}

FieldMask& FieldMask::rule_at(std::initializer_list<std::string_view> path, bool filter) {
  if (path.size() == 0) throw std::invalid_argument("FieldMask: a rule on an empty path");
  FieldMask* node = this;
  for (const auto key : path) {
    node->touch();  // as in at()
    if (filter) node->filters_below_ = true;
    FieldMask* next = node->find(key);
    if (next == nullptr) {
      const bool whole = node->whole_;
      next = &node->fields_.emplace_back(std::string(key), FieldMask{}).second;
      next->whole_ = whole;  // below a whole node, the value is kept whole still
    }
    node = next;
  }
  node->touch();
  if (filter) node->filters_below_ = true;
  return *node;
}

namespace {

// Keeps key `key` of the object at `node` whole.
void keep_key(FieldMask& node, std::string_view key) {
  if (key.empty()) throw std::invalid_argument("FieldMask: a rule on an empty key");
  if (!node.whole()) node.keep({key});
}

}  // namespace

FieldMask& FieldMask::require_object(std::initializer_list<std::string_view> path) {
  rule_at(path, false).object_required_ = true;
  check_rules();
  return *this;
}

FieldMask& FieldMask::array_of_objects(std::initializer_list<std::string_view> path) {
  rule_at(path, false).objects_only_ = true;
  check_rules();
  return *this;
}

FieldMask& FieldMask::where(std::initializer_list<std::string_view> path, std::string_view key, std::string_view value) {
  FieldMask& node = rule_at(path, true);
  FieldMask rule;
  rule.objects_only_ = true;
  rule.filter_.emplace(std::string(key), std::string(value));
  node.merge_rules(rule);
  keep_key(node, key);
  check_rules();
  return *this;
}

FieldMask& FieldMask::constant(std::string_view key, std::string_view value) {
  const int i = constant_index(key);
  if (i >= 0) {
    if (constants_[static_cast<std::size_t>(i)].second == value) return *this;
    throw std::invalid_argument("FieldMask: two constants for " + std::string(key));
  }
  if (constants_.size() == kMaxConstants) throw std::invalid_argument("FieldMask: too many constants on one node");
  touch();
  keep_key(*this, key);
  constants_.emplace_back(std::string(key), std::string(value));
  return *this;
}

int FieldMask::constant_index(std::string_view key) const noexcept {
  for (std::size_t i = 0; i < constants_.size(); ++i) {
    if (same_key(constants_[i].first, key)) return static_cast<int>(i);
  }
  return -1;
}

const FieldMask* FieldMask::child(std::string_view key) const noexcept {
  static const FieldMask kWhole = [] {
    FieldMask m;
    m.whole_ = true;
    return m;
  }();
  if (const FieldMask* sub = find(key)) return sub;
  if (whole_) return &kWhole;
  for (const auto& p : prefixes_) {
    if (key.starts_with(p)) return &kWhole;
  }
  return nullptr;
}

JsonShape shape_of(const json::value& v) noexcept {
  return v.is_object() ? JsonShape::Object : v.is_array() ? JsonShape::Array : JsonShape::Other;
}

bool FieldMask::passes(const json::object& element) const noexcept {
  if (!filter_) return true;
  const json::value* v = element.if_contains(filter_->first);
  return passes(v != nullptr && v->is_string() ? std::optional<std::string_view>(v->get_string()) : std::nullopt);
}

json::value FieldMask::apply(const json::value& v, json::storage_ptr sp) const {
  if (!admits(shape_of(v))) return json::value(sp);
  return apply_kept(v, sp);
}

json::value FieldMask::apply_kept(const json::value& v, const json::storage_ptr& sp) const {
  if (copies_whole()) return json::value(v, sp);
  if (v.is_object()) return apply_object(v.get_object(), sp);
  if (v.is_array()) {
    json::array out(sp);
    for (const auto& e : v.get_array()) {
      if (admits_element(shape_of(e)) && (!filter_ || passes(e.get_object()))) out.push_back(apply_kept(e, sp));
    }
    return out;
  }
  return json::value(v, sp);
}

json::object FieldMask::apply_object(const json::object& o, const json::storage_ptr& sp) const {
  json::object out(sp);
  std::uint32_t met = 0;  // the constants met, by index
  for (const auto& kv : o) {
    const FieldMask* c = child(kv.key());
    if (c == nullptr) continue;
    if (const int i = constant_index(kv.key()); i >= 0) {
      met |= 1u << i;
      out[kv.key()] = std::string_view(constants_[static_cast<std::size_t>(i)].second);
    } else if (c->admits(shape_of(kv.value()))) {
      out[kv.key()] = c->apply_kept(kv.value(), sp);
    }
  }
  for (std::size_t i = 0; i < constants_.size(); ++i) {
    if ((met & (1u << i)) == 0) out[constants_[i].first] = std::string_view(constants_[i].second);
  }
  return out;
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
  // Rules go where `sub` has them, below a whole node too; a rule-free sub under a whole
  // node adds nothing.
  FieldMask& node = sub.has_rules() ? rule_at(path, sub.filters_below()) : at(path);
  node.merge_node(sub);
  check_rules();
  return *this;
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

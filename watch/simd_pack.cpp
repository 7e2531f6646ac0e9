#include "watch/simd_pack.hpp"

#include "watch/pack_writer.hpp"
#include "watch/packed_json.hpp"
#include "watch/short_compare.hpp"
#include "watch/simd_input.hpp"

#include <boost/json/object.hpp>

#include <algorithm>
#include <stdexcept>
#include <string>
#include <vector>

namespace fdb::kube {

namespace json = boost::json;
namespace dom = simdjson::dom;

namespace {

// Packs what a mask keeps of a DOM element, as pack() packs what FieldMask::apply keeps
// (the same keys in the same order, the same scalars), or gives up and says why.
class PackWalk {
 public:
  PackWalk(PackWriter& w, std::vector<std::string_view>& keys, std::vector<std::string_view>& sorted)
      : w_(w), keys_(keys), sorted_(sorted) {
    keys_.clear();
  }

  FastOutcome why = FastOutcome::Decoded;

  bool value(dom::element e, const FieldMask& m) {
    switch (e.type()) {
      case dom::element_type::OBJECT: return object(e.get_object().value_unsafe(), m);
      case dom::element_type::ARRAY: return array(e.get_array().value_unsafe(), m);
      case dom::element_type::STRING: w_.string(e.get_string().value_unsafe()); return true;
      case dom::element_type::INT64: w_.int64(e.get_int64().value_unsafe()); return true;
      case dom::element_type::UINT64: w_.uint64(e.get_uint64().value_unsafe()); return true;
      case dom::element_type::BOOL: w_.boolean(e.get_bool().value_unsafe()); return true;
      case dom::element_type::NULL_VALUE: w_.null(); return true;
      case dom::element_type::DOUBLE: break;
    }
    why = FastOutcome::KeptDouble;  // the two parsers may round it differently
    return false;
  }

  bool object(dom::object o, const FieldMask& m) {
    const std::size_t at = w_.begin_object();
    const std::size_t mark = keys_.size();
    for (const auto kv : o) {
      const FieldMask* c = m.child(kv.key);
      if (c == nullptr) continue;
      keys_.push_back(kv.key);
      w_.key(kv.key);
      if (!value(kv.value, *c)) return false;
    }
    const std::size_t n = keys_.size() - mark;
    if (has_duplicate(mark)) {
      why = FastOutcome::DuplicateKey;  // the DOM keeps both, Boost.JSON the last
      return false;
    }
    keys_.resize(mark);
    w_.end_object(at, n);
    return true;
  }

 private:
  bool array(dom::array a, const FieldMask& m) {
    const std::size_t at = w_.begin_array();
    std::size_t n = 0;
    for (const dom::element e : a) {
      if (!value(e, m)) return false;
      ++n;
    }
    w_.end_array(at, n);
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

  PackWriter& w_;
  std::vector<std::string_view>& keys_;  // the kept keys of the open objects, outermost first
  std::vector<std::string_view>& sorted_;
};

// The event's "type" and "object", each named once (a second one is the fallback's: Boost.JSON
// keeps the last).
struct Envelope {
  dom::element type, object;
  int types = 0, objects = 0;
};

Envelope envelope_of(dom::object root) {
  Envelope env;
  for (const auto kv : root) {
    if (kv.key == "type") {
      env.type = kv.value;
      ++env.types;
    } else if (kv.key == "object") {
      env.object = kv.value;
      ++env.objects;
    }
  }
  return env;
}

// metadata[key] of a packed object when it is a string; empty otherwise. The walk has
// checked that no kept key repeats, so the first is the only one.
std::string_view md_string(dom::object object, std::string_view key) {
  dom::object md;
  std::string_view s;
  if (object["metadata"].get(md) != simdjson::SUCCESS) return {};
  if (md[key].get(s) != simdjson::SUCCESS) return {};
  return s;
}

}  // namespace

struct PackingEventDecoder::Impl {
  Impl(FieldMask m, KeyTable& k) : mask(std::move(m)), keys(k), fallback(mask, false) {}

  FieldMask mask;
  KeyTable& keys;
  MaskedEventDecoder fallback;  // Boost.JSON's MaskedParser for every other line
  SimdInput input;
  std::string bytes, key;  // the last line's packed object and cache key
  std::vector<std::string_view> walk_keys, sorted;
};

PackingEventDecoder::PackingEventDecoder(FieldMask mask, KeyTable& keys)
    : impl_(std::make_unique<Impl>(std::move(mask), keys)) {
  // The cache key is read from the line, so the stored object must keep what it is made of
  // (informer_mask() always does): otherwise the two paths would key objects differently.
  const FieldMask* md = impl_->mask.child("metadata");
  if (md == nullptr || md->child("name") == nullptr || md->child("namespace") == nullptr) {
    throw std::invalid_argument("PackingEventDecoder: the mask must keep metadata.name and metadata.namespace");
  }
}
PackingEventDecoder::~PackingEventDecoder() = default;

const FieldMask& PackingEventDecoder::mask() const noexcept { return impl_->mask; }

WatchEvent PackingEventDecoder::decode(std::string_view line, json::storage_ptr storage) {
  Impl& im = *impl_;
  dom::element root;
  if (!im.input.parse(line, root)) {
    ++counts_.refused;
    return im.fallback.decode(line, std::move(storage));
  }
  dom::object top, object;
  std::string_view type_name;
  const Envelope env = root.get(top) == simdjson::SUCCESS ? envelope_of(top) : Envelope{};
  const bool once = env.types == 1 && env.objects == 1;
  const auto type = once && env.type.get(type_name) == simdjson::SUCCESS ? event_type_of(type_name) : std::nullopt;
  if (!type || *type == EventType::Bookmark || *type == EventType::Error || env.object.get(object) != simdjson::SUCCESS) {
    // Not for this path (or not an event at all): the reference decoder answers.
    if (env.types > 1 || env.objects > 1) ++counts_.duplicate_key;
    return im.fallback.decode(line, std::move(storage));
  }
  im.bytes.clear();
  PackWriter writer(im.keys, im.bytes);
  PackWalk walk(writer, im.walk_keys, im.sorted);
  const std::string_view name = md_string(object, "name");
  if (name.empty() || !walk.object(object, im.mask)) {
    if (walk.why == FastOutcome::KeptDouble) ++counts_.kept_double;
    if (walk.why == FastOutcome::DuplicateKey) ++counts_.duplicate_key;
    return im.fallback.decode(line, std::move(storage));
  }
  const std::string_view ns = md_string(object, "namespace");
  im.key.clear();
  if (!ns.empty()) im.key.append(ns).push_back('/');
  im.key.append(name);
  WatchEvent ev{*type, json::object(storage), PackedObject{im.key, im.bytes}};
  auto& md = ev.object["metadata"].emplace_object();
  md.emplace("name", name);
  if (!ns.empty()) md.emplace("namespace", ns);
  if (const std::string_view rv = md_string(object, "resourceVersion"); !rv.empty()) md.emplace("resourceVersion", rv);
  ++counts_.decoded;
  return ev;
}

}  // namespace fdb::kube

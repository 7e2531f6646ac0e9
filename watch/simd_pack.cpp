#include "watch/simd_pack.hpp"

#include "watch/mask_walk.hpp"
#include "watch/pack_writer.hpp"
#include "watch/packed_json.hpp"
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
  WalkKeys walk_keys;
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
  MaskWalk<PackWriter> walk(writer, im.walk_keys);
  const std::string_view name = md_string(object, "name");
  if (name.empty() || !im.mask.admits(JsonShape::Object) || !walk.object(object, im.mask)) {
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

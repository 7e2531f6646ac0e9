#include "watch/simd_pack.hpp"

#include "watch/mask_walk.hpp"
#include "watch/pack_writer.hpp"
#include "watch/packed_json.hpp"
#include "watch/simd_input.hpp"

#include <boost/json/object.hpp>

#include <stdexcept>
#include <string>

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

// What the reflector and the cache key read of an object's metadata: its name, namespace and
// resourceVersion when they are strings, empty otherwise. Read once per line, before the walk
// (the key is hinted to the store then: a hint only); the event carries them only once the
// walk has checked that no kept key repeats, so the first of each is the only one.
struct Head {
  std::string_view name, ns, rv;
};

Head head_of(dom::object object) {
  Head h;
  dom::object md;
  if (object["metadata"].get(md) != simdjson::SUCCESS) return h;
  bool seen[3] = {};  // the first of each key counts, as an at_key lookup would find it
  std::string_view* fields[3] = {&h.name, &h.ns, &h.rv};
  for (const auto kv : md) {
    const int i = kv.key == "name" ? 0 : kv.key == "namespace" ? 1 : kv.key == "resourceVersion" ? 2 : -1;
    if (i < 0 || seen[i]) continue;
    seen[i] = true;
    std::string_view s;
    if (kv.value.get(s) == simdjson::SUCCESS) *fields[i] = s;
  }
  return h;
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
  KeyHint hint;
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

void PackingEventDecoder::set_key_hint(KeyHint hint) { impl_->hint = std::move(hint); }

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
  const Head head = head_of(object);
  if (head.name.empty() || !im.mask.admits(JsonShape::Object)) return im.fallback.decode(line, std::move(storage));
  im.key.clear();
  if (!head.ns.empty()) im.key.append(head.ns).push_back('/');
  im.key.append(head.name);
  // The store will look the key up once the walk is done: its slot can be on its way now.
  if (im.hint) im.hint(im.key);
  im.bytes.clear();
  PackWriter writer(im.keys, im.bytes);
  MaskWalk<PackWriter> walk(writer, im.walk_keys);
  if (!walk.object(object, im.mask)) {
    if (walk.why == FastOutcome::KeptDouble) ++counts_.kept_double;
    if (walk.why == FastOutcome::DuplicateKey) ++counts_.duplicate_key;
    return im.fallback.decode(line, std::move(storage));
  }
  WatchEvent ev{*type, json::object(storage), PackedObject{im.key, im.bytes, head.rv}};
  if (*type == EventType::Deleted) {
    // What a removal reads (ObjectCache::remove): rare, so built as an object.
    auto& md = ev.object["metadata"].emplace_object();
    md.emplace("name", head.name);
    if (!head.ns.empty()) md.emplace("namespace", head.ns);
    if (!head.rv.empty()) md.emplace("resourceVersion", head.rv);
  }
  ++counts_.decoded;
  return ev;
}

}  // namespace fdb::kube

#include "watch/object_cache.hpp"

#include "watch/informer_event.hpp"
#include "watch/json_access.hpp"
#include "watch/packed_json.hpp"
#include "watch/packed_reads.hpp"
#include "watch/reflector.hpp"

#include <boost/json/monotonic_resource.hpp>

#include <algorithm>
#include <set>
#include <stdexcept>

namespace fdb::kube {

namespace json = boost::json;

namespace {
constexpr std::size_t kReadsArena = 4096;
}  // namespace

IndexSpec label_index(std::string label) {
  FieldMask reads;
  reads.keep({"metadata", "labels", label});
  return {[label = std::move(label)](const json::object& o) -> std::vector<std::string> {
            // Not string_field: a label set to "" is filed under "", an absent one is not filed.
            const auto* labels = object_field(object_field(&o, "metadata"), "labels");
            const auto* v = labels != nullptr ? labels->if_contains(label) : nullptr;
            if (v == nullptr || !v->is_string()) return {};
            return {std::string(v->get_string())};
          },
          std::move(reads)};
}

std::string_view CachedObject::name() const noexcept {
  const auto slash = key_.find('/');
  return slash == std::string::npos ? std::string_view(key_) : std::string_view(key_).substr(slash + 1);
}

const json::object& CachedObject::object() const {
  if (!decoded_) {
    decoded_ = unpack(packed_, keys_, json::make_shared_resource<json::monotonic_resource>(packed_.size() * 4 + 256));
  }
  return *decoded_;
}

struct ObjectCache::Index {
  IndexFunc fn;
  PackedReads reads;  // IndexSpec::reads, over keys_
  // Views of the keys of objects_ (entries never move while the object is stored).
  std::map<std::string, std::set<std::string_view>, std::less<>> by_value;
};

ObjectCache::ObjectCache(std::function<json::object(json::object)> transform,
                         std::map<std::string, IndexSpec, std::less<>> indexes, std::optional<FieldMask> fields)
    : transform_(std::move(transform)),
      fields_(std::move(fields)),
      keys_(std::make_unique<KeyTable>()),
      reads_buffer_(std::make_unique<unsigned char[]>(kReadsArena)) {
  FieldMask any;
  for (auto& [name, spec] : indexes) {
    if (!spec.fn) throw std::invalid_argument("index " + name + " has no function");
    any.merge(spec.reads);
    indexes_.emplace(name, Index{std::move(spec.fn), PackedReads(spec.reads, *keys_), {}});
  }
  if (!indexes_.empty()) any_reads_ = std::make_unique<PackedReads>(any, *keys_);
  const FieldMask* metadata = any.child("metadata");
  if (any_reads_ && (metadata == nullptr || metadata->child("resourceVersion") == nullptr)) {
    FieldMask version;
    version.keep({"metadata", "resourceVersion"});
    version_ = std::make_unique<PackedReads>(version, *keys_);
  }
  refiling_.resize(indexes_.size());
}

ObjectCache::~ObjectCache() = default;

json::object ObjectCache::project(json::object object) const {
  if (fields_) {
    json::value masked = fields_->apply(object, object.storage());
    object = std::move(masked.as_object());
  }
  return project_masked(std::move(object));
}

json::object ObjectCache::project_masked(json::object object) const {
  return transform_ ? transform_(std::move(object)) : std::move(object);
}

json::object ObjectCache::decode(std::string_view packed) const {
  // Each decoded copy in an arena of its own: one allocation, freed with the copy.
  return unpack(packed, *keys_, json::make_shared_resource<json::monotonic_resource>(packed.size() * 4 + 256));
}

void ObjectCache::values_of(const Index& index, std::string_view packed, std::vector<std::string>& out) {
  json::monotonic_resource mr(reads_buffer_.get(), kReadsArena);
  const json::object read = index.reads.unpack(packed, json::storage_ptr(&mr));
  out = index.fn(read);
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());  // the same value twice
}

void ObjectCache::file(Index& index, std::string_view key, const std::vector<std::string>& values) {
  for (const auto& value : values) {
    auto it = index.by_value.find(value);
    if (it == index.by_value.end()) it = index.by_value.emplace(value, std::set<std::string_view>{}).first;
    it->second.insert(key);
  }
}

void ObjectCache::unfile(Index& index, std::string_view key, const std::vector<std::string>& values) {
  for (const auto& value : values) {
    auto it = index.by_value.find(value);
    if (it == index.by_value.end()) continue;
    it->second.erase(key);
    if (it->second.empty()) index.by_value.erase(it);
  }
}

void ObjectCache::replace(std::vector<json::object> objects) {
  const std::uint64_t list = ++replaces_ | (std::uint64_t{1} << 63);
  for (auto& o : objects) {
    object_key(o, key_scratch_);
    if (!key_scratch_.empty()) upsert_projected(key_scratch_, project(std::move(o)), list);
  }
  finish_list(list);
}

std::vector<const ObjectCache::Entry*> ObjectCache::in_key_order() const {
  std::vector<const Entry*> out;
  out.reserve(objects_.size());
  objects_.for_each([&out](const Entry& e) { out.push_back(&e); });
  std::sort(out.begin(), out.end(), [](const Entry* a, const Entry* b) { return a->key() < b->key(); });
  return out;
}

void ObjectCache::apply(reflector::Upsert&& u) {
  if (u.packed) upsert_packed(u.packed->key, u.packed->bytes, u.list);
  else if (u.list != 0) upsert_masked(std::move(u.object), u.list);
  else upsert_masked(std::move(u.object));
}

void ObjectCache::finish_list(std::uint64_t list) {
  // Objects deleted while we were not watching: handlers get a delete, in key order.
  std::vector<std::string> gone;
  objects_.for_each([&](const Entry& e) {
    if (e.list != list) gone.emplace_back(e.key());
  });
  std::sort(gone.begin(), gone.end());
  for (const auto& key : gone) erase(key);
}

void ObjectCache::erase(std::string_view key) {
  Entry* e = objects_.find(key);
  if (e == nullptr) return;
  std::size_t i = 0;
  for (auto& [name, index] : indexes_) values_of(index, e->packed(), refiling_[i++].before);
  i = 0;
  for (auto& [name, index] : indexes_) unfile(index, e->key(), refiling_[i++].before);
  const ObjectTable::EntryPtr gone = objects_.extract(key);
  packed_bytes_ -= gone->packed().size();
  if (!handlers_.on_delete) return;
  event_key_.assign(gone->key());
  const CachedObject o(event_key_, gone->packed(), *keys_);
  handlers_.on_delete(o);
}

void ObjectCache::upsert(json::object object) {
  object_key(object, key_scratch_);
  if (key_scratch_.empty()) return;
  upsert_projected(key_scratch_, project(std::move(object)), 0);
}

void ObjectCache::upsert_masked(json::object object) { upsert_masked(std::move(object), 0); }

void ObjectCache::upsert_masked(json::object object, std::uint64_t list) {
  object_key(object, key_scratch_);
  if (key_scratch_.empty()) return;
  upsert_projected(key_scratch_, project_masked(std::move(object)), list);
}

void ObjectCache::upsert_projected(const std::string& key, const json::object& projected, std::uint64_t list) {
  // Packed into a buffer kept from event to event: an update that changes nothing
  // allocates nothing.
  pack_scratch_.clear();
  pack(projected, *keys_, pack_scratch_);
  upsert_packed(key, pack_scratch_, list);
}

void ObjectCache::upsert_packed(std::string_view key, std::string_view packed, std::uint64_t list) {
  if (key.empty()) throw std::invalid_argument("ObjectCache::upsert_packed: an empty key");
  Entry* e = objects_.find(key);
  if (e == nullptr) {
    add(key, packed, list);
    return;
  }
  // The stored bytes are read next (compared, then overwritten), most likely not in cache:
  // every line of them is asked for at once, rather than one miss after another.
  const std::string_view stored = e->packed();
  const auto line = [](const char* p) { return reinterpret_cast<std::uintptr_t>(p) & ~std::uintptr_t{63}; };
  for (std::uintptr_t at = line(stored.data()) + 64; !stored.empty() && at <= line(&stored.back()); at += 64) {
    __builtin_prefetch(reinterpret_cast<const void*>(at));
  }
  // A watch event's object keeps the mark of the list that named it last.
  if (list != 0) e->list = list;
  // Nothing stored changed (a relist of an unchanged object): no update.
  if (e->packed() == packed) return;
  change(*e, packed);
}

namespace {
// A span as an entry holds it: {0, 0} for none, or past what its 16 bits hold.
std::pair<std::uint16_t, std::uint16_t> entry_span(const std::optional<ByteSpan>& s) noexcept {
  if (!s || s->at + s->size > 0xffff) return {0, 0};
  return {static_cast<std::uint16_t>(s->at), static_cast<std::uint16_t>(s->size)};
}
}  // namespace

std::pair<std::uint16_t, std::uint16_t> ObjectCache::version_span(std::string_view packed) const {
  return version_ ? entry_span(string_payload(packed, *version_)) : std::pair<std::uint16_t, std::uint16_t>{0, 0};
}

void ObjectCache::add(std::string_view key, std::string_view packed, std::uint64_t list) {
  std::size_t i = 0;
  for (auto& [name, index] : indexes_) values_of(index, packed, refiling_[i++].after);
  const auto [version_at, version_size] = version_span(packed);
  Entry& e = *objects_.emplace(key).first;
  try {
    e.set_packed(packed);
  } catch (...) {
    objects_.extract(key);
    throw;
  }
  e.list = list;
  e.unread_at = version_at;
  e.unread_size = version_size;
  packed_bytes_ += packed.size();
  i = 0;
  for (auto& [name, index] : indexes_) file(index, e.key(), refiling_[i++].after);
  if (!handlers_.on_add) return;
  event_key_.assign(e.key());
  const CachedObject o(event_key_, e.packed(), *keys_);
  handlers_.on_add(o);
}

void ObjectCache::change(Entry& e, std::string_view packed) {
  // Most updates leave what the indexes read as it was: no index function is called. Most
  // of those change only the resourceVersion: bytes that are the stored ones with that
  // string alone replaced (same_but_string) are the same tree but for it, which no index
  // reads: no walk is needed, and the version's new place is known. Else the reads are
  // compared, and the version found in the new bytes.
  const std::optional<ByteSpan> moved =
      e.unread_size == 0 ? std::nullopt : same_but_string(e.packed(), packed, {e.unread_at, e.unread_size});
  const bool none_read = any_reads_ == nullptr || moved || any_reads_->same(e.packed(), packed);
  const auto [version_at, version_size] = moved ? entry_span(moved) : version_span(packed);
  std::size_t i = 0;
  for (auto& [name, index] : indexes_) {
    Refiling& r = refiling_[i++];
    r.changed = !none_read && !index.reads.same(e.packed(), packed);
    if (!r.changed) continue;
    values_of(index, e.packed(), r.before);
    values_of(index, packed, r.after);
    r.changed = r.before != r.after;
  }
  const bool with_before = static_cast<bool>(handlers_.on_update);
  if (with_before) before_scratch_.assign(e.packed());
  const std::size_t old_size = e.packed().size();
  e.set_packed(packed);
  e.unread_at = version_at;
  e.unread_size = version_size;
  packed_bytes_ = packed_bytes_ - old_size + packed.size();
  i = 0;
  for (auto& [name, index] : indexes_) {
    const Refiling& r = refiling_[i++];
    if (!r.changed) continue;
    unfile(index, e.key(), r.before);
    file(index, e.key(), r.after);
  }
  if (!with_before && !handlers_.on_modified) return;
  event_key_.assign(e.key());
  const CachedObject after(event_key_, e.packed(), *keys_);
  if (with_before) {
    const CachedObject before(event_key_, before_scratch_, *keys_);
    handlers_.on_update(before, after);
  } else {
    handlers_.on_modified(after);
  }
}

void ObjectCache::remove(const json::object& object) {
  object_key(object, key_scratch_);
  if (!key_scratch_.empty()) erase(key_scratch_);
}

std::optional<json::object> ObjectCache::get(std::string_view key) const {
  const Entry* e = objects_.find(key);
  if (e == nullptr) return std::nullopt;
  return decode(e->packed());
}

bool ObjectCache::contains(std::string_view key) const { return objects_.find(key) != nullptr; }

void ObjectCache::for_each(const std::function<void(const std::string&, const json::object&)>& f) const {
  std::string key;
  for (const Entry* e : in_key_order()) {
    key.assign(e->key());
    f(key, decode(e->packed()));
  }
}

void ObjectCache::for_each_key(const std::function<void(const std::string&)>& f) const {
  std::string key;
  for (const Entry* e : in_key_order()) {
    key.assign(e->key());
    f(key);
  }
}

const ObjectCache::Index& ObjectCache::index(std::string_view name) const {
  const auto it = indexes_.find(name);
  if (it == indexes_.end()) throw std::out_of_range("no index named " + std::string(name));
  return it->second;
}

std::vector<std::string> ObjectCache::index_keys(std::string_view name, std::string_view value) const {
  const Index& ix = index(name);
  const auto it = ix.by_value.find(value);
  if (it == ix.by_value.end()) return {};
  return {it->second.begin(), it->second.end()};
}

std::size_t ObjectCache::index_count(std::string_view name, std::string_view value) const {
  const Index& ix = index(name);
  const auto it = ix.by_value.find(value);
  return it == ix.by_value.end() ? 0 : it->second.size();
}

std::map<std::string, std::size_t, std::less<>> ObjectCache::index_counts(std::string_view name) const {
  std::map<std::string, std::size_t, std::less<>> out;
  for (const auto& [value, keys] : index(name).by_value) out.emplace(value, keys.size());
  return out;
}

}  // namespace fdb::kube

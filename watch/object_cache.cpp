#include "watch/object_cache.hpp"

#include "watch/informer_event.hpp"
#include "watch/json_access.hpp"
#include "watch/packed_json.hpp"
#include "watch/reflector.hpp"

#include <boost/json/monotonic_resource.hpp>

#include <algorithm>
#include <set>
#include <stdexcept>

namespace fdb::kube {

namespace json = boost::json;

IndexFunc label_index(std::string label) {
  return [label = std::move(label)](const json::object& o) -> std::vector<std::string> {
    // Not string_field: a label set to "" is filed under "", an absent one is not filed.
    const auto* labels = object_field(object_field(&o, "metadata"), "labels");
    const auto* v = labels != nullptr ? labels->if_contains(label) : nullptr;
    if (v == nullptr || !v->is_string()) return {};
    return {std::string(v->get_string())};
  };
}

struct ObjectCache::Index {
  IndexFunc fn;
  // Views of the keys of objects_ (hash map nodes never move while the object is stored).
  std::map<std::string, std::set<std::string_view>, std::less<>> by_value;
};

ObjectCache::ObjectCache(std::function<json::object(json::object)> transform,
                         std::map<std::string, IndexFunc, std::less<>> indexes, std::optional<FieldMask> fields)
    : transform_(std::move(transform)), fields_(std::move(fields)), keys_(std::make_unique<KeyTable>()) {
  for (auto& [name, fn] : indexes) indexes_.emplace(name, Index{std::move(fn), {}});
  if (indexes_.size() > 255) throw std::invalid_argument("a cache takes at most 255 indexes");
  for (auto& [name, index] : indexes_) index_list_.push_back(&index);
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

json::object ObjectCache::decode(const std::string& packed) const {
  // Each decoded copy in an arena of its own: one allocation, freed with the copy.
  return unpack(packed, *keys_, json::make_shared_resource<json::monotonic_resource>(packed.size() * 4 + 256));
}

void ObjectCache::file(const std::string& key, const std::vector<std::string>& filed) {
  for (const auto& f : filed) {
    Index& index = *index_list_.at(static_cast<unsigned char>(f[0]));
    const std::string_view value = std::string_view(f).substr(1);
    auto it = index.by_value.find(value);
    if (it == index.by_value.end()) it = index.by_value.emplace(std::string(value), std::set<std::string_view>{}).first;
    it->second.insert(key);
  }
}

void ObjectCache::unfile(const std::string& key, const std::vector<std::string>& filed) {
  for (const auto& f : filed) {
    Index& index = *index_list_.at(static_cast<unsigned char>(f[0]));
    auto it = index.by_value.find(std::string_view(f).substr(1));
    if (it == index.by_value.end()) continue;
    it->second.erase(key);
    if (it->second.empty()) index.by_value.erase(it);
  }
}

void ObjectCache::replace(std::vector<json::object> objects) {
  const std::uint64_t list = ++replaces_ | (std::uint64_t{1} << 63);
  for (auto& o : objects) {
    std::string key = object_key(o);
    if (!key.empty()) upsert_projected(key, project(std::move(o)), list);
  }
  finish_list(list);
}

std::vector<ObjectCache::Objects::const_iterator> ObjectCache::in_key_order() const {
  std::vector<Objects::const_iterator> out;
  out.reserve(objects_.size());
  for (auto it = objects_.cbegin(); it != objects_.cend(); ++it) out.push_back(it);
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a->first < b->first; });
  return out;
}

void ObjectCache::finish_list(std::uint64_t list) {
  // Objects deleted while we were not watching: handlers get a delete, in key order.
  std::vector<std::string> gone;
  for (const auto& [key, stored] : objects_) {
    if (stored.list != list) gone.push_back(key);
  }
  std::sort(gone.begin(), gone.end());
  for (const auto& key : gone) erase(objects_.find(key));
}

void ObjectCache::erase(Objects::iterator it) {
  unfile(it->first, it->second.filed);
  packed_bytes_ -= it->second.packed.size();
  std::optional<json::object> gone;
  if (handlers_.on_delete) gone = decode(it->second.packed);
  objects_.erase(it);
  if (gone) handlers_.on_delete(*gone);
}

void ObjectCache::upsert(json::object object) {
  object_key(object, key_scratch_);
  if (key_scratch_.empty()) return;
  upsert_projected(key_scratch_, project(std::move(object)), 0);
}

void ObjectCache::upsert_masked(json::object object) {
  object_key(object, key_scratch_);
  if (key_scratch_.empty()) return;
  upsert_projected(key_scratch_, project_masked(std::move(object)), 0);
}

void ObjectCache::upsert_masked(json::object object, std::uint64_t list) {
  object_key(object, key_scratch_);
  if (key_scratch_.empty()) return;
  upsert_projected(key_scratch_, project_masked(std::move(object)), list);
}

std::vector<std::string> ObjectCache::filing(const json::object& projected) const {
  std::vector<std::string> filed;
  for (std::size_t i = 0; i < index_list_.size(); ++i) {
    for (auto& value : index_list_[i]->fn(projected)) {
      std::string f = static_cast<char>(i) + value;
      if (std::find(filed.begin(), filed.end(), f) == filed.end()) filed.push_back(std::move(f));  // the same value twice
    }
  }
  return filed;
}

void ObjectCache::upsert_projected(const std::string& key, json::object projected, std::uint64_t list) {
  // Packed into a buffer kept from event to event: an update that changes nothing
  // allocates nothing, and one that does reuses the stored string's capacity.
  pack_scratch_.clear();
  pack(projected, *keys_, pack_scratch_);
  auto it = objects_.find(key);
  if (it == objects_.end()) {
    packed_bytes_ += pack_scratch_.size();
    auto ins = objects_.emplace(std::string(key), Stored{pack_scratch_, filing(projected), list}).first;
    file(ins->first, ins->second.filed);
    if (handlers_.on_add) handlers_.on_add(projected);
    return;
  }
  // A watch event's object keeps the mark of the list that named it last.
  if (list != 0) it->second.list = list;
  // Nothing stored changed (a relist of an unchanged object): no update.
  if (it->second.packed == pack_scratch_) return;
  std::optional<json::object> before;
  if (handlers_.on_update) before = decode(it->second.packed);
  packed_bytes_ = packed_bytes_ - it->second.packed.size() + pack_scratch_.size();
  // In place when it fits snugly; otherwise a string of the exact size (growing in place
  // would double the capacity, and the cache holds one of these per object).
  std::string& stored = it->second.packed;
  if (pack_scratch_.size() <= stored.capacity() && stored.capacity() - pack_scratch_.size() <= 32) stored.assign(pack_scratch_);
  else stored = std::string(pack_scratch_);
  if (!index_list_.empty()) {
    // Most updates leave the index values as they were: then the indexes are not touched.
    std::vector<std::string> filed = filing(projected);
    if (filed != it->second.filed) {
      unfile(it->first, it->second.filed);
      it->second.filed = std::move(filed);
      file(it->first, it->second.filed);
    }
  }
  if (before) handlers_.on_update(*before, projected);
  else if (handlers_.on_modified) handlers_.on_modified(projected);
}

void ObjectCache::remove(const json::object& object) {
  const std::string key = object_key(object);
  auto it = objects_.find(key);
  if (it != objects_.end()) erase(it);
}

std::optional<json::object> ObjectCache::get(std::string_view key) const {
  const auto it = objects_.find(std::string(key));
  if (it == objects_.end()) return std::nullopt;
  return decode(it->second.packed);
}

bool ObjectCache::contains(std::string_view key) const { return objects_.find(std::string(key)) != objects_.end(); }

void ObjectCache::for_each(const std::function<void(const std::string&, const json::object&)>& f) const {
  for (const auto& it : in_key_order()) f(it->first, decode(it->second.packed));
}

void ObjectCache::for_each_key(const std::function<void(const std::string&)>& f) const {
  for (const auto& it : in_key_order()) f(it->first);
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

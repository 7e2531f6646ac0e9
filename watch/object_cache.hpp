// The informer's store without I/O (WatchCache, watch/watch_cache_io.hpp, drives it): the
// objects by key, packed (watch/packed_json.hpp), the indexes over them, and the handlers
// called as they change.
#pragma once

#include "watch/field_mask.hpp"
#include "watch/informer_event.hpp"
#include "watch/object_table.hpp"

#include <boost/json/object.hpp>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fdb::kube {

class KeyTable;
namespace reflector {
struct Upsert;
}
class PackedReads;

// An index of the cache (client-go's Indexers): the values an object is filed under, from
// its stored projection. An object with no values is not in the index.
using IndexFunc = std::function<std::vector<std::string>(const boost::json::object& projected)>;
// An index and the fields its function reads (of the stored projection). The function is
// given only what `reads` keeps (FieldMask::apply; keep and keep_prefix, no projection
// rules), and is called on an add, a delete, and an update whose packed bytes differ in
// what `reads` keeps: it must be a pure function of those fields. A field it reads and
// `reads` leaves out reads as absent.
struct IndexSpec {
  IndexFunc fn;
  FieldMask reads;
};
// Files objects under the value of one label (absent label: not filed); reads
// metadata.labels.<label>.
IndexSpec label_index(std::string label);

// What handlers are given: the object's cache key ("ns/name", or "name" when cluster
// scoped) and its stored projection, decoded on the first call to object() (into an arena
// the CachedObject owns) and kept for the rest of the call. Valid only during the handler
// call (it views the cache's bytes); to keep the object, copy it
// (`json::object kept(o.object(), json::storage_ptr())`: a plain copy shares the arena).
class CachedObject {
 public:
  CachedObject(const std::string& key, std::string_view packed, const KeyTable& keys) noexcept
      : key_(key), packed_(packed), keys_(keys) {}
  CachedObject(const CachedObject&) = delete;
  CachedObject& operator=(const CachedObject&) = delete;
  const std::string& key() const noexcept { return key_; }
  // The key after its namespace.
  std::string_view name() const noexcept;
  // Throws std::invalid_argument when the stored bytes do not decode (never for bytes the
  // cache stored with its own key table).
  const boost::json::object& object() const;

 private:
  const std::string& key_;
  std::string_view packed_;
  const KeyTable& keys_;
  mutable std::optional<boost::json::object> decoded_;
};

// Handlers run on the cache's executor, one at a time, after the cache has changed. The
// objects they are given view the cache's bytes: a handler may read the cache, not change
// it.
struct WatchCacheHandlers {
  std::function<void(const CachedObject&)> on_add;
  std::function<void(const CachedObject& before, const CachedObject& after)> on_update;
  std::function<void(const CachedObject&)> on_delete;
  std::function<void(const std::string& key)> on_resync;
  // What the informer's lists and watches did, typed (watch/informer_event.hpp): each list
  // applied (the first one included), each failure, expiry, restart, and once that streaming
  // lists are given up. For logs (the detail) and metrics (the kind and reason only).
  std::function<void(const InformerEvent& event)> on_informer_event;
  // After each full list has been applied (the first one: the cache is synced).
  std::function<void(std::size_t objects)> on_listed;
  // On an update when on_update is unset: the new state only. With on_update set, the
  // previous version's bytes are copied for every update; a handler that does not look
  // at it should be this one.
  std::function<void(const CachedObject& after)> on_modified;
};

// The cache itself, without I/O: applies reflector store operations, keeps the indexes and
// calls handlers. Objects are stored packed (watch/packed_json.hpp) in an ObjectTable
// (watch/object_table.hpp): readers get a decoded copy of the projection, never a reference
// into the store. Index values are not stored: they are computed again from the stored
// bytes (through the index's reads) when the object changes or goes.
class ObjectCache {
 public:
  explicit ObjectCache(std::function<boost::json::object(boost::json::object)> transform = {},
                       std::map<std::string, IndexSpec, std::less<>> indexes = {},
                       std::optional<FieldMask> fields = {});
  ~ObjectCache();
  ObjectCache(const ObjectCache&) = delete;
  ObjectCache& operator=(const ObjectCache&) = delete;
  void set_handlers(WatchCacheHandlers handlers) { handlers_ = std::move(handlers); }

  // The stored form of an object: the field mask, then the transform (each identity when
  // unset). project_masked() and upsert_masked() take an object the mask was applied to
  // already (decoded by MaskedEventDecoder or MaskedParser with the same mask); without a
  // mask they are project() and upsert().
  boost::json::object project(boost::json::object object) const;
  boost::json::object project_masked(boost::json::object object) const;
  const std::optional<FieldMask>& fields() const noexcept { return fields_; }

  // The one core every upsert goes through: `packed` is pack()'s bytes of a projected
  // object (the mask and transform applied), its keys interned in keys(); `key` its cache
  // key (not empty). `list`: as upsert_masked's (0: a watch event's object).
  void upsert_packed(std::string_view key, std::string_view packed, std::uint64_t list);
  // A hint that `key` is upserted soon (an event for it is being decoded): starts loading
  // what its lookup reads first. Changes nothing.
  void prefetch(std::string_view key) const noexcept { objects_.prefetch(key); }
  // The table packed objects must be made with.
  KeyTable& keys() noexcept { return *keys_; }
  const KeyTable& keys() const noexcept { return *keys_; }

  // A full list at once: objects not in it are removed (handlers get a delete). Each
  // object is projected first.
  void replace(std::vector<boost::json::object> objects);
  void upsert(boost::json::object object);
  void upsert_masked(boost::json::object object);
  // A list applied as it arrives (the reflector's Upsert with a list number, then
  // ListDone): each object upserted and marked as named by list `list`; finish_list(list)
  // then removes every object that list did not name (handlers get a delete). `list` must
  // differ from the number of the list before it.
  void upsert_masked(boost::json::object object, std::uint64_t list);
  // A reflector's Upsert (watch/reflector.hpp), however its object came: packed by the
  // decoder (upsert_packed), or masked (upsert_masked, with its list number if any).
  void apply(reflector::Upsert&& upsert);
  void finish_list(std::uint64_t list);
  void remove(const boost::json::object& object);

  std::optional<boost::json::object> get(std::string_view key) const;
  bool contains(std::string_view key) const;
  std::size_t size() const noexcept { return objects_.size(); }
  // Bytes of the table's slots: for benchmarks.
  std::size_t slot_bytes() const noexcept { return objects_.slot_count() * sizeof(std::uint64_t); }
  // Visits every object (decoded), in key order.
  void for_each(const std::function<void(const std::string& key, const boost::json::object&)>& f) const;
  void for_each_key(const std::function<void(const std::string& key)>& f) const;

  // The keys filed under `value` in index `index`, in key order; how many there are; and
  // every value of an index with its count. An unknown index throws std::out_of_range.
  std::vector<std::string> index_keys(std::string_view index, std::string_view value) const;
  std::size_t index_count(std::string_view index, std::string_view value) const;
  std::map<std::string, std::size_t, std::less<>> index_counts(std::string_view index) const;

  // Bytes of packed object data held (keys and table excluded): for benchmarks.
  std::size_t packed_bytes() const noexcept { return packed_bytes_; }
  const WatchCacheHandlers& handlers() const noexcept { return handlers_; }

 private:
  struct Index;
  using Entry = ObjectTable::Entry;
  void upsert_projected(const std::string& key, const boost::json::object& projected, std::uint64_t list);
  void add(std::string_view key, std::string_view packed, std::uint64_t list);
  void change(Entry& e, std::string_view packed);
  // Where `packed` holds the resourceVersion's characters, as an entry remembers it
  // (Entry::unread_at, unread_size; {0, 0}: none, or no index to spare the comparison).
  std::pair<std::uint16_t, std::uint16_t> version_span(std::string_view packed) const;
  void erase(std::string_view key);
  // The stored objects in key order (for_each, for_each_key).
  std::vector<const Entry*> in_key_order() const;
  // The values of index `index` for the object packed in `packed` (sorted, no repeats),
  // into `out`.
  void values_of(const Index& index, std::string_view packed, std::vector<std::string>& out);
  void file(Index& index, std::string_view key, const std::vector<std::string>& values);
  void unfile(Index& index, std::string_view key, const std::vector<std::string>& values);
  boost::json::object decode(std::string_view packed) const;
  const Index& index(std::string_view name) const;

  std::function<boost::json::object(boost::json::object)> transform_;
  std::optional<FieldMask> fields_;
  std::unique_ptr<KeyTable> keys_;
  ObjectTable objects_;  // key → packed projection, list mark
  std::map<std::string, Index, std::less<>> indexes_;
  // Every index's reads merged: an update that changes none of them costs one walk.
  std::unique_ptr<PackedReads> any_reads_;
  // metadata.resourceVersion, when there are indexes and none reads it: an update whose
  // bytes are the stored ones with only the version's string replaced (whatever its new
  // length) changes no index, and needs no walk of the index reads.
  std::unique_ptr<PackedReads> version_;
  std::size_t packed_bytes_ = 0;
  std::uint64_t replaces_ = 0;  // replace()'s own list numbers (top bit set: never the reflector's)
  WatchCacheHandlers handlers_;
  std::string key_scratch_;     // the key of the object being stored
  std::string pack_scratch_;    // its packed form, before it is compared and stored
  std::string event_key_;       // the key handlers are given
  std::string before_scratch_;  // on_update's previous version
  // Per index (in indexes_ order), an object's values before and after a change: all
  // computed before any index is touched, so that a function that throws (or bytes that
  // do not decode) leaves the cache as it was.
  struct Refiling {
    bool changed = false;
    std::vector<std::string> before, after;
  };
  std::vector<Refiling> refiling_;
  std::unique_ptr<unsigned char[]> reads_buffer_;      // the arena index functions' objects are decoded in
};

}  // namespace fdb::kube

// The informer's store without I/O (WatchCache, watch/watch_cache_io.hpp, drives it): the
// objects by key, packed (watch/packed_json.hpp), the indexes over them, and the handlers
// called as they change.
#pragma once

#include "watch/field_mask.hpp"
#include "watch/informer_event.hpp"

#include <boost/json/object.hpp>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace fdb::kube {

class KeyTable;

// An index of the cache (client-go's Indexers): the values an object is filed under, from
// its stored projection. An object with no values is not in the index.
using IndexFunc = std::function<std::vector<std::string>(const boost::json::object& projected)>;
// Files objects under the value of one label (absent label: not filed).
IndexFunc label_index(std::string label);

// Handlers run on the cache's executor, one at a time. The objects they are given are
// valid only during the call: a watch event's objects live in an arena that is reused
// for the next line. To keep one, copy it into storage of your own:
// `json::object kept(o, json::storage_ptr())` (a plain copy would share the arena).
struct WatchCacheHandlers {
  std::function<void(const boost::json::object&)> on_add;
  std::function<void(const boost::json::object& before, const boost::json::object& after)> on_update;
  std::function<void(const boost::json::object&)> on_delete;
  std::function<void(const std::string& key)> on_resync;
  // What the informer's lists and watches did, typed (watch/informer_event.hpp): each list
  // applied (the first one included), each failure, expiry, restart, and once that streaming
  // lists are given up. For logs (the detail) and metrics (the kind and reason only).
  std::function<void(const InformerEvent& event)> on_informer_event;
  // After each full list has been applied (the first one: the cache is synced).
  std::function<void(std::size_t objects)> on_listed;
  // On an update when on_update is unset: the new state only. The previous version is
  // stored packed, so on_update costs decoding it; a handler that does not look at it
  // should be this one.
  std::function<void(const boost::json::object& after)> on_modified;
};

// The cache itself, without I/O: applies reflector store operations, keeps the indexes and
// calls handlers. Objects are stored packed (watch/packed_json.hpp): readers get a decoded
// copy of the projection, never a reference into the store.
class ObjectCache {
 public:
  explicit ObjectCache(std::function<boost::json::object(boost::json::object)> transform = {},
                       std::map<std::string, IndexFunc, std::less<>> indexes = {},
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
  void finish_list(std::uint64_t list);
  void remove(const boost::json::object& object);

  std::optional<boost::json::object> get(std::string_view key) const;
  bool contains(std::string_view key) const;
  std::size_t size() const noexcept { return objects_.size(); }
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
  // A stored object: its packed projection and the index values it is filed under (each
  // prefixed by its index's ordinal byte), so that changing or removing it needs no decode.
  struct Stored {
    std::string packed;
    std::vector<std::string> filed;
    std::uint64_t list = 0;  // the last list that named it (0: none, a watch event's object)
  };
  // By key, hashed (a lookup for every event); readers that want key order sort. The
  // standard hash of std::string, whose codes the table keeps in its nodes (a custom
  // hasher would be taken for a cheap one and called again for every node of a bucket
  // walked): lookups are by std::string.
  using Objects = std::unordered_map<std::string, Stored>;
  void upsert_projected(const std::string& key, boost::json::object projected, std::uint64_t list);
  void erase(Objects::iterator it);
  // The stored objects in key order (for_each, for_each_key, finish_list's deletes).
  std::vector<Objects::const_iterator> in_key_order() const;
  // The index values `projected` is filed under, each prefixed by its index's ordinal.
  std::vector<std::string> filing(const boost::json::object& projected) const;
  void file(const std::string& key, const std::vector<std::string>& filed);
  void unfile(const std::string& key, const std::vector<std::string>& filed);
  boost::json::object decode(const std::string& packed) const;
  const Index& index(std::string_view name) const;

  std::function<boost::json::object(boost::json::object)> transform_;
  std::optional<FieldMask> fields_;
  std::unique_ptr<KeyTable> keys_;
  Objects objects_;  // key → packed projection, filing
  std::map<std::string, Index, std::less<>> indexes_;
  std::vector<Index*> index_list_;  // indexes_ by ordinal
  std::size_t packed_bytes_ = 0;
  std::uint64_t replaces_ = 0;  // replace()'s own list numbers (top bit set: never the reflector's)
  WatchCacheHandlers handlers_;
  std::string key_scratch_;   // the key of the object being stored
  std::string pack_scratch_;  // its packed form, before it is compared and stored
};

}  // namespace fdb::kube

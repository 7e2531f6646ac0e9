// Watch event lines decoded straight into the store's packed form (watch/packed_json.hpp):
// simdjson's DOM parser validates the whole line, then one walk over its tape writes the
// bytes of what a FieldMask keeps of the event's object, with PackWriter, into a buffer the
// store copies from. No Boost.JSON value is built for the object: the store compares and
// keeps bytes, and what reads them later decodes them (watch/object_cache.hpp).
//
// The bytes are those pack(mask.apply(object)) gives with the same key table, and a line is
// decoded this way only where that is certain; any other line gets MaskedEventDecoder's
// answer (the same events, the same errors), through Boost.JSON:
//   - lines simdjson refuses, kept numbers that are not integers, kept keys named twice (as
//     FastParse, watch/simd_parse.hpp, and for the same reasons);
//   - BOOKMARK and ERROR events, events without a string "type" or an object "object",
//     objects without metadata.name: rare, and the reflector reads them whole.
// No I/O.
#pragma once

#include "watch/event_stream.hpp"
#include "watch/field_mask.hpp"
#include "watch/simd_parse.hpp"

#include <boost/json/storage_ptr.hpp>

#include <functional>
#include <memory>
#include <string_view>

namespace fdb::kube {

class KeyTable;

class PackingEventDecoder {
 public:
  // `keys`: the key table of the store the packed objects are for (ObjectCache::keys()).
  PackingEventDecoder(FieldMask mask, KeyTable& keys);
  ~PackingEventDecoder();
  PackingEventDecoder(const PackingEventDecoder&) = delete;
  PackingEventDecoder& operator=(const PackingEventDecoder&) = delete;

  // The event of `line`. For an ADDED, MODIFIED or DELETED line decoded on the fast path,
  // `packed` holds the object's cache key, packed bytes and resourceVersion (valid until
  // the next call); `object` is empty, but for a DELETED line, where it holds the metadata
  // a removal reads: name, namespace, resourceVersion. For any other line,
  // MaskedEventDecoder's event, with no `packed`. Throws ApiError (kind Decode) as
  // decode_event does.
  WatchEvent decode(std::string_view line, boost::json::storage_ptr storage);

  const FieldMask& mask() const noexcept;
  // Called with the cache key of each line that reaches the walk, as soon as it is known
  // (ObjectCache::prefetch: the store's lookup of the key can start early). A hint only:
  // a line the walk then gives up on (to Boost.JSON) was hinted too. Optional.
  using KeyHint = std::function<void(std::string_view key)>;
  void set_key_hint(KeyHint hint);
  // Lines decoded on the fast path, and the fallbacks by reason.
  const FastCounts& fast_counts() const noexcept { return counts_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  FastCounts counts_;
};

}  // namespace fdb::kube

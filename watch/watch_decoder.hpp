// How an informer decodes its watch lines, chosen from its cache (watch/object_cache.hpp):
//   - a field mask that is the whole projection (no transform): each ADDED/MODIFIED/DELETED
//     line packed straight into the store's bytes (PackingEventDecoder, watch/simd_pack.hpp);
//   - a mask and a transform: each line decoded into the masked object (MaskedEventDecoder),
//     which the cache transforms and packs;
//   - no mask: the whole object (decode_event).
// The informer (watch/watch_cache_io.cpp) and the benchmarks' informer without the network
// (tests/bench/watch_ceilings.cpp) decode through it. No I/O.
#pragma once

#include "watch/event_stream.hpp"
#include "watch/field_mask.hpp"
#include "watch/simd_parse.hpp"

#include <boost/json/storage_ptr.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <string_view>

namespace fdb::kube {

class KeyTable;
class PackingEventDecoder;

class WatchDecoder {
 public:
  // `mask`: the cache's (ObjectCache::fields()); `transform`: whether the cache has one;
  // `keys`: the cache's key table (ObjectCache::keys()). With `fast` false, every line goes
  // through Boost.JSON into a masked object (the benchmarks' reference).
  WatchDecoder(const std::optional<FieldMask>& mask, bool transform, KeyTable& keys, bool fast = true);
  ~WatchDecoder();
  WatchDecoder(const WatchDecoder&) = delete;
  WatchDecoder& operator=(const WatchDecoder&) = delete;

  // The event of one line (its objects in `storage`, its packed bytes valid until the next
  // call); throws ApiError (kind Decode) for a line that is not an event.
  WatchEvent decode(std::string_view line, boost::json::storage_ptr storage);
  // Called with the cache key of each line that reaches the packing walk, before it
  // (PackingEventDecoder::set_key_hint). Without a packing decoder, never called.
  void set_key_hint(std::function<void(std::string_view key)> hint);
  // The fast path's lines and fallbacks (all zero without a mask, or when not `fast`).
  FastCounts fast_counts() const noexcept;

 private:
  std::unique_ptr<PackingEventDecoder> packing_;
  std::unique_ptr<MaskedEventDecoder> masked_;
};

}  // namespace fdb::kube

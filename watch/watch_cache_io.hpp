// An informer: a reflector driven over the API client, feeding a cache keyed by
// namespace/name that stores a projection of each object (a transform chosen by the
// user: the bridge keeps metadata, phase, conditions and the coder, not whole objects),
// with add/update/delete handlers, a synced flag, and a periodic resync that hands every
// cached key to a handler. All of it lives on one executor (the operator's io_context
// thread): handlers run there, readers read there, nothing is locked.
#pragma once

#include "watch/field_mask.hpp"
#include "watch/object_cache.hpp"
#include "watch/reflector.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fdb::kube {

class Client;

struct WatchCacheOptions {
  ResourceType type;
  std::string ns;  // empty: all namespaces
  ReflectorConfig reflector;
  // The fields to keep of each object, when set (watch/field_mask.hpp): watch events are
  // decoded straight into them, the rest of each object parsed but never built, and
  // listed objects are reduced to them. The informer adds the key and version fields it
  // needs itself.
  std::optional<FieldMask> fields;
  // Applied to every object (after the mask) before it is stored and handed to handlers;
  // identity when unset. It must keep metadata.name and metadata.namespace (the cache key).
  std::function<boost::json::object(boost::json::object)> transform;
  // Named indexes kept up to date with every change, each with the fields it reads
  // (watch/object_cache.hpp).
  std::map<std::string, IndexSpec, std::less<>> indexes;
  // Every this long, on_resync is called with each cached key; zero disables it.
  std::chrono::milliseconds resync_period{0};
  // A watch that sends nothing (not even a bookmark) for this long is restarted.
  std::chrono::milliseconds idle_timeout{0};  // zero: the watch timeoutSeconds plus 60 s
};

// The mask an informer with these options decodes and stores through: `fields` with what
// the informer itself reads (FieldMask::informer_minimum); none without `fields`.
std::optional<FieldMask> informer_mask(const WatchCacheOptions& options);

class WatchCache {
 public:
  WatchCache(boost::asio::any_io_executor ex, Client& client, WatchCacheOptions options);
  ~WatchCache();
  WatchCache(const WatchCache&) = delete;
  WatchCache& operator=(const WatchCache&) = delete;

  void set_handlers(WatchCacheHandlers handlers);
  // Lists and watches until cancelled (through the awaiting coroutine's cancellation slot).
  boost::asio::awaitable<void> run();

  const ObjectCache& cache() const noexcept;
  bool synced() const noexcept;
  // True while the last watch is open and has not failed since.
  bool healthy() const noexcept;
  const Reflector& reflector() const noexcept;
  std::uint64_t events() const noexcept;
  std::uint64_t decode_errors() const noexcept;
  // Watch lines decoded on simdjson's fast path and those that fell back to Boost.JSON, by
  // reason (watch/simd_parse.hpp); all zero without `fields` (no masked decoder).
  FastCounts fast_counts() const noexcept;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace fdb::kube

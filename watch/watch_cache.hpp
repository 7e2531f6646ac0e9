// An informer: a reflector driven over the API client, feeding a cache keyed by
// namespace/name that stores a projection of each object (a transform chosen by the
// user: the bridge keeps metadata, phase, conditions and the coder, not whole objects),
// with add/update/delete handlers, a synced flag, and a periodic resync that hands every
// cached key to a handler. All of it lives on one executor (the operator's io_context
// thread): handlers run there, readers read there, nothing is locked.
#pragma once

#include "watch/reflector.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>

namespace fdb::kube {

class Client;

struct WatchCacheOptions {
  ResourceType type;
  std::string ns;  // empty: all namespaces
  ReflectorConfig reflector;
  // Applied to every object before it is stored (and handed to handlers); identity when unset.
  std::function<boost::json::object(boost::json::object)> transform;
  // Every this long, on_resync is called with each cached key; zero disables it.
  std::chrono::milliseconds resync_period{0};
  // A watch that sends nothing (not even a bookmark) for this long is restarted.
  std::chrono::milliseconds idle_timeout{0};  // zero: the watch timeoutSeconds plus 60 s
};

struct WatchCacheHandlers {
  std::function<void(const boost::json::object&)> on_add;
  std::function<void(const boost::json::object& before, const boost::json::object& after)> on_update;
  std::function<void(const boost::json::object&)> on_delete;
  std::function<void(const std::string& key)> on_resync;
  // A watch or list failure, a restart, a relist: for logs and metrics.
  std::function<void(std::string_view what, std::string_view detail)> on_trouble;
  // After each full list has been applied (the first one: the cache is synced).
  std::function<void(std::size_t objects)> on_listed;
};

// The cache itself, without I/O: applies reflector store operations and calls handlers.
class ObjectCache {
 public:
  explicit ObjectCache(std::function<boost::json::object(boost::json::object)> transform = {});
  void set_handlers(WatchCacheHandlers handlers) { handlers_ = std::move(handlers); }

  void replace(std::vector<boost::json::object> objects);
  void upsert(boost::json::object object);
  void remove(const boost::json::object& object);

  const boost::json::object* get(std::string_view key) const;
  std::size_t size() const noexcept { return objects_.size(); }
  void for_each(const std::function<void(const std::string& key, const boost::json::object&)>& f) const;
  const WatchCacheHandlers& handlers() const noexcept { return handlers_; }

 private:
  std::function<boost::json::object(boost::json::object)> transform_;
  std::map<std::string, boost::json::object, std::less<>> objects_;
  WatchCacheHandlers handlers_;
};

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

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace fdb::kube

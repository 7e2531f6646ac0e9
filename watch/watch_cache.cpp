#include "watch/watch_cache.hpp"

#include "watch/client.hpp"
#include "watch/json_input.hpp"

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <fmt/format.h>

#include <deque>
#include <random>
#include <set>

namespace fdb::kube {

namespace asio = boost::asio;
namespace json = boost::json;
using asio::awaitable;
using asio::use_awaitable;

// ---- ObjectCache ---------------------------------------------------------------------

ObjectCache::ObjectCache(std::function<json::object(json::object)> transform) : transform_(std::move(transform)) {}

void ObjectCache::replace(std::vector<json::object> objects) {
  std::set<std::string, std::less<>> seen;
  for (auto& o : objects) {
    seen.insert(object_key(o));
    upsert(std::move(o));
  }
  // Objects deleted while we were not watching: handlers get a delete.
  for (auto it = objects_.begin(); it != objects_.end();) {
    if (seen.count(it->first) != 0) {
      ++it;
      continue;
    }
    const json::object gone = std::move(it->second);
    it = objects_.erase(it);
    if (handlers_.on_delete) handlers_.on_delete(gone);
  }
}

void ObjectCache::upsert(json::object object) {
  std::string key = object_key(object);
  if (key.empty()) return;
  json::object stored = transform_ ? transform_(std::move(object)) : std::move(object);
  auto it = objects_.find(key);
  if (it == objects_.end()) {
    auto [ins, ok] = objects_.emplace(std::move(key), std::move(stored));
    if (handlers_.on_add) handlers_.on_add(ins->second);
    return;
  }
  // The same resourceVersion again (a relist of an unchanged object): no update.
  if (resource_version_of(it->second) == resource_version_of(stored) && !resource_version_of(stored).empty()) {
    return;
  }
  json::object before = std::exchange(it->second, std::move(stored));
  if (handlers_.on_update) handlers_.on_update(before, it->second);
}

void ObjectCache::remove(const json::object& object) {
  const std::string key = object_key(object);
  auto it = objects_.find(key);
  if (it == objects_.end()) return;
  const json::object gone = std::move(it->second);
  objects_.erase(it);
  if (handlers_.on_delete) handlers_.on_delete(gone);
}

const json::object* ObjectCache::get(std::string_view key) const {
  const auto it = objects_.find(key);
  return it == objects_.end() ? nullptr : &it->second;
}

void ObjectCache::for_each(const std::function<void(const std::string&, const json::object&)>& f) const {
  for (const auto& [k, v] : objects_) f(k, v);
}

// ---- WatchCache ----------------------------------------------------------------------

namespace {

// Thrown out of a watch's line handler when the reflector wants something else than the
// next event (a relist after an ERROR event): it ends that stream.
struct StreamRestart {
  reflector::Actions actions;
};

}  // namespace

struct WatchCache::Impl {
  asio::any_io_executor ex;
  Client& client;
  WatchCacheOptions opts;
  Requests requests;
  ObjectCache cache;
  Reflector reflector;
  std::mt19937_64 rng{std::random_device{}()};
  bool healthy = false;
  std::uint64_t events = 0;
  std::uint64_t decode_errors = 0;

  Impl(asio::any_io_executor e, Client& c, WatchCacheOptions o)
      : ex(std::move(e)),
        client(c),
        opts(std::move(o)),
        requests(opts.type, opts.ns),
        cache(opts.transform),
        reflector(opts.reflector, [this] { return std::uniform_real_distribution<double>(0.0, 1.0)(rng); }) {}

  void trouble(std::string_view what, std::string_view detail) const {
    if (cache.handlers().on_trouble) cache.handlers().on_trouble(what, detail);
  }

  // Applies store operations; returns the I/O actions among them, in order.
  void apply(reflector::Actions actions, std::deque<reflector::Action>& next) {
    for (auto& a : actions) {
      if (auto* r = std::get_if<reflector::Replace>(&a)) {
        cache.replace(std::move(r->objects));
        if (cache.handlers().on_listed) cache.handlers().on_listed(cache.size());
      } else if (auto* u = std::get_if<reflector::Upsert>(&a)) {
        cache.upsert(std::move(u->object));
      } else if (auto* d = std::get_if<reflector::Remove>(&a)) {
        cache.remove(d->object);
      } else {
        next.push_back(std::move(a));
      }
    }
  }

  awaitable<reflector::Actions> do_list(const reflector::List& l) {
    const auto req = requests.list(l.options);
    std::string body;
    try {
      body = co_await client.call(req);
    } catch (const ApiError& e) {
      if (e.kind() == ErrorKind::Cancelled) throw;
      trouble("list failed", e.what());
      co_return reflector.on_list_failed(std::chrono::steady_clock::now(), e);
    }
    boost::system::error_code ec;
    // The list envelope (object, items array) nests one level more than a watch event's.
    json::value v = parse_json(body, ec, kMaxJsonDepth + 1);
    const json::object* root = (!ec && v.is_object()) ? &v.get_object() : nullptr;
    const json::value* items = root ? root->if_contains("items") : nullptr;
    if (root == nullptr || items == nullptr || !(items->is_array() || items->is_null())) {
      const std::string what = ec ? fmt::format("the list answer is not JSON ({}) in {} bytes",
                                                json_error_text(ec, kMaxJsonDepth + 1), body.size())
                                  : std::string("the list answer is not an object with items");
      const ApiError bad(ErrorKind::Decode, 200, {}, what, "list " + opts.type.plural);
      trouble("list failed", bad.what());
      co_return reflector.on_list_failed(std::chrono::steady_clock::now(), bad);
    }
    std::vector<json::object> objects;
    if (items->is_array()) {
      objects.reserve(items->get_array().size());
      for (auto& item : v.get_object()["items"].get_array()) {
        if (item.is_object()) objects.push_back(std::move(item.get_object()));
      }
    }
    std::string rv, cont;
    if (const auto* md = root->if_contains("metadata"); md != nullptr && md->is_object()) {
      if (const auto* r = md->get_object().if_contains("resourceVersion"); r && r->is_string()) rv = std::string(r->get_string());
      if (const auto* c = md->get_object().if_contains("continue"); c && c->is_string()) cont = std::string(c->get_string());
    }
    co_return reflector.on_list_page(std::chrono::steady_clock::now(), std::move(objects), std::move(rv), std::move(cont));
  }

  awaitable<reflector::Actions> do_watch(const reflector::Watch& w, std::deque<reflector::Action>& next) {
    const auto req = requests.watch(w.options);
    const auto idle = opts.idle_timeout.count() > 0
                          ? opts.idle_timeout
                          : std::chrono::milliseconds((w.options.timeout_seconds.value_or(300) + 60) * 1000);
    auto on_line = [this, &next](std::string_view line) {
      WatchEvent ev;
      try {
        ev = decode_event(line);
      } catch (const ApiError& e) {
        ++decode_errors;
        throw;  // ends the stream; the reflector waits and watches again from the last version
      }
      ++events;
      auto acts = reflector.on_event(std::chrono::steady_clock::now(), std::move(ev));
      std::deque<reflector::Action> io;
      apply(std::move(acts), io);
      if (!io.empty()) throw StreamRestart{reflector::Actions(std::make_move_iterator(io.begin()), std::make_move_iterator(io.end()))};
    };
    healthy = true;
    try {
      co_await client.stream(req, on_line, idle);
    } catch (StreamRestart& r) {
      healthy = false;
      trouble("watch restarted", "ERROR event (resourceVersion expired): relisting");
      co_return std::move(r.actions);
    } catch (const ApiError& e) {
      healthy = false;
      if (e.kind() == ErrorKind::Cancelled) throw;
      trouble("watch failed", e.what());
      co_return reflector.on_watch_failed(std::chrono::steady_clock::now(), e);
    }
    healthy = false;
    co_return reflector.on_watch_ended(std::chrono::steady_clock::now());
  }

  awaitable<void> main_loop() {
    std::deque<reflector::Action> next;
    apply(reflector.start(std::chrono::steady_clock::now()), next);
    asio::steady_timer timer(ex);
    while (!next.empty()) {
      reflector::Action a = std::move(next.front());
      next.pop_front();
      reflector::Actions produced;
      if (auto* l = std::get_if<reflector::List>(&a)) {
        produced = co_await do_list(*l);
      } else if (auto* w = std::get_if<reflector::Watch>(&a)) {
        produced = co_await do_watch(*w, next);
      } else if (auto* s = std::get_if<reflector::Sleep>(&a)) {
        timer.expires_after(s->duration);
        co_await timer.async_wait(use_awaitable);
        produced = reflector.on_timer(std::chrono::steady_clock::now());
      }
      apply(std::move(produced), next);
    }
  }

  awaitable<void> resync_loop() {
    asio::steady_timer timer(ex);
    for (;;) {
      timer.expires_after(opts.resync_period);
      co_await timer.async_wait(use_awaitable);
      if (!reflector.synced() || !cache.handlers().on_resync) continue;
      std::vector<std::string> keys;
      cache.for_each([&](const std::string& k, const json::object&) { keys.push_back(k); });
      for (const auto& k : keys) cache.handlers().on_resync(k);
    }
  }
};

WatchCache::WatchCache(asio::any_io_executor ex, Client& client, WatchCacheOptions options)
    : impl_(std::make_shared<Impl>(std::move(ex), client, std::move(options))) {}
WatchCache::~WatchCache() = default;

void WatchCache::set_handlers(WatchCacheHandlers handlers) { impl_->cache.set_handlers(std::move(handlers)); }

awaitable<void> WatchCache::run() {
  using namespace asio::experimental::awaitable_operators;
  auto impl = impl_;
  if (impl->opts.resync_period.count() > 0) {
    co_await (impl->main_loop() && impl->resync_loop());
  } else {
    co_await impl->main_loop();
  }
}

const ObjectCache& WatchCache::cache() const noexcept { return impl_->cache; }
bool WatchCache::synced() const noexcept { return impl_->reflector.synced(); }
bool WatchCache::healthy() const noexcept { return impl_->healthy; }
const Reflector& WatchCache::reflector() const noexcept { return impl_->reflector; }
std::uint64_t WatchCache::events() const noexcept { return impl_->events; }
std::uint64_t WatchCache::decode_errors() const noexcept { return impl_->decode_errors; }

}  // namespace fdb::kube

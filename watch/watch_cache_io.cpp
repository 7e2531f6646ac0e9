#include "watch/watch_cache_io.hpp"

#include "watch/client_io.hpp"
#include "watch/json_access.hpp"
#include "watch/packed_json.hpp"
#include "watch/simd_parse.hpp"
#include "watch/watch_decoder.hpp"
#include "watch/json_input.hpp"

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/monotonic_resource.hpp>
#include <boost/json/parse.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <deque>
#include <random>
#include <set>

namespace fdb::kube {

namespace asio = boost::asio;
namespace json = boost::json;
using asio::awaitable;
using asio::use_awaitable;

// ---- WatchCache ----------------------------------------------------------------------

std::optional<FieldMask> informer_mask(const WatchCacheOptions& options) {
  if (!options.fields) return std::nullopt;
  return FieldMask(*options.fields).merge(FieldMask::informer_minimum());
}

namespace {

// The arena of one watch line (see do_watch). Its first block is a buffer reused line after
// line, so a line that fits costs no allocation at all. Under AddressSanitizer every line
// gets fresh heap memory instead, freed when the line is done, so that anything kept from
// a line past its end is reported as a use after free rather than silently reading the
// next line's data.
class LineArena {
 public:
  static constexpr std::size_t kBuffer = 64 * 1024;
#if defined(__SANITIZE_ADDRESS__)
  LineArena(unsigned char*, std::size_t line_size) : resource_(line_size * 2 + 1024) {}
#else
  LineArena(unsigned char* buffer, std::size_t) : resource_(buffer, kBuffer) {}
#endif
  json::storage_ptr storage() noexcept { return json::storage_ptr(&resource_); }

 private:
  json::monotonic_resource resource_;
};

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
  // The first block of every line's arena, reused line after line.
  std::unique_ptr<unsigned char[]> line_buffer = std::make_unique<unsigned char[]>(LineArena::kBuffer);
  // The watch lines' decoder (watch/watch_decoder.hpp), and, when the options name the
  // fields to keep, the list pages' mask. Every object reaches the cache masked (and
  // without a mask, project_masked is project) or already packed: the cache is always
  // given objects through *_masked or upsert_packed (ObjectCache::apply).
  WatchDecoder decoder;
  // The I/O actions a watch line led to (normally none), reused line after line.
  std::deque<reflector::Action> line_io;
  std::optional<FieldMask> list_mask;

  Impl(asio::any_io_executor e, Client& c, WatchCacheOptions o)
      : ex(std::move(e)),
        client(c),
        opts(std::move(o)),
        requests(opts.type, opts.ns),
        cache(opts.transform, opts.indexes, informer_mask(opts)),
        reflector(opts.reflector, [this] { return std::uniform_real_distribution<double>(0.0, 1.0)(rng); }),
        decoder(cache.fields(), static_cast<bool>(opts.transform), cache.keys()) {
    if (const auto& mask = cache.fields()) list_mask = FieldMask::list_answer(*mask);
    // The store's lookup of a line's key can start while the decoder walks the line.
    decoder.set_key_hint([this](std::string_view key) { cache.prefetch(key); });
  }

  // Applies store operations; returns the I/O actions among them, in order.
  void apply(reflector::Actions actions, std::deque<reflector::Action>& next) {
    for (auto& a : actions) {
      if (auto* u = std::get_if<reflector::Upsert>(&a)) {
        cache.apply(std::move(*u));
      } else if (auto* done = std::get_if<reflector::ListDone>(&a)) {
        cache.finish_list(done->list);
        if (cache.handlers().on_listed) cache.handlers().on_listed(cache.size());
      } else if (auto* d = std::get_if<reflector::Remove>(&a)) {
        cache.remove(d->object);
      } else if (auto* r = std::get_if<reflector::Report>(&a)) {
        if (r->event.kind == InformerEventKind::Listed) r->event.objects = cache.size();
        if (cache.handlers().on_informer_event) cache.handlers().on_informer_event(r->event);
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
      co_return reflector.on_list_failed(std::chrono::steady_clock::now(), e);
    }
    boost::system::error_code ec;
    // One arena for the page (see decode_event), freed with the last of its items. The
    // list envelope (object, items array) nests one level more than a watch event's.
    json::value v;
    if (list_mask) {
      // Through the mask: the page is parsed and validated whole, but only the kept fields
      // of each item are built (and the list's version and continue token).
      // A parser for the page alone: its stacks grow with the page (a list at resourceVersion
      // "0" comes in one page), and are not kept for the next list.
      MaskedParser parser(kMaxJsonDepth + 1);  // the list envelope nests one level more
      v = parser.parse(body, *list_mask, json::make_shared_resource<json::monotonic_resource>(body.size() / 2 + 4096), ec);
    } else {
      json::parse_options popts;
      popts.max_depth = kMaxJsonDepth + 1;
      v = json::parse(body, ec, json::make_shared_resource<json::monotonic_resource>(body.size() * 2 + 4096), popts);
    }
    const json::object* root = (!ec && v.is_object()) ? &v.get_object() : nullptr;
    const json::value* items = root ? root->if_contains("items") : nullptr;
    if (root == nullptr || items == nullptr || !(items->is_array() || items->is_null())) {
      const std::string what = ec ? fmt::format("the list answer is not JSON ({}) in {} bytes",
                                                json_error_text(ec, kMaxJsonDepth + 1), body.size())
                                  : std::string("the list answer is not an object with items");
      const ApiError bad(ErrorKind::Decode, 200, {}, what, "list " + opts.type.plural);
      co_return reflector.on_list_failed(std::chrono::steady_clock::now(), bad);
    }
    // Each item stays in the page's arena (its objects hold it) until the reflector's
    // Upserts have been applied, packed into the cache one by one: a list of 100k objects
    // never sits in memory whole, and no page outlives its own application.
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
      // Everything one event is made of — its parse tree, the projection, what handlers
      // are shown — lives in one arena for the line, dropped when the line is done: no
      // allocation per node and no walk over the tree to free it (a non-shared storage_ptr
      // to a monotonic resource makes Boost.JSON's destructors trivial). Nothing of it is
      // kept: the store holds packed copies, and handlers see objects only during the
      // call. Declared first, so it outlives every object made from it.
      LineArena arena(line_buffer.get(), line.size());
      // Initialized from the call, not assigned: assigning would copy the object out of
      // the arena (Boost.JSON copies across memory resources).
      auto decoded = [&] {
        try {
          return decoder.decode(line, arena.storage());
        } catch (const ApiError&) {
          ++decode_errors;
          throw;  // ends the stream; the reflector waits and watches again from the last version
        }
      };
      WatchEvent ev = decoded();
      ++events;
      // A streaming list's initial events are Upserts of the list, applied (packed) here
      // like any event, inside the line's arena.
      reflector::Actions acts = reflector.on_event(std::chrono::steady_clock::now(), std::move(ev));
      std::deque<reflector::Action>& io = line_io;  // kept from line to line: no allocation per line
      io.clear();
      apply(std::move(acts), io);
      if (!io.empty()) throw StreamRestart{reflector::Actions(std::make_move_iterator(io.begin()), std::make_move_iterator(io.end()))};
    };
    // What went wrong, and what follows, is the reflector's to report (Report actions).
    healthy = true;
    try {
      co_await client.stream(req, on_line, idle);
    } catch (StreamRestart& r) {
      healthy = false;
      co_return std::move(r.actions);
    } catch (const ApiError& e) {
      healthy = false;
      if (e.kind() == ErrorKind::Cancelled) throw;
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
      cache.for_each_key([&](const std::string& k) { keys.push_back(k); });
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
FastCounts WatchCache::fast_counts() const noexcept { return impl_->decoder.fast_counts(); }

}  // namespace fdb::kube

#include "watch/reflector.hpp"

#include "watch/json_access.hpp"

#include <boost/json/serialize.hpp>

#include <algorithm>
#include <utility>

namespace fdb::kube {

namespace json = boost::json;
using namespace reflector;

std::string_view to_string(Phase p) noexcept {
  switch (p) {
    case Phase::Idle: return "idle";
    case Phase::Listing: return "listing";
    case Phase::Streaming: return "streaming";
    case Phase::Watching: return "watching";
    case Phase::Waiting: return "waiting";
  }
  return "?";
}

std::string_view to_string(InformerEventKind k) noexcept {
  switch (k) {
    case InformerEventKind::Listed: return "listed";
    case InformerEventKind::ListFailed: return "list failed";
    case InformerEventKind::ListExpired: return "list expired";
    case InformerEventKind::WatchExpired: return "watch expired";
    case InformerEventKind::WatchFailed: return "watch failed";
    case InformerEventKind::WatchEndedAtOnce: return "watch ended at once";
    case InformerEventKind::WatchEnded: return "watch ended";
    case InformerEventKind::StreamingUnavailable: return "streaming list unavailable";
  }
  return "?";
}

std::string_view to_string(ListReason r) noexcept {
  switch (r) {
    case ListReason::Initial: return "initial";
    case ListReason::Expired: return "expired";
  }
  return "?";
}

namespace {
// metadata[key] when it is a string, as a view (string_field would copy: this runs for every
// event); empty otherwise.
std::string_view md_string(const json::object& o, std::string_view key) {
  const auto* md = object_field(&o, "metadata");
  const auto* v = md != nullptr ? md->if_contains(key) : nullptr;
  return (v != nullptr && v->is_string()) ? std::string_view(v->get_string()) : std::string_view();
}
}  // namespace

std::string object_key(const json::object& o) {
  std::string key;
  object_key(o, key);
  return key;
}

void object_key(const json::object& o, std::string& out) {
  const std::string_view ns = md_string(o, "namespace");
  const std::string_view name = md_string(o, "name");
  out.clear();
  if (name.empty()) return;
  if (!ns.empty()) {
    out.reserve(ns.size() + 1 + name.size());
    out.append(ns).push_back('/');
  }
  out.append(name);
}

std::string resource_version_of(const json::object& o) { return std::string(md_string(o, "resourceVersion")); }

Reflector::Reflector(ReflectorConfig config, std::function<double()> random)
    : config_(std::move(config)),
      random_(std::move(random)),
      backoff_(BackoffPolicy{config_.initial_backoff, config_.max_backoff, 2.0, Jitter::Over, 0.5},
               config_.backoff_reset_after) {}

Actions Reflector::start(Clock::time_point /*now*/) {
  list_reason_ = ListReason::Initial;
  // The first list is served from the server's watch cache, as client-go does.
  return begin_list(std::string("0"));
}

ListOptions Reflector::list_options() const {
  ListOptions o;
  o.label_selector = config_.label_selector;
  o.field_selector = config_.field_selector;
  o.limit = config_.page_size;
  return o;
}

WatchOptions Reflector::watch_options() const {
  WatchOptions o;
  o.label_selector = config_.label_selector;
  o.field_selector = config_.field_selector;
  o.allow_watch_bookmarks = true;
  return o;
}

bool Reflector::list_at_a_version() const noexcept { return list_rv_ && !list_rv_->empty() && *list_rv_ != "0"; }

Actions Reflector::begin_list(std::optional<std::string> rv) {
  ++list_;  // what an unfinished list upserted stays until this one's ListDone
  list_rv_ = std::move(rv);
  if (streaming()) return begin_stream();
  phase_ = Phase::Listing;
  ListOptions o = list_options();
  o.resource_version = list_rv_;
  if (list_at_a_version()) o.resource_version_match = "NotOlderThan";
  if (list_rv_ && list_rv_->empty()) o.resource_version.reset();
  return {List{std::move(o)}};
}

Actions Reflector::begin_stream() {
  phase_ = Phase::Streaming;
  WatchOptions o = watch_options();
  o.send_initial_events = true;
  o.resource_version_match = "NotOlderThan";
  // "0" or none: the server's most recent state; a version: at least that recent.
  if (list_at_a_version()) o.resource_version = *list_rv_;
  o.timeout_seconds = config_.streaming_list_timeout.count();
  return {Watch{std::move(o)}};
}

Actions Reflector::stream_failed(Clock::time_point now, const ApiError* error) {
  if (error != nullptr && error->expired()) {
    // As for a paged list: the version asked for is too old, so the most recent state.
    ++relists_;
    if (synced_) list_reason_ = ListReason::Expired;
    return reported(InformerEventKind::ListExpired, error->what(), begin_list(std::string()));
  }
  const int status = error != nullptr ? error->http_status() : 0;
  const bool refused = status >= 400 && status < 500 && status != 429;
  if (error == nullptr || refused) {
    // Not supported here (refused, or the stream never said its initial events ended):
    // page lists from now on, starting with this one.
    streaming_off_ = true;
    Actions out = reported(InformerEventKind::StreamingUnavailable,
                           error != nullptr ? "the API server refused sendInitialEvents: lists are paged from now on"
                                            : "the stream ended before its initial-events-end bookmark: lists are paged "
                                              "from now on",
                           begin_list(list_rv_));
    if (error == nullptr) return out;
    return reported(InformerEventKind::ListFailed, error->what(), std::move(out));
  }
  after_ = After::List;  // a transient failure: try the streaming list again after the wait
  return reported(InformerEventKind::ListFailed, error->what(), wait(now, error->retry_after()));
}

Actions Reflector::reported(InformerEventKind kind, std::string detail, Actions next) const {
  Report r{InformerEvent{kind, list_reason_, std::move(detail), 0, std::chrono::milliseconds(0)}};
  if (!next.empty()) {
    if (const auto* s = std::get_if<Sleep>(&next.front())) r.event.wait = s->duration;
  }
  next.insert(next.begin(), std::move(r));
  return next;
}

Report Reflector::listed() const {
  return Report{InformerEvent{InformerEventKind::Listed, list_reason_, {}, 0, std::chrono::milliseconds(0)}};
}

Actions Reflector::begin_watch(Clock::time_point now) {
  phase_ = Phase::Watching;
  watch_started_ = now;
  watch_events_ = 0;
  WatchOptions o = watch_options();
  o.resource_version = last_rv_;
  const auto span = (config_.max_watch_timeout - config_.min_watch_timeout).count();
  o.timeout_seconds = config_.min_watch_timeout.count() +
                      static_cast<std::int64_t>(random_() * static_cast<double>(span + 1));
  if (*o.timeout_seconds > config_.max_watch_timeout.count()) o.timeout_seconds = config_.max_watch_timeout.count();
  return {Watch{std::move(o)}};
}

Actions Reflector::on_list_page(Clock::time_point now, std::vector<json::object> items, std::string rv,
                                std::string cont) {
  if (phase_ != Phase::Listing) return {};
  Actions out;
  out.reserve(items.size() + 2);
  for (auto& item : items) out.emplace_back(Upsert{std::move(item), list_});
  if (!cont.empty()) {
    ListOptions o = list_options();
    o.continue_token = std::move(cont);  // a continue carries no resourceVersion
    out.emplace_back(List{std::move(o)});
    return out;
  }
  last_rv_ = std::move(rv);
  synced_ = true;
  backoff_.healthy(now);
  out.emplace_back(ListDone{list_});
  out.emplace_back(listed());
  auto w = begin_watch(now);
  out.push_back(std::move(w.front()));
  return out;
}

Actions Reflector::on_list_failed(Clock::time_point now, const ApiError& error) {
  if (phase_ != Phase::Listing) return {};
  if (error.expired()) {
    // The resourceVersion (or the continue token) is too old: a fresh, consistent list.
    // The first list stays the first list (Initial) while it is made again.
    ++relists_;
    if (synced_) list_reason_ = ListReason::Expired;
    return reported(InformerEventKind::ListExpired, error.what(), begin_list(std::string()));
  }
  after_ = After::List;
  return reported(InformerEventKind::ListFailed, error.what(), wait(now, error.retry_after()));
}

Actions Reflector::on_event(Clock::time_point now, WatchEvent ev) {
  if (phase_ == Phase::Streaming) {
    switch (ev.type) {
      case EventType::Added:
      case EventType::Modified: {
        Actions out;
        out.emplace_back(Upsert{std::move(ev.object), list_, ev.packed});
        return out;
      }
      case EventType::Deleted: {  // not sent in the initial events; kept correct anyway
        Actions out;
        out.emplace_back(Remove{std::move(ev.object)});
        return out;
      }
      case EventType::Bookmark: {
        if (auto rv = resource_version_of(ev.object); !rv.empty()) last_rv_ = std::move(rv);
        const auto* annotations = object_field(object_field(&ev.object, "metadata"), "annotations");
        if (string_field(annotations, "k8s.io/initial-events-end") != "true") return {};
        // The state is complete: it replaces the store, and the stream goes on as the watch.
        synced_ = true;
        phase_ = Phase::Watching;
        watch_started_ = now;
        watch_events_ = 1;  // the stream carried the list: not a short watch
        backoff_.healthy(now);
        Actions out;
        out.emplace_back(ListDone{list_});
        out.emplace_back(listed());
        return out;
      }
      case EventType::Error: {
        const ApiError e = decode_status(200, boost::json::serialize(ev.object), "", "watch");
        return stream_failed(now, &e);
      }
    }
    return {};
  }
  if (phase_ != Phase::Watching) return {};
  ++watch_events_;
  switch (ev.type) {
    case EventType::Added:
    case EventType::Modified:
    case EventType::Deleted: {
      // Assigned, not made anew: the string's buffer is reused event after event.
      if (const std::string_view rv = ev.version(); !rv.empty()) last_rv_.assign(rv);
      backoff_.healthy(now);
      // Moved into the vector: a braced list would copy the object (initializer_list
      // elements are const), which is most of the cost of an event.
      Actions out;
      if (ev.type == EventType::Deleted) out.emplace_back(Remove{std::move(ev.object)});
      else out.emplace_back(Upsert{std::move(ev.object), 0, ev.packed});
      return out;
    }
    case EventType::Bookmark:
      if (auto rv = resource_version_of(ev.object); !rv.empty()) last_rv_ = std::move(rv);
      return {};
    case EventType::Error: {
      const ApiError e = decode_status(200, boost::json::serialize(ev.object), "", "watch");
      if (e.expired()) return expired(e);
      ++watch_restarts_;
      after_ = After::Watch;
      return reported(InformerEventKind::WatchFailed, e.what(), wait(now, e.retry_after()));
    }
  }
  return {};
}

Actions Reflector::expired(const ApiError& error) {
  ++relists_;
  list_reason_ = ListReason::Expired;
  // client-go: relist at the last resourceVersion first (cheap, from the watch cache);
  // if that is too old as well, on_list_failed falls back to a fresh list.
  return reported(InformerEventKind::WatchExpired, error.what(), begin_list(last_rv_.empty() ? std::string() : last_rv_));
}

Actions Reflector::on_watch_ended(Clock::time_point now) {
  if (phase_ == Phase::Streaming) return stream_failed(now, nullptr);
  if (phase_ != Phase::Watching) return {};
  ++watch_restarts_;
  if (watch_events_ == 0 && now - watch_started_ < config_.min_watch_duration) {
    // A very short watch: something ends every watch at once. Asking again at once
    // would be a tight loop against it; wait as after a failure.
    ++short_watches_;
    after_ = After::Watch;
    return reported(InformerEventKind::WatchEndedAtOnce,
                    "the stream ended with no event within " + std::to_string(config_.min_watch_duration.count()) +
                        " ms: backing off before the next",
                    wait(now, std::nullopt));
  }
  backoff_.healthy(now);
  return reported(InformerEventKind::WatchEnded, {}, begin_watch(now));
}

Actions Reflector::on_watch_failed(Clock::time_point now, const ApiError& error) {
  if (phase_ == Phase::Streaming) return stream_failed(now, &error);
  if (phase_ != Phase::Watching) return {};
  if (error.expired()) return expired(error);
  ++watch_restarts_;
  after_ = After::Watch;
  return reported(InformerEventKind::WatchFailed, error.what(), wait(now, error.retry_after()));
}

Actions Reflector::wait(Clock::time_point now, std::optional<std::chrono::seconds> retry_after) {
  phase_ = Phase::Waiting;
  // Doubling from initial_backoff to max_backoff, jittered up to 1.5 times (never below the
  // server's Retry-After); forgotten after backoff_reset_after of health.
  auto d = backoff_.failed(now, random_());
  if (retry_after) d = std::max<std::chrono::milliseconds>(d, *retry_after);
  return {Sleep{d}};
}

Actions Reflector::on_timer(Clock::time_point now) {
  if (phase_ != Phase::Waiting) return {};
  if (after_ == After::Watch && synced_) return begin_watch(now);
  return begin_list(last_rv_.empty() ? std::optional<std::string>(std::string("0")) : std::optional<std::string>(last_rv_));
}

}  // namespace fdb::kube

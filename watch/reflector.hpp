// The list-then-watch state machine (after kube-runtime's watcher.rs and client-go's
// reflector), free of I/O: it is stepped with what the server answered and returns what
// to do next. The driver (watch/informer) performs the actions on a real client.
//
//   Start ─▶ list pages (limit 500, first at resourceVersion "0"), each object an Upsert
//     marked with the list's number as it arrives ─▶ ListDone (objects that list did not
//     name are removed) ─▶ watch from the list's resourceVersion (bookmarks, timeoutSeconds
//     300–600)
//     ─▶ events: Upsert/Remove, last resourceVersion advanced (bookmarks too)
//     ─▶ the stream ends: watch again from the last resourceVersion — at once, unless it
//        was a "very short watch" (under min_watch_duration with no event, client-go's
//        rule: a proxy or a server that ends every watch at once), which backs off as a
//        failure does
//     ─▶ 410 Expired/Gone (ERROR event or HTTP 410): relist at the last resourceVersion,
//        and if that is too old as well, a fresh list (resourceVersion "")
//     ─▶ other failures: wait (800 ms doubling to 30 s, jitter; reset after 2 min of
//        health, or Retry-After on 429) and try the same step again
//
// With streaming_list, each list is a watch with sendInitialEvents instead (KEP-3157,
// client-go's WatchList): the server streams the state as ADDED events and ends it with a
// bookmark annotated k8s.io/initial-events-end; each initial event is an Upsert of the
// list, that bookmark gives ListDone, and the same stream goes on as the watch. A server
// that refuses it (a 4xx other than 410 and 429) or a stream that ends before that
// bookmark (a server that ignores the parameter never sends it: the request's
// timeoutSeconds bounds the wait) turns streaming off for good, and the list is made in
// pages instead.
//
// A list is applied as it arrives, never held whole: at 100k objects a held list costs
// several times the cache it replaces. Between two pages of a relist a reader sees each
// object in its cached or its listed state, and an object deleted while the watch was
// down until ListDone — what a watch that lags behind shows as well; the first list marks
// the reflector synced only at its ListDone.
#pragma once

#include "watch/backoff.hpp"
#include "watch/errors.hpp"
#include "watch/event_stream.hpp"
#include "watch/informer_event.hpp"
#include "watch/request.hpp"

#include <boost/json/object.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace fdb::kube {

struct ReflectorConfig {
  std::string label_selector;
  std::string field_selector;
  std::int64_t page_size = 500;
  std::chrono::seconds min_watch_timeout{300};
  std::chrono::seconds max_watch_timeout{600};
  std::chrono::milliseconds initial_backoff{800};
  std::chrono::milliseconds max_backoff{30'000};
  std::chrono::milliseconds backoff_reset_after{120'000};
  // A watch that ends sooner than this without a single event (bookmarks count) is "very
  // short": the next one waits as after a failure (client-go: 1 s).
  std::chrono::milliseconds min_watch_duration{1'000};
  // Lists as a watch with sendInitialEvents (see above); its stream's timeoutSeconds.
  bool streaming_list = false;
  std::chrono::seconds streaming_list_timeout{60};
};

namespace reflector {

// Actions.
struct List {
  ListOptions options;
};
struct Watch {
  WatchOptions options;
};
struct Sleep {
  std::chrono::milliseconds duration;
};
// Store operations, applied in order.
struct Upsert {
  boost::json::object object;
  // The number of the list that named it (see ListDone); 0 for a watch event.
  std::uint64_t list = 0;
  // The object already packed by the decoder (WatchEvent::packed): then `object` is empty,
  // and the store takes the bytes.
  std::optional<PackedObject> packed;
};
// List `list` is complete: the objects it did not name were deleted while we were not
// watching, and are removed.
struct ListDone {
  std::uint64_t list;
};
struct Remove {
  boost::json::object object;
};
// Something to log and count (watch/informer_event.hpp): placed after the store operations
// of the step and before the request it leads to.
struct Report {
  InformerEvent event;
};

using Action = std::variant<List, Watch, Sleep, Upsert, ListDone, Remove, Report>;
using Actions = std::vector<Action>;

// Streaming: the state is arriving on a watch (streaming_list), before its end bookmark.
enum class Phase { Idle, Listing, Streaming, Watching, Waiting };

}  // namespace reflector

std::string_view to_string(reflector::Phase p) noexcept;

class Reflector {
 public:
  using Clock = std::chrono::steady_clock;
  // `random` returns a uniform value in [0, 1) (injected for deterministic tests).
  Reflector(ReflectorConfig config, std::function<double()> random);

  reflector::Actions start(Clock::time_point now);
  // A page of a list answer: its items, the list's resourceVersion and continue token.
  reflector::Actions on_list_page(Clock::time_point now, std::vector<boost::json::object> items,
                                  std::string resource_version, std::string continue_token);
  reflector::Actions on_list_failed(Clock::time_point now, const ApiError& error);
  // One decoded watch event (ERROR events included).
  reflector::Actions on_event(Clock::time_point now, WatchEvent event);
  // The watch answer ended without an error (server timeoutSeconds, a closed stream).
  reflector::Actions on_watch_ended(Clock::time_point now);
  reflector::Actions on_watch_failed(Clock::time_point now, const ApiError& error);
  // The Sleep action's time passed.
  reflector::Actions on_timer(Clock::time_point now);

  reflector::Phase phase() const noexcept { return phase_; }
  // True while a streaming list's initial events arrive (each an Upsert of the list).
  bool collecting() const noexcept { return phase_ == reflector::Phase::Streaming; }
  // False once a server refused a streaming list (or never ended one): lists are paged.
  bool streaming() const noexcept { return config_.streaming_list && !streaming_off_; }
  // True once a full list has been applied.
  bool synced() const noexcept { return synced_; }
  const std::string& last_resource_version() const noexcept { return last_rv_; }
  // Lists begun because a version expired (the first list not included; each Listed
  // Report says when a list, the first one included, was applied).
  std::uint64_t relists() const noexcept { return relists_; }
  std::uint64_t watch_restarts() const noexcept { return watch_restarts_; }
  // Watches that ended very short (and so backed off).
  std::uint64_t short_watches() const noexcept { return short_watches_; }
  std::chrono::milliseconds current_backoff() const noexcept { return backoff_.current(); }

 private:
  // The options every list page and every watch asks with (selectors, page size, bookmarks).
  ListOptions list_options() const;
  WatchOptions watch_options() const;
  // The list asks for a specific version (not none, "" or "0").
  bool list_at_a_version() const noexcept;
  reflector::Actions begin_list(std::optional<std::string> rv);
  reflector::Actions begin_stream();
  reflector::Actions stream_failed(Clock::time_point now, const ApiError* error);
  reflector::Actions begin_watch(Clock::time_point now);
  reflector::Actions wait(Clock::time_point now, std::optional<std::chrono::seconds> retry_after);
  reflector::Actions expired(const ApiError& error);
  // A Report of `kind` (with the current list's reason, and the backoff when `next` begins
  // with a Sleep), then `next`.
  reflector::Actions reported(InformerEventKind kind, std::string detail, reflector::Actions next) const;
  // The Report that list `list_` was applied, between its ListDone and the watch.
  reflector::Report listed() const;

  ReflectorConfig config_;
  std::function<double()> random_;
  reflector::Phase phase_ = reflector::Phase::Idle;
  bool synced_ = false;
  std::string last_rv_;
  // Listing: the number of the current (or last) list, counted from 1.
  std::uint64_t list_ = 0;
  std::optional<std::string> list_rv_;  // the resourceVersion the current list asked for
  ListReason list_reason_ = ListReason::Initial;  // why the current list was made
  bool streaming_off_ = false;
  // What to do when the wait ends.
  enum class After { List, Watch } after_ = After::List;
  Backoff<Clock> backoff_;
  std::uint64_t relists_ = 0;
  std::uint64_t watch_restarts_ = 0;
  std::uint64_t short_watches_ = 0;
  // The watch in progress: when it was asked for, and the events it carried so far.
  Clock::time_point watch_started_{};
  std::uint64_t watch_events_ = 0;
};

// "namespace/name" (or "name" for cluster-scoped objects).
std::string object_key(const boost::json::object& object);
// The same into `out` (reusing its buffer).
void object_key(const boost::json::object& object, std::string& out);
std::string resource_version_of(const boost::json::object& object);

}  // namespace fdb::kube

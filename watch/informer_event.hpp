// What an informer reports about its own lists and watches, typed: the reflector (pure)
// makes one at each step that is worth a log line or a metric, as a Report action; the
// informer (watch/watch_cache) fills in the counts only it knows and hands it to its
// handler. Metrics are read from the kind and the reason, never from the detail text,
// which is for logs.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace fdb::kube {

enum class InformerEventKind : std::uint8_t {
  // A full list was applied: the cache holds exactly what it named (reason: why it was made).
  Listed,
  // A list (or a streaming list) failed: it is asked again after a backoff.
  ListFailed,
  // A list's version or continue token expired (410): a fresh list follows at once.
  ListExpired,
  // The watch's resourceVersion expired (410, as an HTTP answer or an ERROR event): a
  // relist follows at once.
  WatchExpired,
  // The watch failed (transport, an HTTP error, an ERROR event, an undecodable event): it
  // is re-opened from the last resourceVersion after a backoff.
  WatchFailed,
  // The watch ended with no event within min_watch_duration (something ends every watch
  // at once): it is re-opened from the last resourceVersion after a backoff.
  WatchEndedAtOnce,
  // The watch ended cleanly (the server's timeoutSeconds): re-opened at once from the
  // last resourceVersion. Routine.
  WatchEnded,
  // The server refused a streaming list (sendInitialEvents) or never ended one: lists are
  // paged from now on. Said once, after the failure that made it.
  StreamingUnavailable,
};

// Why a list was made: the informer's first list, or a relist after a version expired.
// Carried by the list through its retries.
enum class ListReason : std::uint8_t { Initial, Expired };

struct InformerEvent {
  InformerEventKind kind = InformerEventKind::Listed;
  ListReason reason = ListReason::Initial;  // for Listed, ListFailed and ListExpired
  std::string detail;                       // for logs: the error, or what happens next
  std::size_t objects = 0;                  // Listed: objects in the cache after it (set by the informer)
  std::chrono::milliseconds wait{0};        // the backoff before the next request, when there is one
};

// A short name for logs ("listed", "list failed", "watch ended at once", ...).
std::string_view to_string(InformerEventKind kind) noexcept;
std::string_view to_string(ListReason reason) noexcept;

}  // namespace fdb::kube

// The pure parts of the controller's wiring (operator/controller_io): how a cache key names
// a Workload, and what an informer's typed event adds to the watch counters and at which
// level it is logged. Tables, no I/O.
#pragma once

#include "watch/informer_event.hpp"
#include "watch/log.hpp"
#include "watch/simd_parse.hpp"

#include <cstdint>
#include <string_view>

namespace fdb::op {

// The object name of a cache key: "namespace/name" → "name"; a key without a namespace
// (a cluster-scoped object) is the name itself.
std::string_view name_from_cache_key(std::string_view key) noexcept;

// What one informer event adds to foreman_bridge_watch_relists_total and
// foreman_bridge_watch_restarts_total (docs/metrics.md): a relist is a full list applied,
// the first one included; a restart is a watch re-opened from the last resourceVersion
// after it failed or ended at once. Read from the kind only.
struct WatchCounts {
  bool relist = false;
  bool restart = false;
  bool operator==(const WatchCounts&) const = default;
};
WatchCounts watch_counts(kube::InformerEventKind kind) noexcept;

// The level of the event's log line: troubles warn, a list applied informs, a watch ended
// by the server's timeout (every 5–10 minutes) is debug.
log::Level log_level(kube::InformerEventKind kind) noexcept;

// What foreman_bridge_watch_decode_fallbacks_total gains at a scrape: the watch lines a
// masked informer's decoder handed from simdjson to Boost.JSON since the last scrape, by
// reason (watch/simd_parse.hpp). `seen` holds the counts of the last scrape and becomes
// `now`; a count below the last one (a new decoder) counts from zero.
struct FallbackIncrements {
  std::uint64_t refused = 0;
  std::uint64_t kept_double = 0;
  std::uint64_t duplicate_key = 0;
  bool operator==(const FallbackIncrements&) const = default;
};
FallbackIncrements fallback_increments(const kube::FastCounts& now, kube::FastCounts& seen) noexcept;

}  // namespace fdb::op

#include "operator/wiring.hpp"

namespace fdb::op {

using kube::InformerEventKind;

std::string_view name_from_cache_key(std::string_view key) noexcept {
  const auto slash = key.find('/');
  return slash == std::string_view::npos ? key : key.substr(slash + 1);
}

WatchCounts watch_counts(InformerEventKind kind) noexcept {
  switch (kind) {
    case InformerEventKind::Listed: return {.relist = true};
    case InformerEventKind::WatchFailed:
    case InformerEventKind::WatchEndedAtOnce: return {.restart = true};
    case InformerEventKind::ListFailed:
    case InformerEventKind::ListExpired:
    case InformerEventKind::WatchExpired:  // its relist counts when it is applied (Listed)
    case InformerEventKind::WatchEnded:
    case InformerEventKind::StreamingUnavailable: return {};
  }
  return {};
}

log::Level log_level(InformerEventKind kind) noexcept {
  switch (kind) {
    case InformerEventKind::Listed: return log::Level::Info;
    case InformerEventKind::WatchEnded: return log::Level::Debug;
    case InformerEventKind::ListFailed:
    case InformerEventKind::ListExpired:
    case InformerEventKind::WatchExpired:
    case InformerEventKind::WatchFailed:
    case InformerEventKind::WatchEndedAtOnce:
    case InformerEventKind::StreamingUnavailable: return log::Level::Warn;
  }
  return log::Level::Warn;
}

namespace {
std::uint64_t since(std::uint64_t now, std::uint64_t seen) noexcept { return now >= seen ? now - seen : now; }
}  // namespace

FallbackIncrements fallback_increments(const kube::FastCounts& now, kube::FastCounts& seen) noexcept {
  const FallbackIncrements inc{since(now.refused, seen.refused), since(now.kept_double, seen.kept_double),
                               since(now.duplicate_key, seen.duplicate_key)};
  seen = now;
  return inc;
}

}  // namespace fdb::op

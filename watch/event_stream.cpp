#include "watch/event_stream.hpp"

#include "watch/errors.hpp"
#include "watch/json_access.hpp"
#include "watch/json_input.hpp"

#include <boost/json/monotonic_resource.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <fmt/format.h>

namespace fdb::kube {

void LineSplitter::check(std::size_t n) const {
  if (n > max_line_) {
    throw LineTooLong(fmt::format("watch event line exceeds {} bytes", max_line_));
  }
}

std::string_view to_string(EventType t) noexcept {
  switch (t) {
    case EventType::Added: return "ADDED";
    case EventType::Modified: return "MODIFIED";
    case EventType::Deleted: return "DELETED";
    case EventType::Bookmark: return "BOOKMARK";
    case EventType::Error: return "ERROR";
  }
  return "UNKNOWN";
}

std::optional<EventType> event_type_of(std::string_view name) noexcept {
  for (const EventType t : {EventType::Added, EventType::Modified, EventType::Deleted, EventType::Bookmark, EventType::Error}) {
    if (name == to_string(t)) return t;
  }
  return std::nullopt;
}

std::string_view WatchEvent::version() const noexcept {
  if (packed) return packed->resource_version;
  const auto* v = object_field(&object, "metadata");
  const auto* rv = v != nullptr ? v->if_contains("resourceVersion") : nullptr;
  return rv != nullptr && rv->is_string() ? std::string_view(rv->get_string()) : std::string_view();
}

namespace {

[[noreturn]] void bad(std::string what) {
  throw ApiError(ErrorKind::Decode, 0, {}, std::move(what), "watch event");
}

}  // namespace

WatchEvent decode_event(std::string_view line) {
  // One arena per event: its many small nodes cost one allocation, not one each, and are
  // freed together when the last object referring to them (the event's) is gone.
  return decode_event(line, boost::json::make_shared_resource<boost::json::monotonic_resource>(line.size() * 2 + 1024));
}

WatchEvent decode_event(std::string_view line, boost::json::storage_ptr storage) {
  boost::system::error_code ec;
  boost::json::parse_options opts;
  opts.max_depth = kMaxJsonDepth;
  boost::json::value v = boost::json::parse(line, ec, std::move(storage), opts);
  if (ec) bad(fmt::format("not JSON ({}) in a {}-byte line", json_error_text(ec), line.size()));
  if (!v.is_object()) bad("an event must be a JSON object");
  auto& obj = v.get_object();

  const auto* type = obj.if_contains("type");
  if (type == nullptr || !type->is_string()) bad("event has no string \"type\"");
  const std::string_view t = type->get_string();
  const auto et = event_type_of(t);
  if (!et) bad(fmt::format("unknown event type {:?}", t.substr(0, 40)));

  auto* object = obj.if_contains("object");
  if (object == nullptr || !object->is_object()) bad(fmt::format("{} event has no object", t));
  // Move-constructed, so the object keeps the arena rather than being copied out of it.
  return WatchEvent{*et, boost::json::object(std::move(object->get_object()))};
}

}  // namespace fdb::kube

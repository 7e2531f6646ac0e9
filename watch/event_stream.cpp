#include "watch/event_stream.hpp"

#include "watch/errors.hpp"
#include "watch/json_input.hpp"

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

std::string WatchEvent::resource_version() const {
  const auto* md = object.if_contains("metadata");
  if (md == nullptr || !md->is_object()) return {};
  const auto* rv = md->get_object().if_contains("resourceVersion");
  if (rv == nullptr || !rv->is_string()) return {};
  return std::string(rv->get_string());
}

namespace {

[[noreturn]] void bad(std::string what) {
  throw ApiError(ErrorKind::Decode, 0, {}, std::move(what), "watch event");
}

}  // namespace

WatchEvent decode_event(std::string_view line) {
  boost::system::error_code ec;
  boost::json::value v = parse_json(line, ec);
  if (ec) bad(fmt::format("not JSON ({}) in a {}-byte line", json_error_text(ec), line.size()));
  if (!v.is_object()) bad("an event must be a JSON object");
  auto& obj = v.get_object();

  const auto* type = obj.if_contains("type");
  if (type == nullptr || !type->is_string()) bad("event has no string \"type\"");
  WatchEvent ev;
  const std::string_view t = type->get_string();
  if (t == "ADDED") ev.type = EventType::Added;
  else if (t == "MODIFIED") ev.type = EventType::Modified;
  else if (t == "DELETED") ev.type = EventType::Deleted;
  else if (t == "BOOKMARK") ev.type = EventType::Bookmark;
  else if (t == "ERROR") ev.type = EventType::Error;
  else bad(fmt::format("unknown event type {:?}", t.substr(0, 40)));

  auto* object = obj.if_contains("object");
  if (object == nullptr || !object->is_object()) bad(fmt::format("{} event has no object", t));
  ev.object = std::move(object->get_object());
  return ev;
}

}  // namespace fdb::kube

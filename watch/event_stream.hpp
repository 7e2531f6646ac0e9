// A watch answer is one endless chunked body of newline-delimited JSON events. The
// splitter turns arbitrary chunks into complete lines without ever holding more than one
// line (plus one chunk) in memory; the decoder turns a line into a typed event.
#pragma once

#include <boost/json/object.hpp>

#include <cstddef>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

namespace fdb::kube {

inline constexpr std::size_t kDefaultMaxLineBytes = 16 * 1024 * 1024;

// Thrown when one line exceeds the cap: the stream must be dropped (and restarted).
class LineTooLong : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class LineSplitter {
 public:
  explicit LineSplitter(std::size_t max_line_bytes = kDefaultMaxLineBytes)
      : max_line_(max_line_bytes) {}

  // Appends `chunk` and calls on_line(std::string_view) for each complete line, without
  // its '\n' (and a trailing '\r'); empty lines are skipped. Chunk boundaries may fall
  // anywhere, inside a line or a UTF-8 sequence: bytes are only split at '\n'.
  // Throws LineTooLong when a line grows past the cap.
  template <class OnLine>
  void feed(std::string_view chunk, OnLine&& on_line) {
    while (!chunk.empty()) {
      const auto nl = chunk.find('\n');
      if (nl == std::string_view::npos) {
        append(chunk);
        return;
      }
      std::string_view piece = chunk.substr(0, nl);
      chunk.remove_prefix(nl + 1);
      if (buf_.empty()) {
        check(piece.size());
        emit(piece, on_line);
      } else {
        append(piece);
        emit(std::string_view(buf_), on_line);
        buf_.clear();
      }
    }
  }

  // Bytes of an unfinished line held back.
  std::size_t buffered() const noexcept { return buf_.size(); }
  // The unfinished line, for a stream that ended without a final newline.
  std::string take_rest() { return std::exchange(buf_, {}); }

 private:
  void check(std::size_t n) const;
  void append(std::string_view piece) {
    check(buf_.size() + piece.size());
    buf_.append(piece);
  }
  template <class OnLine>
  static void emit(std::string_view line, OnLine& on_line) {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (!line.empty()) on_line(line);
  }

  std::size_t max_line_;
  std::string buf_;
};

enum class EventType { Added, Modified, Deleted, Bookmark, Error };

std::string_view to_string(EventType t) noexcept;
// The type a watch event's "type" names ("ADDED", …, "ERROR"); none for anything else.
std::optional<EventType> event_type_of(std::string_view name) noexcept;

// An event's object as a packing decoder leaves it (watch/simd_pack.hpp): already in the
// store's packed form. Views into the decoder's buffers, valid until it decodes the next line.
struct PackedObject {
  std::string_view key;    // the cache key, "namespace/name" (object_key)
  std::string_view bytes;  // pack() of what the mask keeps, keys in the store's key table
  std::string_view resource_version;  // metadata.resourceVersion, empty when absent
};

struct WatchEvent {
  EventType type = EventType::Added;
  // The object (for ERROR, the Status object). When `packed` is set: for DELETED, only the
  // metadata a removal reads (name, namespace, resourceVersion); else empty.
  boost::json::object object;
  std::optional<PackedObject> packed;

  // The object's metadata.resourceVersion (the packed object's when packed), empty when
  // absent. The view is valid as long as the event and the line it came from.
  std::string_view version() const noexcept;
  std::string resource_version() const { return std::string(version()); }
};

// Decodes one line of a watch stream. Throws ApiError (kind Decode) for lines that are
// not a JSON object with a known `type` and an object `object`. The event's object lives
// in an arena of its own, freed with the last object that shares it.
WatchEvent decode_event(std::string_view line);
// The same, with the object in `storage` (the informer's per-line arena: see
// watch_cache.cpp). The event must not outlive that storage.
WatchEvent decode_event(std::string_view line, boost::json::storage_ptr storage);

}  // namespace fdb::kube

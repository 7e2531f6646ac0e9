// The writing half of the packed format (watch/packed_json.hpp describes it), value by
// value, for encoders that pack from something else than a boost::json::object: the
// watch decoder packs straight from simdjson's DOM (watch/simd_pack.hpp), so that a watch
// line becomes the store's bytes without a tree of Boost.JSON values in between. What it
// writes for a value is what pack() writes for the same value: the same tags, minimal
// varints, keys interned in the same order (depth first, see KeyTable::intern_at).
// No I/O.
#pragma once

#include "watch/packed_cursor.hpp"  // the tags

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace fdb::kube {

class KeyTable;

namespace packed {

// LEB128; most values (key ids, counts, short lengths) take one byte, written inline.
void put_long_varint(std::string& out, std::uint64_t v);
inline void put_varint(std::string& out, std::uint64_t v) {
  if (v < 0x80) out.push_back(static_cast<char>(v));
  else put_long_varint(out, v);
}

}  // namespace packed

class PackWriter {
 public:
  // Appends to `out`; object keys are interned in `keys`.
  PackWriter(KeyTable& keys, std::string& out) noexcept : keys_(keys), out_(out) {}

  void null() { out_.push_back(static_cast<char>(packed::Null)); }
  void boolean(bool b) { out_.push_back(static_cast<char>(b ? packed::True : packed::False)); }
  void int64(std::int64_t i);
  void uint64(std::uint64_t u);
  void dbl(double d);
  void string(std::string_view s) {
    if (s.size() < 0x80) {  // most: the tag and the length in one append
      const char head[2] = {static_cast<char>(packed::String), static_cast<char>(s.size())};
      out_.append(head, 2);
      out_.append(s);
    } else {
      long_string(s);
    }
  }

  // A container whose size is known once its members are written: begin_*() leaves room
  // for the count and says where; end_*(at, count) writes it there (moving the members
  // when the count takes more than one byte).
  std::size_t begin_object() { return begin(packed::Object); }
  void key(std::string_view k);
  // A key by its id in the key table: intern(k) once, then key_id(id) writes what key(k)
  // writes (the walk remembers ids from line to line, watch/mask_walk.hpp).
  std::uint32_t intern(std::string_view k);
  void key_id(std::uint32_t id) { packed::put_varint(out_, id); }
  const KeyTable& key_table() const noexcept { return keys_; }
  void end_object(std::size_t at, std::uint64_t count) { end(at, count); }
  std::size_t begin_array() { return begin(packed::Array); }
  void end_array(std::size_t at, std::uint64_t count) { end(at, count); }
  // A container whose size is known before its members (pack() from a boost::json value).
  void object_of(std::uint64_t count) { sized(packed::Object, count); }
  void array_of(std::uint64_t count) { sized(packed::Array, count); }

 private:
  std::size_t begin(packed::Tag tag) {
    const char head[2] = {static_cast<char>(tag), '\0'};  // the count, when it is under 128 (most are)
    out_.append(head, 2);
    return out_.size() - 1;
  }
  void sized(packed::Tag tag, std::uint64_t count) {
    out_.push_back(static_cast<char>(tag));
    packed::put_varint(out_, count);
  }
  void end(std::size_t at, std::uint64_t count) {
    if (count < 0x80) out_[at] = static_cast<char>(count);
    else long_count(at, count);
  }
  void long_string(std::string_view s);
  void long_count(std::size_t at, std::uint64_t count);

  KeyTable& keys_;
  std::string& out_;
  std::size_t pos_ = 0;  // keys written so far (KeyTable::intern_at's position)
};

}  // namespace fdb::kube

// Inside the packed JSON code (packed_json.cpp, packed_reads.cpp): the format's tags
// (watch/packed_json.hpp) and a checked read position over packed bytes.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/storage_ptr.hpp>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

namespace fdb::kube {

class KeyTable;
class PackedReads;

namespace packed {

enum Tag : unsigned char { Null, False, True, Int, Uint, Double, String, Array, Object };

// Every read throws std::invalid_argument past the end or on bytes pack() does not make.
class Cursor {
 public:
  static constexpr int kMaxDepth = 256;

  explicit Cursor(std::string_view bytes) : p_(bytes.data()), end_(bytes.data() + bytes.size()) {}

  unsigned char byte() {
    need(1);
    return static_cast<unsigned char>(*p_++);
  }
  unsigned char peek() const {
    need(1);
    return static_cast<unsigned char>(*p_);
  }
  std::uint64_t varint() {
    std::uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      const unsigned char b = byte();
      v |= static_cast<std::uint64_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0) return v;
    }
    fail("varint too long");
  }
  void need(std::uint64_t n) const {
    if (n > static_cast<std::uint64_t>(end_ - p_)) fail("truncated");
  }
  // The bytes of the next value, passed over (packed_json.cpp).
  std::string_view skip_value(int depth);
  bool done() const noexcept { return p_ == end_; }
  // Bytes left from the read position to the end.
  std::size_t left() const noexcept { return static_cast<std::size_t>(end_ - p_); }
  [[noreturn]] static void fail(const char* what) { throw std::invalid_argument(std::string("packed JSON: ") + what); }

 protected:
  const char* p_;
  const char* end_;
};

}  // namespace packed

// PackedReads::unpack's decoder (packed_json.cpp).
boost::json::object unpack_through(std::string_view bytes, const KeyTable& keys, const PackedReads& reads,
                                   boost::json::storage_ptr sp);

}  // namespace fdb::kube

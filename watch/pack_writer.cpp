#include "watch/pack_writer.hpp"

#include "watch/packed_json.hpp"

#include <cstring>

namespace fdb::kube {

namespace packed {

void put_long_varint(std::string& out, std::uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

}  // namespace packed

void PackWriter::int64(std::int64_t i) {
  out_.push_back(static_cast<char>(packed::Int));
  packed::put_varint(out_, (static_cast<std::uint64_t>(i) << 1) ^ static_cast<std::uint64_t>(i >> 63));
}

void PackWriter::uint64(std::uint64_t u) {
  out_.push_back(static_cast<char>(packed::Uint));
  packed::put_varint(out_, u);
}

void PackWriter::dbl(double d) {
  char b[sizeof d];
  std::memcpy(b, &d, sizeof d);
  out_.push_back(static_cast<char>(packed::Double));
  out_.append(b, sizeof b);
}

void PackWriter::long_string(std::string_view s) {
  out_.push_back(static_cast<char>(packed::String));
  packed::put_varint(out_, s.size());
  out_.append(s);
}

void PackWriter::key(std::string_view k) { packed::put_varint(out_, keys_.intern_at(pos_++, k)); }

std::uint32_t PackWriter::intern(std::string_view k) { return keys_.intern(k); }

void PackWriter::long_count(std::size_t at, std::uint64_t count) {
  std::string varint;
  packed::put_varint(varint, count);
  out_.replace(at, 1, varint);
}

}  // namespace fdb::kube

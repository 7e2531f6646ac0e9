#include "watch/packed_reads.hpp"

#include "watch/packed_cursor.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cstddef>
#include <cstring>
#include <utility>

namespace fdb::kube {

namespace json = boost::json;
using packed::Cursor;
using packed::Tag;

namespace {

// Walks two packed values side by side through the mask's nodes. Most updates change a few
// bytes (a resourceVersion, a status field): once both walks stand at the same distance from
// their ends, inside the bytes the two share at their ends, with the same number of members
// left in every object still open, what is left to read is the same in both, and the walk
// stops there ("the rest is equal").
class Comparison {
 public:
  Comparison(std::string_view a, std::string_view b, const PackedReads& reads)
      : a_(a), b_(b), reads_(reads), shared_tail_(common_suffix(a, b)) {}

  bool same(std::uint32_t node, int depth) {
    if (depth > Cursor::kMaxDepth) Cursor::fail("nested too deep");
    if (rest_equal_ || (rest_equal_ = rest_is_equal())) return true;
    const unsigned char ta = a_.peek();
    if (ta != b_.peek()) return false;
    if (reads_.whole(node) || (ta != Tag::Object && ta != Tag::Array)) return a_.skip_value(depth) == b_.skip_value(depth);
    a_.byte();
    b_.byte();
    std::uint64_t na = a_.varint(), nb = b_.varint();
    if (ta == Tag::Array) {
      if (na != nb) return false;
      for (; na > 0; --na) {
        if (!same(node, depth + 1)) return false;
        if (rest_equal_) return true;
      }
      return true;
    }
    if (open_count_ < open_.size()) open_[open_count_] = {&na, &nb};
    ++open_count_;
    for (;;) {
      const Kept ka = next_kept(a_, na, node, depth);
      const Kept kb = next_kept(b_, nb, node, depth);
      if (ka.child == PackedReads::kDropped || kb.child == PackedReads::kDropped) {
        --open_count_;
        return ka.child == kb.child;
      }
      if (ka.id != kb.id || !same(ka.child, depth + 1)) return false;
      if (rest_equal_) return true;
    }
  }

 private:
  // Eight bytes at a time from the ends: the first unequal word's equal top bytes are the
  // last bytes of the shared tail (little-endian: a word's last byte is its top byte).
  static std::size_t common_suffix(std::string_view a, std::string_view b) noexcept {
    static_assert(std::endian::native == std::endian::little);
    std::size_t n = 0;
    const std::size_t most = std::min(a.size(), b.size());
    const char* const ea = a.data() + a.size();
    const char* const eb = b.data() + b.size();
    for (; n + 8 <= most; n += 8) {
      std::uint64_t x, y;
      std::memcpy(&x, ea - n - 8, 8);
      std::memcpy(&y, eb - n - 8, 8);
      if (x != y) return n + static_cast<std::size_t>(std::countl_zero(x ^ y) / 8);
    }
    while (n < most && ea[-1 - static_cast<std::ptrdiff_t>(n)] == eb[-1 - static_cast<std::ptrdiff_t>(n)]) ++n;
    return n;
  }
  // Whether what is left of both is the same bytes, read the same way: the same distance
  // from their ends, within their common tail, and every open object with as many members
  // left in one as in the other (arrays are walked in step: their counts are equal).
  bool rest_is_equal() const noexcept {
    if (a_.left() != b_.left() || a_.left() > shared_tail_ || open_count_ > open_.size()) return false;
    for (std::size_t i = 0; i < open_count_; ++i) {
      if (*open_[i].first != *open_[i].second) return false;
    }
    return true;
  }

  struct Kept {
    std::uint64_t id = 0;
    std::uint32_t child = PackedReads::kDropped;  // kDropped: no kept key left
  };
  // The next key of an object (`left` pairs to go) that the node keeps, the dropped ones
  // before it passed over.
  Kept next_kept(Cursor& c, std::uint64_t& left, std::uint32_t node, int depth) {
    for (; left > 0; --left) {
      const std::uint64_t id = c.varint();
      if (id > 0xfffffffeu) Cursor::fail("unknown key id");
      const std::uint32_t child = reads_.child(node, static_cast<std::uint32_t>(id));
      if (child != PackedReads::kDropped) {
        --left;
        return {id, child};
      }
      c.skip_value(depth + 1);
    }
    return {};
  }

  Cursor a_, b_;
  const PackedReads& reads_;
  const std::size_t shared_tail_;  // bytes a and b share at their ends
  // The members left in each open object of a and b (outermost first); deeper than the
  // array holds, the walk goes on to the end. Only the first open_count_ are set (not
  // zeroed first: clearing 256 bytes cost more than the walk of a typical update).
  std::array<std::pair<const std::uint64_t*, const std::uint64_t*>, 16> open_;
  std::size_t open_count_ = 0;
  bool rest_equal_ = false;
};

}  // namespace

PackedReads::PackedReads(const FieldMask& reads, const KeyTable& keys)
    : mask_(std::make_unique<FieldMask>(reads)), keys_(&keys), nodes_{Node{mask_.get(), {}}} {}

std::uint32_t PackedReads::look_up(std::uint32_t node, std::uint32_t id) const {
  if (id >= keys_->size()) Cursor::fail("unknown key id");
  std::uint32_t found = kDropped;
  if (const FieldMask* c = nodes_[node].mask->child(keys_->at(id))) {
    found = 0;
    while (found < nodes_.size() && nodes_[found].mask != c) ++found;
    if (found == nodes_.size()) nodes_.push_back(Node{c, {}});
  }
  auto& by_id = nodes_[node].by_id;  // after the push_back
  if (by_id.size() <= id) by_id.resize(id + 1, 0);
  by_id[id] = found == kDropped ? kDropped : found + 1;
  return found;
}

json::object PackedReads::unpack(std::string_view bytes, json::storage_ptr sp) const {
  return unpack_through(bytes, *keys_, *this, std::move(sp));
}

bool PackedReads::same(std::string_view a, std::string_view b) const {
  if (a.empty() || b.empty() || a[0] != static_cast<char>(Tag::Object) || b[0] != static_cast<char>(Tag::Object)) {
    Cursor::fail("not an object");
  }
  Comparison c(a, b, *this);
  return c.same(0, 0);
}

std::optional<ByteSpan> string_payload(std::string_view bytes, const PackedReads& path) {
  Cursor c(bytes);
  if (c.byte() != Tag::Object) Cursor::fail("not an object");
  std::uint32_t node = 0;
  for (int depth = 0;; ++depth) {
    if (depth > Cursor::kMaxDepth) Cursor::fail("nested too deep");
    std::uint32_t child = PackedReads::kDropped;
    for (std::uint64_t n = c.varint(); n > 0 && child == PackedReads::kDropped; --n) {
      const std::uint64_t id = c.varint();
      if (id > 0xfffffffeu) Cursor::fail("unknown key id");
      child = path.child(node, static_cast<std::uint32_t>(id));
      if (child == PackedReads::kDropped) c.skip_value(depth + 1);
    }
    if (child == PackedReads::kDropped) return std::nullopt;
    const unsigned char tag = c.byte();
    if (path.whole(child)) {
      if (tag != Tag::String) return std::nullopt;
      const std::uint64_t size = c.varint();
      c.need(size);
      return ByteSpan{bytes.size() - c.left(), static_cast<std::size_t>(size)};
    }
    if (tag != Tag::Object) return std::nullopt;
    node = child;
  }
}

namespace {
// The varint at `at` of `bytes` (moving `at` past it), or nullopt past the end or when longer
// than 64 bits.
std::optional<std::uint64_t> varint_at(std::string_view bytes, std::size_t& at) noexcept {
  std::uint64_t v = 0;
  for (int shift = 0; shift < 64 && at < bytes.size(); shift += 7) {
    const auto c = static_cast<unsigned char>(bytes[at++]);
    v |= static_cast<std::uint64_t>(c & 0x7f) << shift;
    if ((c & 0x80) == 0) return v;
  }
  return std::nullopt;
}
}  // namespace

std::optional<ByteSpan> same_but_string(std::string_view a, std::string_view b, ByteSpan span) noexcept {
  if (span.at > a.size() || span.size > a.size() - span.at) return std::nullopt;
  // The string's header in a: its tag, then its length, ending where the characters begin.
  std::size_t width = 1;
  for (std::size_t n = span.size; n >= 0x80; n >>= 7) ++width;
  if (span.at < 1 + width) return std::nullopt;
  const std::size_t tag = span.at - 1 - width;
  std::size_t at = tag + 1;
  if (static_cast<unsigned char>(a[tag]) != Tag::String || varint_at(a, at) != span.size || at != span.at) return std::nullopt;
  // b's length, at the same place; then as many bytes after b's string as after a's.
  at = tag + 1;
  const std::optional<std::uint64_t> size = varint_at(b, at);
  const std::size_t tail = a.size() - span.at - span.size;
  if (!size || *size > b.size() - at || b.size() - at - *size != tail) return std::nullopt;
  if (std::memcmp(a.data(), b.data(), tag + 1) != 0 || std::memcmp(a.data() + a.size() - tail, b.data() + b.size() - tail, tail) != 0) {
    return std::nullopt;
  }
  return ByteSpan{at, static_cast<std::size_t>(*size)};
}

json::object unpack_masked(std::string_view bytes, const KeyTable& keys, const FieldMask& reads, json::storage_ptr sp) {
  return PackedReads(reads, keys).unpack(bytes, std::move(sp));
}

bool same_under(std::string_view a, std::string_view b, const KeyTable& keys, const FieldMask& reads) {
  return PackedReads(reads, keys).same(a, b);
}

}  // namespace fdb::kube

#include "watch/packed_json.hpp"

#include "watch/pack_writer.hpp"
#include "watch/packed_cursor.hpp"
#include "watch/packed_reads.hpp"
#include "watch/short_compare.hpp"

#include <boost/json/array.hpp>
#include <boost/json/string.hpp>

#include <cstring>
#include <limits>
#include <random>
#include <stdexcept>

namespace fdb::kube {

namespace json = boost::json;
using packed::Cursor;
using packed::Tag;
using enum packed::Tag;

KeyTable::KeyTable() : slots_(64), seed_(std::random_device{}() | (std::uint64_t{std::random_device{}()} << 32)) {}

std::uint64_t seeded_hash(std::string_view s, std::uint64_t seed) noexcept {
  std::uint64_t h = seed ^ (s.size() * 0x9E3779B97F4A7C15ull);
  const char* p = s.data();
  std::size_t n = s.size();
  auto mix = [&h](std::uint64_t w) {
    h = (h ^ w) * 0xbf58476d1ce4e5b9ull;
    h ^= h >> 31;
  };
  for (; n >= 8; p += 8, n -= 8) {
    std::uint64_t w;
    std::memcpy(&w, p, 8);
    mix(w);
  }
  if (n > 0) {
    std::uint64_t w = 0;
    std::memcpy(&w, p, n);
    mix(w);
  }
  h *= 0x94d049bb133111ebull;
  return h ^ (h >> 29);
}

std::uint64_t KeyTable::hash(std::string_view s) const noexcept { return seeded_hash(s, seed_); }

std::uint32_t KeyTable::intern(std::string_view key) {
  const std::uint64_t h = hash(key);
  const auto bits = static_cast<std::uint32_t>(h >> 32);
  const std::size_t mask = slots_.size() - 1;
  for (std::size_t i = h & mask;; i = (i + 1) & mask) {
    const Slot s = slots_[i];
    if (s.id_plus_one == 0) break;
    if (s.hash_bits == bits && same_key(keys_[s.id_plus_one - 1], key)) return s.id_plus_one - 1;
  }
  if (keys_.size() >= std::numeric_limits<std::uint32_t>::max() - 1) throw std::length_error("key table full");
  const auto id = static_cast<std::uint32_t>(keys_.size());
  keys_.emplace_back(key);
  if ((keys_.size()) * 2 > slots_.size()) grow();  // at most half full
  for (std::size_t i = h & (slots_.size() - 1);; i = (i + 1) & (slots_.size() - 1)) {
    if (slots_[i].id_plus_one == 0) {
      slots_[i] = Slot{id + 1, bits};
      break;
    }
  }
  return id;
}

std::uint32_t KeyTable::intern_at(std::size_t pos, std::string_view key) {
  static constexpr std::size_t kPositions = 4096;
  if (pos >= kPositions) return intern(key);
  if (pos < recent_.size()) {
    const Recent& r = recent_[pos];
    if (r.set && same_key(r.key, key)) return r.id;
  } else {
    recent_.resize(pos + 1);
  }
  const std::uint32_t id = intern(key);
  recent_[pos] = Recent{keys_[id], id, true};
  return id;
}

void KeyTable::grow() {
  std::vector<Slot> bigger(slots_.size() * 2);
  const std::size_t mask = bigger.size() - 1;
  for (const Slot& s : slots_) {
    if (s.id_plus_one == 0) continue;
    const std::uint64_t h = hash(keys_[s.id_plus_one - 1]);
    for (std::size_t i = h & mask;; i = (i + 1) & mask) {
      if (bigger[i].id_plus_one == 0) {
        bigger[i] = s;
        break;
      }
    }
  }
  slots_ = std::move(bigger);
}

std::string_view KeyTable::at(std::uint32_t id) const {
  if (id >= keys_.size()) throw std::out_of_range("unknown key id " + std::to_string(id));
  return keys_[id];
}

namespace {

// What pack() writes for a value, through PackWriter (the format's one writer).
void pack_value(const json::value& v, PackWriter& w) {
  switch (v.kind()) {
    case json::kind::null: w.null(); break;
    case json::kind::bool_: w.boolean(v.get_bool()); break;
    case json::kind::int64: w.int64(v.get_int64()); break;
    case json::kind::uint64: w.uint64(v.get_uint64()); break;
    case json::kind::double_: w.dbl(v.get_double()); break;
    case json::kind::string: w.string(v.get_string()); break;
    case json::kind::array:
      w.array_of(v.get_array().size());
      for (const auto& e : v.get_array()) pack_value(e, w);
      break;
    case json::kind::object:
      w.object_of(v.get_object().size());
      for (const auto& kv : v.get_object()) {
        w.key(kv.key());
        pack_value(kv.value(), w);
      }
      break;
  }
}

// Decodes values: everything, or (with `reads`) what it keeps, by node (PackedReads).
class Reader : public Cursor {
 public:
  // The node of a value decoded whole.
  static constexpr std::uint32_t kAll = PackedReads::kDropped - 1;

  Reader(std::string_view bytes, const KeyTable& keys, json::storage_ptr sp, const PackedReads* reads = nullptr)
      : Cursor(bytes), keys_(keys), sp_(std::move(sp)), reads_(reads) {}

  json::value value(int depth, std::uint32_t node) {
    if (depth > kMaxDepth) fail("nested too deep");
    switch (static_cast<Tag>(byte())) {
      case Null:
        return nullptr;
      case False:
        return false;
      case True:
        return true;
      case Int: {
        const std::uint64_t z = varint();
        return static_cast<std::int64_t>((z >> 1) ^ (~(z & 1) + 1));
      }
      case Uint:
        return varint();
      case Double: {
        double d;
        need(sizeof d);
        std::memcpy(&d, p_, sizeof d);
        p_ += sizeof d;
        return d;
      }
      case String: {
        const std::uint64_t n = varint();
        need(n);
        json::string s(std::string_view(p_, n), sp_);
        p_ += n;
        return s;
      }
      case Array:
        return array(depth, node);
      case Object:
        return object(depth, node);
    }
    fail("unknown tag");
  }

  json::array array(int depth, std::uint32_t node) {
    const std::uint64_t n = varint();
    need(n);  // every value takes at least its tag byte
    json::array a(sp_);
    a.reserve(n);
    for (std::uint64_t i = 0; i < n; ++i) a.push_back(value(depth + 1, node));
    return a;
  }

  json::object object(int depth, std::uint32_t node) {
    const std::uint64_t n = varint();
    need(n);
    const bool all = reads_ == nullptr || node == kAll || reads_->whole(node);
    json::object o(sp_);
    o.reserve(all ? n : 0);
    for (std::uint64_t i = 0; i < n; ++i) {
      const std::uint64_t id = varint();
      if (id >= keys_.size()) fail("unknown key id");
      const std::uint32_t child = all ? kAll : reads_->child(node, static_cast<std::uint32_t>(id));
      if (child == PackedReads::kDropped) skip_value(depth + 1);
      else o.emplace(keys_.at(static_cast<std::uint32_t>(id)), value(depth + 1, child));
    }
    return o;
  }

 private:
  const KeyTable& keys_;
  json::storage_ptr sp_;
  const PackedReads* reads_;
};

}  // namespace

void pack(const json::object& object, KeyTable& keys, std::string& out) {
  PackWriter w(keys, out);
  w.object_of(object.size());
  for (const auto& kv : object) {
    w.key(kv.key());
    pack_value(kv.value(), w);
  }
}

std::string pack(const json::object& object, KeyTable& keys) {
  std::string out;
  pack(object, keys, out);
  return out;
}

json::object unpack(std::string_view bytes, const KeyTable& keys, json::storage_ptr sp) {
  Reader r(bytes, keys, std::move(sp));
  if (r.byte() != Object) throw std::invalid_argument("packed JSON: not an object");
  json::object o = r.object(0, Reader::kAll);
  if (!r.done()) throw std::invalid_argument("packed JSON: trailing bytes");
  return o;
}

json::object unpack_through(std::string_view bytes, const KeyTable& keys, const PackedReads& reads, json::storage_ptr sp) {
  Reader r(bytes, keys, std::move(sp), &reads);
  if (r.byte() != Object) throw std::invalid_argument("packed JSON: not an object");
  json::object o = r.object(0, 0);
  if (!r.done()) throw std::invalid_argument("packed JSON: trailing bytes");
  return o;
}

std::string_view packed::Cursor::skip_value(int depth) {
  if (depth > kMaxDepth) fail("nested too deep");
  const char* start = p_;
  switch (static_cast<Tag>(byte())) {
    case Null:
    case False:
    case True:
      break;
    case Int:
    case Uint:
      varint();
      break;
    case Double:
      need(sizeof(double));
      p_ += sizeof(double);
      break;
    case String: {
      const std::uint64_t n = varint();
      need(n);
      p_ += n;
      break;
    }
    case Array:
      for (std::uint64_t n = varint(); n > 0; --n) skip_value(depth + 1);
      break;
    case Object:
      for (std::uint64_t n = varint(); n > 0; --n) {
        varint();
        skip_value(depth + 1);
      }
      break;
    default:
      fail("unknown tag");
  }
  return {start, static_cast<std::size_t>(p_ - start)};
}

}  // namespace fdb::kube

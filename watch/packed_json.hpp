// A compact encoding of JSON objects for caches that hold many objects of the same shape.
// A cached Workload projection as a boost::json::object costs several kilobytes (a hash
// table per object, 16-byte values, one allocation per string); packed, it is one string of
// tagged, length-prefixed bytes, with every object key replaced by an index into a key
// table shared by the whole cache (keys repeat in every object: "metadata", label and
// annotation names, "type"/"status"/"reason" of conditions).
//
// Format: a value is a tag byte and its payload; lengths and counts are LEB128 varints.
//   null, false, true: the tag alone; int64: zigzag varint; uint64: varint; double: 8
//   bytes; string: length, bytes; array: count, values; object: count, (key id, value)…
// Packing preserves key order, so equal objects pack to equal bytes.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

namespace fdb::kube {

// A 64-bit hash of `s`, keyed by `seed` (a table picks its seed at random, so that keys
// made up to collide under one seed do not under the next). Not cryptographic.
std::uint64_t seeded_hash(std::string_view s, std::uint64_t seed) noexcept;

// Object keys seen by a cache, each stored once. Ids are stable for the table's life.
// intern() runs for every key of every stored object, so the lookup is an open-addressed
// table (power-of-two size, linear probing) over a short multiplicative hash, seeded per
// table so that crafted keys cannot be made to collide everywhere.
class KeyTable {
 public:
  KeyTable();
  std::uint32_t intern(std::string_view key);
  // The same, for the key at position `pos` of an object being packed (its keys counted
  // depth first). Objects of one kind come in one shape, so the key at a position is most
  // often the one seen there last time: one comparison, no hashing.
  std::uint32_t intern_at(std::size_t pos, std::string_view key);
  // The key of an id handed out by intern(); throws std::out_of_range for any other.
  std::string_view at(std::uint32_t id) const;
  std::size_t size() const noexcept { return keys_.size(); }

 private:
  std::uint64_t hash(std::string_view s) const noexcept;
  void grow();
  struct Slot {
    std::uint32_t id_plus_one = 0;  // 0: empty
    std::uint32_t hash_bits = 0;    // the hash's high half, to skip most comparisons
  };
  std::deque<std::string> keys_;  // deque: elements never move
  std::vector<Slot> slots_;
  // By position: the key last seen there and its id (the view is into keys_, whose
  // strings never move).
  struct Recent {
    std::string_view key;
    std::uint32_t id = 0;
    bool set = false;
  };
  std::vector<Recent> recent_;
  std::uint64_t seed_;
};

// Appends the packed form of `object` to `out`, interning its keys (at any depth) in `keys`.
void pack(const boost::json::object& object, KeyTable& keys, std::string& out);
std::string pack(const boost::json::object& object, KeyTable& keys);

// The object packed in `bytes`. Throws std::invalid_argument on bytes that pack() did not
// produce with this table (truncated, unknown tag, unknown key id).
// Its nodes are allocated from `sp` (the default resource when null).
boost::json::object unpack(std::string_view bytes, const KeyTable& keys, boost::json::storage_ptr sp = {});

}  // namespace fdb::kube

// The informer cache's objects by key, without I/O (ObjectCache, watch/object_cache.hpp,
// uses it). Every watch event looks its object's key up here, among as many as 100 000:
// the lookup must cost as few cache misses as it can.
//
// An open-addressed table: a power-of-two array of 8-byte slots, probed linearly, each
// slot the address of an entry with 16 bits of the key's hash in its top bits (so a probe
// that meets another key's slot skips it without reading its entry). An entry is one
// allocation holding the key inline, after the stored data (the packed bytes' address and
// sizes, the list mark): a lookup that finds its key reads the slot and the entry, one
// miss each. Deletion shifts the slots after it back (no tombstones), so a table that
// sees many deletes probes no longer than one that saw none.
//
// Entries never move while they are stored (growing moves slots, not entries): views of
// an entry's key stay valid until the entry is erased. The hash is seeded per table
// (seeded_hash, watch/packed_json.hpp), so names made up to collide do not collide on the
// next start.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

namespace fdb::kube {

class ObjectTable {
 public:
  class Entry {
   public:
    std::string_view key() const noexcept { return {reinterpret_cast<const char*>(this + 1), key_size_}; }
    std::string_view packed() const noexcept { return {packed_.get(), packed_size_}; }
    // Replaces the stored bytes: in place when they fit with at most 32 bytes to spare,
    // else in a buffer of their exact size (the cache holds one per object: no slack).
    void set_packed(std::string_view bytes);
    // The last list that named the object (0: none, a watch event's object).
    std::uint64_t list = 0;

   private:
    friend class ObjectTable;
    explicit Entry(std::uint32_t key_size) noexcept : key_size_(key_size) {}
    std::unique_ptr<char[]> packed_;
    std::uint32_t packed_size_ = 0;
    std::uint32_t packed_capacity_ = 0;
    std::uint32_t key_size_;

   public:
    // Bytes [unread_at, unread_at + unread_size) of the packed bytes hold the characters of
    // a string no index reads (ObjectCache: the resourceVersion's); size 0: none known.
    // Kept by whoever stores the bytes (set_packed leaves them). Declared last, they fill
    // the entry's padding: an entry is 32 bytes before its key, as without them.
    std::uint16_t unread_at = 0;
    std::uint16_t unread_size = 0;
  };
  struct EntryDeleter {
    void operator()(Entry* e) const noexcept;
  };
  // An entry taken out of the table: freed with the pointer.
  using EntryPtr = std::unique_ptr<Entry, EntryDeleter>;
  using HashFn = std::uint64_t (*)(std::string_view key, std::uint64_t seed) noexcept;

  // `hash` is for tests (a weak one makes every key collide); the default is seeded_hash.
  explicit ObjectTable(HashFn hash = nullptr);
  ~ObjectTable();
  ObjectTable(const ObjectTable&) = delete;
  ObjectTable& operator=(const ObjectTable&) = delete;

  Entry* find(std::string_view key) const noexcept;
  // A hint that `key` is looked up soon: starts loading the slot where its lookup begins
  // (among 100 000 objects, most likely not in cache). Changes nothing.
  void prefetch(std::string_view key) const noexcept { __builtin_prefetch(&slots_[hash(key) & (slots_.size() - 1)]); }
  // The entry of `key`, and true when it was made now (with no packed bytes, list 0).
  // Throws std::length_error for a key over 4 GiB or a table over 2^60 slots.
  std::pair<Entry*, bool> emplace(std::string_view key);
  // Takes the entry of `key` out of the table (null when there is none).
  EntryPtr extract(std::string_view key);

  std::size_t size() const noexcept { return size_; }
  std::size_t slot_count() const noexcept { return slots_.size(); }
  // Every entry, in no particular order. `f` must not change the table.
  template <class F>
  void for_each(F&& f) const {
    for (const std::uint64_t s : slots_) {
      if (s != 0) f(*entry_of(s));
    }
  }

 private:
  static Entry* entry_of(std::uint64_t slot) noexcept {
    return reinterpret_cast<Entry*>(static_cast<std::uintptr_t>(slot & kAddressBits));
  }
  static constexpr std::uint64_t kAddressBits = (std::uint64_t{1} << 48) - 1;
  std::uint64_t hash(std::string_view key) const noexcept { return hash_(key, seed_); }
  // The slot index of `key` (hash `h`), or the empty slot where it would go.
  std::size_t probe(std::string_view key, std::uint64_t h) const noexcept;
  void grow();

  std::vector<std::uint64_t> slots_;  // 0: empty; else tag << 48 | entry address
  std::size_t size_ = 0;
  HashFn hash_;
  std::uint64_t seed_;
};

}  // namespace fdb::kube

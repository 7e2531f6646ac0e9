#include "watch/object_table.hpp"

#include "watch/packed_json.hpp"
#include "watch/short_compare.hpp"

#include <cstring>
#include <limits>
#include <new>
#include <random>
#include <stdexcept>

namespace fdb::kube {

namespace {

constexpr std::size_t kFirstSlots = 64;
// Grown past 4/5 full: a lookup that finds its key probes about 3 slots on average, all
// in one or two cache lines (8 slots per line), and the table costs 10 to 20 bytes per
// entry.
bool too_full(std::size_t entries, std::size_t slots) noexcept { return entries * 5 > slots * 4; }

static_assert(sizeof(void*) != 8 || sizeof(ObjectTable::Entry) == 32, "an entry's header is 32 bytes on 64-bit targets");

std::uint64_t tag_of(std::uint64_t h) noexcept { return h & ~((std::uint64_t{1} << 48) - 1); }

}  // namespace

void ObjectTable::Entry::set_packed(std::string_view bytes) {
  if (bytes.size() > std::numeric_limits<std::uint32_t>::max()) throw std::length_error("object table: packed object over 4 GiB");
  const auto n = static_cast<std::uint32_t>(bytes.size());
  if (n > packed_capacity_ || packed_capacity_ - n > 32) {
    packed_ = std::make_unique_for_overwrite<char[]>(n);
    packed_capacity_ = n;
  }
  if (n > 0) std::memcpy(packed_.get(), bytes.data(), n);
  packed_size_ = n;
}

void ObjectTable::EntryDeleter::operator()(Entry* e) const noexcept {
  e->~Entry();
  ::operator delete(static_cast<void*>(e));
}

ObjectTable::ObjectTable(HashFn hash)
    : slots_(kFirstSlots),
      hash_(hash != nullptr ? hash : &seeded_hash),
      seed_(std::random_device{}() | (std::uint64_t{std::random_device{}()} << 32)) {}

ObjectTable::~ObjectTable() {
  for (const std::uint64_t s : slots_) {
    if (s != 0) EntryDeleter{}(entry_of(s));
  }
}

std::size_t ObjectTable::probe(std::string_view key, std::uint64_t h) const noexcept {
  const std::size_t mask = slots_.size() - 1;
  const std::uint64_t tag = tag_of(h);
  for (std::size_t i = h & mask;; i = (i + 1) & mask) {
    const std::uint64_t s = slots_[i];
    if (s == 0) return i;
    if (tag_of(s) == tag && same_key(entry_of(s)->key(), key)) return i;
  }
}

ObjectTable::Entry* ObjectTable::find(std::string_view key) const noexcept {
  const std::uint64_t s = slots_[probe(key, hash(key))];
  return s == 0 ? nullptr : entry_of(s);
}

std::pair<ObjectTable::Entry*, bool> ObjectTable::emplace(std::string_view key) {
  if (key.size() > std::numeric_limits<std::uint32_t>::max()) throw std::length_error("object table: key over 4 GiB");
  const std::uint64_t h = hash(key);
  std::size_t i = probe(key, h);
  if (slots_[i] != 0) return {entry_of(slots_[i]), false};
  if (too_full(size_ + 1, slots_.size())) {
    grow();
    i = probe(key, h);
  }
  void* raw = ::operator new(sizeof(Entry) + key.size());
  auto* e = new (raw) Entry(static_cast<std::uint32_t>(key.size()));
  std::memcpy(static_cast<char*>(raw) + sizeof(Entry), key.data(), key.size());
  const auto address = reinterpret_cast<std::uintptr_t>(e);
  if ((address & ~kAddressBits) != 0) {
    EntryDeleter{}(e);
    throw std::runtime_error("object table: an allocation above 2^48, where slots cannot tag it");
  }
  slots_[i] = tag_of(h) | address;
  ++size_;
  return {e, true};
}

ObjectTable::EntryPtr ObjectTable::extract(std::string_view key) {
  const std::size_t mask = slots_.size() - 1;
  std::size_t hole = probe(key, hash(key));
  if (slots_[hole] == 0) return nullptr;
  EntryPtr out(entry_of(slots_[hole]));
  // Backward shift: each slot after the hole, up to the next empty one, moves into the
  // hole when its key's home is not between the hole and it (cyclically).
  for (std::size_t j = (hole + 1) & mask; slots_[j] != 0; j = (j + 1) & mask) {
    const std::size_t home = hash(entry_of(slots_[j])->key()) & mask;
    const bool stays = hole <= j ? (hole < home && home <= j) : (hole < home || home <= j);
    if (stays) continue;
    slots_[hole] = slots_[j];
    hole = j;
  }
  slots_[hole] = 0;
  --size_;
  return out;
}

void ObjectTable::grow() {
  if (slots_.size() > (std::size_t{1} << 59)) throw std::length_error("object table: too many slots");
  std::vector<std::uint64_t> bigger(slots_.size() * 2);
  const std::size_t mask = bigger.size() - 1;
  for (const std::uint64_t s : slots_) {
    if (s == 0) continue;
    std::size_t i = hash(entry_of(s)->key()) & mask;
    while (bigger[i] != 0) i = (i + 1) & mask;
    bigger[i] = s;
  }
  slots_ = std::move(bigger);
}

}  // namespace fdb::kube

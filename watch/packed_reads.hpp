// Reading packed objects (watch/packed_json.hpp) through a field mask, without decoding
// what it drops: what an informer's index is given (the fields it declares it reads), and
// whether two versions of an object differ in those fields at all (then the index function
// need not run). For masks made with keep, keep_prefix, merge and nest: a node's
// projection rules are not applied.
#pragma once

#include "watch/field_mask.hpp"
#include "watch/packed_json.hpp"

#include <boost/json/object.hpp>
#include <boost/json/storage_ptr.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

namespace fdb::kube {

// A mask over the packed objects of one key table. Each (mask node, key id) pair is looked
// up by name once, then by id: a walk costs no string comparison. Not thread-safe (the
// lookups are cached as they are made); `keys` must outlive it.
class PackedReads {
 public:
  PackedReads(const FieldMask& reads, const KeyTable& keys);

  // What the mask keeps of the object packed in `bytes`: reads.apply(unpack(bytes, keys)),
  // without building what it drops. The same errors as unpack.
  boost::json::object unpack(std::string_view bytes, boost::json::storage_ptr sp = {}) const;
  // True when what the mask keeps of the objects packed in `a` and `b` is the same: then
  // unpack gives equal objects for both. Compares the bytes in place, allocating nothing
  // (once every key id has been seen). A false answer may be conservative: the same kept
  // keys in another order count as a difference. The same errors as unpack, for the parts
  // it reads.
  bool same(std::string_view a, std::string_view b) const;

  // For the decoders: node 0 is the mask's root; child() gives the node of key `id` of an
  // object at `node`, or kDropped. Throws std::invalid_argument for an id the table never
  // handed out.
  static constexpr std::uint32_t kDropped = 0xffffffff;
  std::uint32_t child(std::uint32_t node, std::uint32_t id) const {
    const std::vector<std::uint32_t>& by_id = nodes_[node].by_id;
    if (id < by_id.size() && by_id[id] != 0) return by_id[id] == kDropped ? kDropped : by_id[id] - 1;
    return look_up(node, id);
  }
  bool whole(std::uint32_t node) const noexcept { return nodes_[node].mask->whole(); }

 private:
  // child()'s first lookup of (node, id), by name; remembered for the next ones.
  std::uint32_t look_up(std::uint32_t node, std::uint32_t id) const;
  struct Node {
    const FieldMask* mask;
    std::vector<std::uint32_t> by_id;  // 0: not looked up yet; else kDropped or the child's node + 1
  };
  std::unique_ptr<FieldMask> mask_;  // owned: the nodes point into it
  const KeyTable* keys_;
  mutable std::vector<Node> nodes_;
};

// Bytes [at, at + size) of a packed object.
struct ByteSpan {
  std::size_t at = 0;
  std::size_t size = 0;
};

// Where the characters of the string at `path` lie in the object packed in `bytes`:
// `path` keeps one field (one keep() of a path of keys). Object by object from the root,
// the first member the path names is the one followed. nullopt when an object on the way
// has no such member, a value on the way is not an object, or the field is not a string.
// Reads only up to that string; throws std::invalid_argument where the bytes it reads are
// not packed JSON.
std::optional<ByteSpan> string_payload(std::string_view bytes, const PackedReads& path);

// When `b` is `a` with one string's characters replaced, the characters of that string in
// `b`; else nullopt. `span` is where that string's characters lie in `a`, after its tag and
// its length: `b` must have the same bytes as `a` up to and with that tag, a length after
// it, and then, after that many characters, the same bytes as `a` after the string, to
// the end. Then `b` reads as the same tree as `a`, but for that string.
std::optional<ByteSpan> same_but_string(std::string_view a, std::string_view b, ByteSpan span) noexcept;

// One-off forms (a PackedReads made for the call).
boost::json::object unpack_masked(std::string_view bytes, const KeyTable& keys, const FieldMask& reads,
                                  boost::json::storage_ptr sp = {});
bool same_under(std::string_view a, std::string_view b, const KeyTable& keys, const FieldMask& reads);

}  // namespace fdb::kube

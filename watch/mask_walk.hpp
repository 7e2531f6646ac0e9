// The walk the fast decoders share: what a FieldMask keeps of a simdjson DOM element, its
// rules honoured as MaskHandler honours them from Boost.JSON's tokens (field_mask.cpp),
// written to `Out` value by value. FastParse (watch/simd_parse.cpp) writes onto a
// Boost.JSON value_stack; PackingEventDecoder (watch/simd_pack.cpp) writes the store's
// packed bytes (PackWriter). Where the DOM and Boost.JSON could disagree the walk gives up
// and says why: a kept number that is not an integer (the two may round it differently), a
// kept key named twice (the DOM keeps both, Boost.JSON the last).
//
// Out: null(), boolean(b), int64(i), uint64(u), string(s), key(k); begin_object() and
// begin_array() return a mark that end_object(mark, count) / end_array(mark, count) take.
// A writer with a key table (PackWriter) also has intern(k) -> id, key_id(id) (what key(k)
// writes) and key_table(): the walk then writes keys by the ids it remembers.
//
// Lines of one kind come in one shape, so the walk remembers, by position in the line (the
// keys of the objects it walks, counted depth first, dropped ones too), what it looked up
// for the key there last time: the key's bytes, the mask node (by FieldMask::stamp, which
// no other node and no later state of that node has), the child, the constant index and
// the key's id. A key with the same bytes in the same node at its position costs one short
// comparison instead of the node's lookups and the key table's; any other is looked up as
// before and remembered in its place. The answers are the lookups' either way. A kept key
// named twice in one object is found by its id when the writer has ids (one per key in a
// table), by its bytes otherwise.
// Include from .cpp files only (simdjson is private to the watch library). No I/O.
#pragma once

#include "watch/field_mask.hpp"
#include "watch/short_compare.hpp"
#include "watch/simd_parse.hpp"
#include "watch/simd_rules.hpp"

#include <simdjson.h>

#include <algorithm>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

namespace fdb::kube {

// What a walk keeps from line to line: what it looked up by position, and its buffers.
// The ids it remembers are of one key table, the one of the last writer with ids it was
// given (a writer with another table makes it forget them). It must not be used past that
// table's life: a table made later at the same address would be taken for it.
struct WalkKeys {
  static constexpr std::uint32_t kNoId = std::numeric_limits<std::uint32_t>::max();
  static constexpr std::size_t kPositions = 4096;  // keys past this position are looked up every time
  // What the walk found for the key at one position the last time it looked one up there.
  struct Seen {
    std::uint64_t node = 0;            // the stamp of the mask node it was looked up in; 0: none yet
    std::string key;                   // the key's bytes
    const FieldMask* child = nullptr;  // the node's child(key): null when the key is dropped
    int constant = -1;                 // the node's constant_index(key) (-1 when dropped)
    std::uint32_t id = kNoId;          // its id in `table`, once a writer with ids wrote it
  };
  std::vector<Seen> seen;  // by position
  const void* table = nullptr;
  // The kept keys of the open objects, outermost first: by id for a writer with ids, else
  // as the line's bytes.
  std::vector<std::uint32_t> open_ids, sorted_ids;
  std::vector<std::string_view> open, sorted;
};

template <class Out>
class MaskWalk {
  static constexpr bool kIds = requires(Out& out, std::string_view k, std::uint32_t id) {
    { out.intern(k) } -> std::same_as<std::uint32_t>;
    out.key_id(id);
    out.key_table();
  };

 public:
  MaskWalk(Out& out, WalkKeys& keys) : out_(out), keys_(keys) {
    keys_.open.clear();
    keys_.open_ids.clear();
    if constexpr (kIds) {
      const void* table = &out.key_table();
      if (keys_.table != table) {
        for (auto& s : keys_.seen) s.id = WalkKeys::kNoId;
        keys_.table = table;
      }
    }
  }

  FastOutcome why = FastOutcome::Decoded;

  bool value(simdjson::dom::element e, const FieldMask& m) {
    namespace dom = simdjson::dom;
    switch (e.type()) {
      case dom::element_type::OBJECT: return object(e.get_object().value_unsafe(), m);
      case dom::element_type::ARRAY: return array(e.get_array().value_unsafe(), m);
      case dom::element_type::STRING: out_.string(e.get_string().value_unsafe()); return true;
      case dom::element_type::INT64: out_.int64(e.get_int64().value_unsafe()); return true;
      case dom::element_type::UINT64: out_.uint64(e.get_uint64().value_unsafe()); return true;
      case dom::element_type::BOOL: out_.boolean(e.get_bool().value_unsafe()); return true;
      case dom::element_type::NULL_VALUE: out_.null(); return true;
      case dom::element_type::DOUBLE: break;
    }
    why = FastOutcome::KeptDouble;
    return false;
  }

  // A constant's key with the constant for its value, then the keys the mask keeps whose
  // value the child admits, then the constants the object did not have.
  bool object(simdjson::dom::object o, const FieldMask& m) {
    const auto at = out_.begin_object();
    const std::size_t mark = open_count();
    const std::uint64_t node = m.stamp();
    std::uint32_t met = 0;
    for (const auto kv : o) {
      const Found f = look_up(kv.key, m, node);
      if (f.child == nullptr) continue;
      if (f.constant >= 0) {
        met |= 1u << f.constant;
        put_key(kv.key, f);
        out_.string(m.constants()[static_cast<std::size_t>(f.constant)].second);
        continue;
      }
      if (!f.child->admits(dom_shape(kv.value))) continue;
      put_key(kv.key, f);
      if (!value(kv.value, *f.child)) return false;
    }
    std::size_t n = open_count() - mark;
    if (has_duplicate(mark)) {
      why = FastOutcome::DuplicateKey;
      return false;
    }
    if constexpr (kIds) keys_.open_ids.resize(mark);
    else keys_.open.resize(mark);
    for (std::size_t i = 0; i < m.constants().size(); ++i) {
      if ((met & (1u << i)) != 0) continue;
      out_.key(m.constants()[i].first);
      out_.string(m.constants()[i].second);
      ++n;
    }
    out_.end_object(at, n);
    return true;
  }

 private:
  static constexpr std::size_t kNowhere = WalkKeys::kPositions;  // a position not remembered

  // What node `m` (stamped `node`) says of `key`, the key at the walk's next position.
  struct Found {
    const FieldMask* child;
    int constant;
    std::uint32_t id;  // WalkKeys::kNoId when not known yet
    std::size_t pos;   // where it is remembered, or kNowhere
  };

  // The memo's answer when the key at this position last time was `key`, in this node;
  // else the lookups' (remembered for the next line).
  [[gnu::always_inline]] Found look_up(std::string_view key, const FieldMask& m, std::uint64_t node) {
    const std::size_t pos = pos_++;
    if (pos < keys_.seen.size()) {
      const WalkKeys::Seen& s = keys_.seen[pos];
      if (s.node == node && same_key(s.key, key)) [[likely]] return {s.child, s.constant, s.id, pos};
    }
    return look_up_anew(key, m, node, pos);
  }

  [[gnu::noinline]] Found look_up_anew(std::string_view key, const FieldMask& m, std::uint64_t node, std::size_t pos) {
    auto& seen = keys_.seen;
    if (pos >= WalkKeys::kPositions) {
      const FieldMask* c = m.child(key);
      return {c, c == nullptr ? -1 : m.constant_index(key), WalkKeys::kNoId, kNowhere};
    }
    if (pos == seen.size()) seen.emplace_back();
    WalkKeys::Seen& s = seen[pos];
    s.node = node;
    s.child = m.child(key);
    s.constant = s.child == nullptr || m.constants().empty() ? -1 : m.constant_index(key);
    if (!same_key(s.key, key)) {  // the id is the key's, whatever the node
      s.key.assign(key);
      s.id = WalkKeys::kNoId;
    }
    return {s.child, s.constant, s.id, pos};
  }

  // Writes kept key `key` (found as `f`) and adds it to the open object's keys.
  [[gnu::always_inline]] void put_key(std::string_view key, const Found& f) {
    if constexpr (kIds) {
      const std::uint32_t id = f.id != WalkKeys::kNoId ? f.id : intern_key(key, f.pos);
      keys_.open_ids.push_back(id);
      out_.key_id(id);
    } else {
      keys_.open.push_back(key);
      out_.key(key);
    }
  }

  [[gnu::noinline]] std::uint32_t intern_key(std::string_view key, std::size_t pos) {
    const std::uint32_t id = out_.intern(key);
    if (pos != kNowhere) keys_.seen[pos].id = id;
    return id;
  }

  std::size_t open_count() const noexcept {
    if constexpr (kIds) return keys_.open_ids.size();
    else return keys_.open.size();
  }

  bool array(simdjson::dom::array a, const FieldMask& m) {
    const auto at = out_.begin_array();
    std::size_t n = 0;
    for (const simdjson::dom::element e : a) {
      if (!m.admits_element(dom_shape(e))) continue;
      if (m.element_filter()) {
        const FilterAnswer f = dom_filter(e.get_object().value_unsafe(), m);
        if (f == FilterAnswer::Repeated) {
          why = FastOutcome::DuplicateKey;
          return false;
        }
        if (f == FilterAnswer::Drop) continue;
      }
      if (!value(e, m)) return false;
      ++n;
    }
    out_.end_array(at, n);
    return true;
  }

  // Whether the keys kept of the object being closed (the open keys from `mark` on) repeat:
  // by id (one id per key in a table), or by bytes.
  bool has_duplicate(std::size_t mark) {
    if constexpr (kIds) return repeats(keys_.open_ids, mark, keys_.sorted_ids);
    else return repeats(keys_.open, mark, keys_.sorted);
  }

  static bool same(std::uint32_t a, std::uint32_t b) noexcept { return a == b; }
  static bool same(std::string_view a, std::string_view b) noexcept { return same_key(a, b); }

  template <class Key>
  static bool repeats(const std::vector<Key>& open, std::size_t mark, std::vector<Key>& sorted) {
    const std::size_t n = open.size() - mark;
    if (n < 2) return false;
    if (n <= 16) {
      for (std::size_t i = mark; i < open.size(); ++i) {
        for (std::size_t j = i + 1; j < open.size(); ++j) {
          if (same(open[i], open[j])) return true;
        }
      }
      return false;
    }
    sorted.assign(open.begin() + static_cast<std::ptrdiff_t>(mark), open.end());
    std::sort(sorted.begin(), sorted.end());
    return std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end();
  }

  Out& out_;
  WalkKeys& keys_;
  std::size_t pos_ = 0;  // the keys looked up so far in this walk (the next one's position)
};

}  // namespace fdb::kube

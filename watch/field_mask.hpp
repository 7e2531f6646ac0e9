// A field mask: the parts of an object that a cache's user reads. An informer with a mask
// decodes each watch event straight into those parts: the whole line is still parsed and
// validated, but nothing outside the mask is ever built (a Workload's spec text, its
// managedFields, the messages of its conditions). It is what makes ingest cost the parse
// alone, not the parse plus building and freeing a tree of the whole object.
//
// A mask is a tree. A node that keep() reached keeps its value whole. Any other node keeps,
// of an object, only the keys it names (each with its own node) and the keys that start
// with one of its prefixes (whole); of an array, each element through the same node; a
// scalar as it is. An empty mask keeps an object's braces and nothing inside.
//
//   FieldMask m;
//   m.keep({"metadata", "name"});
//   m.keep({"spec", "pipeline", "kind"});          // arrays are transparent: every step's kind
//   m.keep_prefix({"metadata", "annotations"}, "foreman.llmkube.dev/");
//
// A node may also carry rules (all off by default), which say what a kept value must be:
//   require_object(path)        the value at path is kept only when it is an object;
//   array_of_objects(path)      ... only when it is an array, and of it only the elements
//                               that are objects;
//   where(path, key, value)     array_of_objects(path), and of those only the elements
//                               whose `key` is the string `value` (element[key] is kept);
//   constant(key, value)        of the object at this node, key's value is the string
//                               `value`: replaced in place when the object has the key,
//                               appended after its other keys (in constant() order) when not.
// A node's rules hold at that node only; below a node kept whole, only where a rule was set
// (child() of a whole node gives that node, or a rule-free whole one). Every decoder
// honours them through the same few functions (admits for a value under a key or at the
// top, admits_element for an array's element, passes for a filtered element,
// constant_index for a key), so that apply, MaskedParser and FastParse keep the same
// values. A decoder on a parser that keeps duplicate keys must not decide on the first
// of a repeated filter key or constant key: Boost.JSON keeps the last.
//
//   m.constant("kind", "Workload");
//   m.require_object({"spec"});
//   m.where({"spec", "pipeline"}, "kind", "issue-fix");  // only the issue-fix steps
#pragma once

#include "watch/event_stream.hpp"
#include "watch/json_input.hpp"

#include <boost/json/object.hpp>
#include <boost/json/storage_ptr.hpp>
#include <boost/json/value.hpp>
#include <boost/system/error_code.hpp>

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace fdb::kube {

class FastParse;  // watch/simd_parse.hpp
struct FastCounts;

// What the rules look at of a value: an object, an array, or anything else.
enum class JsonShape : std::uint8_t { Object, Array, Other };
JsonShape shape_of(const boost::json::value& v) noexcept;

class FieldMask {
 public:
  // Keeps the value at `path` whole (and whatever the path passes through, filtered).
  FieldMask& keep(std::initializer_list<std::string_view> path);
  // Keeps, of the object at `path`, every key that starts with `prefix`.
  FieldMask& keep_prefix(std::initializer_list<std::string_view> path, std::string_view prefix);
  // Everything `other` keeps is kept too.
  FieldMask& merge(const FieldMask& other);
  // Keeps, of the value at `path`, what `sub` keeps (e.g. a list answer's items).
  FieldMask& nest(std::initializer_list<std::string_view> path, const FieldMask& sub);
  // merge and nest carry the other's rules: what is merged keeps what either keeps, and
  // honours the rules of both. A conflict (an object required where an array is, two
  // filters or two constants for one key that differ) throws std::invalid_argument.

  // ---- Rules (see the top of this file). Each also keeps the path (or the key) it names;
  // a path may go below a node kept whole. Throws std::invalid_argument on an empty path
  // or key, or on a conflict with a rule already there.
  FieldMask& require_object(std::initializer_list<std::string_view> path);
  FieldMask& array_of_objects(std::initializer_list<std::string_view> path);
  FieldMask& where(std::initializer_list<std::string_view> path, std::string_view key, std::string_view value);
  FieldMask& constant(std::string_view key, std::string_view value);

  bool object_required() const noexcept { return object_required_; }
  bool objects_only() const noexcept { return objects_only_; }
  const std::optional<std::pair<std::string, std::string>>& element_filter() const noexcept { return filter_; }
  const std::vector<std::pair<std::string, std::string>>& constants() const noexcept { return constants_; }

  // ---- The rules' effect, which every decoder asks (pure, no allocation).
  // Whether a value of shape `s` is kept as this node's value (under a key, or the top).
  bool admits(JsonShape s) const noexcept {
    return s == JsonShape::Object ? !objects_only_ : s == JsonShape::Array ? !object_required_ : !(objects_only_ || object_required_);
  }
  // Whether a value of shape `s` is kept as an element of an array at this node.
  bool admits_element(JsonShape s) const noexcept { return !objects_only_ || s == JsonShape::Object; }
  // Whether an element object is kept, given element[filter key]: the string there, or
  // nullopt when the key is missing or its value is not a string.
  bool passes(std::optional<std::string_view> filter_value) const noexcept {
    return !filter_ || (filter_value && *filter_value == filter_->second);
  }
  // The same, of a built element object.
  bool passes(const boost::json::object& element) const noexcept;
  // The index in constants() of the one that replaces key `key`'s value in an object at
  // this node, or -1 when none does.
  int constant_index(std::string_view key) const noexcept;
  // Whether this node or one below it has an element filter.
  bool filters_below() const noexcept { return filters_below_; }
  // The most constants one node takes (decoders track which they met in a bit set).
  static constexpr std::size_t kMaxConstants = 32;

  // True for a node that keeps its value whole (its rules, if any, still hold).
  bool whole() const noexcept { return whole_; }
  // True when a value this node admits is kept exactly as it is (whole, no rule inside
  // it): a decoder may copy it without looking inside.
  bool copies_whole() const noexcept { return whole_ && fields_.empty() && !objects_only_ && constants_.empty(); }
  // The node for key `key` of an object at this node, or null when the key is dropped.
  const FieldMask* child(std::string_view key) const noexcept;
  // A number no other node has had, nor this one before its last change: a node takes a
  // new one when it is made, copied, moved (both sides) or changed. A walk that remembers
  // what it looked up in a node (watch/mask_walk.hpp, from line to line) knows by it that
  // the node is the one it asked, as it was: what child() and constant_index() answered
  // then, and the nodes they pointed to, hold still.
  std::uint64_t stamp() const noexcept { return stamp_.value; }

  // The value with only what the mask keeps, in `sp`: the reference for the streaming
  // decoders (they agree on every input, which the fuzz target checks). Null when `v`
  // itself is not admitted (a top node that requires an object, given something else).
  boost::json::value apply(const boost::json::value& v, boost::json::storage_ptr sp = {}) const;

  // What the informer adds to every mask: the object's key and version, and the bookmark
  // annotation that ends a stream's initial events.
  static FieldMask informer_minimum();
  // A list answer's mask: its version and continue token, and of each item what `items`
  // keeps.
  static FieldMask list_answer(const FieldMask& items);


 private:
  FieldMask& at(std::initializer_list<std::string_view> path);
  // The node at `path` for a rule: made below whole nodes too (whole itself), marking
  // filters_below_ on the way when `filter`.
  FieldMask& rule_at(std::initializer_list<std::string_view> path, bool filter);
  boost::json::value apply_kept(const boost::json::value& v, const boost::json::storage_ptr& sp) const;
  boost::json::object apply_object(const boost::json::object& o, const boost::json::storage_ptr& sp) const;
  void merge_node(const FieldMask& other);
  void merge_rules(const FieldMask& other);
  void check_rules() const;
  bool has_rules() const noexcept;
  void make_whole();
  const FieldMask* find(std::string_view key) const noexcept;
  FieldMask* find(std::string_view key) noexcept {
    return const_cast<FieldMask*>(static_cast<const FieldMask&>(*this).find(key));
  }
  void touch() noexcept { stamp_ = Stamp{}; }
  struct Stamp {
    Stamp() noexcept : value(next()) {}
    Stamp(const Stamp&) noexcept : value(next()) {}
    Stamp(Stamp&& from) noexcept : value(next()) { from.value = next(); }
    Stamp& operator=(const Stamp&) noexcept {
      value = next();
      return *this;
    }
    Stamp& operator=(Stamp&& from) noexcept {
      value = next();
      from.value = next();
      return *this;
    }
    static std::uint64_t next() noexcept;  // from 1 up, never twice
    std::uint64_t value;
  };
  // A few keys per node: a vector searched in order beats a tree, and this is looked up
  // for every key of every kept object of every event.
  std::vector<std::pair<std::string, FieldMask>> fields_;
  std::vector<std::string> prefixes_;
  std::optional<std::pair<std::string, std::string>> filter_;
  std::vector<std::pair<std::string, std::string>> constants_;
  bool whole_ = false;
  bool object_required_ = false;
  bool objects_only_ = false;
  bool filters_below_ = false;
  Stamp stamp_;  // taken anew by every function that changes a member (touch())
};

// Parses JSON text through a mask: the value boost::json::parse would give with the mask
// applied (FieldMask::apply), built in `sp`, or null with `ec` set on the same errors
// (syntax, invalid UTF-8, nesting deeper than max_depth, trailing data). Everything is
// tokenized and validated; only what the mask keeps is built. One parser per stream or
// loop: it reuses its buffers from text to text.
// The rules are honoured as the tokens come (a value of the wrong shape is not built, a
// constant is built in place of the value), except element filters: whether an element
// passes is known only at its end, so the elements that do not are erased from their
// arrays after the parse, when the text had an array with a filter (erasing allocates
// nothing; what they held stays in `sp` until it is freed).
class MaskedParser {
 public:
  explicit MaskedParser(std::size_t max_depth = kMaxJsonDepth);
  ~MaskedParser();
  MaskedParser(const MaskedParser&) = delete;
  MaskedParser& operator=(const MaskedParser&) = delete;

  boost::json::value parse(std::string_view text, const FieldMask& mask, boost::json::storage_ptr sp,
                           boost::system::error_code& ec);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Decodes watch event lines through a mask: like decode_event(line, storage), but the
// event's object holds only what `mask` keeps. An ERROR event's object (a Status) is kept
// whole. The same errors as decode_event (ApiError, kind Decode) for a line that is not
// JSON, nests deeper than kMaxJsonDepth, or is not an event.
// Each line is parsed with simdjson first (FastParse, watch/simd_parse.hpp) and, where that
// gives up, with MaskedParser (Boost.JSON): the answer is MaskedParser's either way. With
// `fast` false every line goes through MaskedParser (the reference, for benchmarks).
class MaskedEventDecoder {
 public:
  explicit MaskedEventDecoder(FieldMask mask, bool fast = true);
  ~MaskedEventDecoder();

  WatchEvent decode(std::string_view line, boost::json::storage_ptr storage);
  const FieldMask& mask() const noexcept { return mask_; }
  // Lines decoded on the fast path and fallbacks by reason (all zero when not `fast`).
  const FastCounts& fast_counts() const noexcept;

 private:
  FieldMask mask_;
  FieldMask envelope_;  // {"type", "object": mask_}
  MaskedParser parser_;
  std::unique_ptr<FastParse> fast_;
};

}  // namespace fdb::kube

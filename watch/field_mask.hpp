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
#pragma once

#include "watch/event_stream.hpp"
#include "watch/json_input.hpp"

#include <boost/json/object.hpp>
#include <boost/json/storage_ptr.hpp>
#include <boost/json/value.hpp>
#include <boost/system/error_code.hpp>

#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace fdb::kube {

class FastParse;  // watch/simd_parse.hpp
struct FastCounts;

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

  // True for a node that keeps its value whole.
  bool whole() const noexcept { return whole_; }
  // The node for key `key` of an object at this node, or null when the key is dropped.
  const FieldMask* child(std::string_view key) const noexcept;

  // The value with only what the mask keeps, in `sp`: the reference for the streaming
  // decoder below (they agree on every input, which the fuzz target checks).
  boost::json::value apply(const boost::json::value& v, boost::json::storage_ptr sp = {}) const;

  // What the informer adds to every mask: the object's key and version, and the bookmark
  // annotation that ends a stream's initial events.
  static FieldMask informer_minimum();
  // A list answer's mask: its version and continue token, and of each item what `items`
  // keeps.
  static FieldMask list_answer(const FieldMask& items);


 private:
  FieldMask& at(std::initializer_list<std::string_view> path);
  const FieldMask* find(std::string_view key) const noexcept;
  FieldMask* find(std::string_view key) noexcept {
    return const_cast<FieldMask*>(static_cast<const FieldMask&>(*this).find(key));
  }
  // A few keys per node: a vector searched in order beats a tree, and this is looked up
  // for every key of every kept object of every event.
  std::vector<std::pair<std::string, FieldMask>> fields_;
  std::vector<std::string> prefixes_;
  bool whole_ = false;
};

// Parses JSON text through a mask: the value boost::json::parse would give with the mask
// applied (FieldMask::apply), built in `sp`, or null with `ec` set on the same errors
// (syntax, invalid UTF-8, nesting deeper than max_depth, trailing data). Everything is
// tokenized and validated; only what the mask keeps is built. One parser per stream or
// loop: it reuses its buffers from text to text.
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

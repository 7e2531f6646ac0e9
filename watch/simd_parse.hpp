// The fast path of the masked decoders: simdjson's DOM parser validates a whole line (UTF-8,
// structure, literals, numbers, nesting), then a walk over its tape builds only what a
// FieldMask keeps (its rules too: an element's filter key is looked up in the DOM before
// the element is built), with the same Boost.JSON value_stack MaskedParser builds with.
// Where the two parsers could disagree it gives up and says why, and the caller parses the line with
// MaskedParser (Boost.JSON) instead, so that the language accepted and the values built are
// exactly MaskedParser's:
//   - simdjson refuses the text (a syntax error, an integer beyond 64 bits, nesting at
//     kMaxJsonDepth or deeper, which Boost.JSON still takes at exactly kMaxJsonDepth, a
//     number out of range, an escape simdjson does not take): Boost.JSON decides;
//   - a kept number is not an integer (the two parsers may round a double differently);
//   - a kept object names a key twice (the DOM keeps both, Boost.JSON the last), or an
//     element of an array with a filter names the filter's key twice.
// No I/O.
#pragma once

#include "watch/field_mask.hpp"

#include <boost/json/storage_ptr.hpp>
#include <boost/json/value.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

namespace fdb::kube {

// Why a line was not decoded on the fast path (FastParse::parse's answer).
enum class FastOutcome : std::uint8_t {
  Decoded,       // built from simdjson's DOM
  Refused,       // simdjson refused the text (the fallback may still accept it)
  KeptDouble,    // a kept number is not an integer
  DuplicateKey,  // a kept object names a key twice
};

// Lines per outcome, for benchmarks and metrics.
struct FastCounts {
  std::uint64_t decoded = 0;
  std::uint64_t refused = 0;
  std::uint64_t kept_double = 0;
  std::uint64_t duplicate_key = 0;
  std::uint64_t fallbacks() const noexcept { return refused + kept_double + duplicate_key; }
};

class FastParse {
 public:
  FastParse();
  ~FastParse();
  FastParse(const FastParse&) = delete;
  FastParse& operator=(const FastParse&) = delete;

  // On Decoded, `out` holds what MaskedParser::parse(text, mask, sp) would give; on any
  // other outcome `out` is untouched and the line must go through MaskedParser.
  FastOutcome parse(std::string_view text, const FieldMask& mask, boost::json::storage_ptr sp, boost::json::value& out);
  const FastCounts& counts() const noexcept { return counts_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  FastCounts counts_;
};

}  // namespace fdb::kube

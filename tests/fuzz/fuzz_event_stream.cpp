// The watch stream path: arbitrary bytes cut into arbitrary chunks → LineSplitter → lines
// → decode_event. Properties:
//  - the lines (and whether LineTooLong is thrown, and what is left buffered) are the same
//    for every chunking: the whole input at once, byte by byte, and random chunks, and
//    equal those of a plain reference splitter written here;
//  - no line is empty, contains '\n', or is longer than the cap (one trailing '\r' is
//    dropped, as the reference does);
//  - decode_event either throws ApiError of kind Decode or yields an event that re-encodes
//    to a line that decodes to the same event (type and object);
//  - an ERROR event's object decodes as a Status without throwing;
//  - MaskedEventDecoder, with masks of every kind (names, prefixes, arrays, whole values,
//    an empty mask, every rule: constants, objects required, arrays of objects, element
//    filters), gives what decode_event gives with the mask applied, or the same
//    Decode error — and goes on decoding correctly after any line; it parses with
//    simdjson first (FastParse) and falls back to Boost.JSON, and so does the check;
//  - FastParse on any line, with those masks: what it decodes, MaskedParser (Boost.JSON)
//    accepts and builds equal; every line counted once, decoded or fallen back. The seed
//    corpus has the cases where the two parsers could disagree: integers beyond 64 bits,
//    keys named twice, nesting at and past the limit, invalid UTF-8 and lone surrogates;
//  - PackingEventDecoder (simdjson's DOM straight to the store's packed bytes), with the
//    masks that keep the cache key: the same event or the same Decode error as
//    MaskedEventDecoder; when it packs, the bytes are pack() of MaskedEventDecoder's object
//    with the same key table, and the key and resourceVersion are that object's;
//  - the DOM walk remembers its lookups by key position from line to line (watch/
//    mask_walk.hpp): the decoders live across inputs, FastParse walks with each mask in
//    turn (the same positions in other masks' nodes), and FastParse and the packing decoder
//    take every line twice (the second time, each key is found as remembered).
#include "fuzz_check.hpp"
#include "watch/errors.hpp"
#include "watch/event_stream.hpp"
#include "watch/field_mask.hpp"
#include "watch/packed_json.hpp"
#include "watch/simd_pack.hpp"
#include "watch/simd_parse.hpp"

#include <boost/json/monotonic_resource.hpp>

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <algorithm>
#include <memory>
#include <stdexcept>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

using namespace fdb::kube;

namespace {

struct Outcome {
  std::vector<std::string> lines;
  bool too_long = false;
  std::string rest;  // what is buffered at the end (when not too long)
  bool operator==(const Outcome&) const = default;
};

// The contract of LineSplitter, written as plainly as possible.
Outcome reference(std::string_view data, std::size_t max) {
  Outcome out;
  for (;;) {
    const auto nl = data.find('\n');
    if (nl == std::string_view::npos) break;
    std::string_view line = data.substr(0, nl);
    data.remove_prefix(nl + 1);
    if (line.size() > max) {
      out.too_long = true;
      return out;
    }
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (!line.empty()) out.lines.emplace_back(line);
  }
  if (data.size() > max) {
    out.too_long = true;
    return out;
  }
  out.rest = std::string(data);
  return out;
}

Outcome split(std::string_view data, std::size_t max, const std::vector<std::size_t>& cuts) {
  Outcome out;
  LineSplitter s(max);
  auto sink = [&](std::string_view line) {
    FUZZ_CHECK(!line.empty());
    FUZZ_CHECK(line.find('\n') == std::string_view::npos);
    FUZZ_CHECK(line.size() <= max);
    out.lines.emplace_back(line);
  };
  try {
    std::size_t at = 0;
    for (const std::size_t n : cuts) {
      s.feed(data.substr(at, n), sink);
      at += n;
      FUZZ_CHECK(s.buffered() <= max);
    }
    out.rest = s.take_rest();
    FUZZ_CHECK(s.buffered() == 0);
  } catch (const LineTooLong&) {
    out.too_long = true;
    out.rest.clear();
  }
  return out;
}

// Every rule, as the Workload informer uses them and below a node kept whole. On the
// whole line (check_fast) its constants and the shape rule of "object" apply to the
// envelope; through MaskedEventDecoder, to the event's object.
FieldMask rules_mask() {
  FieldMask m;
  m.constant("kind", "K");
  m.constant("apiVersion", "v1");
  m.require_object({"metadata"});
  m.keep({"metadata", "name"});
  m.require_object({"metadata", "annotations"});
  m.keep_prefix({"metadata", "annotations"}, "a/");
  m.require_object({"spec"});
  m.where({"spec", "pipeline"}, "kind", "issue-fix");
  m.keep({"spec", "pipeline", "agentRef"});
  m.array_of_objects({"status", "conditions"});
  m.keep({"status", "conditions", "type"});
  m.keep({"b"});
  m.require_object({"b", "c"});
  m.where({"b", "d"}, "k", "x");
  m.require_object({"object"});
  return m.merge(FieldMask::informer_minimum());
}

std::vector<std::unique_ptr<MaskedEventDecoder>>& decoders() {
  static std::vector<std::unique_ptr<MaskedEventDecoder>> all = [] {
    std::vector<std::unique_ptr<MaskedEventDecoder>> d;
    FieldMask names;  // the bridge's kind of mask
    names.keep({"metadata", "name"});
    names.keep({"metadata", "labels"});
    names.keep_prefix({"metadata", "annotations"}, "a/");
    names.keep({"spec", "pipeline", "kind"});
    names.keep({"status", "conditions", "type"});
    names.keep({"a"});
    names.keep({"b", "c"});
    d.push_back(std::make_unique<MaskedEventDecoder>(names.merge(FieldMask::informer_minimum())));
    FieldMask prefixes;
    prefixes.keep_prefix({}, "k");  // top-level keys starting with k, whole
    prefixes.keep({"metadata", "resourceVersion"});
    d.push_back(std::make_unique<MaskedEventDecoder>(prefixes));
    d.push_back(std::make_unique<MaskedEventDecoder>(FieldMask{}));
    d.push_back(std::make_unique<MaskedEventDecoder>(rules_mask()));
    return d;
  }();
  return all;
}

// Boost.JSON 1.81 reads a number beyond a double's range as an infinity (1e400) or a NaN
// (0e400), writes them back as `Infinity` and `NaN` (not JSON), and a NaN is unequal to
// itself: values with one are compared by their text, and have no re-encoding.
bool has_non_finite(const boost::json::value& v) {
  if (v.is_double()) return !std::isfinite(v.get_double());
  if (v.is_array()) return std::any_of(v.get_array().begin(), v.get_array().end(), has_non_finite);
  if (v.is_object()) {
    return std::any_of(v.get_object().begin(), v.get_object().end(), [](const auto& kv) { return has_non_finite(kv.value()); });
  }
  return false;
}

// Equal, but for doubles, which may differ in their last bits: Boost.JSON 1.81's reading
// of numbers is not always correctly rounded, so a double written and read back (the
// re-encoding check) can come back one or two units in the last place away.
bool near(const boost::json::value& a, const boost::json::value& b) {
  if (a.is_double() && b.is_double()) {
    const double x = a.get_double(), y = b.get_double();
    return x == y || std::fabs(x - y) <= 1e-15 * std::max(std::fabs(x), std::fabs(y));
  }
  if (a.kind() != b.kind()) return false;
  if (a.is_array()) {
    const auto &x = a.get_array(), &y = b.get_array();
    return x.size() == y.size() && std::equal(x.begin(), x.end(), y.begin(), near);
  }
  if (a.is_object()) {
    const auto &x = a.get_object(), &y = b.get_object();
    if (x.size() != y.size()) return false;
    return std::all_of(x.begin(), x.end(), [&](const auto& kv) {
      const auto* other = y.if_contains(kv.key());
      return other != nullptr && near(kv.value(), *other);
    });
  }
  return a == b;
}

bool same(const boost::json::value& a, const boost::json::value& b) {
  if (a == b) return true;
  return has_non_finite(a) && boost::json::serialize(a) == boost::json::serialize(b);
}

void check_masked(std::string_view line, const WatchEvent* whole) {
  for (auto& d : decoders()) {
    boost::json::monotonic_resource arena;
    try {
      const WatchEvent got = d->decode(line, boost::json::storage_ptr(&arena));
      FUZZ_CHECK(whole != nullptr);
      FUZZ_CHECK(got.type == whole->type);
      if (whole->type == EventType::Error) FUZZ_CHECK(same(got.object, whole->object));
      else FUZZ_CHECK(same(got.object, d->mask().apply(whole->object)));
    } catch (const ApiError& e) {
      FUZZ_CHECK(whole == nullptr);
      FUZZ_CHECK(e.kind() == ErrorKind::Decode);
    }
  }
}

// The fast path alone, on the whole line (events or not): whatever it decodes, Boost.JSON
// takes too and builds equal.
void check_fast(std::string_view line) {
  static FastParse fast;
  static MaskedParser slow;
  for (auto& d : decoders()) {
    for (int again = 0; again < 2; ++again) {
      const std::uint64_t before = fast.counts().decoded + fast.counts().fallbacks();
      boost::json::monotonic_resource arena;
      const boost::json::storage_ptr sp(&arena);
      boost::json::value got(sp);
      const FastOutcome o = fast.parse(line, d->mask(), sp, got);
      FUZZ_CHECK(fast.counts().decoded + fast.counts().fallbacks() == before + 1);
      if (o != FastOutcome::Decoded) continue;
      boost::system::error_code ec;
      const boost::json::value want = slow.parse(line, d->mask(), sp, ec);
      FUZZ_CHECK(!ec);
      FUZZ_CHECK(same(got, want));
    }
  }
}

// metadata[key] of a masked object when it is a string; empty otherwise.
std::string_view md_string(const boost::json::object& o, std::string_view key) {
  const auto* md = o.if_contains("metadata");
  const auto* v = md != nullptr && md->is_object() ? md->get_object().if_contains(key) : nullptr;
  return v != nullptr && v->is_string() ? std::string_view(v->get_string()) : std::string_view();
}

// The packing decoder against the reference, on every line (events or not).
void check_packing_once(std::string_view line) {
  struct Pair {
    KeyTable keys;
    std::unique_ptr<PackingEventDecoder> packing;
    MaskedEventDecoder* reference;
  };
  static std::vector<std::unique_ptr<Pair>> pairs = [] {
    std::vector<std::unique_ptr<Pair>> all;
    for (auto& d : decoders()) {
      auto p = std::make_unique<Pair>();
      try {
        p->packing = std::make_unique<PackingEventDecoder>(d->mask(), p->keys);
      } catch (const std::invalid_argument&) {
        continue;  // a mask without the cache key: not one an informer packs with
      }
      p->reference = d.get();
      all.push_back(std::move(p));
    }
    FUZZ_CHECK(all.size() == 2u);
    return all;
  }();
  for (auto& p : pairs) {
    boost::json::monotonic_resource a1, a2;
    WatchEvent want;
    try {
      want = p->reference->decode(line, boost::json::storage_ptr(&a1));
    } catch (const ApiError&) {
      try {
        p->packing->decode(line, boost::json::storage_ptr(&a2));
        FUZZ_CHECK(false);
      } catch (const ApiError& e) {
        FUZZ_CHECK(e.kind() == ErrorKind::Decode);
      }
      continue;
    }
    const WatchEvent got = p->packing->decode(line, boost::json::storage_ptr(&a2));
    FUZZ_CHECK(got.type == want.type);
    if (!got.packed) {
      FUZZ_CHECK(same(got.object, want.object));
      continue;
    }
    FUZZ_CHECK(got.packed->bytes == pack(want.object, p->keys));
    const std::string_view ns = md_string(want.object, "namespace"), name = md_string(want.object, "name");
    FUZZ_CHECK(!name.empty());
    FUZZ_CHECK(got.packed->key == (ns.empty() ? std::string(name) : std::string(ns) + "/" + std::string(name)));
    FUZZ_CHECK(got.version() == md_string(want.object, "resourceVersion"));
    FUZZ_CHECK(got.type == EventType::Deleted ? md_string(got.object, "name") == name : got.object.empty());
  }
}

// Twice: the second time, the walk finds each key as it remembers it.
void check_packing(std::string_view line) {
  check_packing_once(line);
  check_packing_once(line);
}

void check_decoding(std::string_view line) {
  check_fast(line);
  check_packing(line);
  WatchEvent ev;
  try {
    ev = decode_event(line);
  } catch (const ApiError& e) {
    FUZZ_CHECK(e.kind() == ErrorKind::Decode);
    FUZZ_CHECK(std::string_view(e.what()).find("watch event") == 0);
    check_masked(line, nullptr);
    return;
  }
  check_masked(line, &ev);
  if (has_non_finite(ev.object)) return;  // no re-encoding (see has_non_finite)
  // Re-encode and decode again: the same event.
  boost::json::object again{{"type", to_string(ev.type)}, {"object", ev.object}};
  const std::string text = boost::json::serialize(again);
  const WatchEvent ev2 = decode_event(text);
  FUZZ_CHECK(ev2.type == ev.type);
  FUZZ_CHECK(near(ev2.object, ev.object));
  FUZZ_CHECK(ev2.resource_version() == ev.resource_version());
  if (ev.type == EventType::Error) {
    const ApiError e = decode_status(200, boost::json::serialize(ev.object), "", "watch test");
    FUZZ_CHECK(e.kind() == classify(e.http_status(), e.reason()));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* bytes, std::size_t size) {
  const std::string_view data(reinterpret_cast<const char*>(bytes), size);
  fdb::fuzz::Choices pick(data);
  // Mostly a small cap, so that oversized lines are common; sometimes the default.
  const std::size_t max = pick.between(0, 3) == 0 ? kDefaultMaxLineBytes : pick.between(1, 300);

  const Outcome expected = reference(data, max);
  std::vector<std::size_t> whole{data.size()};
  std::vector<std::size_t> bytewise(data.size(), 1);
  std::vector<std::size_t> random;
  for (std::size_t left = data.size(); left > 0;) {
    const std::size_t n = std::min(left, pick.between(1, 64));
    random.push_back(n);
    left -= n;
  }
  FUZZ_CHECK(split(data, max, whole) == expected);
  FUZZ_CHECK(split(data, max, bytewise) == expected);
  FUZZ_CHECK(split(data, max, random) == expected);

  for (const auto& line : expected.lines) check_decoding(line);
  if (!expected.too_long && !expected.rest.empty()) check_decoding(expected.rest);
  return 0;
}

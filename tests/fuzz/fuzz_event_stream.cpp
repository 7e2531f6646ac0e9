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
//    an empty mask), gives what decode_event gives with the mask applied, or the same
//    Decode error — and goes on decoding correctly after any line.
#include "fuzz_check.hpp"
#include "watch/errors.hpp"
#include "watch/event_stream.hpp"
#include "watch/field_mask.hpp"

#include <boost/json/monotonic_resource.hpp>

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

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
    return d;
  }();
  return all;
}

void check_masked(std::string_view line, const WatchEvent* whole) {
  for (auto& d : decoders()) {
    boost::json::monotonic_resource arena;
    try {
      const WatchEvent got = d->decode(line, boost::json::storage_ptr(&arena));
      FUZZ_CHECK(whole != nullptr);
      FUZZ_CHECK(got.type == whole->type);
      if (whole->type == EventType::Error) FUZZ_CHECK(got.object == whole->object);
      else FUZZ_CHECK(got.object == d->mask().apply(whole->object).as_object());
    } catch (const ApiError& e) {
      FUZZ_CHECK(whole == nullptr);
      FUZZ_CHECK(e.kind() == ErrorKind::Decode);
    }
  }
}

void check_decoding(std::string_view line) {
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
  // Re-encode and decode again: the same event.
  boost::json::object again{{"type", to_string(ev.type)}, {"object", ev.object}};
  const std::string text = boost::json::serialize(again);
  const WatchEvent ev2 = decode_event(text);
  FUZZ_CHECK(ev2.type == ev.type);
  FUZZ_CHECK(ev2.object == ev.object);
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

// FieldMask (what a mask keeps, as a table) and MaskedEventDecoder, checked against the
// reference: decoding a line through a mask gives what the whole-tree decoder gives with
// the mask applied, for hand-picked edge cases and for seeded random objects.
#include "watch/errors.hpp"
#include "watch/field_mask.hpp"
#include "watch/json_input.hpp"
#include "watch/simd_parse.hpp"
#include "sample_mask.hpp"

#include <boost/json/monotonic_resource.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/test/unit_test.hpp>

#include <functional>
#include <optional>
#include <random>
#include <string>
#include <vector>

using namespace fdb::kube;
namespace json = boost::json;

namespace {

using test::sample_mask;

json::value parse(std::string_view s) { return json::parse(s); }

// The reference: the whole-tree decoder, then the mask (an ERROR's Status kept whole).
WatchEvent reference(const FieldMask& mask, std::string_view line) {
  WatchEvent ev = decode_event(line);
  if (ev.type != EventType::Error) ev.object = mask.apply(ev.object).as_object();
  return ev;
}

// Both decoders agree: the same event, or both a Decode error.
void check_agree(MaskedEventDecoder& d, std::string_view line) {
  BOOST_TEST_CONTEXT(line.substr(0, 300)) {
    std::optional<WatchEvent> want;
    try {
      want = reference(d.mask(), line);
    } catch (const ApiError& e) {
      BOOST_TEST(static_cast<int>(e.kind()) == static_cast<int>(ErrorKind::Decode));
    }
    json::monotonic_resource arena;
    if (!want) {
      BOOST_CHECK_THROW(d.decode(line, json::storage_ptr(&arena)), ApiError);
      return;
    }
    const WatchEvent got = d.decode(line, json::storage_ptr(&arena));
    BOOST_TEST(static_cast<int>(got.type) == static_cast<int>(want->type));
    BOOST_TEST(json::serialize(got.object) == json::serialize(want->object));
    BOOST_TEST(got.object == want->object);
  }
}

}  // namespace

BOOST_AUTO_TEST_SUITE(field_mask)

BOOST_AUTO_TEST_CASE(what_a_mask_keeps) {
  struct Row {
    const char* what;
    const char* in;
    const char* out;
  };
  const Row rows[] = {
      {"named keys only, at every level", R"({"metadata":{"name":"a","uid":"u"},"spec":{"x":1},"kind":"W"})",
       R"({"metadata":{"name":"a"},"spec":{}})"},
      {"a kept value is whole", R"({"metadata":{"labels":{"a":"1","b":{"c":[1,2]}}}})",
       R"({"metadata":{"labels":{"a":"1","b":{"c":[1,2]}}}})"},
      {"prefix: only the keys that start with it", R"({"metadata":{"annotations":{"keep.me/a":"1","drop":"2","keep.me/":"3"}}})",
       R"({"metadata":{"annotations":{"keep.me/a":"1","keep.me/":"3"}}})"},
      {"arrays are transparent", R"({"spec":{"steps":[{"kind":"a","prompt":"p"},{"prompt":"q"},7,[{"kind":"b","x":1}]]}})",
       R"({"spec":{"steps":[{"kind":"a"},{},7,[{"kind":"b"}]]}})"},
      {"a scalar where an object was expected stays", R"({"metadata":"odd","status":{"phase":null,"conditions":false}})",
       R"({"metadata":"odd","status":{"phase":null,"conditions":false}})"},
      {"nothing kept: empty objects", R"({"spec":{"a":{"b":1}},"other":[1]})", R"({"spec":{}})"},
  };
  const FieldMask m = sample_mask();
  for (const auto& r : rows) {
    BOOST_TEST_CONTEXT(r.what) { BOOST_TEST(json::serialize(m.apply(parse(r.in))) == json::serialize(parse(r.out))); }
  }
}

BOOST_AUTO_TEST_CASE(building_masks) {
  FieldMask m;
  m.keep({"a"});
  m.keep({"a", "b"});  // under a whole node: nothing changes
  m.keep_prefix({"a"}, "x");
  BOOST_TEST(m.child("a") != nullptr);
  BOOST_TEST(m.child("a")->whole());
  BOOST_TEST(m.child("b") == nullptr);

  FieldMask n;
  n.keep_prefix({"ann"}, "p/");
  n.keep({"ann", "exact"});
  BOOST_TEST(n.child("ann")->child("p/x") != nullptr);
  BOOST_TEST(n.child("ann")->child("exact") != nullptr);
  BOOST_TEST(n.child("ann")->child("other") == nullptr);
  BOOST_CHECK_THROW(n.keep({}), std::invalid_argument);
  BOOST_CHECK_THROW(n.keep_prefix({"ann"}, ""), std::invalid_argument);

  // merge: the union; a whole node absorbs the other's narrower one.
  FieldMask a, b;
  a.keep({"metadata", "name"});
  b.keep({"metadata", "uid"});
  b.keep({"spec"});
  a.merge(b);
  const json::value in = parse(R"({"metadata":{"name":"n","uid":"u","x":1},"spec":{"y":2},"z":3})");
  BOOST_TEST(json::serialize(a.apply(in)) == json::serialize(parse(R"({"metadata":{"name":"n","uid":"u"},"spec":{"y":2}})")));
  FieldMask whole_spec;
  whole_spec.keep({"metadata"});
  whole_spec.merge(a);
  BOOST_TEST(whole_spec.child("metadata")->whole());

  const FieldMask minimum = FieldMask::informer_minimum();
  const json::value bm = parse(R"({"metadata":{"resourceVersion":"9","annotations":{"k8s.io/initial-events-end":"true","x":"y"}}})");
  BOOST_TEST(json::serialize(minimum.apply(bm)) ==
             json::serialize(parse(R"({"metadata":{"resourceVersion":"9","annotations":{"k8s.io/initial-events-end":"true"}}})")));
}

BOOST_AUTO_TEST_CASE(decoder_agrees_with_the_reference_on_edge_cases) {
  MaskedEventDecoder d(sample_mask());
  const std::string long_escaped = [] {
    std::string s;
    for (int i = 0; i < 3000; ++i) s += "ab\\n\\u00e9\\\"";
    return s;
  }();
  const std::string long_key = std::string(5000, 'k') + "\\u0041";
  const std::vector<std::string> lines = {
      R"({"type":"ADDED","object":{"metadata":{"name":"a","uid":"x"},"spec":{"steps":[{"kind":"k","p":[1,{"q":2}]}]}}})",
      // the type after the object, extra envelope keys of every kind
      R"({"object":{"metadata":{"name":"a"}},"extra":{"deep":[[{"a":1}]]},"n":1.5e3,"b":true,"z":null,"type":"MODIFIED"})",
      // escapes in keys that the mask names: "na\u006de" is "name"
      R"({"type":"MODIFIED","object":{"metadata":{"na\u006de":"\u00e9t\u00e9","labels":{"\u2603":"snow"}}}})",
      // long strings and keys with escapes (the parser hands them over in parts), kept and dropped
      R"({"type":"MODIFIED","object":{"metadata":{"name":")" + long_escaped + R"("},"spec":{"intent":")" + long_escaped + R"("}}})",
      R"({"type":"MODIFIED","object":{"metadata":{")" + long_key + R"(":1,"labels":{")" + long_key + R"(":")" + long_escaped + R"("}}}})",
      R"({"type":"MODIFIED","object":{"metadata":{"annotations":{"keep.me/)" + long_key + R"(":"v","drop":"w"}}}})",
      // numbers of every kind where they are kept
      R"({"type":"MODIFIED","object":{"status":{"phase":[-1,18446744073709551615,1e308,0.5,true,false,null]}}})",
      R"({"type":"DELETED","object":{}})",
      R"({"type":"BOOKMARK","object":{"metadata":{"resourceVersion":"12","annotations":{"k8s.io/initial-events-end":"true"}}}})",
      // an ERROR's Status is kept whole
      R"({"type":"ERROR","object":{"kind":"Status","code":410,"reason":"Expired","message":"too old"}})",
      // the last "type" counts; an "object" given twice: the tree decoder's answer (the last)
      R"({"type":"ERROR","type":"ADDED","object":{"metadata":{"name":"t"}}})",
      R"({"type":"ADDED","object":{"metadata":{"name":"first"}},"object":{"metadata":{"name":"second"}}})",
      // not events: each is a Decode error from both
      R"({"type":"ADDED","object":"not an object"})",
      R"({"type":"ADDED","object":[1]})",
      R"({"type":"ADDED"})",
      R"({"type":"NOPE","object":{}})",
      R"({"type":7,"object":{}})",
      R"({"object":{}})",
      R"([{"type":"ADDED","object":{}}])",
      R"("ADDED")",
      R"({"type":"ADDED","object":{"metadata":{"name":"a"}}} trailing)",
      R"({"type":"ADDED","object":{"metadata":{"name":"a"}})",
      R"({"type":"ADDED","object":{"metadata":{"name":"\xff"}}})",
      R"({"type":"ADDED","object":{"spec":{"intent":"\xc3"}}})",
      std::string(R"({"type":"ADDED","object":{"spec":)") + std::string(100, '[') + std::string(100, ']') + "}}",
      // where simdjson and Boost.JSON could disagree (the fast path falls back): integers
      // beyond 64 bits, kept and dropped; keys twice, kept and dropped; nesting at the limit
      // and one past it; invalid UTF-8 and lone surrogates; kept doubles
      R"({"type":"ADDED","object":{"status":{"phase":[18446744073709551616,-9223372036854775809,1e400]}}})",
      R"({"type":"ADDED","object":{"spec":{"n":123456789012345678901234567890},"metadata":{"name":"big"}}})",
      R"({"type":"ADDED","object":{"metadata":{"name":"a","labels":{"x":"1","x":"2"},"name":"b"}}})",
      R"({"type":"ADDED","object":{"metadata":{"name":"a","uid":"1","uid":"2"},"spec":{"k":1,"k":[2]}}})",
      std::string(R"({"type":"ADDED","object":{"spec":)") + std::string(kMaxJsonDepth - 2, '[') + std::string(kMaxJsonDepth - 2, ']') + "}}",
      std::string(R"({"type":"ADDED","object":{"status":)") + std::string(kMaxJsonDepth - 2, '[') + std::string(kMaxJsonDepth - 2, ']') + "}}",
      std::string(R"({"type":"ADDED","object":{"status":)") + std::string(kMaxJsonDepth - 1, '[') + std::string(kMaxJsonDepth - 1, ']') + "}}",
      "{\"type\":\"ADDED\",\"object\":{\"spec\":{\"intent\":\"\xed\xa0\x80\"},\"metadata\":{\"name\":\"a\"}}}",
      "{\"type\":\"ADDED\",\"object\":{\"spec\":{\"intent\":\"\xc0\xaf\xf4\x90\x80\x80\"}}}",
      R"({"type":"ADDED","object":{"spec":{"intent":"\ud800"},"metadata":{"name":"\udc00"}}})",
      R"({"type":"ADDED","object":{"metadata":{"name":"\ud83d\ude00"},"status":{"phase":-0,"conditions":[{"type":-0.0}]}}})",
  };
  for (const auto& line : lines) check_agree(d, line);
}

BOOST_AUTO_TEST_CASE(decoder_agrees_on_random_objects) {
  std::mt19937 rng(20261125);
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); };
  const char* keys[] = {"metadata", "name", "labels", "annotations", "spec", "steps", "kind", "status",
                        "phase", "conditions", "type", "keep.me/a", "keep.me/b", "other", "na\\u006de"};
  std::function<std::string(int)> value = [&](int depth) -> std::string {
    const int k = depth > 5 ? pick(4) : pick(7);
    switch (k) {
      case 0: return "\"s" + std::to_string(pick(100)) + "\\n\"";
      case 1: return std::to_string(pick(2000) - 1000);
      case 2: return pick(2) ? "true" : "null";
      case 3: return "1.25";
      case 4:
      case 5: {
        std::string o = "{";
        const int n = pick(5);
        for (int i = 0; i < n; ++i) o += (i ? "," : "") + std::string("\"") + keys[pick(15)] + "\":" + value(depth + 1);
        return o + "}";
      }
      default: {
        std::string a = "[";
        const int n = pick(4);
        for (int i = 0; i < n; ++i) a += (i ? "," : "") + value(depth + 1);
        return a + "]";
      }
    }
  };
  MaskedEventDecoder d(sample_mask());
  MaskedEventDecoder whole([] {
    FieldMask m;
    m.keep({"metadata"});
    m.keep({"spec"});
    m.keep({"status"});
    return m;
  }());
  for (int i = 0; i < 3000; ++i) {
    std::string obj = "{";
    const int n = 1 + pick(4);
    for (int j = 0; j < n; ++j) obj += (j ? "," : "") + std::string("\"") + keys[pick(15)] + "\":" + value(1);
    obj += "}";
    const std::string line = std::string(R"({"type":")") + (pick(2) ? "ADDED" : "MODIFIED") + R"(","object":)" + obj + "}";
    check_agree(d, line);
    check_agree(whole, line);
  }
  // Both paths were taken: most lines on simdjson's, the kept doubles and keys named twice
  // through Boost.JSON's.
  BOOST_TEST(d.fast_counts().decoded > 1000u);
  BOOST_TEST(d.fast_counts().kept_double > 0u);
  BOOST_TEST(whole.fast_counts().duplicate_key > 0u);
  BOOST_TEST(d.fast_counts().refused == 0u);
}

BOOST_AUTO_TEST_CASE(decoder_reuses_itself_across_lines_and_failures) {
  // A failure half-way through a line leaves nothing behind for the next one.
  MaskedEventDecoder d(sample_mask());
  json::monotonic_resource arena;
  BOOST_CHECK_THROW(d.decode(R"({"type":"ADDED","object":{"metadata":{"name":"a","labels":{"x":[1,2)", json::storage_ptr(&arena)),
                    ApiError);
  const WatchEvent ev = d.decode(R"({"type":"ADDED","object":{"metadata":{"name":"b"}}})", json::storage_ptr(&arena));
  BOOST_TEST(json::serialize(ev.object) == R"({"metadata":{"name":"b"}})");
  BOOST_TEST(ev.resource_version().empty());
}

BOOST_AUTO_TEST_SUITE_END()

// ---- Rules: each as a table, through each decoder (apply, MaskedParser, FastParse).

namespace {

FieldMask rules_mask() {
  FieldMask m;
  m.constant("kind", "K");
  m.constant("v", "1");
  m.require_object({"o"});
  m.keep({"o", "x"});
  m.array_of_objects({"arr"});
  m.keep({"arr", "x"});
  m.where({"steps"}, "kind", "fix");
  m.keep({"steps", "agent"});
  m.keep({"whole"});
  m.require_object({"whole", "inner"});  // rules below a node kept whole
  m.array_of_objects({"whole", "list"});
  return m;
}

// What each decoder keeps of `in`, serialized (keys in order): apply's, MaskedParser's,
// FastParse's (or "fell back" when it left the text to MaskedParser).
std::vector<std::string> through_each(const FieldMask& m, std::string_view in) {
  json::monotonic_resource arena;
  const json::storage_ptr sp(&arena);
  boost::system::error_code ec;
  MaskedParser slow;
  const json::value by_parser = slow.parse(in, m, sp, ec);
  BOOST_REQUIRE(!ec);
  FastParse fast;
  json::value by_fast(sp);
  const bool decoded = fast.parse(in, m, sp, by_fast) == FastOutcome::Decoded;
  return {json::serialize(m.apply(json::parse(in))), json::serialize(by_parser), decoded ? json::serialize(by_fast) : "fell back"};
}

struct RuleRow {
  const char* what;
  const char* in;
  const char* out;
  bool fast_falls_back = false;
};

void check_rows(const FieldMask& m, const std::vector<RuleRow>& rows) {
  for (const auto& r : rows) {
    BOOST_TEST_CONTEXT(r.what) {
      const std::string want = json::serialize(json::parse(r.out));
      const auto got = through_each(m, r.in);
      BOOST_TEST(got[0] == want);
      BOOST_TEST(got[1] == want);
      BOOST_TEST(got[2] == (r.fast_falls_back ? std::string("fell back") : want));
    }
  }
}

}  // namespace

BOOST_AUTO_TEST_SUITE(mask_rules)

BOOST_AUTO_TEST_CASE(constants) {
  check_rows(rules_mask(), {
      {"appended after the other keys, in constant() order, when missing", R"({"o":{"x":1}})",
       R"({"o":{"x":1},"kind":"K","v":"1"})"},
      {"replaced in place, whatever the value was", R"({"v":{"deep":[1,{"a":2}]},"a":1,"kind":7})", R"({"v":"1","kind":"K"})"},
      {"a key given as an escape is the key", R"({"ki\u006ed":"x"})", R"({"kind":"K","v":"1"})"},
      {"only on the node's own object, not below", R"({"o":{"kind":"z","x":"y"}})", R"({"o":{"x":"y"},"kind":"K","v":"1"})"},
      {"named twice: Boost.JSON keeps one; the fast path falls back", R"({"kind":1,"v":2,"kind":3})",
       R"({"kind":"K","v":"1"})", true},
  });
}

BOOST_AUTO_TEST_CASE(require_object) {
  check_rows(rules_mask(), {
      {"an object is kept, through its own mask", R"({"o":{"x":1,"y":2}})", R"({"o":{"x":1},"kind":"K","v":"1"})"},
      {"an array is dropped", R"({"o":[{"x":1}]})", R"({"kind":"K","v":"1"})"},
      {"a string, a number, null are dropped", R"({"o":"s","arr":[],"whole":{"inner":7}})",
       R"({"arr":[],"whole":{},"kind":"K","v":"1"})"},
      {"below a whole node: the rest kept whole", R"({"whole":{"inner":{"z":[1,2]},"other":[1,"x"]}})",
       R"({"whole":{"inner":{"z":[1,2]},"other":[1,"x"]},"kind":"K","v":"1"})"},
      {"null dropped too", R"({"o":null,"whole":{"inner":null}})", R"({"whole":{},"kind":"K","v":"1"})"},
  });
}

BOOST_AUTO_TEST_CASE(array_of_objects) {
  check_rows(rules_mask(), {
      {"only the object elements, each through the mask", R"({"arr":[{"x":1,"y":2},1,"s",[{"x":2}],null,{},true]})",
       R"({"arr":[{"x":1},{}],"kind":"K","v":"1"})"},
      {"an object or a scalar in its place is dropped", R"({"arr":{"x":1}})", R"({"kind":"K","v":"1"})"},
      {"a string in its place is dropped", R"({"arr":"[]"})", R"({"kind":"K","v":"1"})"},
      {"below a whole node, elements kept whole", R"({"whole":{"list":[{"a":[1]},2,[3]]}})",
       R"({"whole":{"list":[{"a":[1]}]},"kind":"K","v":"1"})"},
  });
}

BOOST_AUTO_TEST_CASE(where) {
  check_rows(rules_mask(), {
      {"only the elements whose key is the value, with the key kept",
       R"({"steps":[{"kind":"fix","agent":"a","p":1},{"kind":"review","agent":"b"},{"agent":"c"},{"kind":7},"fix",
                   {"kind":"fix"},{"kind":"fixes"},{"kind":["fix"]},{"kind":"f\u0069x","agent":{"n":1}}]})",
       R"({"steps":[{"kind":"fix","agent":"a"},{"kind":"fix"},{"kind":"fix","agent":{"n":1}}],"kind":"K","v":"1"})"},
      {"none passes: an empty array", R"({"steps":[{"kind":"review"},[{"kind":"fix"}]]})", R"({"steps":[],"kind":"K","v":"1"})"},
      {"not an array: dropped", R"({"steps":{"kind":"fix"}})", R"({"kind":"K","v":"1"})"},
      {"the key named twice: the last counts; the fast path falls back", R"({"steps":[{"kind":"review","kind":"fix"}]})",
       R"({"steps":[{"kind":"fix"}],"kind":"K","v":"1"})", true},
      {"the same, the first passing", R"({"steps":[{"kind":"fix","agent":"a","kind":"no"},{"kind":"fix"}]})",
       R"({"steps":[{"kind":"fix"}],"kind":"K","v":"1"})", true},
  });
}

BOOST_AUTO_TEST_CASE(a_top_value_that_a_rule_drops_is_null) {
  // A node with a shape rule used as a mask of its own (a copy of the node at "o").
  const FieldMask o = *rules_mask().child("o");
  BOOST_TEST(o.object_required());
  check_rows(o, {{"an array", R"([{"x":1}])", "null"}, {"a string", R"("s")", "null"}, {"an object", R"({"x":1,"y":2})", R"({"x":1})"}});
}

BOOST_AUTO_TEST_CASE(list_items_get_their_constants) {
  // nest() puts the rules at the nested node: each item of a list answer gets them.
  check_rows(FieldMask::list_answer(rules_mask()), {
      {"items", R"({"metadata":{"resourceVersion":"3"},"items":[{"o":"s","kind":"x"},7,{"steps":[{"kind":"fix"},{"kind":1}]}]})",
       R"({"metadata":{"resourceVersion":"3"},"items":[{"kind":"K","v":"1"},7,{"steps":[{"kind":"fix"}],"kind":"K","v":"1"}]})"},
  });
}

BOOST_AUTO_TEST_CASE(building_rules) {
  const FieldMask m = rules_mask();
  BOOST_TEST(m.child("o")->object_required());
  BOOST_TEST(!m.child("o")->objects_only());
  BOOST_TEST(m.child("arr")->objects_only());
  BOOST_TEST(m.child("steps")->objects_only());
  BOOST_TEST(m.child("steps")->element_filter()->second == "fix");
  BOOST_TEST(m.child("steps")->child("kind")->whole());  // where keeps its key
  BOOST_TEST(m.child("kind") != nullptr);                 // constant keeps its key
  BOOST_TEST(m.constants().size() == 2u);
  BOOST_TEST(m.filters_below());
  BOOST_TEST(!m.child("o")->filters_below());
  BOOST_TEST(m.child("whole")->whole());
  BOOST_TEST(!m.child("whole")->copies_whole());  // rules inside
  BOOST_TEST(m.child("whole")->child("inner")->copies_whole());  // its own rule is the parent's to check
  BOOST_TEST(m.child("whole")->child("other")->copies_whole());
  BOOST_TEST(!m.child("steps")->child("kind")->object_required());
  BOOST_TEST(m.child("whole")->child("inner")->object_required());
  BOOST_TEST(!m.child("whole")->child("other")->object_required());

  // keep() over a node with rules below keeps them; merge carries them either way round.
  FieldMask k = rules_mask();
  k.keep({"steps"});
  BOOST_TEST(k.child("steps")->whole());
  BOOST_TEST(k.child("steps")->element_filter().has_value());
  FieldMask plain;
  plain.keep({"o"});
  plain.keep({"whole"});
  plain.merge(rules_mask());
  BOOST_TEST(plain.child("o")->whole());
  BOOST_TEST(plain.child("o")->object_required());
  BOOST_TEST(plain.child("whole")->child("list")->objects_only());
  BOOST_TEST(plain.constants().size() == 2u);
  FieldMask with = rules_mask();
  with.merge(FieldMask::informer_minimum());
  BOOST_TEST(json::serialize(with.apply(json::parse(R"({"o":[1],"metadata":{"name":"n","x":1}})"))) ==
             R"({"metadata":{"name":"n"},"kind":"K","v":"1"})");

  // Conflicts and empty paths throw.
  FieldMask c = rules_mask();
  BOOST_CHECK_THROW(c.array_of_objects({"o"}), std::invalid_argument);
  BOOST_CHECK_THROW(c.require_object({"steps"}), std::invalid_argument);
  BOOST_CHECK_THROW(c.where({"steps"}, "kind", "other"), std::invalid_argument);
  BOOST_CHECK_THROW(c.require_object({"steps", "kind"}), std::invalid_argument);  // the filter's key
  BOOST_CHECK_THROW(c.constant("kind", "L"), std::invalid_argument);
  BOOST_CHECK_THROW(c.constant("", "L"), std::invalid_argument);
  BOOST_CHECK_THROW(c.require_object({}), std::invalid_argument);
  FieldMask other;
  other.where({"steps"}, "kind", "review");
  BOOST_CHECK_THROW(FieldMask(rules_mask()).merge(other), std::invalid_argument);
  c.constant("kind", "K");  // the same constant again: no change
  BOOST_TEST(c.constants().size() == 2u);
}

BOOST_AUTO_TEST_CASE(decoder_agrees_on_rules) {
  MaskedEventDecoder d(rules_mask());
  const std::vector<std::string> lines = {
      R"({"type":"ADDED","object":{"o":[1],"arr":[{"x":1},2],"steps":[{"kind":"fix","agent":"a"},{"kind":"no"}],"kind":"z"}})",
      R"({"type":"MODIFIED","object":{"whole":{"inner":"s","list":{"a":1}},"v":[1,2]}})",
      R"({"type":"MODIFIED","object":{"steps":[{"kind":"no","kind":"fix"}],"o":{"x":1.5}}})",
      R"({"type":"DELETED","object":{}})",
      R"({"type":"ERROR","object":{"kind":"Status","code":410}})",
  };
  for (const auto& line : lines) check_agree(d, line);
  BOOST_TEST(d.fast_counts().decoded > 0u);
  BOOST_TEST(d.fast_counts().duplicate_key > 0u);
}

BOOST_AUTO_TEST_SUITE_END()

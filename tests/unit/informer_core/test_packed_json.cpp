#include "watch/packed_json.hpp"
#include "watch/packed_reads.hpp"
#include "watch/field_mask.hpp"
#include "watch/short_compare.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/test/unit_test.hpp>

#include <optional>
#include <string>
#include <vector>

using namespace fdb::kube;
namespace json = boost::json;

BOOST_AUTO_TEST_SUITE(packed_json)

BOOST_AUTO_TEST_CASE(round_trips_every_kind_and_keeps_key_order) {
  KeyTable keys;
  for (const char* text : {R"({})", R"({"z":1,"a":2,"m":3})", R"({"i":-9223372036854775808,"j":9223372036854775807})",
                           R"({"u":18446744073709551615,"d":-1.25e-300,"s":"","n":null,"b":[true,false]})",
                           R"({"deep":{"a":[[[{"b":{"c":"é\u0000x"}}]]]}})"}) {
    const json::object o = json::parse(text).as_object();
    const std::string packed = pack(o, keys);
    const json::object back = unpack(packed, keys);
    BOOST_TEST(json::serialize(back) == json::serialize(o));  // same values, same order
  }
}

BOOST_AUTO_TEST_CASE(keys_are_interned_once) {
  KeyTable keys;
  const json::object a = json::parse(R"({"metadata":{"name":"a","labels":{"lane":"local"}}})").as_object();
  const json::object b = json::parse(R"({"metadata":{"name":"b","labels":{"lane":"cloud"}}})").as_object();
  pack(a, keys);
  pack(b, keys);
  BOOST_TEST(keys.size() == 4u);  // metadata, name, labels, lane
  BOOST_TEST(keys.at(keys.intern("lane")) == "lane");
  BOOST_CHECK_THROW(keys.at(99), std::out_of_range);
}

BOOST_AUTO_TEST_CASE(key_table_grows_and_keeps_ids) {
  // Past many doublings of the open-addressed table: every id stays what it was, and keys
  // that differ only late (the hash reads 8 bytes at a time) are told apart.
  KeyTable keys;
  std::vector<std::uint32_t> ids;
  for (int i = 0; i < 20000; ++i) ids.push_back(keys.intern("foreman.llmkube.dev/annotation-" + std::to_string(i)));
  BOOST_TEST(keys.size() == 20000u);
  for (int i = 0; i < 20000; ++i) {
    BOOST_TEST(ids[i] == static_cast<std::uint32_t>(i));
    BOOST_TEST(keys.intern("foreman.llmkube.dev/annotation-" + std::to_string(i)) == ids[i]);
  }
  BOOST_TEST(keys.intern("") == 20000u);
  BOOST_TEST(keys.at(20000).empty());
}

BOOST_AUTO_TEST_CASE(positions_remember_the_last_key_only_as_a_shortcut) {
  // intern_at answers the same as intern whatever the key at a position was before.
  KeyTable keys;
  const std::uint32_t a = keys.intern_at(0, "a");
  BOOST_TEST(keys.intern_at(0, "a") == a);
  const std::uint32_t b = keys.intern_at(0, "b");  // a new shape at position 0
  BOOST_TEST(b != a);
  BOOST_TEST(keys.intern_at(0, "a") == a);
  BOOST_TEST(keys.intern_at(5000, "a") == a);  // past the remembered positions
  BOOST_TEST(keys.intern_at(7, "b") == b);
  BOOST_TEST(keys.intern("b") == b);
  // Packing objects of different shapes into one table gives what each packs to alone.
  const json::object x = json::parse(R"({"metadata":{"name":"a"},"spec":{"k":1}})").as_object();
  const json::object y = json::parse(R"({"spec":{"k":1},"metadata":{"labels":{"name":"z"}}})").as_object();
  for (int i = 0; i < 3; ++i) {
    BOOST_TEST(json::serialize(unpack(pack(x, keys), keys)) == json::serialize(x));
    BOOST_TEST(json::serialize(unpack(pack(y, keys), keys)) == json::serialize(y));
  }
}

BOOST_AUTO_TEST_CASE(rejects_bytes_it_did_not_write) {
  KeyTable keys;
  const std::string good = pack(json::parse(R"({"k":"value","n":[1,2,3]})").as_object(), keys);
  for (std::size_t cut = 0; cut < good.size(); ++cut) {
    BOOST_CHECK_THROW(unpack(std::string_view(good).substr(0, cut), keys), std::invalid_argument);
  }
  BOOST_CHECK_THROW(unpack(good + "x", keys), std::invalid_argument);       // trailing bytes
  BOOST_CHECK_THROW(unpack(std::string("\x07\x00", 2), keys), std::invalid_argument);  // an array, not an object
  BOOST_CHECK_THROW(unpack(std::string("\x08\x01\x05\x00", 4), keys), std::invalid_argument);  // unknown key id
  BOOST_CHECK_THROW(unpack(std::string("\x08\x01\x00\x2a", 4), keys), std::invalid_argument);  // unknown tag
}

BOOST_AUTO_TEST_CASE(same_key_agrees_with_string_equality_at_every_size_and_position) {
  // Every size from 0 to 40 (the word paths at 4–7, 8–16, memcmp past 16), a difference at
  // each position, and keys of different sizes sharing a prefix.
  for (std::size_t n = 0; n <= 40; ++n) {
    std::string a(n, 'k');
    for (std::size_t i = 0; i < n; ++i) a[i] = static_cast<char>('a' + (i * 7) % 26);
    BOOST_TEST(same_key(a, std::string(a)));
    for (std::size_t i = 0; i < n; ++i) {
      std::string b = a;
      b[i] = static_cast<char>(b[i] ^ 0x20);
      BOOST_TEST(!same_key(a, b), "size " << n << ", difference at " << i);
    }
    BOOST_TEST(!same_key(a, a + "x"));
    if (n > 0) BOOST_TEST(!same_key(a, a.substr(0, n - 1)));
  }
}

BOOST_AUTO_TEST_CASE(intern_at_tells_an_empty_key_from_a_position_never_seen) {
  KeyTable keys;
  const std::uint32_t a = keys.intern("a");
  const std::uint32_t empty = keys.intern_at(0, "");
  BOOST_TEST(empty != a);
  BOOST_TEST(keys.at(empty) == "");
  BOOST_TEST(keys.intern_at(1, "") == empty);
  BOOST_TEST(keys.intern_at(1, "a") == a);
}

namespace {

// What the index tests below read: a label, a whole annotation map's one key, a step
// field through an array, a whole subtree.
FieldMask reads_of_a_test_index() {
  FieldMask m;
  m.keep({"metadata", "labels", "lane"});
  m.keep({"metadata", "deletionTimestamp"});
  m.keep({"spec", "pipeline", "agentRef", "name"});
  m.keep({"status", "phase"});
  m.keep({"spec", "issues"});
  m.keep_prefix({"metadata", "annotations"}, "foreman.llmkube.dev/");
  return m;
}

const char* const kBase = R"({"metadata":{"name":"a","labels":{"lane":"local","x":"1"},"annotations":{"foreman.llmkube.dev/issue-id":"I_1","other":"o"}},
  "spec":{"issues":[3,4],"pipeline":[{"kind":"issue-fix","agentRef":{"name":"coder","ns":"x"}},"odd",{"kind":"review"}]},
  "status":{"phase":"Running","message":"m"}})";

}  // namespace

BOOST_AUTO_TEST_CASE(unpack_masked_is_apply_of_unpack) {
  KeyTable keys;
  const FieldMask m = reads_of_a_test_index();
  FieldMask tops;  // each top-level key whole
  tops.keep({"metadata"});
  tops.keep({"spec"});
  tops.keep({"status"});
  for (const char* text : {kBase, R"({})", R"({"metadata":"not an object","spec":{"pipeline":{"agentRef":{"name":1}}}})",
                           R"({"spec":{"pipeline":[[{"agentRef":{"name":"nested","x":2}}],3,null]}})",
                           R"({"metadata":{"deletionTimestamp":{"deep":[1,{"x":2}]}}})"}) {
    const json::object o = json::parse(text).as_object();
    const std::string packed = pack(o, keys);
    for (const FieldMask* mask : {&m, static_cast<const FieldMask*>(&tops)}) {
      BOOST_TEST_CONTEXT(text) {
        BOOST_TEST(json::serialize(unpack_masked(packed, keys, *mask)) == json::serialize(mask->apply(o)));
      }
    }
  }
  BOOST_CHECK_THROW(unpack_masked(pack(json::parse(kBase).as_object(), keys).substr(0, 40), keys, m), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(same_under_tells_what_the_mask_keeps_apart) {
  // Each row changes kBase at one place: the answer is whether the mask keeps that place.
  struct Row {
    const char* what;
    std::string changed;
    bool same;
  };
  const std::string base = kBase;
  auto with = [&](std::string_view from, std::string_view to) {
    std::string s = base;
    const auto at = s.find(from);
    BOOST_REQUIRE(at != std::string::npos);
    return s.replace(at, from.size(), to);
  };
  const std::vector<Row> rows = {
      {"nothing", base, true},
      {"a dropped label", with(R"("x":"1")", R"("x":"2")"), true},
      {"a dropped annotation", with(R"("other":"o")", R"("other":"p")"), true},
      {"the status message", with(R"("message":"m")", R"("message":"n")"), true},
      {"a dropped step field", with(R"("ns":"x")", R"("ns":"y")"), true},
      {"a dropped key added", with(R"("message":"m")", R"("message":"m","extra":[1,2])"), true},
      {"a dropped key removed", with(R"(,"message":"m")", ""), true},
      {"the kept label", with(R"("lane":"local")", R"("lane":"cloud")"), false},
      {"the kept label removed", with(R"("lane":"local",)", ""), false},
      {"a kept annotation", with(R"("I_1")", R"("I_2")"), false},
      {"a kept annotation added", with(R"("other":"o")", R"("other":"o","foreman.llmkube.dev/x":"1")"), false},
      {"the phase", with(R"("Running")", R"("Succeeded")"), false},
      {"the phase's kind", with(R"("Running")", "7"), false},
      {"a whole array", with("[3,4]", "[3,5]"), false},
      {"a whole array grows", with("[3,4]", "[3,4,5]"), false},
      {"a step's agent", with(R"("coder")", R"("coder2")"), false},
      {"a step added", with(R"({"kind":"review"})", R"({"kind":"review"},{})"), false},
      {"an odd step", with(R"("odd")", R"("odder")"), false},
      {"deletion set", with(R"("metadata":{)", R"("metadata":{"deletionTimestamp":"2026-01-01T00:00:00Z",)"), false},
      {"a kept array now an object", with("[3,4]", R"({"n":[3,4]})"), false},
      {"kept keys in another order", with(R"("lane":"local","x":"1")", R"("x":"1","lane":"local")"), true},
  };
  KeyTable keys;
  const FieldMask m = reads_of_a_test_index();
  const std::string a = pack(json::parse(base).as_object(), keys);
  for (const auto& r : rows) {
    BOOST_TEST_CONTEXT(r.what) {
      json::error_code ec;
      const json::value v = json::parse(r.changed, ec);
      BOOST_REQUIRE(!ec);
      const std::string b = pack(v.as_object(), keys);
      BOOST_TEST(same_under(a, b, keys, m) == r.same);
      BOOST_TEST(same_under(b, a, keys, m) == r.same);
      // Never "same" where what the mask keeps differs.
      if (r.same) BOOST_TEST(json::serialize(m.apply(json::parse(base))) == json::serialize(m.apply(v)));
    }
  }
}

BOOST_AUTO_TEST_CASE(same_under_stops_only_where_the_rest_is_read_alike) {
  // The walk stops where both have the same bytes left and every open object as many
  // members left: a change early in the bytes (a version) with the rest shared is "same";
  // shared trailing bytes read as members of different objects are not.
  struct Row {
    const char* what;
    const char* a;
    const char* b;
    bool same;
  };
  FieldMask m;
  m.keep({"m", "k"});
  m.keep({"m", "z"});
  m.keep({"s"});
  const Row rows[] = {
      {"a dropped version early, the rest shared", R"({"v":"41","m":{"k":1,"z":2},"s":[1,{"t":2}]})",
       R"({"v":"42","m":{"k":1,"z":2},"s":[1,{"t":2}]})", true},
      {"a dropped version of another length", R"({"v":"9","m":{"k":1,"z":2},"s":[1]})", R"({"v":"10","m":{"k":1,"z":2},"s":[1]})",
       true},
      {"a kept key moved out of its object, the bytes after it shared", R"({"m":{"k":1,"z":2}})", R"({"m":{"k":1},"z":2})", false},
      {"the same, a dropped key moved in", R"({"m":{"k":1},"z":2})", R"({"m":{"k":1,"z":2}})", false},
      {"a kept value changed after a shared run", R"({"v":"1","m":{"k":1,"z":2},"s":[1]})", R"({"v":"2","m":{"k":1,"z":2},"s":[2]})",
       false},
      {"identical", R"({"m":{"k":1}})", R"({"m":{"k":1}})", true},
  };
  KeyTable keys;
  for (const auto& r : rows) {
    BOOST_TEST_CONTEXT(r.what) {
      const std::string a = pack(json::parse(r.a).as_object(), keys), b = pack(json::parse(r.b).as_object(), keys);
      BOOST_TEST(same_under(a, b, keys, m) == r.same);
      BOOST_TEST(same_under(b, a, keys, m) == r.same);
      BOOST_TEST((json::serialize(m.apply(json::parse(r.a))) == json::serialize(m.apply(json::parse(r.b)))) == r.same);
    }
  }
}

BOOST_AUTO_TEST_CASE(same_under_rejects_bytes_it_cannot_read) {
  KeyTable keys;
  const FieldMask m = reads_of_a_test_index();
  const std::string a = pack(json::parse(kBase).as_object(), keys);
  BOOST_CHECK_THROW(same_under(a, "", keys, m), std::invalid_argument);
  BOOST_CHECK_THROW(same_under(a, a.substr(0, a.size() - 3), keys, m), std::invalid_argument);
  KeyTable other;  // ids `keys` never handed out
  for (int i = 0; i < 100; ++i) other.intern("k" + std::to_string(i));
  const std::string foreign = pack(json::parse(R"({"metadata":{"name":"a"}})").as_object(), other);
  BOOST_CHECK_THROW(same_under(a, foreign, keys, m), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(packed_reads_keep_answering_as_new_keys_arrive) {
  // One PackedReads over a table that keeps growing (keys it looked up by name before are
  // answered by id after): each answer as the one-off forms', which start afresh.
  KeyTable keys;
  const FieldMask m = reads_of_a_test_index();
  const PackedReads reads(m, keys);
  std::string previous = pack(json::parse(kBase).as_object(), keys);
  for (int i = 0; i < 50; ++i) {
    const std::string n = std::to_string(i);
    const json::object o = json::parse(R"({"metadata":{"k)" + n + R"(":1,"labels":{"lane":"l)" + std::to_string(i / 10) +
                                       R"(","x)" + n + R"(":"y"},"annotations":{"foreman.llmkube.dev/a)" + n + R"(":"v"}},"status":{"phase":"P"}})")
                               .as_object();
    const std::string packed = pack(o, keys);
    BOOST_TEST(json::serialize(reads.unpack(packed)) == json::serialize(m.apply(o)));
    BOOST_TEST(json::serialize(reads.unpack(packed)) == json::serialize(unpack_masked(packed, keys, m)));
    BOOST_TEST(reads.same(previous, packed) == same_under(previous, packed, keys, m));
    BOOST_TEST(reads.same(packed, packed));
    previous = packed;
  }
}

BOOST_AUTO_TEST_CASE(string_payload_finds_the_characters_of_the_string_at_a_path) {
  // Each row: an object, and the characters of metadata.resourceVersion in its packed bytes
  // (nullopt: no string there).
  struct Row {
    const char* what;
    const char* object;
    std::optional<std::string> found;
  };
  const Row rows[] = {
      {"first in metadata", R"({"metadata":{"resourceVersion":"41","name":"a"}})", "41"},
      {"after objects and arrays to pass over",
       R"({"kind":"W","spec":{"resourceVersion":"no"},)"
       R"("metadata":{"labels":{"a":"b"},"f":[1,{"resourceVersion":"no"}],"resourceVersion":"9876"}})",
       "9876"},
      {"empty", R"({"metadata":{"resourceVersion":""}})", ""},
      {"a number", R"({"metadata":{"resourceVersion":41}})", std::nullopt},
      {"an object", R"({"metadata":{"resourceVersion":{"v":"41"}}})", std::nullopt},
      {"absent", R"({"metadata":{"name":"a"}})", std::nullopt},
      {"metadata absent", R"({"resourceVersion":"41"})", std::nullopt},
      {"metadata a string", R"({"metadata":"resourceVersion"})", std::nullopt},
      {"metadata an array", R"({"metadata":[{"resourceVersion":"41"}]})", std::nullopt},
      {"escaped characters", R"({"metadata":{"resourceVersion":"a\"b\u00e9"}})", "a\"b\xc3\xa9"},
  };
  KeyTable keys;
  FieldMask path;
  path.keep({"metadata", "resourceVersion"});
  const PackedReads reads(path, keys);
  for (const auto& r : rows) {
    BOOST_TEST_CONTEXT(r.what) {
      const std::string bytes = pack(json::parse(r.object).as_object(), keys);
      const std::optional<ByteSpan> s = string_payload(bytes, reads);
      BOOST_REQUIRE(s.has_value() == r.found.has_value());
      if (s) {
        BOOST_TEST(s->at + s->size <= bytes.size());
        BOOST_TEST(bytes.substr(s->at, s->size) == *r.found);
      }
    }
  }
  const std::string bytes = pack(json::parse(rows[1].object).as_object(), keys);
  BOOST_CHECK_THROW(string_payload(bytes.substr(0, bytes.size() - 3), reads), std::invalid_argument);
  BOOST_CHECK_THROW(string_payload("", reads), std::invalid_argument);
  BOOST_CHECK_THROW(string_payload("\x07\x00", reads), std::invalid_argument);  // an array
}

BOOST_AUTO_TEST_CASE(same_but_string_follows_a_string_whose_characters_change) {
  // `a` with its version at the span string_payload gives, against `b`: the characters of
  // b's version when nothing else differs (nullopt: something else does).
  struct Row {
    const char* what;
    std::string b;
    std::optional<std::string> version;
  };
  auto object = [](const std::string& rv, const std::string& before = "\"x\"", const std::string& after = "\"y\"") {
    return R"({"metadata":{"labels":{"l":)" + before + R"(},"resourceVersion":")" + rv + R"(","name":)" + after + "}}";
  };
  const std::string long_rv(200, '7');  // two bytes of length
  const Row rows[] = {
      {"the same", object("41"), "41"},
      {"other characters", object("42"), "42"},
      {"longer", object("410"), "410"},
      {"shorter", object("4"), "4"},
      {"empty", object(""), ""},
      {"long enough for two bytes of length", object(long_rv), long_rv},
      {"a byte before it", object("42", "\"z\""), std::nullopt},
      {"a byte after it", object("42", "\"x\"", "\"z\""), std::nullopt},
      {"longer before it", object("4", "\"xx\""), std::nullopt},
      {"longer after it", object("4", "\"x\"", "\"yy\""), std::nullopt},
      {"a number now", R"({"metadata":{"labels":{"l":"x"},"resourceVersion":41,"name":"y"}})", std::nullopt},
  };
  KeyTable keys;
  FieldMask path;
  path.keep({"metadata", "resourceVersion"});
  const PackedReads reads(path, keys);
  const std::string a = pack(json::parse(object("41")).as_object(), keys);
  const std::optional<ByteSpan> span = string_payload(a, reads);
  BOOST_REQUIRE(span.has_value());
  for (const auto& r : rows) {
    BOOST_TEST_CONTEXT(r.what) {
      const std::string b = pack(json::parse(r.b).as_object(), keys);
      const std::optional<ByteSpan> moved = same_but_string(a, b, *span);
      BOOST_REQUIRE(moved.has_value() == r.version.has_value());
      if (moved) {
        BOOST_TEST(b.substr(moved->at, moved->size) == *r.version);
        BOOST_TEST(moved->at == string_payload(b, reads)->at);
      }
      for (std::size_t cut = 0; cut < b.size(); ++cut) BOOST_TEST(!same_but_string(a, b.substr(0, cut), *span).has_value());
    }
  }
  // Bytes between b's string and the bytes a has after its string: not a with one string
  // replaced, whatever the bytes at the end.
  std::string extra = a.substr(0, span->at - 1) + '\x01' + "4" + "Z" + a.substr(span->at + span->size);
  BOOST_TEST(!same_but_string(a, extra, *span).has_value());
  extra = a.substr(0, span->at - 1) + '\x01' + "4" + a.substr(span->at + span->size);
  BOOST_TEST(same_but_string(a, extra, *span).has_value());  // the same without them
  // A span that is not a string's characters in `a` (its bytes before are not its header).
  for (std::size_t at = 0; at <= a.size(); ++at) {
    if (at != span->at) BOOST_TEST(!same_but_string(a, a, {at, span->size}).has_value(), "at " << at);
  }
  BOOST_TEST(!same_but_string(a, a, {span->at, span->size + 1}).has_value());
  BOOST_TEST(!same_but_string(a, a, {span->at, a.size()}).has_value());
}

BOOST_AUTO_TEST_SUITE_END()

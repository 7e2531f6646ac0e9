// PackingEventDecoder as a table: which watch lines it packs straight from simdjson's DOM,
// and that their bytes are pack(mask.apply(object)) with the same key table; which it leaves
// to MaskedEventDecoder, and that those give MaskedEventDecoder's event; and the counts.
#include "watch/errors.hpp"
#include "watch/field_mask.hpp"
#include "watch/json_input.hpp"
#include "watch/packed_json.hpp"
#include "watch/pack_writer.hpp"
#include "watch/object_cache.hpp"
#include "watch/reflector.hpp"
#include "watch/simd_pack.hpp"
#include "watch/watch_decoder.hpp"

#include <boost/json/monotonic_resource.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/test/unit_test.hpp>

#include <functional>
#include <optional>
#include <string>

using namespace fdb::kube;
namespace json = boost::json;

namespace {

FieldMask mask() {
  FieldMask m = FieldMask::informer_minimum();
  m.keep({"metadata", "labels"});
  m.keep_prefix({"metadata", "annotations"}, "foreman.llmkube.dev/");
  m.keep({"spec", "repo"});
  m.keep({"spec", "issues"});
  m.keep({"spec", "pipeline", "kind"});
  m.keep({"status"});
  return m;
}

std::string line(const char* type, const std::string& object) {
  return std::string(R"({"type":")") + type + R"(","object":)" + object + "}";
}

std::string many_annotations(int n) {
  std::string s = R"({"metadata":{"name":"w","namespace":"llm","annotations":{)";
  for (int i = 0; i < n; ++i) s += (i ? ",\"" : "\"") + std::string("foreman.llmkube.dev/a") + std::to_string(i) + "\":\"v\"";
  return s + "}}}";
}

std::string nested_status(int depth) {
  return R"({"metadata":{"name":"w"},"status":)" + std::string(depth, '[') + "1" + std::string(depth, ']') + "}";
}

const std::string kWorkload =
    R"({"apiVersion":"foreman.llmkube.dev/v1alpha1","kind":"Workload",
        "metadata":{"name":"wl-a-1","namespace":"llm","uid":"u","resourceVersion":"41","generation":3,
          "labels":{"created-by":"dispatch-bridge","lane":""},
          "annotations":{"foreman.llmkube.dev/attempt":"2","kubectl.kubernetes.io/last-applied-configuration":"{\"x\":1}"},
          "managedFields":[{"manager":"m","time":"t","fieldsV1":{"f:spec":{".":{},"f:x":1.5}}}]},
        "spec":{"intent":"Fix \"it\"\n\u00e9\ud83d\ude00 now","repo":"o/r","issues":[4,18446744073709551615,-9223372036854775808],
          "pipeline":[{"kind":"issue-fix","agentRef":{"name":"c"}},{"kind":"review","x":[null,true,false]}]},
        "status":{"phase":"Failed","succeededTasks":0,"conditions":[{"type":"Completed","status":"False","reason":"R"}],"flag":null}})";

// Packed: the bytes pack() gives for the masked object, and the head the reflector reads.
struct PackedRow {
  const char* what;
  const char* type;
  std::string object;
  const char* key;
};

// Left to MaskedEventDecoder, with the count it adds to (or none).
struct FallbackRow {
  const char* what;
  std::string line;
  std::uint64_t FastCounts::*count;  // null: counted nowhere (not for the fast path)
};

}  // namespace

BOOST_AUTO_TEST_SUITE(simd_pack)

BOOST_AUTO_TEST_CASE(packs_what_the_mask_keeps) {
  const PackedRow rows[] = {
      {"a realistic Workload", "MODIFIED", kWorkload, "llm/wl-a-1"},
      {"added, no namespace", "ADDED", R"({"metadata":{"name":"a","resourceVersion":"2"},"spec":{"repo":"x"}})", "a"},
      {"deleted", "DELETED", R"({"metadata":{"name":"a","namespace":"n","resourceVersion":"7"}})", "n/a"},
      {"a double and a repeated key where nothing is kept", "ADDED",
       R"({"metadata":{"name":"a","generation":1.5},"spec":{"intent":"x","intent":"y","f":2e300}})", "a"},
      {"200 kept keys (a count of two varint bytes)", "ADDED", many_annotations(200), "llm/w"},
      {"the whole status, deep", "ADDED", nested_status(60), "w"},
      {"empty objects and arrays", "ADDED", R"({"metadata":{"name":"e","labels":{}},"spec":{"issues":[]},"status":{}})", "e"},
  };
  KeyTable keys;
  PackingEventDecoder dec(mask(), keys);
  std::vector<std::string> hinted;
  dec.set_key_hint([&](std::string_view key) { hinted.emplace_back(key); });
  for (const auto& r : rows) {
    BOOST_TEST_CONTEXT(r.what) {
      json::monotonic_resource arena;
      hinted.clear();
      const WatchEvent ev = dec.decode(line(r.type, r.object), json::storage_ptr(&arena));
      BOOST_REQUIRE(ev.packed.has_value());
      BOOST_TEST(hinted == std::vector<std::string>{r.key}, boost::test_tools::per_element());
      BOOST_TEST(to_string(ev.type) == r.type);
      BOOST_TEST(ev.packed->key == r.key);
      json::parse_options deep;
      deep.max_depth = kMaxJsonDepth;
      const json::value whole = json::parse(r.object, {}, deep);
      const std::string want = pack(mask().apply(whole).as_object(), keys);
      BOOST_TEST(ev.packed->bytes == want);
      // The version the reflector reads; for a DELETED line, the metadata a removal reads
      // (name, namespace, resourceVersion as the masked object has them), else no object.
      const auto& md = whole.at("metadata").as_object();
      const auto* rv = md.if_contains("resourceVersion");
      BOOST_TEST(ev.version() == (rv != nullptr ? std::string_view(rv->as_string()) : std::string_view()));
      json::object head;
      if (ev.type == EventType::Deleted) {
        auto& hmd = head["metadata"].emplace_object();
        for (const char* k : {"name", "namespace", "resourceVersion"}) {
          if (const auto* v = md.if_contains(k)) hmd[k] = *v;
        }
      }
      BOOST_TEST(json::serialize(ev.object) == json::serialize(head));
    }
  }
  BOOST_TEST(dec.fast_counts().decoded == std::size(rows));
  BOOST_TEST(dec.fast_counts().fallbacks() == 0u);
}

BOOST_AUTO_TEST_CASE(leaves_the_rest_to_the_reference) {
  const FallbackRow rows[] = {
      {"a bookmark", R"({"type":"BOOKMARK","object":{"metadata":{"resourceVersion":"9","annotations":{"k8s.io/initial-events-end":"true"}}}})", nullptr},
      {"an error", R"({"type":"ERROR","object":{"kind":"Status","code":410,"message":"gone"}})", nullptr},
      {"no name", line("ADDED", R"({"metadata":{"namespace":"n"}})"), nullptr},
      {"a name that is not a string", line("ADDED", R"({"metadata":{"name":7}})"), nullptr},
      {"a kept double", line("ADDED", R"({"metadata":{"name":"a"},"spec":{"issues":[1.5]}})"), &FastCounts::kept_double},
      {"a kept key named twice", line("ADDED", R"({"metadata":{"name":"a","name":"b"}})"), &FastCounts::duplicate_key},
      {"type named twice", R"({"type":"ADDED","type":"MODIFIED","object":{"metadata":{"name":"a"}}})", &FastCounts::duplicate_key},
      {"object named twice", R"({"type":"ADDED","object":{"metadata":{"name":"a"}},"object":{"metadata":{"name":"b"}}})",
       &FastCounts::duplicate_key},
      {"an integer past 64 bits, dropped", line("ADDED", R"({"metadata":{"name":"a"},"spec":{"x":123456789012345678901234567890}})"),
       &FastCounts::refused},
      {"nested as deep as Boost.JSON takes", line("ADDED", nested_status(62)), &FastCounts::refused},
  };
  KeyTable keys;
  PackingEventDecoder dec(mask(), keys);
  MaskedEventDecoder reference(mask(), false);
  FastCounts before;
  for (const auto& r : rows) {
    BOOST_TEST_CONTEXT(r.what) {
      json::monotonic_resource a1, a2;
      const WatchEvent got = dec.decode(r.line, json::storage_ptr(&a1));
      const WatchEvent want = reference.decode(r.line, json::storage_ptr(&a2));
      BOOST_TEST(!got.packed.has_value());
      BOOST_TEST(to_string(got.type) == to_string(want.type));
      BOOST_TEST(got.object == want.object);
      const FastCounts& now = dec.fast_counts();
      for (auto c : {&FastCounts::decoded, &FastCounts::refused, &FastCounts::kept_double, &FastCounts::duplicate_key}) {
        const std::uint64_t added = now.*c - before.*c;
        BOOST_TEST(added == (c == r.count ? 1u : 0u));
      }
      before = now;
    }
  }
}

BOOST_AUTO_TEST_CASE(rules_are_honoured_as_apply_honours_them) {
  // A mask with every rule (watch/field_mask.hpp), as the bridge's Workload informer has
  // them: the packed bytes are those of apply()'s value; a filter key named twice falls
  // back.
  FieldMask m = mask();
  m.constant("apiVersion", "foreman.llmkube.dev/v1alpha1").constant("kind", "Workload");
  m.require_object({"metadata"}).require_object({"metadata", "annotations"}).require_object({"spec"});
  m.where({"spec", "pipeline"}, "kind", "issue-fix");
  m.array_of_objects({"status", "conditions"});
  m.keep({"status", "conditions", "type"});
  const char* packs[] = {
      R"({"metadata":{"name":"a","annotations":{"foreman.llmkube.dev/x":"1"}},"kind":"Other","spec":{"pipeline":[
          {"kind":"review"},{"kind":"issue-fix","agentRef":{"name":"c"}},7,{"kind":7}]},"status":{"conditions":[1,{"type":"R"}]}})",
      R"({"metadata":{"name":"a","annotations":"no"},"spec":"odd","status":{"conditions":{"type":"R"}}})",
      R"({"apiVersion":{"x":1},"metadata":{"name":"a"},"spec":{"pipeline":{"kind":"issue-fix"}}})",
  };
  KeyTable keys;
  PackingEventDecoder dec(m, keys);
  for (const char* object : packs) {
    BOOST_TEST_CONTEXT(object) {
      json::monotonic_resource arena;
      const WatchEvent ev = dec.decode(line("MODIFIED", object), json::storage_ptr(&arena));
      BOOST_REQUIRE(ev.packed.has_value());
      BOOST_TEST(ev.packed->bytes == pack(m.apply(json::parse(object)).as_object(), keys));
    }
  }
  json::monotonic_resource arena;
  const std::string repeated = line("ADDED", R"({"metadata":{"name":"a"},"spec":{"pipeline":[{"kind":"a","kind":"issue-fix"}]}})");
  const WatchEvent ev = dec.decode(repeated, json::storage_ptr(&arena));
  BOOST_TEST(!ev.packed.has_value());
  BOOST_TEST(dec.fast_counts().duplicate_key == 1u);
  json::monotonic_resource arena2;
  BOOST_TEST(ev.object == MaskedEventDecoder(m, false).decode(repeated, json::storage_ptr(&arena2)).object);
}

BOOST_AUTO_TEST_CASE(the_informer_packs_when_the_mask_is_the_whole_projection) {
  // WatchDecoder's choice, and the store given either form of the same object: the same
  // stored object, and the second one is no change (its bytes are the first's).
  struct Row {
    const char* what;
    bool mask, transform, fast, packed;
  };
  const Row rows[] = {
      {"a mask, no transform: packed", true, false, true, true},
      {"a mask and a transform: masked objects", true, true, true, false},
      {"the reference: masked objects through Boost.JSON", true, false, false, false},
      {"no mask: whole objects", false, false, true, false},
  };
  const std::string text = line("MODIFIED", kWorkload);
  for (const auto& r : rows) {
    BOOST_TEST_CONTEXT(r.what) {
      std::optional<FieldMask> m;
      if (r.mask) m = mask();
      std::function<json::object(json::object)> transform;
      if (r.transform) transform = [](json::object o) { return o; };
      ObjectCache cache(transform, {}, m);
      int changes = 0;
      cache.set_handlers({.on_add = [&](const CachedObject&) { ++changes; }, .on_modified = [&](const CachedObject&) { ++changes; }});
      WatchDecoder dec(cache.fields(), r.transform, cache.keys(), r.fast);
      json::monotonic_resource arena;
      WatchEvent ev = dec.decode(text, json::storage_ptr(&arena));
      BOOST_TEST(ev.packed.has_value() == r.packed);
      cache.apply(reflector::Upsert{std::move(ev.object), 0, ev.packed});
      // The same object again, as a list would give it: no change.
      cache.upsert_masked(r.mask ? m->apply(json::parse(kWorkload)).as_object() : json::parse(kWorkload).as_object());
      BOOST_TEST(changes == 1);
      const auto stored = cache.get("llm/wl-a-1");
      BOOST_REQUIRE(stored.has_value());
      BOOST_TEST(*stored == (r.mask ? m->apply(json::parse(kWorkload)).as_object() : json::parse(kWorkload).as_object()));
      BOOST_TEST(dec.fast_counts().decoded == (r.mask && r.fast ? 1u : 0u));
    }
  }
}

BOOST_AUTO_TEST_CASE(errors_are_the_references) {
  const char* lines[] = {R"({"type":"ADDED","object":{"metadata":{"name":"a"}})", "[1]", R"({"metadata":{"name":"\ud800"}})", R"({"type":"NOPE","object":{}})",
                         R"({"type":"ADDED","object":[]})", R"({"type":"ADDED"})", "\xff"};
  KeyTable keys;
  PackingEventDecoder dec(mask(), keys);
  for (const char* l : lines) {
    BOOST_TEST_CONTEXT(l) {
      json::monotonic_resource arena;
      BOOST_CHECK_THROW(dec.decode(l, json::storage_ptr(&arena)), ApiError);
    }
  }
}

BOOST_AUTO_TEST_CASE(a_mask_without_the_key_is_refused) {
  KeyTable keys;
  FieldMask m;
  m.keep({"spec"});
  BOOST_CHECK_THROW(PackingEventDecoder(m, keys), std::invalid_argument);
  BOOST_CHECK_NO_THROW(PackingEventDecoder(FieldMask::informer_minimum(), keys));
}

BOOST_AUTO_TEST_CASE(writer_counts_take_minimal_varints) {
  // A container of 127, 128 and 300 members: the count is moved in front of them as pack()
  // writes it.
  for (int n : {0, 1, 127, 128, 300, 20000}) {
    BOOST_TEST_CONTEXT(n) {
      json::array a;
      for (int i = 0; i < n; ++i) a.push_back(i);
      json::object o{{"a", a}};
      KeyTable keys;
      std::string got;
      PackWriter w(keys, got);
      const std::size_t at = w.begin_object();
      w.key("a");
      const std::size_t arr = w.begin_array();
      for (int i = 0; i < n; ++i) w.int64(i);
      w.end_array(arr, static_cast<std::uint64_t>(n));
      w.end_object(at, 1);
      BOOST_TEST(got == pack(o, keys));
    }
  }
}

BOOST_AUTO_TEST_CASE(writer_keys_by_id_and_strings_of_every_length) {
  // A key written by its id (key_id(intern(k))) is what key(k) writes; a string's length
  // takes one byte under 128 and a longer varint from there: unpack() reads the object back.
  for (const std::size_t n : {0u, 1u, 127u, 128u, 300u, 20000u}) {
    BOOST_TEST_CONTEXT(n) {
      const std::string s(n, 's');
      const json::object o{{"by-id", s}, {"by-bytes", s}, {"again-by-id", json::object{{"by-id", s}}}};
      KeyTable keys;
      std::string got;
      PackWriter w(keys, got);
      const std::size_t at = w.begin_object();
      const std::uint32_t id = w.intern("by-id");
      w.key_id(id);
      w.string(s);
      w.key("by-bytes");
      w.string(s);
      w.key_id(w.intern("again-by-id"));
      const std::size_t inner = w.begin_object();
      w.key_id(id);
      w.string(s);
      w.end_object(inner, 1);
      w.end_object(at, 3);
      BOOST_TEST(&w.key_table() == &keys);
      BOOST_TEST(unpack(got, keys) == o);  // the reader's view (pack() writes through PackWriter too)
      BOOST_TEST(got == pack(o, keys));
    }
  }
}

namespace {

// kWorkload with `from` (its first occurrence) replaced by `to`.
std::string workload_with(std::string_view from, std::string_view to) {
  std::string s = kWorkload;
  const std::size_t at = s.find(from);
  BOOST_REQUIRE(at != std::string::npos);
  return s.replace(at, from.size(), to);
}

std::string with_annotations(int n, const char* last) {
  std::string s = many_annotations(n);
  return s.insert(s.size() - 3, std::string(",\"") + last + "\":\"w\"");
}

struct SequenceRow {
  const char* what;
  std::string object;
  bool packs;
};

}  // namespace

BOOST_AUTO_TEST_CASE(lines_of_changing_shapes_pack_as_the_reference_does) {
  // One decoder, line after line: the walk remembers by position what it looked up in the
  // last lines (watch/mask_walk.hpp). Whatever it remembers, each line packs to pack() of
  // MaskedEventDecoder's object, or falls back and gives that decoder's event.
  FieldMask m = mask();
  m.constant("kind", "Workload").require_object({"spec"});
  const SequenceRow rows[] = {
      {"a Workload", kWorkload, true},
      {"the same again: every key as remembered", kWorkload, true},
      {"another shape", R"({"metadata":{"name":"b","namespace":"n"},"status":{"phase":"P"}})", true},
      {"the first shape again", kWorkload, true},
      {"a kept key renamed at its position: dropped", workload_with(R"("repo":)", R"("repx":)"), true},
      {"a kept key renamed at its position: kept, another key id", workload_with(R"("lane":)", R"("lanf":)"), true},
      {"the same again", workload_with(R"("lane":)", R"("lanf":)"), true},
      {"a kept key at a position where the last line dropped it", kWorkload, true},
      {"repo in spec", R"({"spec":{"repo":"r"},"metadata":{"name":"a"}})", true},
      {"repo at its position in another node: dropped", R"({"metadata":{"repo":"r","name":"a"}})", true},
      {"kind in status: kept as it is", R"({"status":{"kind":"S"},"metadata":{"name":"a"}})", true},
      {"kind at its position in the top node: the constant", R"({"x":1,"kind":"K","metadata":{"name":"a"}})", true},
      {"spec an object", R"({"metadata":{"name":"a"},"spec":{"repo":"r"}})", true},
      {"spec at its position, not an object: dropped", R"({"metadata":{"name":"a"},"spec":"text"})", true},
      {"namespace after name", R"({"metadata":{"name":"a","namespace":"n"}})", true},
      {"name twice, where the last line had no key twice", R"({"metadata":{"name":"a","name":"b"}})", false},
      {"namespace after name again", R"({"metadata":{"name":"a","namespace":"n"}})", true},
      {"a kept double", workload_with(R"("succeededTasks":0)", R"("succeededTasks":0.5)"), false},
      {"the Workload after the fallback", kWorkload, true},
      {"more keys than the positions remembered", many_annotations(5000), true},
      {"a key twice past the positions remembered", with_annotations(5000, "foreman.llmkube.dev/a4999"), false},
      {"the same with another key last", with_annotations(5000, "foreman.llmkube.dev/b"), true},
      {"a key twice among 20 kept", with_annotations(20, "foreman.llmkube.dev/a7"), false},
  };
  KeyTable keys;
  PackingEventDecoder dec(m, keys);
  MaskedEventDecoder reference(m, false);
  for (int round = 0; round < 2; ++round) {  // the second time round, each line finds the last row's memo
    for (const auto& r : rows) {
      BOOST_TEST_CONTEXT("round " << round << ": " << r.what) {
        json::monotonic_resource a1, a2;
        const std::string l = line("MODIFIED", r.object);
        const WatchEvent got = dec.decode(l, json::storage_ptr(&a1));
        const WatchEvent want = reference.decode(l, json::storage_ptr(&a2));
        BOOST_TEST(got.packed.has_value() == r.packs);
        if (got.packed) BOOST_TEST(got.packed->bytes == pack(want.object, keys));
        else BOOST_TEST(got.object == want.object);
      }
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()

// FastParse (simdjson's DOM, then the mask) as a table: which lines it decodes and which it
// leaves to MaskedParser, and why; and that what it decodes is MaskedParser's value.
// Also FieldMask::stamp, on which the walk's memory of its lookups from line to line rests.
#include "watch/field_mask.hpp"
#include "watch/json_input.hpp"
#include "watch/simd_parse.hpp"
#include "sample_mask.hpp"

#include <boost/json/error.hpp>
#include <boost/json/monotonic_resource.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <functional>
#include <string>
#include <vector>

using namespace fdb::kube;
namespace json = boost::json;

namespace {

FieldMask mask() {
  FieldMask m;
  m.keep({"type"});
  m.keep({"object", "metadata", "name"});
  m.keep({"object", "metadata", "labels"});
  m.keep({"object", "status"});
  return m;
}

// `depth` nested arrays around 1, as the value of object.spec (dropped) or object.status
// (kept): the line nests depth + 2 deep (the envelope, the object, then the arrays).
std::string nested(const char* where, std::size_t depth) {
  return std::string(R"({"type":"ADDED","object":{")") + where + "\":" + std::string(depth, '[') + "1" +
         std::string(depth, ']') + "}}";
}

std::string many_labels(bool duplicate) {
  std::string s = R"({"type":"ADDED","object":{"metadata":{"labels":{)";
  for (int i = 0; i < 20; ++i) s += "\"l" + std::to_string(i) + "\":\"v\",";
  return s + (duplicate ? R"("l3":"w"}}}})" : R"("l99":"w"}}}})");
}

struct Row {
  const char* what;
  std::string line;
  FastOutcome want;
};

FieldMask uid_mask() {
  FieldMask m;
  m.keep({"object", "metadata", "uid"});
  return m;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(simd_parse)

BOOST_AUTO_TEST_CASE(what_the_fast_path_decodes_and_what_it_leaves) {
  using O = FastOutcome;
  const std::size_t limit = kMaxJsonDepth;
  const std::vector<Row> rows = {
      {"a plain event", R"({"type":"ADDED","object":{"metadata":{"name":"a","uid":"u"},"spec":{"x":[1,2.5]}}})", O::Decoded},
      {"escapes, a surrogate pair, -0", R"({"type":"ADDED","object":{"metadata":{"na\u006de":"\ud83d\ude00\n"},"status":{"n":-0}}})", O::Decoded},
      {"integers at 64 bits", R"({"type":"ADDED","object":{"status":[18446744073709551615,-9223372036854775808]}})", O::Decoded},
      {"an integer beyond 64 bits, dropped", R"({"type":"ADDED","object":{"spec":18446744073709551616}})", O::Refused},
      {"an integer beyond 64 bits, kept", R"({"type":"ADDED","object":{"status":-9223372036854775809}})", O::Refused},
      {"a number out of range", R"({"type":"ADDED","object":{"status":1e400}})", O::Refused},
      {"a kept double", R"({"type":"ADDED","object":{"status":{"ratio":0.5}}})", O::KeptDouble},
      {"a kept -0.0", R"({"type":"ADDED","object":{"status":-0.0}})", O::KeptDouble},
      {"a key twice, kept", R"({"type":"ADDED","object":{"metadata":{"name":"a","name":"b"}}})", O::DuplicateKey},
      {"a key twice among 21 kept", many_labels(true), O::DuplicateKey},
      {"21 kept keys, none twice", many_labels(false), O::Decoded},
      {"a key twice, dropped", R"({"type":"ADDED","object":{"spec":{"x":1,"x":2},"metadata":{"uid":1,"uid":2}}})", O::Decoded},
      {"the envelope's object twice", R"({"type":"ADDED","object":{},"object":{}})", O::DuplicateKey},
      {"nested to one under the limit", nested("spec", limit - 3), O::Decoded},
      {"nested to the limit (Boost.JSON takes it)", nested("spec", limit - 2), O::Refused},
      {"nested past the limit", nested("status", limit), O::Refused},
      {"a lone leading surrogate", R"({"type":"ADDED","object":{"spec":"\ud800"}})", O::Refused},
      {"a lone trailing surrogate", R"({"type":"ADDED","object":{"spec":"\udc00"}})", O::Refused},
      {"invalid UTF-8, dropped", "{\"type\":\"ADDED\",\"object\":{\"spec\":\"\xff\"}}", O::Refused},
      {"an overlong encoding", "{\"type\":\"ADDED\",\"object\":{\"spec\":\"\xc0\xaf\"}}", O::Refused},
      {"a surrogate in UTF-8", "{\"type\":\"ADDED\",\"object\":{\"spec\":\"\xed\xa0\x80\"}}", O::Refused},
      {"past U+10FFFF", "{\"type\":\"ADDED\",\"object\":{\"spec\":\"\xf4\x90\x80\x80\"}}", O::Refused},
      {"a control character", "{\"type\":\"ADDED\",\"object\":{\"spec\":\"\x01\"}}", O::Refused},
      {"trailing data", R"({"type":"ADDED","object":{}} x)", O::Refused},
      {"truncated", R"({"type":"ADDED","object":{})", O::Refused},
      {"not an object (the caller decides)", R"([1,"a",null])", O::Decoded},
  };
  const FieldMask m = mask();
  FastParse fast;
  MaskedParser slow;
  std::uint64_t fallbacks = 0;
  for (const auto& r : rows) {
    BOOST_TEST_CONTEXT(r.what) {
      json::monotonic_resource arena;
      const json::storage_ptr sp(&arena);
      json::value got(sp);
      const FastOutcome o = fast.parse(r.line, m, json::storage_ptr(&arena), got);
      BOOST_TEST(static_cast<int>(o) == static_cast<int>(r.want));
      if (o != FastOutcome::Decoded) ++fallbacks;
      boost::system::error_code ec;
      const json::value want = slow.parse(r.line, m, json::storage_ptr(&arena), ec);
      if (o == FastOutcome::Decoded) {
        // What the fast path accepts, Boost.JSON accepts, and both build the same value.
        BOOST_TEST(!ec);
        BOOST_TEST(json::serialize(got) == json::serialize(want));
        BOOST_TEST(got == want);
      }
    }
  }
  // The depth rows' premise: Boost.JSON takes a line nested exactly kMaxJsonDepth deep, and
  // refuses one level more.
  json::monotonic_resource arena;
  boost::system::error_code ec;
  slow.parse(nested("spec", limit - 2), m, json::storage_ptr(&arena), ec);
  BOOST_TEST(!ec);
  slow.parse(nested("spec", limit - 1), m, json::storage_ptr(&arena), ec);
  BOOST_TEST(ec == json::error::too_deep);
  BOOST_TEST(fast.counts().fallbacks() == fallbacks);
  BOOST_TEST(fast.counts().decoded == rows.size() - fallbacks);
  BOOST_TEST(fast.counts().kept_double == 2u);
  BOOST_TEST(fast.counts().duplicate_key == 3u);
}

BOOST_AUTO_TEST_CASE(lines_of_every_size_one_parser) {
  // One parser grows with the lines (its capacity, its padded copy) and keeps its depth.
  FastParse fast;
  const FieldMask m = mask();
  for (const std::size_t n : {10u, 100000u, 50u, 2000000u, 5u}) {
    const std::string line = R"({"type":"ADDED","object":{"metadata":{"name":")" + std::string(n, 'x') + R"("}}})";
    json::monotonic_resource arena;
    const json::storage_ptr sp(&arena);
      json::value got(sp);
    BOOST_TEST(static_cast<int>(fast.parse(line, m, json::storage_ptr(&arena), got)) == static_cast<int>(FastOutcome::Decoded));
    BOOST_TEST(got.at("object").at("metadata").at("name").as_string().size() == n);
    json::value deep(sp);
    BOOST_TEST(static_cast<int>(fast.parse(nested("spec", kMaxJsonDepth), m, json::storage_ptr(&arena), deep)) ==
               static_cast<int>(FastOutcome::Refused));
  }
}

BOOST_AUTO_TEST_CASE(one_parser_remembers_lookups_across_lines_and_masks) {
  // The walk remembers by position what it looked up in the last lines (watch/mask_walk.hpp),
  // in which mask node (by its stamp): lines of changing shapes, through a mask changed or
  // replaced at the same address between lines, give MaskedParser's value every time.
  struct Row {
    const char* what;
    std::function<void(FieldMask&)> change;  // done to the mask before the line
    std::string line;
    FastOutcome want;
  };
  using O = FastOutcome;
  const auto same = [](FieldMask&) {};
  const std::string plain = R"({"type":"ADDED","object":{"metadata":{"name":"a","uid":"u","labels":{"x":"1"}},"status":{"p":1}}})";
  const std::vector<Row> rows = {
      {"a line", same, plain, O::Decoded},
      {"the same again: every key as remembered", same, plain, O::Decoded},
      {"another mask at the same address: uid, not name", [](FieldMask& m) { m = uid_mask(); }, plain, O::Decoded},
      {"the mask changed in place: name too", [](FieldMask& m) { m.keep({"object", "metadata", "name"}); }, plain, O::Decoded},
      {"a rule added in place: status must be an array", [](FieldMask& m) { m.array_of_objects({"object", "status"}); }, plain,
       O::Decoded},
      {"the first mask again", [](FieldMask& m) { m = mask(); }, plain, O::Decoded},
      {"a key renamed at its position", same, R"({"type":"ADDED","object":{"metadata":{"nam":"a","uid":"u"}}})", O::Decoded},
      {"name twice at remembered positions", same, R"({"type":"ADDED","object":{"metadata":{"name":"a","name":"b"}}})",
       O::DuplicateKey},
      {"name at its position in another node", same, R"({"type":"ADDED","object":{"status":{"name":"a","x":1}}})", O::Decoded},
      {"labels at its position in another node", same, R"({"type":"ADDED","object":{"metadata":{"labels":{"x":"1"}}}})", O::Decoded},
  };
  FieldMask m = mask();
  FastParse fast;
  MaskedParser slow;
  for (int round = 0; round < 2; ++round) {
    for (const auto& r : rows) {
      BOOST_TEST_CONTEXT("round " << round << ": " << r.what) {
        r.change(m);
        json::monotonic_resource arena;
        const json::storage_ptr sp(&arena);
        json::value got(sp);
        const FastOutcome o = fast.parse(r.line, m, sp, got);
        BOOST_TEST(static_cast<int>(o) == static_cast<int>(r.want));
        boost::system::error_code ec;
        const json::value want = slow.parse(r.line, m, sp, ec);
        BOOST_TEST(!ec);
        if (o == FastOutcome::Decoded) BOOST_TEST(json::serialize(got) == json::serialize(want));
      }
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(mask_stamp)

// ---- FieldMask::stamp, which the walk's memory of its lookups trusts (watch/mask_walk.hpp).

namespace {

FieldMask stamped_mask() { return test::sample_mask(); }

// The stamp of the node at `path` (child() by child()).
std::uint64_t stamp_at(const FieldMask& m, const std::vector<std::string>& path) {
  const FieldMask* node = &m;
  for (const auto& k : path) {
    node = node->child(k);
    BOOST_REQUIRE(node != nullptr);
  }
  return node->stamp();
}

using Paths = std::vector<std::vector<std::string>>;

}  // namespace

BOOST_AUTO_TEST_CASE(every_change_takes_a_new_stamp_on_the_nodes_it_changes) {
  // A walk trusts what it looked up in a node while the node's stamp is the one it saw
  // (watch/mask_walk.hpp): each change takes a new stamp on every node it changes (here
  // the ones on its path), and leaves the others' alone.
  struct Row {
    const char* what;
    std::function<void(FieldMask&)> change;
    Paths changed, kept;
  };
  FieldMask sub;
  sub.keep({"x"});
  const Row rows[] = {
      {"keep below metadata", [](FieldMask& m) { m.keep({"metadata", "uid"}); }, {{}, {"metadata"}}, {{"spec"}, {"spec", "steps"}}},
      {"keep a node whole", [](FieldMask& m) { m.keep({"status"}); }, {{}, {"status"}}, {{"metadata"}, {"spec"}}},
      {"keep_prefix", [](FieldMask& m) { m.keep_prefix({"metadata", "annotations"}, "x/"); },
       {{}, {"metadata"}, {"metadata", "annotations"}}, {{"spec"}, {"metadata", "labels"}}},
      {"merge", [](FieldMask& m) { m.merge(FieldMask::informer_minimum()); }, {{}, {"metadata"}}, {{"spec"}, {"status"}}},
      {"nest", [&](FieldMask& m) { m.nest({"spec", "steps"}, sub); }, {{}, {"spec"}, {"spec", "steps"}}, {{"metadata"}}},
      {"require_object", [](FieldMask& m) { m.require_object({"spec", "steps"}); }, {{}, {"spec"}, {"spec", "steps"}},
       {{"metadata"}, {"status"}}},
      {"array_of_objects", [](FieldMask& m) { m.array_of_objects({"status", "conditions"}); },
       {{}, {"status"}, {"status", "conditions"}}, {{"metadata"}, {"spec"}}},
      {"where", [](FieldMask& m) { m.where({"spec", "steps"}, "kind", "fix"); }, {{}, {"spec"}, {"spec", "steps"}},
       {{"metadata"}, {"status", "conditions"}}},
      {"constant", [](FieldMask& m) { m.constant("kind", "K"); }, {{}}, {{"spec", "steps"}, {"metadata", "labels"}}},
      {"copy-assigned", [](FieldMask& m) { m = stamped_mask(); }, {{}, {"metadata"}, {"spec", "steps"}}, {}},
      {"move-assigned", [](FieldMask& m) { m = FieldMask::informer_minimum(); }, {{}, {"metadata"}}, {}},
      {"only read", [](FieldMask& m) { m.apply(json::parse(R"({"metadata":{"name":"a"}})")); }, {},
       {{}, {"metadata"}, {"spec", "steps"}}},
  };
  for (const auto& r : rows) {
    BOOST_TEST_CONTEXT(r.what) {
      FieldMask m = stamped_mask();
      std::vector<std::uint64_t> before_changed, before_kept;
      for (const auto& p : r.changed) before_changed.push_back(stamp_at(m, p));
      for (const auto& p : r.kept) before_kept.push_back(stamp_at(m, p));
      r.change(m);
      for (std::size_t i = 0; i < r.changed.size(); ++i) BOOST_TEST(stamp_at(m, r.changed[i]) != before_changed[i]);
      for (std::size_t i = 0; i < r.kept.size(); ++i) BOOST_TEST(stamp_at(m, r.kept[i]) == before_kept[i]);
    }
  }
}

BOOST_AUTO_TEST_CASE(copies_and_moves_take_new_stamps_on_both_sides) {
  // A copy is another node (its own stamp); a move empties its source, which takes a new
  // one too. The nodes of a moved tree that stay where they were keep theirs.
  FieldMask a = stamped_mask();
  const std::uint64_t root = a.stamp(), metadata = a.child("metadata")->stamp();
  const FieldMask copy = a;
  BOOST_TEST(copy.stamp() != root);
  BOOST_TEST(copy.child("metadata")->stamp() != metadata);
  BOOST_TEST(a.stamp() == root);
  const FieldMask moved = std::move(a);
  BOOST_TEST(moved.stamp() != root);
  BOOST_TEST(a.stamp() != root);  // NOLINT(bugprone-use-after-move): the source's stamp is the point
  BOOST_TEST(a.stamp() != moved.stamp());
  BOOST_TEST(moved.child("metadata")->stamp() == metadata);  // the same node, moved with its parent's vector
  // No two nodes share a stamp.
  std::vector<std::uint64_t> all = {copy.stamp(), moved.stamp(), a.stamp(), FieldMask().stamp()};
  for (const auto* m : {&copy, &moved}) {
    for (const char* k : {"metadata", "spec", "status"}) all.push_back(m->child(k)->stamp());
  }
  std::sort(all.begin(), all.end());
  BOOST_TEST((std::adjacent_find(all.begin(), all.end()) == all.end()));
}

BOOST_AUTO_TEST_SUITE_END()

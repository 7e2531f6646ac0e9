#include "watch/packed_json.hpp"
#include "watch/watch_cache_io.hpp"
#include "watch/watch_decoder.hpp"

#include <boost/json/monotonic_resource.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/test/unit_test.hpp>


#include <algorithm>
#include <string>
#include <vector>

using namespace fdb::kube;
namespace json = boost::json;

namespace {
json::object obj(const std::string& name, const std::string& rv, const std::string& extra = "") {
  return json::parse(R"({"metadata":{"namespace":"llm","name":")" + name + R"(","resourceVersion":")" + rv +
                     R"("},"spec":{"big":")" + extra + R"("}})")
      .as_object();
}
}  // namespace

BOOST_AUTO_TEST_SUITE(object_cache)

BOOST_AUTO_TEST_CASE(handlers_and_relist_deletes) {
  ObjectCache c([](json::object o) {
    o.erase("spec");  // the projection
    return o;
  });
  std::vector<std::string> log;
  c.set_handlers({[&](const CachedObject& o) { log.push_back("add " + object_key(o.object())); },
                  [&](const CachedObject& a, const CachedObject& b) {
                    log.push_back("update " + b.key() + " " + resource_version_of(a.object()) + "->" +
                                  resource_version_of(b.object()));
                  },
                  [&](const CachedObject& o) { log.push_back("delete " + o.key()); },
                  {}, {}});
  c.replace({obj("a", "1", "x"), obj("b", "2")});
  c.upsert(obj("a", "3"));
  c.upsert(obj("a", "3"));  // same version: no update
  c.remove(obj("b", "4"));
  c.remove(obj("zz", "5"));  // unknown: nothing
  c.upsert(obj("c", "6"));
  // A relist after a disconnection: c was deleted meanwhile, d is new, a unchanged.
  c.replace({obj("a", "3"), obj("d", "7")});
  const std::vector<std::string> expected = {"add llm/a",          "add llm/b", "update llm/a 1->3", "delete llm/b",
                                             "add llm/c",          "add llm/d", "delete llm/c"};
  BOOST_TEST(log == expected, boost::test_tools::per_element());
  BOOST_TEST(c.size() == 2u);
  BOOST_REQUIRE(c.get("llm/a").has_value());
  BOOST_TEST(c.get("llm/a")->if_contains("spec") == nullptr);  // stored as the projection
  BOOST_TEST(!c.get("llm/c").has_value());
  BOOST_TEST(c.contains("llm/d"));
}

// The reflector's lists are applied as they arrive (Upserts marked with the list's number,
// then ListDone): the cache holds one state of each object at every moment, never a list
// beside it, and the list's end removes what it did not name.
BOOST_AUTO_TEST_CASE(a_list_applied_as_it_arrives) {
  ObjectCache c;
  std::vector<std::string> log;
  c.set_handlers({[&](const CachedObject& o) { log.push_back("add " + object_key(o.object())); },
                  [&](const CachedObject& a, const CachedObject& b) {
                    log.push_back("update " + b.key() + " " + resource_version_of(a.object()) + "->" +
                                  resource_version_of(b.object()));
                  },
                  [&](const CachedObject& o) { log.push_back("delete " + o.key()); },
                  {}, {}});
  c.upsert_masked(obj("a", "1"), 1);
  c.upsert_masked(obj("b", "2"), 1);
  c.finish_list(1);
  c.upsert_masked(obj("c", "3"));  // a watch event
  // List 2 is given up after its first page (it named a, at a new version); list 3 names a
  // (unchanged since list 2) and d: b and c, named by neither, go at list 3's end.
  c.upsert_masked(obj("a", "4"), 2);
  BOOST_TEST(c.size() == 3u);  // nothing removed before a list ends
  c.upsert_masked(obj("a", "4"), 3);
  c.upsert_masked(obj("d", "5"), 3);
  BOOST_TEST(c.size() == 4u);
  c.finish_list(3);
  const std::vector<std::string> expected = {"add llm/a", "add llm/b",    "add llm/c",   "update llm/a 1->4",
                                             "add llm/d", "delete llm/b", "delete llm/c"};
  BOOST_TEST(log == expected, boost::test_tools::per_element());
  BOOST_TEST(c.size() == 2u);
  BOOST_TEST(c.contains("llm/a"));
  BOOST_TEST(c.contains("llm/d"));
  // An empty list removes everything.
  c.finish_list(4);
  BOOST_TEST(c.size() == 0u);
}

json::object labelled(const std::string& name, const std::string& rv, const std::string& lane) {
  json::object o = obj(name, rv);
  if (!lane.empty()) o["metadata"].as_object()["labels"] = json::object{{"lane", lane}};
  return o;
}

BOOST_AUTO_TEST_CASE(indexes_follow_adds_updates_deletes_and_relists) {
  ObjectCache c({}, {{"lane", label_index("lane")}});
  c.replace({labelled("a", "1", "local"), labelled("b", "2", "local"), labelled("c", "3", "cloud"), labelled("n", "4", "")});
  BOOST_TEST(c.index_count("lane", "local") == 2u);
  BOOST_TEST(c.index_keys("lane", "local") == (std::vector<std::string>{"llm/a", "llm/b"}), boost::test_tools::per_element());
  BOOST_TEST(c.index_count("lane", "") == 0u);  // no label: not filed
  c.upsert(labelled("a", "5", "cloud"));         // moves between values
  BOOST_TEST(c.index_keys("lane", "cloud") == (std::vector<std::string>{"llm/a", "llm/c"}), boost::test_tools::per_element());
  c.remove(labelled("b", "6", "local"));         // the last one of a value: the value goes
  const std::map<std::string, std::size_t, std::less<>> counts = {{"cloud", 2}};
  BOOST_TEST((c.index_counts("lane") == counts));
  c.replace({labelled("c", "3", "cloud"), labelled("d", "7", "frontier")});  // a deleted while away
  BOOST_TEST(c.index_keys("lane", "cloud") == (std::vector<std::string>{"llm/c"}), boost::test_tools::per_element());
  BOOST_TEST(c.index_count("lane", "frontier") == 1u);
  BOOST_CHECK_THROW(c.index_count("nope", "x"), std::out_of_range);
}

BOOST_AUTO_TEST_CASE(on_modified_sees_the_new_state_and_two_indexes_stay_right) {
  // Two indexes, one of which files an object under two values; only on_modified set, so
  // no previous version is decoded: the indexes must still move and drop objects right.
  auto two_values = [](const json::object& o) -> std::vector<std::string> {
    const auto* l = o.at("metadata").as_object().if_contains("labels");
    if (l == nullptr) return {};
    return {"x", "y"};
  };
  FieldMask labels;
  labels.keep({"metadata", "labels"});
  ObjectCache c({}, {{"lane", label_index("lane")}, {"xy", {two_values, labels}}});
  std::vector<std::string> log;
  c.set_handlers({.on_modified = [&](const CachedObject& o) { log.push_back("modified " + resource_version_of(o.object())); }});
  c.replace({labelled("a", "1", "local"), labelled("b", "2", "cloud")});
  c.upsert(labelled("a", "3", "cloud"));
  c.upsert(labelled("b", "4", ""));  // unlabelled: out of both indexes
  BOOST_TEST(log == (std::vector<std::string>{"modified 3", "modified 4"}), boost::test_tools::per_element());
  BOOST_TEST(c.index_keys("lane", "cloud") == (std::vector<std::string>{"llm/a"}), boost::test_tools::per_element());
  BOOST_TEST(c.index_count("lane", "local") == 0u);
  BOOST_TEST(c.index_keys("xy", "x") == (std::vector<std::string>{"llm/a"}), boost::test_tools::per_element());
  BOOST_TEST(c.index_keys("xy", "y") == (std::vector<std::string>{"llm/a"}), boost::test_tools::per_element());
  c.remove(labelled("a", "5", "cloud"));
  BOOST_TEST(c.index_counts("lane").empty());
  BOOST_TEST(c.index_counts("xy").empty());
  // With on_update set it is called (with the previous version) and on_modified is not.
  c.set_handlers({.on_update = [&](const CachedObject& a, const CachedObject& b) {
                    log.push_back("update " + resource_version_of(a.object()) + "->" + resource_version_of(b.object()));
                  },
                  .on_modified = [&](const CachedObject&) { log.push_back("not expected"); }});
  c.upsert(labelled("b", "6", "local"));
  BOOST_TEST(log.back() == "update 4->6");
  BOOST_TEST(c.index_keys("lane", "local") == (std::vector<std::string>{"llm/b"}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(stored_packed_and_handed_out_equal) {
  ObjectCache c;
  const auto full = json::parse(R"({"metadata":{"namespace":"llm","name":"x","resourceVersion":"9",
      "labels":{"a":"b"}},"spec":{"n":-42,"u":18446744073709551615,"d":0.5,"t":true,"f":false,"z":null,
      "list":[1,"two",{"three":[]}],"empty":{}}})").as_object();
  std::vector<json::object> seen;
  c.set_handlers({[&](const CachedObject& o) { seen.emplace_back(o.object(), json::storage_ptr()); }, {}, {}, {}, {}});
  c.upsert(full);
  BOOST_REQUIRE(seen.size() == 1u);
  BOOST_TEST((seen[0] == full));
  BOOST_TEST((*c.get("llm/x") == full));
  // Packed, the object takes a fraction of its JSON text: keys live once in the table.
  BOOST_TEST(c.packed_bytes() < json::serialize(full).size());
  c.for_each([&](const std::string& key, const json::object& o) {
    BOOST_TEST(key == "llm/x");
    BOOST_TEST((o == full));
  });
}

BOOST_AUTO_TEST_CASE(readers_and_a_relist_see_key_order) {
  // Stored by hash; for_each, for_each_key and a relist's deletes still go in key order.
  ObjectCache c;
  std::vector<std::string> deleted;
  c.set_handlers({{}, {}, [&](const CachedObject& o) { deleted.push_back(object_key(o.object())); }, {}, {}});
  std::vector<std::string> names;
  for (int i = 0; i < 300; ++i) names.push_back("n" + std::to_string((i * 7919) % 300));
  for (const auto& n : names) c.upsert_masked(obj(n, "1"), 1);
  std::vector<std::string> want;
  for (const auto& n : names) want.push_back("llm/" + n);
  std::sort(want.begin(), want.end());
  std::vector<std::string> keys, visited;
  c.for_each_key([&](const std::string& k) { keys.push_back(k); });
  c.for_each([&](const std::string& k, const json::object& o) {
    BOOST_TEST(object_key(o) == k);
    visited.push_back(k);
  });
  BOOST_TEST(keys == want, boost::test_tools::per_element());
  BOOST_TEST(visited == want, boost::test_tools::per_element());
  // A second list names every third object: the others go, in key order.
  std::vector<std::string> gone;
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (i % 3 == 0) c.upsert_masked(obj(names[i], "1"), 2);
    else gone.push_back("llm/" + names[i]);
  }
  c.finish_list(2);
  std::sort(gone.begin(), gone.end());
  BOOST_TEST(deleted == gone, boost::test_tools::per_element());
  BOOST_TEST(c.size() == names.size() - gone.size());
  for (const auto& k : gone) BOOST_TEST(!c.contains(k));
}

BOOST_AUTO_TEST_CASE(index_functions_run_only_when_what_they_read_changed) {
  // The index reads the lane label only: a new version that changes anything else leaves
  // it uncalled; one that changes the lane calls it on the old and the new state, each
  // decoded through its reads (nothing else in them).
  std::vector<std::string> calls;
  auto lane_of = [&](const json::object& o) -> std::vector<std::string> {
    calls.push_back(json::serialize(o));
    const auto* l = o.at("metadata").as_object().if_contains("labels");
    if (l == nullptr) return {};
    return {std::string(l->as_object().at("lane").as_string())};
  };
  FieldMask reads;
  reads.keep({"metadata", "labels", "lane"});
  ObjectCache c({}, {{"lane", {lane_of, reads}}});
  c.upsert(labelled("a", "1", "local"));
  BOOST_TEST(calls == (std::vector<std::string>{R"({"metadata":{"labels":{"lane":"local"}}})"}), boost::test_tools::per_element());
  calls.clear();
  c.upsert(labelled("a", "2", "local"));  // the version only
  json::object other = labelled("a", "3", "local");
  other["metadata"].as_object()["labels"].as_object()["team"] = "x";  // a label the index does not read
  c.upsert(other);
  BOOST_TEST(calls.empty());
  c.upsert(labelled("a", "4", "cloud"));
  BOOST_TEST(calls == (std::vector<std::string>{R"({"metadata":{"labels":{"lane":"local"}}})",
                                                R"({"metadata":{"labels":{"lane":"cloud"}}})"}),
             boost::test_tools::per_element());
  BOOST_TEST(c.index_keys("lane", "cloud") == (std::vector<std::string>{"llm/a"}), boost::test_tools::per_element());
  calls.clear();
  c.remove(labelled("a", "5", "cloud"));  // unfiled from the stored state
  BOOST_TEST(calls.size() == 1u);
  BOOST_TEST(c.index_counts("lane").empty());
}

BOOST_AUTO_TEST_CASE(upsert_packed_is_the_core_and_handlers_decode_on_demand) {
  ObjectCache c({}, {{"lane", label_index("lane")}});
  std::vector<std::string> log;
  c.set_handlers({.on_add = [&](const CachedObject& o) { log.push_back("add " + o.key() + " " + std::string(o.name())); },
                  .on_update =
                      [&](const CachedObject& a, const CachedObject& b) {
                        log.push_back("update " + resource_version_of(a.object()) + "->" + resource_version_of(b.object()));
                        BOOST_TEST((&b.object() == &b.object()));  // decoded once, kept for the call
                      },
                  .on_delete = [&](const CachedObject& o) { log.push_back("delete " + resource_version_of(o.object())); }});
  c.upsert_packed("llm/a", pack(labelled("a", "1", "local"), c.keys()), 0);
  c.upsert(labelled("a", "2", "local"));                                  // the json path, the same core
  c.upsert_packed("llm/a", pack(labelled("a", "2", "local"), c.keys()), 7);  // unchanged: no update
  c.upsert_packed("b", pack(json::parse(R"({"metadata":{"name":"b"}})").as_object(), c.keys()), 7);
  c.finish_list(7);  // a was named by list 7 too: it stays
  c.remove(labelled("a", "3", "local"));
  const std::vector<std::string> expected = {"add llm/a a", "update 1->2", "add b b", "delete 2"};
  BOOST_TEST(log == expected, boost::test_tools::per_element());
  BOOST_TEST(c.index_counts("lane").empty());
  BOOST_CHECK_THROW(c.upsert_packed("", pack(obj("x", "1"), c.keys()), 0), std::invalid_argument);
  // Bytes the index cannot decode: nothing is stored, an update leaves the old state.
  BOOST_CHECK_THROW(c.upsert_packed("llm/x", "not packed", 0), std::invalid_argument);
  BOOST_TEST(!c.contains("llm/x"));
  BOOST_CHECK_THROW(c.upsert_packed("b", "\x08\x01\x63", 0), std::invalid_argument);  // an object with key id 99
  BOOST_TEST(c.get("b")->at("metadata").at("name") == "b");
}

namespace {
// An object whose resourceVersion lies between what an index reads before it (labels) and
// after it (annotations, status).
std::string versioned(const std::string& labels, const std::string& rv, const std::string& tail) {
  return R"({"metadata":{"name":"a","namespace":"llm","labels":)" + labels + R"(,"resourceVersion":")" + rv + "\"" + tail + "}";
}
// The bridge's kind of index: a label, an annotation, the phase (the version unread).
std::vector<std::string> filed_under(const json::object& o) {
  std::vector<std::string> out;
  auto add = [&](const char* what, const json::value* v) {
    if (v != nullptr && v->is_string()) out.push_back(what + std::string(v->get_string()));
  };
  const json::object* md = o.if_contains("metadata") ? o.at("metadata").if_object() : nullptr;
  const json::value* labels = md ? md->if_contains("labels") : nullptr;
  const json::value* notes = md ? md->if_contains("annotations") : nullptr;
  if (labels && labels->is_object()) add("lane=", labels->get_object().if_contains("lane"));
  if (notes && notes->is_object()) add("issue=", notes->get_object().if_contains("f/issue"));
  const json::value* status = o.if_contains("status");
  if (status && status->is_object()) add("phase=", status->get_object().if_contains("phase"));
  return out;
}
// Index "i" as text: each value and its count.
std::string filed(const ObjectCache& c) {
  std::string out;
  for (const auto& [value, n] : c.index_counts("i")) out += value + ":" + std::to_string(n) + " ";
  return out;
}

// What follows the version: the annotations (one read), then the status.
std::string after_version(const std::string& issue, const std::string& other, const std::string& status) {
  return R"(,"annotations":{"f/issue":")" + issue + R"(","o":")" + other + R"("}},"status":)" + status;
}
const std::string kLane = R"({"lane":"local","team":"x"})";
const std::string kTail = after_version("I_1", "p", R"({"phase":"Running"})");

struct VersionRow {
  const char* what;
  std::string from, to;
  int calls;
};

// Updates that change the version, and with it one thing each.
std::vector<VersionRow> version_rows() {
  const auto& lane = kLane;
  const auto& tail = kTail;
  const auto after = after_version;
  const std::string unversioned = R"({"metadata":{"name":"a","namespace":"llm","labels":)" + lane + tail + "}";
  return {
      {"the version, same length", versioned(lane, "11", tail), versioned(lane, "12", tail), 0},
      {"the version, longer", versioned(lane, "99", tail), versioned(lane, "100", tail), 0},
      {"the version, shorter", versioned(lane, "100", tail), versioned(lane, "99", tail), 0},
      {"and an unread label", versioned(lane, "11", tail), versioned(R"({"lane":"local","team":"y"})", "12", tail), 0},
      {"and an unread annotation", versioned(lane, "11", tail), versioned(lane, "12", after("I_1", "q", R"({"phase":"Running"})")), 0},
      {"and the read label", versioned(lane, "11", tail), versioned(R"({"lane":"cloud","team":"x"})", "12", tail), 2},
      {"and the read label added", versioned(R"({"team":"x"})", "11", tail), versioned(lane, "12", tail), 2},
      {"and the read label removed", versioned(lane, "11", tail), versioned(R"({"team":"x"})", "12", tail), 2},
      {"and the labels now a string", versioned(lane, "11", tail), versioned(R"("lane")", "12", tail), 2},
      {"and the labels reordered", versioned(lane, "11", tail), versioned(R"({"team":"x","lane":"local"})", "12", tail), -1},
      {"and the read annotation", versioned(lane, "11", tail), versioned(lane, "12", after("I_2", "p", R"({"phase":"Running"})")), 2},
      {"and the phase", versioned(lane, "11", tail), versioned(lane, "12", after("I_1", "p", R"({"phase":"Pending"})")), 2},
      {"and the phase absent", versioned(lane, "11", tail), versioned(lane, "12", after("I_1", "p", "{}")), 2},
      {"and the status now a string", versioned(lane, "11", tail), versioned(lane, "12", after("I_1", "p", R"("Running")")), 2},
      {"the version gone", versioned(lane, "11", tail), unversioned, 0},
      {"the version back, and the label", unversioned, versioned(R"({"lane":"cloud"})", "12", tail), 2},
  };
}

// The reads of the version tables' index.
FieldMask version_reads() {
  FieldMask reads;
  reads.keep({"metadata", "labels", "lane"});
  reads.keep({"metadata", "annotations", "f/issue"});
  reads.keep({"status", "phase"});
  return reads;
}
}  // namespace

BOOST_AUTO_TEST_CASE(updates_that_change_the_version_and_what_an_index_reads) {
  // Each row updates one object from `from` to `to`, the version changed with it: the index
  // then files what a cache given `to` alone files, and its function runs only when a read
  // field changed (calls: 0 or 2; -1: either, a false "differs" is allowed). The bytes come
  // from pack() (upsert) and from the watch decoder (upsert_packed).
  const std::vector<VersionRow> rows = version_rows();
  const FieldMask reads = version_reads();
  FieldMask whole;
  for (const char* k : {"metadata", "status"}) whole.keep({k});
  for (const auto& r : rows) {
    for (const bool decoded : {false, true}) {
      BOOST_TEST_CONTEXT(r.what << (decoded ? ", decoded" : ", packed")) {
        int calls = 0;
        auto counted = [&](const json::object& o) {
          ++calls;
          return filed_under(o);
        };
        ObjectCache c({}, {{"i", {counted, reads}}}, whole);
        WatchDecoder dec(c.fields(), false, c.keys());
        auto upsert = [&](const std::string& object) {
          if (!decoded) return c.upsert(json::parse(object).as_object());
          json::monotonic_resource arena;
          const WatchEvent ev = dec.decode(R"({"type":"MODIFIED","object":)" + object + "}", json::storage_ptr(&arena));
          BOOST_REQUIRE(ev.packed.has_value());
          c.upsert_packed(ev.packed->key, ev.packed->bytes, 0);
        };
        upsert(r.from);
        calls = 0;
        upsert(r.to);
        if (r.calls >= 0) BOOST_TEST(calls == r.calls);
        ObjectCache fresh({}, {{"i", {filed_under, reads}}}, whole);
        fresh.upsert(json::parse(r.to).as_object());
        BOOST_TEST(filed(c) == filed(fresh));
        BOOST_TEST(json::serialize(*c.get("llm/a")) == json::serialize(*fresh.get("llm/a")));
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(the_version_span_follows_the_version) {
  const auto& lane = kLane;
  const auto& tail = kTail;
  const std::vector<VersionRow> rows = version_rows();
  const FieldMask reads = version_reads();
  FieldMask whole;
  for (const char* k : {"metadata", "status"}) whole.keep({k});
  // A version whose place a read string of its length takes (the version gone), then that
  // string changed: the span must not outlive the version.
  FieldMask o_reads;
  o_reads.keep({"metadata", "o"});
  ObjectCache by_o({}, {{"i", {[](const json::object& o) { return std::vector<std::string>{json::serialize(o)}; }, o_reads}}});
  by_o.upsert(json::parse(R"({"metadata":{"resourceVersion":"abc","name":"a"}})").as_object());
  by_o.upsert(json::parse(R"({"metadata":{"o":"abc","name":"a"}})").as_object());
  by_o.upsert(json::parse(R"({"metadata":{"o":"xyz","name":"a"}})").as_object());
  BOOST_TEST(filed(by_o) == R"({"metadata":{"o":"xyz"}}:1 )");
  // An index that reads the version itself: a change of the version alone is a change.
  FieldMask version;
  version.keep({"metadata", "resourceVersion"});
  ObjectCache by_version({}, {{"i", {[](const json::object& o) { return std::vector<std::string>{resource_version_of(o)}; }, version}}},
                         whole);
  by_version.upsert(json::parse(versioned(lane, "11", tail)).as_object());
  by_version.upsert(json::parse(versioned(lane, "12", tail)).as_object());
  BOOST_TEST(filed(by_version) == "12:1 ");
  // The states one after another on one cache; then, on a new one, a version that shrinks
  // and the key after it renamed (one byte, where the longer version's span ended: the span
  // must follow the version): whatever the span remembered from the state before, every
  // state is filed as it reads.
  const std::string renamed = R"(,"annotationz":{"f/issue":"I_1","o":"p"}},"status":{"phase":"Running"})";
  const std::vector<std::vector<std::string>> sequences = {
      [&] {
        std::vector<std::string> all;
        for (const auto& r : rows) all.push_back(r.from);
        return all;
      }(),
      {versioned(lane, "100", tail), versioned(lane, "99", tail), versioned(lane, "99", renamed)},
  };
  for (const auto& states : sequences) {
    ObjectCache c({}, {{"i", {filed_under, reads}}}, whole);
    for (const auto& state : states) {
      BOOST_TEST_CONTEXT(state) {
        c.upsert(json::parse(state).as_object());
        ObjectCache fresh({}, {{"i", {filed_under, reads}}}, whole);
        fresh.upsert(json::parse(state).as_object());
        BOOST_TEST(filed(c) == filed(fresh));
      }
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()

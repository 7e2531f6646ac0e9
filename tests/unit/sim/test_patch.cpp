#include "sim/patch.hpp"

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

namespace json = boost::json;
using fdb::sim::json_patch;
using fdb::sim::merge_patch;
using fdb::sim::PatchError;

BOOST_AUTO_TEST_SUITE(patching)

// RFC 7386 appendix A, plus nested cases.
BOOST_AUTO_TEST_CASE(merge_patch_table) {
  struct Row {
    const char* target;
    const char* patch;
    const char* result;
  } rows[] = {
      {R"({"a":"b"})", R"({"a":"c"})", R"({"a":"c"})"},
      {R"({"a":"b"})", R"({"b":"c"})", R"({"a":"b","b":"c"})"},
      {R"({"a":"b"})", R"({"a":null})", R"({})"},
      {R"({"a":"b","b":"c"})", R"({"a":null})", R"({"b":"c"})"},
      {R"({"a":["b"]})", R"({"a":"c"})", R"({"a":"c"})"},
      {R"({"a":"c"})", R"({"a":["b"]})", R"({"a":["b"]})"},
      {R"({"a":{"b":"c"}})", R"({"a":{"b":"d","c":null}})", R"({"a":{"b":"d"}})"},
      {R"({"a":[{"b":"c"}]})", R"({"a":[1]})", R"({"a":[1]})"},
      {R"(["a","b"])", R"(["c","d"])", R"(["c","d"])"},
      {R"({"a":"b"})", R"(["c"])", R"(["c"])"},
      {R"({"a":"foo"})", "null", "null"},
      {R"({"e":null})", R"({"a":1})", R"({"e":null,"a":1})"},
      {R"([1,2])", R"({"a":"b","c":null})", R"({"a":"b"})"},
      {R"({})", R"({"a":{"bb":{"ccc":null}}})", R"({"a":{"bb":{}}})"},
      {R"({"metadata":{"labels":{"x":"1"}}})", R"({"metadata":{"labels":{"y":"2"}}})",
       R"({"metadata":{"labels":{"x":"1","y":"2"}}})"},
  };
  for (const auto& r : rows) {
    BOOST_TEST_CONTEXT(r.target << " + " << r.patch) {
      BOOST_TEST(merge_patch(json::parse(r.target), json::parse(r.patch)) == json::parse(r.result));
    }
  }
}

// RFC 6902 appendix A.
BOOST_AUTO_TEST_CASE(json_patch_table) {
  struct Row {
    const char* doc;
    const char* patch;
    const char* result;  // nullptr: PatchError
  } rows[] = {
      {R"({"foo":"bar"})", R"([{"op":"add","path":"/baz","value":"qux"}])", R"({"foo":"bar","baz":"qux"})"},
      {R"({"foo":["bar","baz"]})", R"([{"op":"add","path":"/foo/1","value":"qux"}])", R"({"foo":["bar","qux","baz"]})"},
      {R"({"foo":["bar"]})", R"([{"op":"add","path":"/foo/-","value":"x"}])", R"({"foo":["bar","x"]})"},
      {R"({"baz":"qux","foo":"bar"})", R"([{"op":"remove","path":"/baz"}])", R"({"foo":"bar"})"},
      {R"({"foo":["bar","qux","baz"]})", R"([{"op":"remove","path":"/foo/1"}])", R"({"foo":["bar","baz"]})"},
      {R"({"baz":"qux","foo":"bar"})", R"([{"op":"replace","path":"/baz","value":"boo"}])", R"({"baz":"boo","foo":"bar"})"},
      {R"({"foo":{"bar":"baz","waldo":"fred"},"qux":{"corge":"grault"}})",
       R"([{"op":"move","from":"/foo/waldo","path":"/qux/thud"}])",
       R"({"foo":{"bar":"baz"},"qux":{"corge":"grault","thud":"fred"}})"},
      {R"({"foo":["all","grass","cows","eat"]})", R"([{"op":"move","from":"/foo/1","path":"/foo/3"}])",
       R"({"foo":["all","cows","eat","grass"]})"},
      {R"({"baz":"qux","foo":["a",2,"c"]})",
       R"([{"op":"test","path":"/baz","value":"qux"},{"op":"test","path":"/foo/1","value":2}])",
       R"({"baz":"qux","foo":["a",2,"c"]})"},
      {R"({"baz":"qux"})", R"([{"op":"test","path":"/baz","value":"bar"}])", nullptr},
      {R"({"foo":"bar"})", R"([{"op":"add","path":"/child","value":{"grandchild":{}}}])",
       R"({"foo":"bar","child":{"grandchild":{}}})"},
      {R"({"foo":"bar"})", R"([{"op":"add","path":"/baz/bat","value":"qux"}])", nullptr},
      {R"({"/":9,"~1":10})", R"([{"op":"test","path":"/~01","value":10}])", R"({"/":9,"~1":10})"},
      {R"({"foo":["bar"]})", R"([{"op":"copy","from":"/foo/0","path":"/baz"}])", R"({"foo":["bar"],"baz":"bar"})"},
      {R"({"foo":1})", R"([{"op":"replace","path":"/nope","value":1}])", nullptr},
      {R"({"foo":1})", R"([{"op":"remove","path":"/nope"}])", nullptr},
      {R"({"foo":[1]})", R"([{"op":"add","path":"/foo/2","value":1}])", nullptr},
      {R"({"foo":[1]})", R"([{"op":"add","path":"/foo/01","value":1}])", nullptr},
      {R"({"foo":1})", R"([{"op":"frobnicate","path":"/foo"}])", nullptr},
      {R"({"foo":1})", R"([{"op":"add","path":"/foo"}])", nullptr},
      {R"({"foo":1})", R"({"op":"add"})", nullptr},
      {R"({"foo":1})", R"([{"op":"add","path":"foo","value":1}])", nullptr},
  };
  for (const auto& r : rows) {
    BOOST_TEST_CONTEXT(r.doc << " + " << r.patch) {
      if (r.result == nullptr) {
        BOOST_CHECK_THROW(json_patch(json::parse(r.doc), json::parse(r.patch)), PatchError);
      } else {
        BOOST_TEST(json_patch(json::parse(r.doc), json::parse(r.patch)) == json::parse(r.result));
      }
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()

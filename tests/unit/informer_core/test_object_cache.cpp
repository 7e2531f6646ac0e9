#include "watch/watch_cache.hpp"

#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>

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
  c.set_handlers({[&](const json::object& o) { log.push_back("add " + object_key(o)); },
                  [&](const json::object& a, const json::object& b) {
                    log.push_back("update " + object_key(b) + " " + resource_version_of(a) + "->" + resource_version_of(b));
                  },
                  [&](const json::object& o) { log.push_back("delete " + object_key(o)); },
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
  BOOST_REQUIRE(c.get("llm/a") != nullptr);
  BOOST_TEST(c.get("llm/a")->if_contains("spec") == nullptr);  // stored as the projection
  BOOST_TEST(c.get("llm/c") == nullptr);
}

BOOST_AUTO_TEST_SUITE_END()

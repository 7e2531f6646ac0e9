#include "watch/packed_json.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/test/unit_test.hpp>

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

BOOST_AUTO_TEST_SUITE_END()

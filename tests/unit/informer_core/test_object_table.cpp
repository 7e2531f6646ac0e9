#include "watch/object_table.hpp"

#include <boost/test/unit_test.hpp>

#include <map>
#include <random>
#include <string>
#include <vector>

using namespace fdb::kube;

namespace {

// Hashes that make keys collide: every key in one cluster, or a few clusters by length.
std::uint64_t one_value(std::string_view, std::uint64_t) noexcept { return 0x5555000000000007ull; }
std::uint64_t by_length(std::string_view k, std::uint64_t) noexcept { return k.size() * 0x9E3779B97F4A7C15ull; }

// The table agrees with a std::map of the same keys: every key in the map is found with
// its bytes, none of the `absent` ones is, and the sizes match.
void agrees(const ObjectTable& t, const std::map<std::string, std::string>& want, const std::vector<std::string>& absent) {
  BOOST_TEST(t.size() == want.size());
  for (const auto& [k, v] : want) {
    const ObjectTable::Entry* e = t.find(k);
    BOOST_REQUIRE_MESSAGE(e != nullptr, "missing " << k);
    BOOST_TEST(e->key() == k);
    BOOST_TEST(e->packed() == v);
  }
  for (const auto& k : absent) BOOST_TEST((t.find(k) == nullptr), "found " << k);
  std::size_t visited = 0;
  t.for_each([&](const ObjectTable::Entry& e) {
    ++visited;
    BOOST_TEST(want.count(std::string(e.key())) == 1u);
  });
  BOOST_TEST(visited == want.size());
}

// Random inserts, updates and erases (three quarters inserts at first, then half), checked
// against a map at every growth and at the end.
void random_ops(ObjectTable::HashFn hash, int ops) {
  ObjectTable t(hash);
  std::map<std::string, std::string> want;
  std::mt19937 rng(17);
  std::vector<std::string> erased;
  std::size_t slots = t.slot_count();
  for (int i = 0; i < ops; ++i) {
    const std::string key = "llm/wl-bench-" + std::to_string(rng() % static_cast<unsigned>(ops));
    const bool insert = rng() % 4 < (i < ops / 2 ? 3u : 2u);
    if (insert) {
      const auto [e, made] = t.emplace(key);
      BOOST_TEST(made == (want.count(key) == 0));
      const std::string value = "v" + std::to_string(i);
      e->set_packed(value);
      want[key] = value;
    } else {
      const ObjectTable::EntryPtr gone = t.extract(key);
      BOOST_TEST((gone != nullptr) == (want.erase(key) == 1));
      if (gone) erased.push_back(key);
    }
    if (t.slot_count() != slots) {
      slots = t.slot_count();
      agrees(t, want, {});
    }
  }
  std::vector<std::string> absent;
  for (const auto& k : erased) {
    if (want.count(k) == 0) absent.push_back(k);
  }
  agrees(t, want, absent);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(object_table)

BOOST_AUTO_TEST_CASE(insert_find_erase_across_growth) {
  ObjectTable t;
  std::map<std::string, std::string> want;
  for (int i = 0; i < 5000; ++i) {
    const std::string k = "llm/wl-" + std::to_string(i);
    t.emplace(k).first->set_packed("p" + std::to_string(i));
    want[k] = "p" + std::to_string(i);
  }
  agrees(t, want, {"llm/wl-5000", "", "llm/wl-"});
  // Grown past 4/5 full, never more than needed: 5000 entries in 8192 slots.
  BOOST_TEST(t.slot_count() == 8192u);
  BOOST_TEST(!t.emplace("llm/wl-17").second);  // there already
  BOOST_TEST(t.extract("nope") == nullptr);
}

BOOST_AUTO_TEST_CASE(entries_do_not_move_while_stored) {
  ObjectTable t;
  std::vector<std::pair<std::string, const char*>> keys;
  for (int i = 0; i < 2000; ++i) {
    const std::string k = "ns/name-" + std::to_string(i);
    keys.emplace_back(k, t.emplace(k).first->key().data());
  }
  for (int i = 0; i < 2000; i += 2) t.extract("ns/name-" + std::to_string(i));  // shifts slots back
  for (int i = 2000; i < 9000; ++i) t.emplace("ns/name-" + std::to_string(i));  // grows twice
  for (std::size_t i = 1; i < keys.size(); i += 2) BOOST_TEST((t.find(keys[i].first)->key().data() == keys[i].second));
}

BOOST_AUTO_TEST_CASE(every_key_in_one_cluster) {
  // All keys hash alike: one run of slots, probed to the end for a missing key, shifted
  // back on every erase. The table stays right, only slow.
  random_ops(&one_value, 600);
}

BOOST_AUTO_TEST_CASE(clusters_that_wrap_and_meet) {
  // A few hash values: clusters that run into each other and wrap past the last slot,
  // through growth and erases (the backward shift must not move a key before its home).
  random_ops(&by_length, 3000);
}

BOOST_AUTO_TEST_CASE(random_work_with_the_seeded_hash) { random_ops(nullptr, 40000); }

BOOST_AUTO_TEST_CASE(erasing_everything_leaves_an_empty_table) {
  for (const ObjectTable::HashFn hash : {ObjectTable::HashFn{nullptr}, &one_value, &by_length}) {
    ObjectTable t(hash);
    for (int i = 0; i < 300; ++i) t.emplace("k" + std::to_string(i));
    for (int i = 299; i >= 0; i -= 3) BOOST_TEST(t.extract("k" + std::to_string(i)) != nullptr);
    for (int i = 0; i < 300; ++i) t.extract("k" + std::to_string(i));
    BOOST_TEST(t.size() == 0u);
    t.for_each([](const ObjectTable::Entry& e) { BOOST_FAIL("left: " << e.key()); });
    BOOST_TEST(t.emplace("k1").second);
  }
}

BOOST_AUTO_TEST_CASE(packed_bytes_reuse_their_buffer_only_when_snug) {
  ObjectTable t;
  ObjectTable::Entry& e = *t.emplace("a/b").first;
  BOOST_TEST(e.packed().empty());
  e.set_packed(std::string(100, 'x'));
  const char* first = e.packed().data();
  e.set_packed(std::string(80, 'y'));  // 20 to spare: in place
  BOOST_TEST((e.packed().data() == first));
  BOOST_TEST(e.packed() == std::string(80, 'y'));
  e.set_packed(std::string(60, 'z'));  // 40 to spare: a buffer of its size
  BOOST_TEST((e.packed().data() != first));
  BOOST_TEST(e.packed() == std::string(60, 'z'));
  e.set_packed(std::string(61, 'w'));  // larger than the buffer
  BOOST_TEST(e.packed() == std::string(61, 'w'));
  e.list = 7;
  BOOST_TEST(t.find("a/b")->list == 7u);
}

BOOST_AUTO_TEST_SUITE_END()

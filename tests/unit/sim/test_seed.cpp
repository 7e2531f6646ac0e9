// kube-sim's seeding (sim/seed.hpp) and its command line (sim/options.hpp).
#include "sim/options.hpp"
#include "sim/seed.hpp"
#include "sim/foreman.hpp"

#include <boost/test/unit_test.hpp>

#include <array>

using namespace fdb::sim;

BOOST_AUTO_TEST_SUITE(sim_seed)

BOOST_AUTO_TEST_CASE(issue_text_is_n_bytes_of_ascii_that_never_ends_in_a_backslash) {
  for (std::size_t n : {0u, 1u, 7u, 73u, 74u, 500u, 2500u, 10000u}) {
    BOOST_TEST_CONTEXT("n=" << n) {
      const std::string t = issue_text(n);
      BOOST_TEST(t.size() == n);  // the parts are ASCII without a backslash: nothing trimmed
      if (!t.empty()) BOOST_TEST(t.back() != '\\');
      for (const char c : t) BOOST_TEST(static_cast<unsigned char>(c) < 0x80);
    }
  }
  BOOST_TEST(issue_text(2500).find('\n') != std::string::npos);  // prose with newlines
  BOOST_TEST(issue_text(2500).find('"') != std::string::npos);   // and quotes
}

BOOST_AUTO_TEST_CASE(seeded_workloads_are_padded_to_the_size_asked) {
  Store store;
  ServerOptions o;
  o.seed_workloads = 5;
  o.workload_bytes = 2500;
  o.workload_shape = "realistic";
  seed_workloads(store, o);
  Filter f;
  f.res = &workloads();
  f.ns = "llm";
  const auto objects = store.snapshot(f);
  BOOST_TEST(objects.size() == 5u);
  for (const auto& obj : objects) {
    BOOST_TEST(obj.json->size() >= 2400u);  // about workload_bytes each
    BOOST_TEST(obj.json->find("managedFields") != std::string::npos);
  }
}

BOOST_AUTO_TEST_CASE(the_command_line_is_read_and_bad_flags_named) {
  std::array<const char*, 5> argv = {"kube-sim", "--seed-workloads", "3", "--workload-shape", "realistic"};
  const auto o = parse_args(static_cast<int>(argv.size()), const_cast<char**>(argv.data()));
  BOOST_TEST(o.seed_workloads == 3);
  BOOST_TEST(o.workload_shape == "realistic");
  std::array<const char*, 3> bad = {"kube-sim", "--workload-shape", "odd"};
  BOOST_CHECK_THROW(parse_args(static_cast<int>(bad.size()), const_cast<char**>(bad.data())), std::invalid_argument);
}

BOOST_AUTO_TEST_SUITE_END()

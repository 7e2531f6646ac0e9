// The Workload builder's names: this program's and the Python bridge's Workload names,
// label values, attempts and lane aliases.
#include "workload_fixture.hpp"
#include "dispatch/prfix.hpp"
#include "dispatch/workload.hpp"

#include <boost/test/unit_test.hpp>

#include <set>

using namespace fdb::dispatch;
using fdb::test::hash8;
using fdb::test::is_dns_label;
using fdb::test::issue;
using fdb::test::prfix_name_of;

BOOST_AUTO_TEST_SUITE(bridge_workload)

BOOST_AUTO_TEST_CASE(names) {
  const std::string r60 = "o/" + std::string(60, 'r');  // "wl-o-" + 60 + "-7" = 67 characters
  struct Row {
    const char* given;
    std::string repo;
    std::int64_t number;
    std::string expect;
  };
  const Row rows[] = {
      {"plain", "misospace/dispatch", 42, "wl-misospace-dispatch-42"},
      {"upper case", "MisoSpace/Dispatch", 42, "wl-misospace-dispatch-42"},
      {"dash kept", "o/repo-js", 3, "wl-o-repo-js-3"},
      // The mapping changed something: the hash of the full repo and number follows.
      {"underscore", "my_org/my_repo", 1, "wl-my-org-my-repo-1-" + hash8("my_org/my_repo#1")},
      {"dot", "o/repo.js", 3, "wl-o-repo-js-3-" + hash8("o/repo.js#3")},
      {"runs collapse", "o--x/a_.-b", 5, "wl-o-x-a-b-5-" + hash8("o--x/a_.-b#5")},
      {"a plain double dash collapses", "o/a--b", 5, "wl-o-a-b-5-" + hash8("o/a--b#5")},
      {"other characters", "o/r+é", 9, "wl-o-r-9-" + hash8("o/r+é#9")},
      {"upper case and a dot", "O/Repo.JS", 3, "wl-o-repo-js-3-" + hash8("o/repo.js#3")},
      // "wl-" + 53 + "-" + 6 = 63: exactly the limit, kept whole.
      {"exactly 63", "o/" + std::string(51, 'a'), 123456, "wl-o-" + std::string(51, 'a') + "-123456"},
      // One more character: 64, cut to 54 and the hash.
      {"64", "o/" + std::string(52, 'a'), 123456,
       ("wl-o-" + std::string(52, 'a') + "-123456").substr(0, 54) + "-" + hash8("o/" + std::string(52, 'a') + "#123456")},
      {"long", r60, 7, ("wl-o-" + std::string(60, 'r')).substr(0, 54) + "-" + hash8(r60 + "#7")},
      // The cut lands on a '-': no "--" before the hash.
      {"cut on a dash", "o/" + std::string(48, 'a') + "-bbbbbbbbbbbb", 1,
       "wl-o-" + std::string(48, 'a') + "-" + hash8("o/" + std::string(48, 'a') + "-bbbbbbbbbbbb#1")},
  };
  for (const auto& r : rows) {
    BOOST_TEST_CONTEXT(r.given) {
      const auto name = workload_name(r.repo, r.number);
      BOOST_TEST(name == r.expect);
      BOOST_TEST(is_dns_label(name), name);
      BOOST_TEST(workload_name(r.repo, r.number) == name);  // deterministic
      BOOST_TEST(branch_name(r.repo, r.number) == "foreman/" + name + "/issue-" + std::to_string(r.number));
    }
  }
  // The expectation "wl-o-<51 a>-123456" is indeed 63 characters, and the next one 64.
  BOOST_TEST(rows[9].expect.size() == 63u);
  BOOST_TEST(("wl-o-" + std::string(52, 'a') + "-123456").size() == 64u);
  BOOST_TEST(workload_name(rows[10].repo, rows[10].number).size() == 63u);
  // Two long names that share the first 54 characters differ by the hash.
  BOOST_TEST(workload_name(r60, 7) != workload_name(r60, 8));
  // FNV-1a 64 test vectors: the hash is the documented one.
  BOOST_TEST(fnv1a64("") == 0xcbf29ce484222325ULL);
  BOOST_TEST(fnv1a64("a") == 0xaf63dc4c8601ec8cULL);
  BOOST_TEST(fnv1a64("foobar") == 0x85944171f73967e8ULL);
}

// Issue 20 item 5: repos of one owner that the character mapping alone would merge.
BOOST_AUTO_TEST_CASE(names_of_repos_the_mapping_would_merge) {
  const std::string repos[] = {"foo/foo.bar", "foo/foo-bar", "foo/foo_bar", "foo/foo..bar", "foo/foo--bar", "foo/foo.-_bar"};
  std::set<std::string> names;
  for (const auto& r : repos) {
    BOOST_TEST_CONTEXT(r) {
      const auto name = workload_name(r, 12);
      BOOST_TEST(is_dns_label(name), name);
      BOOST_TEST(name.starts_with("wl-foo-foo-bar-12"), name);
      names.insert(name);
      // The PR-fix Workload of the same repo and number follows the same rule.
      BOOST_TEST(is_dns_label(prfix_name_of(r, 12)));
    }
  }
  BOOST_TEST(names.size() == std::size(repos));
  BOOST_TEST(workload_name("foo/foo-bar", 12) == "wl-foo-foo-bar-12");  // the plain one keeps its name
  // Long and mapped: still 63 characters, still distinct.
  const std::string long_dot = "o/" + std::string(70, 'a') + ".x";
  const std::string long_dash = "o/" + std::string(70, 'a') + "-x";
  BOOST_TEST(workload_name(long_dot, 1).size() == 63u);
  BOOST_TEST(workload_name(long_dot, 1) != workload_name(long_dash, 1));
}

// What the Python bridge named a Workload, and which names can label a task.
BOOST_AUTO_TEST_CASE(python_names_and_label_values) {
  struct Row {
    std::string repo;
    std::int64_t number;
    std::string python;
    bool label_value;
  };
  const Row rows[] = {
      {"misospace/dispatch", 42, "wl-misospace-dispatch-42", true},
      {"MisoSpace/Repo.JS", 3, "wl-misospace-repo.js-3", true},
      {"o/" + std::string(60, 'r'), 7, "wl-o-" + std::string(60, 'r') + "-7", false},  // 67 characters
      {"o/" + std::string(55, 'r'), 7, "wl-o-" + std::string(55, 'r') + "-7", true},  // 62
  };
  for (const auto& r : rows) {
    BOOST_TEST_CONTEXT(r.repo) {
      BOOST_TEST(python_workload_name(r.repo, r.number) == r.python);
      BOOST_TEST(is_label_value(r.python) == r.label_value);
    }
  }
  BOOST_TEST(python_workload_name("o/r", 1) == workload_name("o/r", 1));
  BOOST_TEST(!is_label_value("-a"));
  BOOST_TEST(!is_label_value("a."));
  BOOST_TEST(!is_label_value("a/b"));
  BOOST_TEST(is_label_value("A_b.c-d"));
  BOOST_TEST(branch_of_workload("wl-o-r.js-3", 3) == "foreman/wl-o-r.js-3/issue-3");
}

BOOST_AUTO_TEST_CASE(attempt_parsing) {
  struct Row {
    std::string_view in;
    int out;
  };
  const Row rows[] = {
      {"1", 1},      {"2", 2},          {" 3 ", 3},      {"+4", 4},  {"", 1},     {"abc", 1},
      {"0", 1},      {"-1", 1},         {"-99999999999999999999", 1}, {"2.5", 1}, {"3x", 1},
      {"1000000", 1000000}, {"1000001", 1000000}, {"99999999999999999999", kMaxAttemptValue},
  };
  for (const auto& r : rows) {
    BOOST_TEST_CONTEXT("attempt '" << r.in << "'") { BOOST_TEST(parse_attempt(r.in) == r.out); }
  }
  const Row counters[] = {{"", 0}, {"0", 0}, {"2", 2}, {"x", 0}, {"-3", 0}, {"99999999999999999999", kMaxAttemptValue}};
  for (const auto& r : counters) {
    BOOST_TEST_CONTEXT("counter '" << r.in << "'") { BOOST_TEST(parse_counter(r.in) == r.out); }
  }
}

BOOST_AUTO_TEST_CASE(lane_aliases) {
  BOOST_TEST(normalize_lane("normal") == "local");
  BOOST_TEST(normalize_lane("NORMAL") == "local");
  BOOST_TEST(normalize_lane("escalated") == "frontier");
  BOOST_TEST(normalize_lane(" cloud ") == "cloud");
  BOOST_TEST(normalize_lane("frontier") == "frontier");
  BOOST_TEST(normalize_lane("") == "");
}

BOOST_AUTO_TEST_SUITE_END()

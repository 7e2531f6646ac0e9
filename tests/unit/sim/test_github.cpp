// kube-sim's GitHub stand-in: branches and pull requests set through control routes,
// authentication, faults counted down, the request log.
#include "sim/github.hpp"

#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>

namespace json = boost::json;
using fdb::sim::GitHub;

BOOST_AUTO_TEST_SUITE(sim_github)

BOOST_AUTO_TEST_CASE(branches_pulls_auth_faults_and_the_log) {
  GitHub gh;
  const std::string auth = "Bearer t";
  BOOST_TEST(gh.handle("GET", "/repos/o/r/branches/foreman/wl-o-r-1/issue-1", "", auth).status == 404);
  BOOST_TEST(gh.handle("POST", "/_sim/github/branch", R"({"repo":"o/r","branch":"foreman/wl-o-r-1/issue-1"})", "").status == 200);
  BOOST_TEST(gh.handle("GET", "/repos/o/r/branches/foreman/wl-o-r-1/issue-1", "", auth).status == 200);
  BOOST_TEST(gh.handle("GET", "/repos/o/r/branches/foreman/wl-o-r-1/issue-1", "", "").status == 401);
  BOOST_TEST(gh.handle("DELETE", "/_sim/github/branch", R"({"repo":"o/r","branch":"foreman/wl-o-r-1/issue-1"})", "").status == 200);
  BOOST_TEST(gh.handle("GET", "/repos/o/r/branches/foreman/wl-o-r-1/issue-1", "", auth).status == 404);

  BOOST_TEST(gh.handle("POST", "/_sim/github/pull", R"({"repo":"o/r","number":5,"state":"closed","merged":true,"headRef":"b","mergeable":null})", "").status == 200);
  const auto pr = gh.handle("GET", "/repos/o/r/pulls/5", "", auth);
  BOOST_TEST(pr.status == 200);
  const json::value v = json::parse(pr.body);
  BOOST_TEST(v.at("number").as_int64() == 5);
  BOOST_TEST(v.at("state").as_string() == "closed");
  BOOST_TEST(v.at("merged").as_bool());
  BOOST_TEST(v.at("mergeable").is_null());
  BOOST_TEST(v.at("head").at("ref").as_string() == "b");
  BOOST_TEST(gh.handle("GET", "/repos/o/r/pulls/6", "", auth).status == 404);
  BOOST_TEST(gh.handle("POST", "/_sim/github/pull", R"({"repo":"nope","number":5})", "").status == 400);

  // Two 503s, then answers again.
  BOOST_TEST(gh.handle("POST", "/_sim/github/fault", R"({"path":"/repos/o/r/pulls","count":2,"status":503,"retryAfter":1})", "").status == 200);
  const auto f1 = gh.handle("GET", "/repos/o/r/pulls/5", "", auth);
  BOOST_TEST(f1.status == 503);
  BOOST_TEST(f1.headers.at("Retry-After") == "1");
  BOOST_TEST(gh.handle("GET", "/repos/o/r/pulls/5", "", auth).status == 503);
  BOOST_TEST(gh.handle("GET", "/repos/o/r/pulls/5", "", auth).status == 200);

  const json::value log = json::parse(gh.handle("GET", "/_sim/github/requests", "", "").body);
  BOOST_TEST(log.as_array().size() == 9u);  // control routes are not logged
  BOOST_TEST(log.as_array().front().as_string() == "GET /repos/o/r/branches/foreman/wl-o-r-1/issue-1");
}

BOOST_AUTO_TEST_SUITE_END()

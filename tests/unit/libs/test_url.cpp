// URLs through Boost.URL (watch/url.hpp) as tables: request targets with label and field
// selectors and continue tokens (byte for byte what the hand-written encoder sent), and
// redaction of user-info and credentials in the query.
#include "dispatch/client_io.hpp"
#include "watch/request.hpp"
#include "watch/url.hpp"

#include <boost/test/unit_test.hpp>

using namespace fdb::kube;

BOOST_AUTO_TEST_SUITE(urls)

BOOST_AUTO_TEST_CASE(percent_encoding_keeps_only_unreserved_characters) {
  const struct {
    std::string in;
    const char* out;
  } rows[] = {
      {"abcXYZ019-._~", "abcXYZ019-._~"},
      {"created-by=dispatch-bridge", "created-by%3Ddispatch-bridge"},
      {"a b+c/d=e&f?g#h%", "a%20b%2Bc%2Fd%3De%26f%3Fg%23h%25"},
      {"o/n", "o%2Fn"},
      {"é", "%C3%A9"},                             // UTF-8 bytes, upper-case hex
      {std::string("\0\x7f", 2), "%00%7F"},
      {"", ""},
  };
  for (const auto& r : rows) {
    BOOST_TEST_CONTEXT(r.out) {
      BOOST_TEST(percent_encode(r.in) == r.out);
      BOOST_TEST(encode_query_value(r.in) == r.out);
    }
  }
}

BOOST_AUTO_TEST_CASE(list_and_watch_targets_are_byte_identical) {
  const Requests q(workloads(), "llm");
  const std::string base = "/apis/foreman.llmkube.dev/v1alpha1/namespaces/llm/workloads";
  const struct {
    ListOptions o;
    std::string query;
  } rows[] = {
      {{}, ""},
      {{"created-by=dispatch-bridge", "", std::nullopt, "", std::nullopt, ""}, "?labelSelector=created-by%3Ddispatch-bridge"},
      {{"created-by!=other,lane", "", std::nullopt, "", std::nullopt, ""}, "?labelSelector=created-by%21%3Dother%2Clane"},
      {{"created-by in (dispatch-bridge,dispatch-bridge-prfix)", "", std::nullopt, "", std::nullopt, ""},
       "?labelSelector=created-by%20in%20%28dispatch-bridge%2Cdispatch-bridge-prfix%29"},
      {{"", "metadata.name=wl-a-1,status.phase!=Failed", std::nullopt, "", std::nullopt, ""},
       "?fieldSelector=metadata.name%3Dwl-a-1%2Cstatus.phase%21%3DFailed"},
      {{"", "", 500, "eyJ2IjoibWV0YS5rOHMuaW8vdjEiLCJydiI6MTIz+/==", std::nullopt, ""},
       "?limit=500&continue=eyJ2IjoibWV0YS5rOHMuaW8vdjEiLCJydiI6MTIz%2B%2F%3D%3D"},
      {{"a=b", "c=d", 500, "", std::string("0"), "NotOlderThan"},
       "?labelSelector=a%3Db&fieldSelector=c%3Dd&limit=500&resourceVersion=0&resourceVersionMatch=NotOlderThan"},
  };
  for (const auto& r : rows) {
    BOOST_TEST_CONTEXT(r.query) { BOOST_TEST(q.list(r.o).target == base + r.query); }
  }
  WatchOptions w;
  w.label_selector = "created-by in (a,b)";
  w.resource_version = "123";
  w.timeout_seconds = 300;
  BOOST_TEST(q.watch(w).target == base +
                                      "?watch=true&labelSelector=created-by%20in%20%28a%2Cb%29&resourceVersion=123"
                                      "&allowWatchBookmarks=true&timeoutSeconds=300");
  BOOST_TEST(with_query("/api/issues/state", {{"repo", "o/n"}, {"number", "42"}}) ==
             "/api/issues/state?repo=o%2Fn&number=42");
  BOOST_TEST(with_query("/p", {}) == "/p");
}

BOOST_AUTO_TEST_CASE(redaction_hides_user_info_and_credentials_in_the_query) {
  const struct {
    const char* in;
    const char* out;
  } rows[] = {
      {"http://dispatch.llm:3000", "http://dispatch.llm:3000"},
      {"https://user:pw@dispatch.llm/x@y", "https://***@dispatch.llm/x@y"},
      {"https://user@dispatch.llm", "https://***@dispatch.llm"},
      {"https://u:p%40ss@[::1]:8443/a", "https://***@[::1]:8443/a"},
      {"https://h/api?token=abc&lane=local", "https://h/api?token=***&lane=local"},
      {"https://h/api?access_token=abc&X-Api-Key=1&sig=s&lane=a", "https://h/api?access_token=***&X-Api-Key=1&sig=***&lane=a"},
      {"https://h/api?Password=p&client_secret=s&key=k", "https://h/api?Password=***&client_secret=***&key=***"},
      {"https://h/api?token", "https://h/api?token"},              // no value: nothing to hide
      {"https://u:p@h/?token=t#frag", "https://***@h/?token=***#frag"},
      {"not a url", "not a url"},
      {"http://us er:p w@host/x", "http://***@host/x"},             // not a URI: the fallback
      {"", ""},
  };
  for (const auto& r : rows) {
    BOOST_TEST_CONTEXT(r.in) {
      BOOST_TEST(redact_url(r.in) == r.out);
      BOOST_TEST(fdb::dispatch::redact_url(r.in) == r.out);  // the dispatch client's is this one
    }
  }
  BOOST_TEST(url_host("https://user:pw@dispatch.llm:3000/x") == "dispatch.llm");
  BOOST_TEST(url_host("http://[::1]:8080") == "[::1]");
  BOOST_TEST(url_host("http://127.0.0.1") == "127.0.0.1");
  BOOST_TEST(url_host("nonsense") == "");
}

BOOST_AUTO_TEST_SUITE_END()

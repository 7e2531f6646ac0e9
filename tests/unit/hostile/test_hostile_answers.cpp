// Hostile answers of the API server and of dispatch: lines and bodies beyond the limits,
// JSON nested without end, wrong types, invalid UTF-8, truncated JSON. Each gets a typed
// error (ApiError Decode, DispatchError, ParseError) with a clear message, or is skipped
// and reported (a malformed queue item) — never a crash, never silently accepted.
#include "dispatch/candidates.hpp"
#include "dispatch/client_io.hpp"
#include "dispatch/items.hpp"
#include "support/test_server.hpp"
#include "watch/client_io.hpp"
#include "watch/errors.hpp"
#include "watch/event_stream.hpp"
#include "watch/json_input.hpp"
#include "watch/request.hpp"
#include "watch/watch_cache_io.hpp"
#include "support/run_coroutine.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>

#include <string>
#include <variant>

namespace asio = boost::asio;
namespace json = boost::json;
using asio::awaitable;
using namespace fdb;
using namespace std::chrono_literals;

using fdb::test::reply;
using fdb::test::run;

namespace {

std::string nested(std::size_t depth) { return std::string(depth, '[') + std::string(depth, ']'); }

std::string decode_error(std::string_view line) {
  try {
    kube::decode_event(line);
  } catch (const kube::ApiError& e) {
    BOOST_TEST(static_cast<int>(e.kind()) == static_cast<int>(kube::ErrorKind::Decode));
    return e.what();
  }
  return "(decoded)";
}

kube::ClusterConfig plain(const test::TestServer& s) {
  kube::ClusterConfig c;
  c.server = s.url();
  c.source = "test";
  return c;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(hostile_api_answers)

BOOST_AUTO_TEST_CASE(watch_lines) {
  struct Row {
    std::string name;
    std::string line;
    std::string expect;  // the whole message
  };
  const std::string deep = R"({"type":"ADDED","object":{"a":)" + nested(80) + "}}";
  const Row rows[] = {
      {"nested deeper than the limit", deep,
       "watch event: Decode: not JSON (nested deeper than 64 levels) in a " + std::to_string(deep.size()) + "-byte line"},
      {"truncated", R"({"type":"ADDED","object":{"metadata":{"na)",
       "watch event: Decode: not JSON (incomplete JSON) in a 41-byte line"},
      {"invalid UTF-8", "{\"type\":\"ADDED\",\"object\":{\"t\":\"caf\xe9\"}}",
       "watch event: Decode: not JSON (syntax error) in a 38-byte line"},
      {"trailing garbage", R"({"type":"ADDED","object":{}} {})", "watch event: Decode: not JSON (extra data) in a 31-byte line"},
      {"a number", "42", "watch event: Decode: an event must be a JSON object"},
      {"type not a string", R"({"type":["ADDED"],"object":{}})", "watch event: Decode: event has no string \"type\""},
      {"unknown type", R"({"type":"ADDED\u0000","object":{}})", "watch event: Decode: unknown event type \"ADDED\\x00\""},
      {"object an array", R"({"type":"MODIFIED","object":[{}]})", "watch event: Decode: MODIFIED event has no object"},
      {"object null", R"({"type":"DELETED","object":null})", "watch event: Decode: DELETED event has no object"},
  };
  for (const auto& r : rows) {
    BOOST_TEST_CONTEXT(r.name) { BOOST_TEST(decode_error(r.line) == r.expect); }
  }
  // Within the limit: 60 levels inside the object decode.
  const auto ev = kube::decode_event(R"({"type":"ADDED","object":{"a":)" + nested(60) + "}}");
  BOOST_TEST(ev.object.contains("a"));
  // Wrong types inside a valid object are not the decoder's business: resourceVersion as a
  // number reads as none.
  BOOST_TEST(kube::decode_event(R"({"type":"ADDED","object":{"metadata":{"resourceVersion":5}}})").resource_version().empty());
}

BOOST_AUTO_TEST_CASE(a_get_or_list_answer_that_is_not_an_object) {
  // What the reconciler and the claimer read with GET and LIST: a clear Decode error.
  struct Row {
    const char* name;
    std::string body;
    std::string expect;
  };
  const Row rows[] = {
      {"deep", "{\"a\":" + nested(70) + "}",
       "GET workload wl-a: Decode (HTTP 200): the answer is not JSON (nested deeper than 64 levels) in 146 bytes"},
      {"truncated", R"({"metadata":)", "GET workload wl-a: Decode (HTTP 200): the answer is not JSON (incomplete JSON) in 12 bytes"},
      {"an array", "[]", "GET workload wl-a: Decode (HTTP 200): the answer is not a JSON object"},
  };
  for (const auto& r : rows) {
    BOOST_TEST_CONTEXT(r.name) {
      try {
        kube::parse_api_object(r.body, "GET workload wl-a");
        BOOST_ERROR("expected ApiError");
      } catch (const kube::ApiError& e) {
        BOOST_TEST((e.kind() == kube::ErrorKind::Decode));
        BOOST_TEST(std::string(e.what()) == r.expect);
      }
    }
  }
  BOOST_TEST(kube::parse_api_object(R"({"a":1})", "GET x").at("a").as_int64() == 1);
}

BOOST_AUTO_TEST_CASE(an_oversized_watch_line_and_body) {
  asio::io_context io;
  test::TestServer server(io, [](const test::TestRequest& req) {
    if (req.target.find("watch=true") == std::string::npos) return reply(200, std::string(3000, ' ') + "{}");
    test::TestReply r;
    r.mode = test::TestReply::Mode::Stream;
    r.chunks = {R"({"type":"ADDED","object":{}})" "\n", std::string(3000, 'x'), std::string(3000, 'x'), "\n"};
    return r;
  });
  kube::ClientOptions opts;
  opts.max_line_bytes = 4096;
  opts.max_body_bytes = 2048;
  kube::Client client(io.get_executor(), plain(server), opts);
  int lines = 0;
  auto watch = [&]() -> awaitable<void> {
    auto on_line = [&](std::string_view) { ++lines; };
    co_await client.stream(kube::Requests(kube::workloads(), "llm").watch(), on_line, 5s);
  };
  try {
    run(io, watch);
    BOOST_ERROR("expected an ApiError");
  } catch (const kube::ApiError& e) {
    BOOST_TEST(static_cast<int>(e.kind()) == static_cast<int>(kube::ErrorKind::Decode));
    BOOST_TEST(std::string(e.what()) ==
               "GET /apis/foreman.llmkube.dev/v1alpha1/namespaces/llm/workloads: Decode (HTTP 200): watch event line exceeds 4096 bytes");
  }
  BOOST_TEST(lines == 1);  // the event before the long line was delivered
  io.restart();
  auto get = [&]() -> awaitable<void> { co_await client.call(kube::Requests(kube::workloads(), "llm").get("a")); };
  try {
    run(io, get);
    BOOST_ERROR("expected an ApiError");
  } catch (const kube::ApiError& e) {
    BOOST_TEST(static_cast<int>(e.kind()) == static_cast<int>(kube::ErrorKind::Decode));
    BOOST_TEST(std::string(e.what()) ==
               "GET /apis/foreman.llmkube.dev/v1alpha1/namespaces/llm/workloads/a: Decode: the answer is larger than 2048 bytes");
  }
}

BOOST_AUTO_TEST_CASE(error_answers_that_are_not_status_objects) {
  struct Row {
    std::string name;
    int status;
    std::string body;
    kube::ErrorKind kind;
    std::string message;
  };
  const Row rows[] = {
      {"deep JSON", 500, nested(100), kube::ErrorKind::InternalError, nested(100).substr(0, 200)},
      {"truncated Status", 409, R"({"kind":"Status","reason":"AlreadyExists")", kube::ErrorKind::Conflict,
       R"({"kind":"Status","reason":"AlreadyExists")"},
      {"Latin-1 page", 503, "<p>Service indisponible \xe0 l'instant</p>", kube::ErrorKind::ServiceUnavailable,
       "<p>Service indisponible \xe0 l'instant</p>"},
      {"a Status with wrong types", 429, R"({"kind":"Status","reason":7,"message":["m"],"code":"429","details":{"retryAfterSeconds":"5"}})",
       kube::ErrorKind::TooManyRequests, ""},
      {"a huge page", 502, std::string(100000, 'x'), kube::ErrorKind::ServerError, std::string(200, 'x') + "\xe2\x80\xa6"},
  };
  for (const auto& r : rows) {
    BOOST_TEST_CONTEXT(r.name) {
      const auto e = kube::decode_status(r.status, r.body, "", "GET /x");
      BOOST_TEST(static_cast<int>(e.kind()) == static_cast<int>(r.kind));
      BOOST_TEST(e.message() == r.message);
      BOOST_TEST(e.http_status() == r.status);
      BOOST_TEST(!e.retry_after().has_value());
    }
  }
}

BOOST_AUTO_TEST_CASE(a_list_answer_nested_too_deeply) {
  // The informer's list: the envelope may nest one level more than a watch event; beyond
  // that the list fails with the reason, and the informer backs off and lists again.
  asio::io_context io;
  const std::string deep_list = R"({"metadata":{"resourceVersion":"1"},"items":[{"a":)" + nested(70) + "}]}";
  test::TestServer server(io, [&](const test::TestRequest&) { return reply(200, deep_list); });
  kube::Client client(io.get_executor(), plain(server));
  kube::WatchCacheOptions opts;
  opts.type = kube::workloads();
  opts.ns = "llm";
  kube::WatchCache cache(io.get_executor(), client, opts);
  std::string what, detail;
  kube::WatchCacheHandlers h;
  h.on_informer_event = [&](const kube::InformerEvent& e) {
    if (e.kind == kube::InformerEventKind::Listed) return;
    what = kube::to_string(e.kind);
    detail = e.detail;
    io.stop();
  };
  cache.set_handlers(h);
  auto body = [](kube::WatchCache* c) -> awaitable<void> { co_await c->run(); };
  asio::co_spawn(io, body(&cache), [](std::exception_ptr) {});
  io.run_for(10s);
  BOOST_TEST(what == "list failed");
  BOOST_TEST(detail == "list workloads: Decode (HTTP 200): the list answer is not JSON (nested deeper than 65 levels) in " +
                           std::to_string(deep_list.size()) + " bytes");
  BOOST_TEST(!cache.synced());
}

BOOST_AUTO_TEST_CASE(a_watch_event_nested_too_deeply_restarts_the_watch) {
  asio::io_context io;
  const std::string deep_event = R"({"type":"ADDED","object":{"metadata":{"name":"x"},"a":)" + nested(70) + "}}\n";
  test::TestServer server(io, [&](const test::TestRequest& req) {
    if (req.target.find("watch=true") == std::string::npos)
      return reply(200, R"({"metadata":{"resourceVersion":"1"},"items":[]})");
    test::TestReply r;
    r.mode = test::TestReply::Mode::Stream;
    r.chunks = {deep_event};
    return r;
  });
  kube::Client client(io.get_executor(), plain(server));
  kube::WatchCacheOptions opts;
  opts.type = kube::workloads();
  opts.ns = "llm";
  kube::WatchCache cache(io.get_executor(), client, opts);
  std::string what, detail;
  kube::WatchCacheHandlers h;
  h.on_informer_event = [&](const kube::InformerEvent& e) {
    if (e.kind == kube::InformerEventKind::Listed) return;
    what = kube::to_string(e.kind);
    detail = e.detail;
    io.stop();
  };
  cache.set_handlers(h);
  auto body = [](kube::WatchCache* c) -> awaitable<void> { co_await c->run(); };
  asio::co_spawn(io, body(&cache), [](std::exception_ptr) {});
  io.run_for(10s);
  BOOST_TEST(what == "watch failed");
  BOOST_TEST(detail == "watch event: Decode: not JSON (nested deeper than 64 levels) in a " +
                           std::to_string(deep_event.size() - 1) + "-byte line");
  BOOST_TEST(cache.decode_errors() == 1u);
  BOOST_TEST(cache.synced());  // the (empty) list was applied; the bad event was not
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(hostile_dispatch_answers)

BOOST_AUTO_TEST_CASE(queue_bodies_that_are_not_json) {
  struct Row {
    std::string name;
    std::string body;
    std::string expect;  // the whole message
  };
  const Row rows[] = {
      {"nested deeper than the limit", nested(100), "dispatch queue: lane local: the answer is not JSON (nested deeper than 64 levels)"},
      {"truncated", R"([{"type":"issue","number":1,"repoF)", "dispatch queue: lane local: the answer is not JSON (incomplete JSON)"},
      {"invalid UTF-8", "[{\"type\":\"issue\",\"title\":\"\xff\"}]", "dispatch queue: lane local: the answer is not JSON (syntax error)"},
      {"an HTML page", "<html>maintenance</html>", "dispatch queue: lane local: the answer is not JSON (syntax error)"},
      {"empty", "", "dispatch queue: lane local: the answer is not JSON (incomplete JSON)"},
  };
  asio::io_context io;
  std::string body;
  test::TestServer server(io, [&](const test::TestRequest&) { return reply(200, body); });
  dispatch::ClientOptions o;
  o.url = server.url();
  o.token = "s3cret-token";
  o.max_attempts = 1;
  dispatch::Client client(io.get_executor(), o);
  for (const auto& r : rows) {
    BOOST_TEST_CONTEXT(r.name) {
      body = r.body;
      io.restart();
      auto call = [&]() -> awaitable<void> { co_await client.queue("local"); };
      try {
        run(io, call);
        BOOST_ERROR("expected a DispatchError");
      } catch (const dispatch::DispatchError& e) {
        BOOST_TEST(std::string(e.what()) == r.expect);
        BOOST_TEST(e.status() == 200);
        BOOST_TEST(!e.transient());
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(an_answer_beyond_the_body_limit) {
  // 64 MiB is the dispatch client's limit; one byte more is refused, not buffered.
  asio::io_context io;
  test::TestServer server(io, [](const test::TestRequest&) { return reply(200, std::string((64u << 20) + 1, ' ')); });
  dispatch::ClientOptions o;
  o.url = server.url();
  o.token = "s3cret-token";
  o.max_attempts = 1;
  dispatch::Client client(io.get_executor(), o);
  auto call = [&]() -> awaitable<void> { co_await client.queue("local"); };
  try {
    run(io, call);
    BOOST_ERROR("expected a DispatchError");
  } catch (const dispatch::DispatchError& e) {
    BOOST_TEST(std::string(e.what()) ==
               "dispatch queue: the answer is larger than 67108864 bytes (gave up after 1 attempts)");
    BOOST_TEST(e.transient());
  }
}

BOOST_AUTO_TEST_CASE(answers_of_the_wrong_shape) {
  // A whole answer of the wrong shape fails its call's parse (the caller fails that lane or
  // treats the issue state as unknown, with a warning).
  struct Row {
    std::string name;
    std::string body;
    std::string expect;
  };
  const Row rows[] = {
      {"queue: an object without items", R"({"error":"no such lane"})", "answer: expected an array of items, got an object"},
      {"queue: items not an array", R"({"items":{"0":{}}})", "answer: expected an array of items, got an object"},
      {"queue: a string", R"("[]")", "answer: expected an array of items, got a string"},
  };
  for (const auto& r : rows) {
    BOOST_TEST_CONTEXT(r.name) {
      const auto parsed = dispatch::select_candidates(json::parse(r.body), "local");
      BOOST_TEST_REQUIRE(std::holds_alternative<dispatch::ParseError>(parsed));
      BOOST_TEST(std::get<dispatch::ParseError>(parsed).what() == r.expect);
    }
  }
  // Bodies that are not JSON at all reach the parsers of claimed and state as null.
  BOOST_TEST(std::get<dispatch::ParseError>(dispatch::parse_claimed(json::value())).what() ==
             "answer: expected an array of issues, got null");
  BOOST_TEST(std::get<dispatch::ParseError>(dispatch::parse_issue_state(json::value())).what() ==
             "answer: expected an object, got null");
  BOOST_TEST(std::get<dispatch::ParseError>(dispatch::parse_issue_state(json::parse(R"({"state":null})"))).what() ==
             "state: expected \"open\" or \"closed\"");
}

BOOST_AUTO_TEST_CASE(items_of_the_wrong_types_are_skipped_and_reported) {
  // Each is one malformed item (logged "skipping a malformed queue item", counted in
  // foreman_bridge_dispatch_malformed_items_total{lane}); the items around it stay.
  const std::string good = R"({"type":"issue","number":1,"issueId":"a","repoFullName":"o/r","status":"status/ready","claimable":true})";
  struct Row {
    std::string name;
    std::string item;
    std::string expect;  // ParseError::what() at index 1
  };
  const Row rows[] = {
      {"number a boolean", R"({"type":"issue","number":true,"issueId":"b","repoFullName":"o/r"})",
       "item 1: number: expected a positive integer, got true"},
      {"number past int32", R"({"type":"issue","number":2147483648,"issueId":"b","repoFullName":"o/r"})",
       "item 1: number: expected a positive integer, got 2147483648"},
      {"number a fraction", R"({"type":"issue","number":1.25e1,"issueId":"b","repoFullName":"o/r"})",
       "item 1: number: expected a positive integer, got 1.25E1"},
      {"number beyond double", R"({"type":"issue","number":1e99999,"issueId":"b","repoFullName":"o/r"})",
       "item 1: number: expected a positive integer, got Infinity"},
      {"number with blanks", R"({"type":"issue","number":" 7","issueId":"b","repoFullName":"o/r"})",
       R"(item 1: number: expected a positive integer, got " 7")"},
      {"repo with a blank", R"({"type":"issue","number":2,"issueId":"b","repoFullName":"o/ r"})",
       R"(item 1: repoFullName: expected "owner/repo", got "o/ r")"},
      {"repo an object", R"({"type":"issue","number":2,"issueId":"b","repoFullName":{"owner":"o"}})",
       R"(item 1: repoFullName: expected "owner/repo", got {"owner":"o"})"},
      {"id a boolean", R"({"type":"issue","number":2,"issueId":false,"repoFullName":"o/r"})",
       "item 1: issueId: expected a non-empty string, got false"},
      {"id negative", R"({"type":"issue","number":2,"issueId":-1.5,"repoFullName":"o/r"})",
       "item 1: issueId: expected a non-empty string, got -1.5E0"},
      {"a long value is cut", R"({"type":"issue","number":")" + std::string(100, '9') + R"(","issueId":"b","repoFullName":"o/r"})",
       R"(item 1: number: expected a positive integer, got ")" + std::string(56, '9') + "..."},
      {"an array", "[1,2]", "item 1: (item): expected an object, got an array"},
  };
  for (const auto& r : rows) {
    BOOST_TEST_CONTEXT(r.name) {
      const auto parsed = dispatch::select_candidates(json::parse("[" + good + "," + r.item + "," + good + "]"), "local");
      BOOST_TEST_REQUIRE(std::holds_alternative<dispatch::Selection>(parsed));
      const auto& sel = std::get<dispatch::Selection>(parsed);
      BOOST_TEST(sel.candidates.size() == 2u);
      BOOST_TEST_REQUIRE(sel.malformed.size() == 1u);
      BOOST_TEST(sel.malformed[0].what() == r.expect);
    }
  }
  // Wrong types where a value is optional read as absent, not as an error.
  const auto lenient = dispatch::parse_queue_item(json::parse(
      R"({"type":"issue","number":3,"issueId":"c","repoFullName":"o/r","labels":"status/ready","title":7,"claimable":"yes"})"));
  BOOST_TEST_REQUIRE(std::holds_alternative<dispatch::QueueItem>(lenient));
  const auto& item = std::get<dispatch::QueueItem>(lenient);
  BOOST_TEST(item.labels.empty());
  BOOST_TEST(item.title.empty());
  BOOST_TEST(!item.claimable);
}

BOOST_AUTO_TEST_SUITE_END()

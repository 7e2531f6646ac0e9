#include "watch/errors.hpp"
#include "watch/event_stream.hpp"

#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

using namespace fdb::kube;

BOOST_AUTO_TEST_SUITE(event_lines)

namespace {
std::vector<std::string> split_every(std::string_view data, std::size_t step, std::size_t max = 1024) {
  LineSplitter s(max);
  std::vector<std::string> out;
  for (std::size_t i = 0; i < data.size(); i += step) {
    s.feed(data.substr(i, step), [&](std::string_view line) { out.emplace_back(line); });
  }
  return out;
}
}  // namespace

BOOST_AUTO_TEST_CASE(any_chunk_boundary_gives_the_same_lines) {
  // Multi-byte UTF-8 (é, 日本, 🚀) so that some boundaries fall inside a sequence.
  const std::string data =
      "{\"type\":\"ADDED\",\"t\":\"caf\xc3\xa9\"}\n"
      "{\"type\":\"MODIFIED\",\"t\":\"\xe6\x97\xa5\xe6\x9c\xac\"}\r\n"
      "\n"
      "{\"type\":\"DELETED\",\"t\":\"\xf0\x9f\x9a\x80\"}\n";
  const std::vector<std::string> expected = {
      "{\"type\":\"ADDED\",\"t\":\"caf\xc3\xa9\"}",
      "{\"type\":\"MODIFIED\",\"t\":\"\xe6\x97\xa5\xe6\x9c\xac\"}",
      "{\"type\":\"DELETED\",\"t\":\"\xf0\x9f\x9a\x80\"}",
  };
  for (std::size_t step = 1; step <= data.size(); ++step) {
    BOOST_TEST_CONTEXT("chunks of " << step) { BOOST_TEST(split_every(data, step) == expected); }
  }
}

BOOST_AUTO_TEST_CASE(unfinished_line_is_held_back) {
  LineSplitter s;
  std::vector<std::string> out;
  auto sink = [&](std::string_view l) { out.emplace_back(l); };
  s.feed("{\"a\":1}\n{\"b\"", sink);
  BOOST_TEST(out.size() == 1u);
  BOOST_TEST(s.buffered() == 4u);
  s.feed(":2}", sink);
  BOOST_TEST(out.size() == 1u);
  s.feed("\n", sink);
  BOOST_TEST(out.size() == 2u);
  BOOST_TEST(out[1] == "{\"b\":2}");
  BOOST_TEST(s.buffered() == 0u);
  s.feed("tail", sink);
  BOOST_TEST(s.take_rest() == "tail");
}

BOOST_AUTO_TEST_CASE(oversized_line_is_rejected) {
  // In one chunk, across chunks, and a line that is exactly the cap (accepted).
  BOOST_CHECK_THROW(split_every(std::string(11, 'x') + "\n", 100, 10), LineTooLong);
  BOOST_CHECK_THROW(split_every(std::string(11, 'x') + "\n", 3, 10), LineTooLong);
  BOOST_CHECK_THROW(split_every(std::string(50, 'x'), 7, 10), LineTooLong);  // never ends
  BOOST_TEST(split_every(std::string(10, 'x') + "\n", 3, 10).size() == 1u);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(event_decoding)

BOOST_AUTO_TEST_CASE(types) {
  struct Row {
    std::string line;
    EventType type;
    std::string rv;
  };
  const Row rows[] = {
      {R"({"type":"ADDED","object":{"metadata":{"name":"a","resourceVersion":"5"}}})", EventType::Added, "5"},
      {R"({"type":"MODIFIED","object":{"metadata":{"resourceVersion":"6"}}})", EventType::Modified, "6"},
      {R"({"type":"DELETED","object":{"metadata":{}}})", EventType::Deleted, ""},
      {R"({"type":"BOOKMARK","object":{"kind":"Workload","metadata":{"resourceVersion":"99","annotations":{"k8s.io/initial-events-end":"true"}}}})",
       EventType::Bookmark, "99"},
      {R"({"type":"ERROR","object":{"kind":"Status","code":410,"reason":"Expired"}})", EventType::Error, ""},
  };
  for (const auto& r : rows) {
    BOOST_TEST_CONTEXT(r.line) {
      const auto ev = decode_event(r.line);
      BOOST_TEST(static_cast<int>(ev.type) == static_cast<int>(r.type));
      BOOST_TEST(ev.resource_version() == r.rv);
    }
  }
}

BOOST_AUTO_TEST_CASE(malformed_lines_are_decode_errors) {
  const std::string deep = std::string(200, '[') + std::string(200, ']');
  const std::string rows[] = {
      "not json",
      "[]",
      R"({"object":{}})",
      R"({"type":5,"object":{}})",
      R"({"type":"RENAMED","object":{}})",
      R"({"type":"ADDED"})",
      R"({"type":"ADDED","object":[1]})",
      R"({"type":"ADDED","object":)" + deep + "}",
      "{\"type\":\"ADDED\",\"object\":{\"a\":\"\xff\xfe\"}}",
  };
  for (const auto& line : rows) {
    BOOST_TEST_CONTEXT(line.substr(0, 60)) {
      try {
        decode_event(line);
        BOOST_ERROR("expected ApiError");
      } catch (const ApiError& e) {
        BOOST_TEST(static_cast<int>(e.kind()) == static_cast<int>(ErrorKind::Decode));
      }
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()

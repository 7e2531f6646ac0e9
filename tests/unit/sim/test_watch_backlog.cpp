// kube-sim: a watcher's backlog counts every line in and out (events and bookmarks), so a
// watcher that reads keeps a small backlog however long it runs, and one that stops reading
// passes the limit once its real backlog does.
#include "sim/watch_backlog.hpp"

#include <boost/test/unit_test.hpp>

using fdb::sim::WatchBacklog;

namespace {
std::shared_ptr<const std::string> line(std::size_t n) { return std::make_shared<const std::string>(n, 'x'); }
}  // namespace

BOOST_AUTO_TEST_SUITE(sim_watch_backlog)

BOOST_AUTO_TEST_CASE(a_reading_watcher_keeps_a_small_backlog) {
  WatchBacklog b(1000);
  // A long quiet run: a bookmark at a time, each written out before the next; then events.
  for (int i = 0; i < 10000; ++i) {
    BOOST_TEST_REQUIRE(b.push(line(120)));
    std::string out;
    BOOST_TEST(b.take(out, 4u << 20) == 1u);
    BOOST_TEST(out.size() == 120u);
    BOOST_TEST_REQUIRE(b.bytes() == 0u);
  }
  BOOST_TEST(b.push(line(300)));
  BOOST_TEST(b.push(line(300)));
  BOOST_TEST(b.bytes() == 600u);
  BOOST_TEST(b.lines() == 2u);
}

BOOST_AUTO_TEST_CASE(take_stops_at_the_chunk_size_and_counts_what_is_left) {
  WatchBacklog b(1u << 20);
  for (int i = 0; i < 10; ++i) BOOST_TEST_REQUIRE(b.push(line(100)));
  std::string out;
  BOOST_TEST(b.take(out, 250) == 3u);  // stops once `out` holds at least 250 bytes
  BOOST_TEST(out.size() == 300u);
  BOOST_TEST(b.bytes() == 700u);
  BOOST_TEST(b.lines() == 7u);
  std::string rest;
  BOOST_TEST(b.take(rest, 4u << 20) == 7u);
  BOOST_TEST(b.bytes() == 0u);
  BOOST_TEST(b.empty());
  BOOST_TEST(b.take(rest, 4u << 20) == 0u);
}

BOOST_AUTO_TEST_CASE(a_watcher_that_stops_reading_passes_the_limit_with_its_real_backlog) {
  struct Row {
    std::size_t limit, line_bytes;
    int lines_within;  // pushes that stay within the limit; the next one passes it
  } rows[] = {{1000, 100, 10}, {1000, 300, 3}, {1000, 1001, 0}, {268435456, 1u << 20, 256}};
  for (const auto& r : rows) {
    BOOST_TEST_CONTEXT("limit " << r.limit << ", lines of " << r.line_bytes) {
      WatchBacklog b(r.limit);
      for (int i = 0; i < r.lines_within; ++i) BOOST_TEST_REQUIRE(b.push(line(r.line_bytes)));
      BOOST_TEST(!b.push(line(r.line_bytes)));
      BOOST_TEST(b.bytes() == r.line_bytes * static_cast<std::size_t>(r.lines_within + 1));
      BOOST_TEST(b.bytes() > b.limit());
      b.clear();
      BOOST_TEST(b.bytes() == 0u);
      BOOST_TEST(b.empty());
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()

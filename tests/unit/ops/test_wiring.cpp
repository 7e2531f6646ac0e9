// The controller's pure wiring as tables: cache keys to Workload names, and what each
// typed informer event counts and how loudly it is logged.
#include "operator/wiring.hpp"

#include <boost/test/unit_test.hpp>

using namespace fdb;
using namespace fdb::op;
using kube::InformerEventKind;

BOOST_AUTO_TEST_SUITE(wiring)

BOOST_AUTO_TEST_CASE(a_cache_key_names_its_workload) {
  struct Row {
    std::string_view key, name;
  };
  const Row rows[] = {
      {"llm/wl-1", "wl-1"},
      {"wl-1", "wl-1"},  // cluster-scoped: the key is the name
      {"llm/", ""},
      {"", ""},
      {"a/b/c", "b/c"},  // names hold no '/': only the first one separates the namespace
  };
  for (const auto& r : rows) {
    BOOST_TEST_CONTEXT(r.key) { BOOST_TEST(name_from_cache_key(r.key) == r.name); }
  }
}

BOOST_AUTO_TEST_CASE(each_kind_counts_as_documented) {
  struct Row {
    InformerEventKind kind;
    bool relist, restart;
    log::Level level;
  };
  // docs/metrics.md: a relist is a full list applied, the first one included; a restart a
  // watch re-opened from the last resourceVersion after it failed or ended at once.
  const Row rows[] = {
      {InformerEventKind::Listed, true, false, log::Level::Info},
      {InformerEventKind::ListFailed, false, false, log::Level::Warn},
      {InformerEventKind::ListExpired, false, false, log::Level::Warn},
      {InformerEventKind::WatchExpired, false, false, log::Level::Warn},  // its relist counts once applied
      {InformerEventKind::WatchFailed, false, true, log::Level::Warn},
      {InformerEventKind::WatchEndedAtOnce, false, true, log::Level::Warn},
      {InformerEventKind::WatchEnded, false, false, log::Level::Debug},  // routine, every 5–10 minutes
      {InformerEventKind::StreamingUnavailable, false, false, log::Level::Warn},
  };
  for (const auto& r : rows) {
    BOOST_TEST_CONTEXT(kube::to_string(r.kind)) {
      const WatchCounts c = watch_counts(r.kind);
      BOOST_TEST(c.relist == r.relist);
      BOOST_TEST(c.restart == r.restart);
      BOOST_TEST(static_cast<int>(log_level(r.kind)) == static_cast<int>(r.level));
    }
  }
}

BOOST_AUTO_TEST_CASE(fallbacks_count_what_came_since_the_last_scrape) {
  // Scrapes in turn: each row the decoder's counts at that scrape (decoded, refused,
  // kept double, duplicate key) and what the counter gains.
  struct Row {
    kube::FastCounts now;
    FallbackIncrements gained;
  };
  const Row rows[] = {
      {{0, 0, 0, 0}, {0, 0, 0}},        // the first scrape before any line
      {{500, 0, 0, 0}, {0, 0, 0}},      // every line on the fast path
      {{900, 1, 2, 0}, {1, 2, 0}},      // one refused, two kept doubles
      {{900, 1, 2, 0}, {0, 0, 0}},      // nothing since
      {{1000, 4, 2, 3}, {3, 0, 3}},     // more of two reasons
      {{10, 1, 0, 0}, {1, 0, 0}},       // a new decoder (counts below the last): from zero
      {{20, 1, 0, 5}, {0, 0, 5}},
  };
  kube::FastCounts seen;
  int scrape = 0;
  for (const auto& r : rows) {
    BOOST_TEST_CONTEXT("scrape " << scrape++) {
      BOOST_TEST((fallback_increments(r.now, seen) == r.gained));
      BOOST_TEST(seen.refused == r.now.refused);
      BOOST_TEST(seen.kept_double == r.now.kept_double);
      BOOST_TEST(seen.duplicate_key == r.now.duplicate_key);
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()

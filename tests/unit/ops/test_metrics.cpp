// The metrics registry and its text exposition, read back with a strict parser.
#include "operator/metrics.hpp"
#include "support/prom_parser.hpp"

#include <boost/test/unit_test.hpp>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <thread>

using namespace fdb::metrics;
namespace prom = fdb::test::prom;

namespace {

prom::Exposition parse_ok(const std::string& text) {
  auto e = prom::parse(text);
  for (const auto& err : e.errors) BOOST_ERROR("exposition: " << err);
  if (!e.errors.empty()) BOOST_TEST_MESSAGE(text);
  return e;
}

const prom::Sample* sample(const prom::Family& f, const std::string& name,
                           const std::map<std::string, std::string>& labels) {
  for (const auto& s : f.samples)
    if (s.name == name && s.labels == labels) return &s;
  return nullptr;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(metrics)

// The parser itself must catch what it is there to catch.
BOOST_AUTO_TEST_CASE(the_test_parser_rejects_broken_expositions) {
  const std::vector<std::pair<std::string, std::string>> broken = {
      {"sample without TYPE", "x 1\n"},
      {"bad value", "# TYPE x gauge\nx one\n"},
      {"bad escape", "# TYPE x gauge\nx{a=\"\\t\"} 1\n"},
      {"unterminated label", "# TYPE x gauge\nx{a=\"v} 1\n"},
      {"no newline at the end", "# TYPE x gauge\nx 1"},
      {"not cumulative",
       "# TYPE h histogram\nh_bucket{le=\"1\"} 5\nh_bucket{le=\"+Inf\"} 4\nh_sum 1\nh_count 4\n"},
      {"no +Inf", "# TYPE h histogram\nh_bucket{le=\"1\"} 5\nh_sum 1\nh_count 5\n"},
      {"count differs", "# TYPE h histogram\nh_bucket{le=\"+Inf\"} 5\nh_sum 1\nh_count 4\n"},
      {"not grouped", "# TYPE a gauge\n# TYPE b gauge\na 1\nb 1\n"},
      {"duplicate", "# TYPE a gauge\na{x=\"1\"} 1\na{x=\"1\"} 2\n"},
      {"negative counter", "# TYPE c_total counter\nc_total -1\n"},
      {"second TYPE", "# TYPE a gauge\n# TYPE a counter\na 1\n"},
  };
  for (const auto& [what, text] : broken) {
    BOOST_TEST_CONTEXT(what) { BOOST_TEST(!prom::parse(text).errors.empty()); }
  }
  BOOST_TEST(prom::parse("# HELP a x\n# TYPE a gauge\na{b=\"c\\\\\\\"\\n\"} 1.5e-3\n").errors.empty());
}

BOOST_AUTO_TEST_CASE(values_are_written_as_go_reads_them) {
  const std::vector<std::pair<double, std::string>> cases = {
      {0, "0"},          {1, "1"},          {-2, "-2"},
      {0.1, "0.1"},      {2.5, "2.5"},      {1e-8, "1e-08"},
      {123456789, "123456789"},
      {std::numeric_limits<double>::infinity(), "+Inf"},
      {-std::numeric_limits<double>::infinity(), "-Inf"},
      {std::nan(""), "NaN"},
  };
  for (const auto& [v, want] : cases) BOOST_TEST(format_value(v) == want);
  // Shortest round trip.
  for (double v : {0.1 + 0.2, 1.0 / 3, 6.02214076e23, 5e-324}) BOOST_TEST(std::strtod(format_value(v).c_str(), nullptr) == v);
}

BOOST_AUTO_TEST_CASE(exposition_parses_and_reads_back_every_value) {
  Registry r;
  auto& requests = r.counter("http_requests_total", "Requests.\nSecond line with a \\ backslash.", {"method", "code"});
  auto& temp = r.gauge("temperature_celsius", "A gauge.");
  auto& lat = r.histogram("latency_seconds", "Latency.", {"path"}, {0.1, 0.5, 1});
  requests.labels({"GET", "200"}).inc(3);
  requests.labels({"POST", "500"}).inc();
  temp.get().set(-4.25);
  for (double v : {0.05, 0.1, 0.3, 0.7, 2.0, 9.0}) lat.labels({"/a"}).observe(v);
  lat.labels({"/b"}).observe(0.5);

  const auto text = r.expose();
  const auto e = parse_ok(text);
  BOOST_TEST_REQUIRE(e.families.size() == 3u);
  // Families sorted by name.
  BOOST_TEST(e.families[0].name == "http_requests_total");
  BOOST_TEST(e.families[1].name == "latency_seconds");
  BOOST_TEST(e.families[2].name == "temperature_celsius");

  const auto& c = *e.find("http_requests_total");
  BOOST_TEST(c.type == "counter");
  BOOST_TEST(c.help == "Requests.\nSecond line with a \\ backslash.");
  BOOST_TEST_REQUIRE(c.samples.size() == 2u);
  BOOST_TEST(sample(c, "http_requests_total", {{"method", "GET"}, {"code", "200"}})->value == 3);
  BOOST_TEST(sample(c, "http_requests_total", {{"method", "POST"}, {"code", "500"}})->value == 1);

  const auto& g = *e.find("temperature_celsius");
  BOOST_TEST(g.type == "gauge");
  BOOST_TEST_REQUIRE(g.samples.size() == 1u);
  BOOST_TEST(g.samples[0].labels.empty());
  BOOST_TEST(g.samples[0].value == -4.25);

  const auto& h = *e.find("latency_seconds");
  BOOST_TEST(h.type == "histogram");
  // /a: 0.05 0.1 | 0.3 | 0.7 | 2 9  (le is inclusive)
  const std::vector<std::pair<std::string, double>> want = {{"0.1", 2}, {"0.5", 3}, {"1", 4}, {"+Inf", 6}};
  for (const auto& [le, n] : want) {
    const auto* s = sample(h, "latency_seconds_bucket", {{"path", "/a"}, {"le", le}});
    BOOST_TEST_REQUIRE(s);
    BOOST_TEST(s->value == n, "le=" << le);
  }
  BOOST_TEST(sample(h, "latency_seconds_sum", {{"path", "/a"}})->value == 0.05 + 0.1 + 0.3 + 0.7 + 2.0 + 9.0);
  BOOST_TEST(sample(h, "latency_seconds_count", {{"path", "/a"}})->value == 6);
  BOOST_TEST(sample(h, "latency_seconds_bucket", {{"path", "/b"}, {"le", "0.1"}})->value == 0);
  BOOST_TEST(sample(h, "latency_seconds_bucket", {{"path", "/b"}, {"le", "0.5"}})->value == 1);
  BOOST_TEST(h.samples.size() == 2u * (4 + 2));

  // Stable: the same state gives the same text.
  BOOST_TEST(r.expose() == text);
}

BOOST_AUTO_TEST_CASE(label_values_round_trip_through_escaping) {
  const std::vector<std::string> values = {
      "plain", "with \"quotes\"", "back\\slash", "new\nline", "trailing\\", "\\n literally",
      "utf-8 é ☃", "{braces},=commas", "", "\"\\\n\"",
  };
  Registry r;
  auto& f = r.gauge("odd_labels", "Label escaping.", {"v"});
  for (std::size_t i = 0; i < values.size(); ++i) f.labels({values[i]}).set(static_cast<double>(i));
  const auto e = parse_ok(r.expose());
  const auto* fam = e.find("odd_labels");
  BOOST_TEST_REQUIRE(fam);
  BOOST_TEST_REQUIRE(fam->samples.size() == values.size());
  for (std::size_t i = 0; i < values.size(); ++i) {
    const auto* s = sample(*fam, "odd_labels", {{"v", values[i]}});
    BOOST_TEST_REQUIRE(s, "value " << i);
    BOOST_TEST(s->value == static_cast<double>(i));
  }
  BOOST_TEST(escape_label_value("a\"b\\c\nd") == "a\\\"b\\\\c\\nd");
  BOOST_TEST(escape_help("a\"b\\c\nd") == "a\"b\\\\c\\nd");
}

BOOST_AUTO_TEST_CASE(histogram_buckets_are_cumulative_and_end_with_inf) {
  Histogram h({1, 2, 4});
  for (double v : {-1.0, 0.0, 1.0, 1.5, 2.0, 3.0, 4.0, 4.5, 1e9, std::numeric_limits<double>::infinity()}) h.observe(v);
  h.observe(std::nan(""));  // ignored
  const auto s = h.snapshot();
  BOOST_TEST(s.bounds == (std::vector<double>{1, 2, 4}));
  BOOST_TEST(s.cumulative == (std::vector<std::uint64_t>{3, 5, 7, 10}));
  BOOST_TEST(s.count == 10u);
  BOOST_TEST(std::isinf(s.sum));

  BOOST_CHECK_THROW(Histogram({1, 1}), std::invalid_argument);
  BOOST_CHECK_THROW(Histogram({2, 1}), std::invalid_argument);
  BOOST_CHECK_THROW(Histogram({1, std::numeric_limits<double>::infinity()}), std::invalid_argument);
  BOOST_TEST(exponential_buckets(1, 2, 4) == (std::vector<double>{1, 2, 4, 8}));
  BOOST_TEST(linear_buckets(0, 5, 3) == (std::vector<double>{0, 5, 10}));
  BOOST_TEST(default_buckets().size() == 11u);
  BOOST_CHECK_THROW(exponential_buckets(0, 2, 4), std::invalid_argument);
  BOOST_CHECK_THROW(linear_buckets(0, 0, 4), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(declarations_are_checked) {
  Registry r;
  BOOST_CHECK_THROW(r.counter("1bad", "x"), std::invalid_argument);
  BOOST_CHECK_THROW(r.counter("bad-name", "x"), std::invalid_argument);
  BOOST_CHECK_THROW(r.counter("ok_total", "x", {"bad-label"}), std::invalid_argument);
  BOOST_CHECK_THROW(r.counter("ok_total", "x", {"__reserved"}), std::invalid_argument);
  BOOST_CHECK_THROW(r.counter("ok_total", "x", {"a", "a"}), std::invalid_argument);
  BOOST_CHECK_THROW(r.histogram("h", "x", {"le"}), std::invalid_argument);
  BOOST_TEST(r.find("ok_total") == nullptr);

  auto& a = r.counter("ok_total", "x", {"a"});
  BOOST_TEST(&r.counter("ok_total", "x", {"a"}) == &a);  // the same declaration again
  BOOST_CHECK_THROW(r.counter("ok_total", "other help", {"a"}), std::invalid_argument);
  BOOST_CHECK_THROW(r.counter("ok_total", "x", {"b"}), std::invalid_argument);
  BOOST_CHECK_THROW(r.gauge("ok_total", "x", {"a"}), std::invalid_argument);
  BOOST_TEST(r.find("ok_total") == &a);

  BOOST_CHECK_THROW(a.labels({"1", "2"}), std::invalid_argument);
  BOOST_CHECK_THROW(a.get(), std::invalid_argument);
  BOOST_CHECK_THROW(a.labels({"x"}).inc(-1), std::invalid_argument);
  BOOST_TEST(&a.labels({"x"}) == &a.labels({"x"}));
  a.labels({"x"}).inc(2.5);
  BOOST_TEST(a.labels({"x"}).value() == 2.5);

  auto& g = r.gauge("g", "x");
  g.get().inc(3);
  g.get().dec(5);
  BOOST_TEST(g.get().value() == -2);
}

BOOST_AUTO_TEST_CASE(collect_hooks_run_before_each_exposition) {
  Registry r;
  auto& g = r.gauge("queue_age_seconds", "x");
  int calls = 0;
  r.on_collect([&] { g.get().set(++calls * 10); });
  auto e = parse_ok(r.expose());
  BOOST_TEST(e.find("queue_age_seconds")->samples.at(0).value == 10);
  e = parse_ok(r.expose());
  BOOST_TEST(e.find("queue_age_seconds")->samples.at(0).value == 20);
}

BOOST_AUTO_TEST_CASE(updates_from_many_threads_are_all_counted) {
  Registry r;
  auto& c = r.counter("hits_total", "x", {"t"});
  auto& h = r.histogram("obs", "x", {}, {1});
  auto& g = r.gauge("level", "x");
  constexpr int kThreads = 4, kEach = 20000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        c.labels({std::to_string(i % 3)}).inc();
        h.get().observe(t % 2 ? 0.5 : 2.0);
        g.get().inc();
        if (i % 1000 == 0) (void)r.expose();  // concurrent scrapes
      }
    });
  }
  for (auto& th : threads) th.join();
  double total = 0;
  for (const auto& [labels, child] : c.children()) total += child->value();
  BOOST_TEST(total == kThreads * kEach);
  BOOST_TEST(h.get().snapshot().count == static_cast<std::uint64_t>(kThreads * kEach));
  BOOST_TEST(h.get().snapshot().cumulative.at(0) == static_cast<std::uint64_t>(kThreads / 2 * kEach));
  BOOST_TEST(g.get().value() == kThreads * kEach);
  parse_ok(r.expose());
}

BOOST_AUTO_TEST_CASE(the_bridge_declares_every_family_and_documents_it) {
  Registry r;
  auto m = declare_bridge_metrics(r);
  // Touch one child of every family so each writes samples.
  m.workqueue_depth.labels({"retry"}).set(2);
  m.workqueue_adds_total.labels({"retry"}).inc();
  m.workqueue_queue_duration_seconds.labels({"retry"}).observe(0.002);
  m.workqueue_work_duration_seconds.labels({"retry"}).observe(0.3);
  m.workqueue_retries_total.labels({"retry"}).inc();
  m.workqueue_unfinished_work_seconds.labels({"retry"}).set(1.5);
  m.workqueue_longest_running_processor_seconds.labels({"retry"}).set(1.5);
  m.leader_election_master_status.labels({"foreman-dispatch-bridge"}).set(1);
  m.rest_client_requests_total.labels({"GET", "200"}).inc();
  m.rest_client_request_duration_seconds.labels({"GET"}).observe(0.01);
  m.watch_restarts_total.labels({"workloads"}).inc();
  m.watch_relists_total.labels({"workloads"}).inc();
  m.watch_decode_fallbacks_total.labels({"workloads", "kept-double"}).inc();
  m.cache_objects.labels({"workloads"}).set(12);
  m.claims_total.labels({"local", "claimed"}).inc();
  m.workloads_created_total.labels({"local"}).inc();
  m.retries_total.labels({"2"}).inc();
  m.tombstones_total.labels({"issue_closed"}).inc();
  m.parks_total.labels({"design_decision"}).inc();
  m.escalations_total.labels({"local", "frontier"}).inc();
  m.dispatch_requests_total.labels({"claim", "200"}).inc();
  m.dispatch_request_duration_seconds.labels({"claim", "200"}).observe(0.2);
  m.dispatch_malformed_items_total.labels({"local"}).inc();
  m.github_requests_total.labels({"branch", "404"}).inc();
  m.failed_to_recreate_seconds.get().observe(7);
  m.task_reads_total.labels({"cache"}).inc();
  m.sweeps_total.labels({"prune", "completed"}).inc();
  m.reconcile_total.labels({"retry", "success"}).inc();
  m.reconcile_duration_seconds.labels({"retry"}).observe(0.05);
  m.build_info.labels({"1.2.3"}).set(1);

  const auto e = parse_ok(r.expose());
  BOOST_TEST(e.families.size() == 30u);
  const std::set<std::string> client_go = {
      "workqueue_depth", "workqueue_adds_total", "workqueue_queue_duration_seconds",
      "workqueue_work_duration_seconds", "workqueue_retries_total", "workqueue_unfinished_work_seconds",
      "workqueue_longest_running_processor_seconds", "leader_election_master_status",
      "rest_client_requests_total", "rest_client_request_duration_seconds"};
  for (const auto& f : e.families) {
    BOOST_TEST_CONTEXT(f.name) {
      BOOST_TEST((client_go.count(f.name) == 1 || f.name.starts_with("foreman_bridge_")));
      BOOST_TEST(!f.help.empty());
      BOOST_TEST(!f.samples.empty());
      if (f.type == "counter") BOOST_TEST(f.name.ends_with("_total"));
    }
  }
  for (const auto& n : client_go) BOOST_TEST(e.find(n) != nullptr, n);
  BOOST_TEST(e.find("workqueue_depth")->samples.at(0).labels.at("name") == "retry");
  BOOST_TEST(e.find("rest_client_requests_total")->samples.at(0).labels.at("verb") == "GET");

  // Declaring again is harmless (the same families come back).
  auto again = declare_bridge_metrics(r);
  BOOST_TEST(&again.claims_total == &m.claims_total);

  // docs/metrics.md names every family with its type and help text.
  const char* src = std::getenv("FDB_SOURCE_DIR");
  BOOST_TEST_REQUIRE(src, "FDB_SOURCE_DIR is not set");
  std::ifstream in(std::filesystem::path(src) / "docs" / "metrics.md");
  BOOST_TEST_REQUIRE(in.good(), "docs/metrics.md is missing");
  std::stringstream ss;
  ss << in.rdbuf();
  const auto doc = ss.str();
  for (const auto& f : e.families) {
    BOOST_TEST_CONTEXT(f.name) {
      BOOST_TEST(doc.find("`" + f.name + "`") != std::string::npos);
      BOOST_TEST(doc.find(f.help) != std::string::npos);
      const auto* fam = r.find(f.name);
      std::string labels;
      for (const auto& l : fam->label_names()) labels += (labels.empty() ? "" : ", ") + ("`" + l + "`");
      if (!labels.empty()) BOOST_TEST(doc.find(labels) != std::string::npos);
    }
  }
}

BOOST_AUTO_TEST_CASE(the_api_client_observer_counts_by_verb_and_code) {
  Registry r;
  auto m = declare_bridge_metrics(r);
  auto observe = rest_client_observer(m);
  observe("GET", 200, 0.01);
  observe("GET", 200, 0.02);
  observe("PUT", 409, 0.03);
  observe("GET", 0, 30);
  BOOST_TEST(m.rest_client_requests_total.labels({"GET", "200"}).value() == 2);
  BOOST_TEST(m.rest_client_requests_total.labels({"PUT", "409"}).value() == 1);
  BOOST_TEST(m.rest_client_requests_total.labels({"GET", "<error>"}).value() == 1);
  const auto get = m.rest_client_request_duration_seconds.labels({"GET"}).snapshot();
  BOOST_TEST(get.count == 3u);
  BOOST_TEST(get.sum == 30.03, boost::test_tools::tolerance(1e-9));
  const auto e = parse_ok(r.expose());
  BOOST_TEST(sample(*e.find("rest_client_requests_total"), "rest_client_requests_total",
                    {{"verb", "GET"}, {"code", "<error>"}})
                 ->value == 1);
}

BOOST_AUTO_TEST_SUITE_END()

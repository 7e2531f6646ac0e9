// watch-bench: lists and watches a resource through the real informer (WatchCache) until
// it has seen a given number of watch events, then prints one JSON line: objects listed,
// list seconds, watch events per second, peak RSS, RSS per cached object, and the raw
// Boost.JSON parse speed of the same event bytes (the ceiling).
//
//   watch-bench --kubeconfig K --namespace NS --resource workloads.foreman.llmkube.dev
//               [--events N] [--timeout S] [--projection bridge|full] [--mode informer|transport]
//
// --mode transport lists (one page, to learn the version) and reads the watch through the
// same API client, counting lines and parsing nothing: the cost of the socket, the HTTP
// chunking and the line splitting alone, against which the informer's figure is read.
// --mode seed creates --objects Workloads (wl-bench-N, --shape, --bytes) on the API server,
// --mode churn patches --events of them: compare_watch.sh's kubeconfig mode, for servers
// other than kube-sim (tests/bench/bench_seed.hpp).
#include "operator/informers.hpp"
#include "tests/bench/bench_seed.hpp"
#include "tests/bench/watch_ceilings.hpp"
#include "tests/support/tool_options.hpp"
#include "watch/client_io.hpp"
#include "watch/config.hpp"
#include "watch/event_stream.hpp"
#include "watch/watch_cache_io.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json/monotonic_resource.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/program_options.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <malloc.h>
#include <cstdio>
#include <fstream>
#include <optional>
#include <iostream>
#include <sstream>

namespace asio = boost::asio;
namespace json = boost::json;
namespace po = boost::program_options;
using namespace fdb;
using Clock = std::chrono::steady_clock;

namespace {

long rss_kb(const char* field) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field, 0) == 0) return std::stol(line.substr(std::string(field).size()));
  }
  return -1;
}

kube::ResourceType parse_resource(const std::string& r) {
  // plural.group (workloads.foreman.llmkube.dev) or a core plural (configmaps).
  if (r == "workloads.foreman.llmkube.dev" || r == "workloads") return kube::workloads();
  if (r == "agentictasks.foreman.llmkube.dev" || r == "agentictasks") return kube::agentic_tasks();
  if (r == "configmaps") return kube::config_maps();
  if (r == "leases.coordination.k8s.io" || r == "leases") return kube::leases();
  throw std::invalid_argument("--resource: unknown resource " + r);
}

// Reads the watch through the API client and counts its lines: nothing is parsed.
int transport_only(asio::io_context& io, kube::Client& client, const kube::ResourceType& type, const std::string& ns,
                   long events_wanted, double timeout_s) {
  const kube::Requests requests(type, ns);
  long lines = 0;
  std::size_t bytes = 0;
  Clock::time_point first{}, last{}, listed{};
  std::string rv;
  const auto start = Clock::now();
  auto run = [&]() -> asio::awaitable<void> {
    kube::ListOptions lo;
    lo.limit = 1;
    const auto list = requests.list(lo);
    const json::value page = json::parse(co_await client.call(list));
    rv = std::string(page.at("metadata").at("resourceVersion").as_string());
    listed = Clock::now();
    std::fprintf(stderr, "watch-bench: listed (version %s); waiting for %ld events\n", rv.c_str(), events_wanted);
    kube::WatchOptions wo;
    wo.resource_version = rv;
    wo.timeout_seconds = static_cast<std::int64_t>(timeout_s);
    const auto watch = requests.watch(wo);
    co_await client.stream(watch,
                           [&](std::string_view line) {
                             if (lines == 0) first = Clock::now();
                             bytes += line.size() + 1;
                             if (++lines == events_wanted) {
                               last = Clock::now();
                               io.stop();
                             }
                           },
                           std::chrono::seconds(static_cast<long>(timeout_s)));
  };
  asio::co_spawn(io, run(), [](std::exception_ptr e) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& x) {
      std::fprintf(stderr, "watch-bench: %s\n", x.what());
    }
  });
  io.run_for(std::chrono::milliseconds(static_cast<long>(timeout_s * 1000)));
  const bool done = lines >= events_wanted;
  const double secs = done ? std::chrono::duration<double>(last - first).count() : -1;
  std::printf(
      "{\"tool\":\"watch-bench-transport\",\"objects_listed\":0,\"list_seconds\":%.3f,\"watch_events\":%ld,"
      "\"watch_seconds\":%.3f,\"watch_events_per_second\":%.0f,\"watch_megabytes_per_second\":%.0f,"
      "\"peak_rss_kb\":%ld,\"rss_per_object_bytes\":0,\"completed\":%s}\n",
      std::chrono::duration<double>(listed - start).count(), lines, secs,
      done && secs > 0 ? static_cast<double>(lines) / secs : 0.0, done && secs > 0 ? static_cast<double>(bytes) / secs / 1e6 : 0.0,
      rss_kb("VmHWM:"), done ? "true" : "false");
  return done ? 0 : 1;
}

// Has kube-sim answer the informer's next watch with 410 Expired, then drop the watches:
// the informer relists while its cache is full. Returns the peak RSS during that relist
// (the peak is reset first, after giving freed heap back), or -1 when no relist came.
// `lists` counts the informer's completed lists (on_listed).
long sim_relist_peak_kb(asio::io_context& io, kube::Client& client, const std::string& watch_path, const int& lists,
                        double timeout_s) {
  malloc_trim(0);
  std::ofstream("/proc/self/clear_refs") << "5";  // resets VmHWM to the current RSS
  const int before = lists;
  auto poke = [](kube::Client* c, std::string path) -> asio::awaitable<void> {
    const kube::HttpRequest expire{"POST", "/_sim/faults",
                                   R"({"method":"GET","code":410,"count":1,"watchOnly":true,"path":")" + path + "\"}",
                                   "application/json"};
    co_await c->call(expire);
    const kube::HttpRequest drop{"POST", "/_sim/faults", R"({"action":"dropWatches"})", "application/json"};
    co_await c->call(drop);
  };
  io.restart();
  asio::co_spawn(io, poke(&client, watch_path), [](std::exception_ptr e) {
    if (e) std::fprintf(stderr, "watch-bench: cannot reach kube-sim's /_sim/faults for the relist\n");
  });
  const auto deadline = Clock::now() + std::chrono::milliseconds(static_cast<long>(timeout_s * 1000));
  while (lists == before && Clock::now() < deadline) io.run_for(std::chrono::milliseconds(50));
  return lists > before ? rss_kb("VmHWM:") : -1;
}

struct Args {
  std::string kubeconfig, ns, resource, projection, mode, list_mode, shape;
  bool ceilings = true, sim_relist = false;
  long seed_objects = 0;
  std::size_t bytes = 0;
  int parallel = 0;
  long events_wanted = 0;
  double timeout_s = 0;
};

// The command line; none (with the exit code in `exit_code`) for --help or an error.
std::optional<Args> parse_args(int argc, char** argv, int& exit_code) {
  Args a;
  po::options_description desc("watch-bench options");
  desc.add_options()("help", "this text")("kubeconfig", po::value(&a.kubeconfig)->required(), "kubeconfig path")(
      "namespace", po::value(&a.ns)->default_value("llm"), "namespace")(
      "resource", po::value(&a.resource)->default_value("workloads.foreman.llmkube.dev"), "resource")(
      "events", po::value(&a.events_wanted)->default_value(100000), "watch events to see after the list")(
      "timeout", po::value(&a.timeout_s)->default_value(120), "give up after this many seconds")(
      "projection", po::value(&a.projection)->default_value("bridge"), "bridge (stored projection) or full")(
      "mode", po::value(&a.mode)->default_value("informer"),
      "informer; transport (read the watch, parse nothing); seed or churn (make Workloads, change them)")(
      "objects", po::value(&a.seed_objects)->default_value(1000), "seed, churn: Workloads wl-bench-0 … N-1")(
      "shape", po::value(&a.shape)->default_value("padded"), "seed: padded or realistic")(
      "bytes", po::value(&a.bytes)->default_value(2500), "seed: about this many bytes per stored Workload")(
      "parallel", po::value(&a.parallel)->default_value(16), "seed, churn: requests in flight")(
      "list", po::value(&a.list_mode)->default_value("paged"), "paged, or streaming (sendInitialEvents)")(
      "sim-relist", po::value(&a.sim_relist)->default_value(false),
      "after the watch, have kube-sim force a relist (410) and measure its peak RSS")(
      "ceilings", po::value(&a.ceilings)->default_value(true),
      "after the watch, measure the parse ceilings on a sample (false: skip, e.g. under a profiler)");
  if (!test::parse_tool_options("watch-bench", desc, argc, argv, exit_code)) return std::nullopt;
  return a;
}

int seed_or_churn(asio::io_context& io, kube::Client& client, const Args& a) {
  const bench::SeedOptions so{a.ns, a.seed_objects, a.bytes, a.shape, a.parallel};
  const auto r = a.mode == "seed" ? bench::seed_workloads(io, client, so) : bench::churn_workloads(io, client, so, a.events_wanted);
  std::printf("{\"tool\":\"watch-bench-%s\",\"done\":%ld,\"existed\":%ld,\"failed\":%ld,\"seconds\":%.3f,"
              "\"per_second\":%.0f}\n",
              a.mode.c_str(), r.created, r.existed, r.failed, r.seconds, r.seconds > 0 ? static_cast<double>(r.created) / r.seconds : 0.0);
  return r.failed == 0 ? 0 : 1;
}

// What one informer run saw.
struct Watched {
  long rss_before = 0, rss_peak = 0, rss_now = 0, relist_peak = -1;
  std::size_t objects = 0, packed_bytes = 0;
  double list_s = -1, watch_s = -1;
  long watch_events = 0;
  bool done = false;
  kube::FastCounts fast;
};

// Lists and watches through the real informer until it has seen the events asked for.
Watched watch(asio::io_context& io, kube::Client& client, const kube::WatchCacheOptions& opts, const Args& a) {
  kube::WatchCache cache(io.get_executor(), client, opts);
  Watched w;
  w.rss_before = rss_kb("VmRSS:");
  const auto start = Clock::now();
  Clock::time_point synced_at{}, watch_start{}, watch_end{};
  bool listed = false;
  int lists = 0;
  auto count = [&](const kube::CachedObject&) {
    if (!listed) return;
    if (w.watch_events == 0) watch_start = Clock::now();
    if (++w.watch_events >= a.events_wanted && !w.done) {
      w.done = true;
      watch_end = Clock::now();
      io.stop();
    }
  };
  auto report = [](const kube::InformerEvent& e) {
    if (e.kind == kube::InformerEventKind::Listed || e.kind == kube::InformerEventKind::WatchEnded) return;
    const auto what = kube::to_string(e.kind);
    std::fprintf(stderr, "watch-bench: %.*s: %s\n", static_cast<int>(what.size()), what.data(), e.detail.c_str());
  };
  auto on_listed = [&](std::size_t n) {
    ++lists;
    if (listed) return;
    listed = true;
    synced_at = Clock::now();
    std::fprintf(stderr, "watch-bench: listed %zu objects; waiting for %ld events\n", n, a.events_wanted);
  };
  // The handlers the program sets: the new state only (on_modified), as operator/app.cpp.
  cache.set_handlers({.on_add = count, .on_delete = count, .on_informer_event = report, .on_listed = on_listed,
                      .on_modified = count});
  auto run = [](kube::WatchCache* c) -> asio::awaitable<void> { co_await c->run(); };
  asio::co_spawn(io, run(&cache), [](std::exception_ptr) {});
  io.run_for(std::chrono::milliseconds(static_cast<long>(a.timeout_s * 1000)));
  // Give back the heap the list answers and parse buffers used, so that RSS shows what
  // the cache holds (glibc keeps freed memory otherwise).
  malloc_trim(0);
  w.rss_peak = rss_kb("VmHWM:");
  w.rss_now = rss_kb("VmRSS:");
  w.objects = cache.cache().size();
  w.packed_bytes = cache.cache().packed_bytes();
  w.fast = cache.fast_counts();
  if (synced_at != Clock::time_point{}) w.list_s = std::chrono::duration<double>(synced_at - start).count();
  if (w.done) w.watch_s = std::chrono::duration<double>(watch_end - watch_start).count();
  if (w.done && a.sim_relist) {
    w.relist_peak = sim_relist_peak_kb(io, client, kube::Requests(opts.type, a.ns).collection_path(), lists,
                                       std::min(a.timeout_s, 120.0));
  }
  return w;
}

// Event lines of the same objects, as the server sends them (a page of the list, each item
// wrapped as a MODIFIED event): the ceilings' sample.
std::vector<std::string> fetch_sample(asio::io_context& io, kube::Client& client, const kube::WatchCacheOptions& opts,
                                      const std::string& ns) {
  std::vector<std::string> sample;
  kube::ListOptions lo;
  lo.limit = 20000;
  const auto req = kube::Requests(opts.type, ns).list(lo);
  auto fetch = [](kube::Client* c, kube::HttpRequest r, std::vector<std::string>* out) -> asio::awaitable<void> {
    const std::string body = co_await c->call(r);
    const json::value list = json::parse(body);
    for (const auto& item : list.at("items").as_array()) {
      out->push_back(R"({"type":"MODIFIED","object":)" + json::serialize(item) + "}");
    }
  };
  io.restart();
  asio::co_spawn(io, fetch(&client, req, &sample), [&io](std::exception_ptr e) {
    if (e) std::fprintf(stderr, "watch-bench: cannot fetch the sample for the parse ceiling\n");
    io.stop();
  });
  io.run_for(std::chrono::seconds(60));
  return sample;
}

void print_result(const Watched& w, const bench::Ceilings& c, const std::string& projection) {
  const double per = w.objects ? static_cast<double>(w.objects) : 1.0;
  std::printf(
      "{\"tool\":\"watch-bench\",\"objects_listed\":%zu,\"list_seconds\":%.3f,\"watch_events\":%ld,"
      "\"watch_seconds\":%.3f,\"watch_events_per_second\":%.0f,\"raw_parse_events_per_second\":%.0f,"
      "\"raw_parse_arena_events_per_second\":%.0f,\"tokenize_events_per_second\":%.0f,"
      "\"simdjson_events_per_second\":%.0f,\"informer_no_network_events_per_second\":%.0f,"
      "\"informer_no_network_boost_events_per_second\":%.0f,\"fast_decoded\":%llu,\"fast_fallbacks\":%llu,"
      "\"fast_refused\":%llu,\"fast_kept_double\":%llu,\"fast_duplicate_key\":%llu,"
      "\"event_bytes\":%.0f,\"peak_rss_kb\":%ld,\"rss_kb\":%ld,\"rss_per_object_bytes\":%.0f,\"packed_bytes_per_object\":%.0f,"
      "\"relist_peak_rss_kb\":%ld,\"projection\":\"%s\",\"completed\":%s}\n",
      w.objects, w.list_s, w.watch_events, w.watch_s, w.watch_s > 0 ? static_cast<double>(w.watch_events) / w.watch_s : 0.0,
      c.parse, c.arena, c.tokenize, c.simd, c.pipeline, c.pipeline_reference,
      static_cast<unsigned long long>(w.fast.decoded), static_cast<unsigned long long>(w.fast.fallbacks()),
      static_cast<unsigned long long>(w.fast.refused), static_cast<unsigned long long>(w.fast.kept_double),
      static_cast<unsigned long long>(w.fast.duplicate_key), c.event_bytes, w.rss_peak, w.rss_now,
      w.objects ? static_cast<double>(w.rss_now - w.rss_before) * 1024.0 / per : 0.0,
      w.objects ? static_cast<double>(w.packed_bytes) / per : 0.0, w.relist_peak, projection.c_str(),
      w.done ? "true" : "false");
}

}  // namespace

int main(int argc, char** argv) {
  int exit_code = 0;
  const auto args = parse_args(argc, argv, exit_code);
  if (!args) return exit_code;
  const Args& a = *args;
  asio::io_context io(1);
  kube::ClientOptions copts;
  copts.request_timeout = std::chrono::seconds(120);
  kube::Client client(io.get_executor(), kube::load_kubeconfig(a.kubeconfig), copts);
  if (a.mode == "transport") return transport_only(io, client, parse_resource(a.resource), a.ns, a.events_wanted, a.timeout_s);
  if (a.mode == "seed" || a.mode == "churn") return seed_or_churn(io, client, a);
  if (a.mode != "informer") {
    std::fprintf(stderr, "watch-bench: --mode: informer, transport, seed or churn\n");
    return 2;
  }
  // "bridge": what the bridge's Workload informer stores (its projection and index).
  kube::WatchCacheOptions opts = a.projection == "bridge" ? op::workload_informer_options(a.ns) : kube::WatchCacheOptions{};
  opts.type = parse_resource(a.resource);
  opts.ns = a.ns;
  opts.reflector.label_selector.clear();
  // Paged lists by default: compare_watch.sh holds the first watch while the changes are
  // made, and a streaming list would be that watch. --list streaming measures the
  // streaming list's list+sync and memory (without such a hold).
  opts.reflector.streaming_list = a.list_mode == "streaming";
  const Watched w = watch(io, client, opts, a);
  const std::vector<std::string> sample = a.ceilings ? fetch_sample(io, client, opts, a.ns) : std::vector<std::string>{};
  print_result(w, bench::measure_ceilings(sample, opts), a.projection);
  return w.done ? 0 : 1;
}

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
#include "watch/client_io.hpp"
#include "watch/config.hpp"
#include "watch/event_stream.hpp"
#include "watch/watch_cache_io.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json/basic_parser_impl.hpp>
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

// Boost.JSON's tokenizer with a handler that keeps nothing: what validating a line costs
// before anything is built (the floor of any decoder on this parser).
struct NothingKept {
  static constexpr std::size_t max_object_size = static_cast<std::size_t>(-1);
  static constexpr std::size_t max_array_size = static_cast<std::size_t>(-1);
  static constexpr std::size_t max_key_size = static_cast<std::size_t>(-1);
  static constexpr std::size_t max_string_size = static_cast<std::size_t>(-1);
  using ec = boost::system::error_code;
  using sv = json::string_view;
  bool on_document_begin(ec&) { return true; }
  bool on_document_end(ec&) { return true; }
  bool on_object_begin(ec&) { return true; }
  bool on_object_end(std::size_t, ec&) { return true; }
  bool on_array_begin(ec&) { return true; }
  bool on_array_end(std::size_t, ec&) { return true; }
  bool on_key_part(sv, std::size_t, ec&) { return true; }
  bool on_key(sv, std::size_t, ec&) { return true; }
  bool on_string_part(sv, std::size_t, ec&) { return true; }
  bool on_string(sv, std::size_t, ec&) { return true; }
  bool on_number_part(sv, ec&) { return true; }
  bool on_int64(std::int64_t, sv, ec&) { return true; }
  bool on_uint64(std::uint64_t, sv, ec&) { return true; }
  bool on_double(double, sv, ec&) { return true; }
  bool on_bool(bool, ec&) { return true; }
  bool on_null(ec&) { return true; }
  bool on_comment_part(sv, ec&) { return true; }
  bool on_comment(sv, ec&) { return true; }
};

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

// The ceilings, on a sample of event lines: Boost.JSON's plain parse, its parse into a
// reused arena (what the informer does), its tokenizer alone building nothing, and the
// informer's own path without the network (decode, the reflector, the projection, the
// store, as updates of objects it holds). Each is the best of kSlices short slices taken in
// turn (parse, arena, tokenizer, informer, parse, …), so that a load that comes and goes on
// a shared machine weighs on all four alike and their ratios hold.
struct Ceilings {
  double parse = 0, arena = 0, tokenize = 0, pipeline = 0, event_bytes = 0;
};

Ceilings measure_ceilings(const std::vector<std::string>& sample, const kube::WatchCacheOptions& opts) {
  static constexpr int kSlices = 8;
  static constexpr auto kSlice = std::chrono::milliseconds(100);
  Ceilings c;
  if (sample.empty()) return c;
  std::size_t bytes = 0;
  for (const auto& line : sample) bytes += line.size();
  c.event_bytes = static_cast<double>(bytes) / static_cast<double>(sample.size());
  auto buffer = std::make_unique<unsigned char[]>(64 * 1024);
  json::basic_parser<NothingKept> tokenizer(json::parse_options{});
  const auto mask = kube::informer_mask(opts);
  kube::ObjectCache store(opts.transform, opts.indexes, mask);
  store.set_handlers({.on_add = [](const json::object&) {}, .on_modified = [](const json::object&) {}});
  // Brought to watching through an (empty) paged list, whatever --list says: the lines are
  // watch events, applied one by one.
  kube::ReflectorConfig rc = opts.reflector;
  rc.streaming_list = false;
  kube::Reflector refl(rc, [] { return 0.5; });
  const auto now = Clock::now();
  refl.start(now);
  refl.on_list_page(now, {}, "1", "");
  // The informer's decoder: through the options' field mask when they have one.
  std::unique_ptr<kube::MaskedEventDecoder> masked;
  if (mask) masked = std::make_unique<kube::MaskedEventDecoder>(*mask);

  auto parse = [](const std::string& line) {
    if (!json::parse(line).is_object()) std::abort();
  };
  auto arena = [&](const std::string& line) {
    json::monotonic_resource mr(buffer.get(), 64 * 1024);
    if (!json::parse(line, json::storage_ptr(&mr)).is_object()) std::abort();
  };
  auto tokenize = [&](const std::string& line) {
    boost::system::error_code ec;
    tokenizer.reset();
    if (tokenizer.write_some(false, line.data(), line.size(), ec) != line.size() || ec) std::abort();
  };
  auto pipeline = [&](const std::string& line) {
    json::monotonic_resource mr(buffer.get(), 64 * 1024);  // the informer's line arena
    json::storage_ptr sp(&mr);
    for (auto& a : refl.on_event(now, masked ? masked->decode(line, sp) : kube::decode_event(line, sp))) {
      if (auto* u = std::get_if<kube::reflector::Upsert>(&a)) store.upsert_masked(std::move(u->object));
    }
  };
  // Lines per second of `one` over a slice, going on through the sample where it stopped.
  auto slice = [&](auto& one, std::size_t& cursor) {
    const auto t0 = Clock::now();
    auto t1 = t0;
    std::size_t n = 0;
    do {
      for (int k = 0; k < 32; ++k, ++n) {
        one(sample[cursor]);
        if (++cursor == sample.size()) cursor = 0;
      }
      t1 = Clock::now();
    } while (t1 - t0 < kSlice);
    return static_cast<double>(n) / std::chrono::duration<double>(t1 - t0).count();
  };
  std::size_t at[4] = {0, 0, 0, 0};
  for (int i = 0; i < kSlices; ++i) {
    c.parse = std::max(c.parse, slice(parse, at[0]));
    c.arena = std::max(c.arena, slice(arena, at[1]));
    c.tokenize = std::max(c.tokenize, slice(tokenize, at[2]));
    c.pipeline = std::max(c.pipeline, slice(pipeline, at[3]));
  }
  return c;
}

}  // namespace

int main(int argc, char** argv) {
  std::string kubeconfig, ns, resource, projection, mode, list_mode, shape;
  bool ceilings = true, sim_relist = false;
  long seed_objects = 0;
  std::size_t bytes = 0;
  int parallel = 0;
  long events_wanted = 0;
  double timeout_s = 0;
  po::options_description desc("watch-bench options");
  desc.add_options()("help", "this text")("kubeconfig", po::value(&kubeconfig)->required(), "kubeconfig path")(
      "namespace", po::value(&ns)->default_value("llm"), "namespace")(
      "resource", po::value(&resource)->default_value("workloads.foreman.llmkube.dev"), "resource")(
      "events", po::value(&events_wanted)->default_value(100000), "watch events to see after the list")(
      "timeout", po::value(&timeout_s)->default_value(120), "give up after this many seconds")(
      "projection", po::value(&projection)->default_value("bridge"), "bridge (stored projection) or full")(
      "mode", po::value(&mode)->default_value("informer"),
      "informer; transport (read the watch, parse nothing); seed or churn (make Workloads, change them)")(
      "objects", po::value(&seed_objects)->default_value(1000), "seed, churn: Workloads wl-bench-0 … N-1")(
      "shape", po::value(&shape)->default_value("padded"), "seed: padded or realistic")(
      "bytes", po::value(&bytes)->default_value(2500), "seed: about this many bytes per stored Workload")(
      "parallel", po::value(&parallel)->default_value(16), "seed, churn: requests in flight")(
      "list", po::value(&list_mode)->default_value("paged"), "paged, or streaming (sendInitialEvents)")(
      "sim-relist", po::value(&sim_relist)->default_value(false),
      "after the watch, have kube-sim force a relist (410) and measure its peak RSS")(
      "ceilings", po::value(&ceilings)->default_value(true), "after the watch, measure the parse ceilings on a sample (false: skip, e.g. under a profiler)");
  po::variables_map vm;
  try {
    po::store(po::parse_command_line(argc, argv, desc), vm);
    if (vm.count("help")) {
      std::cout << desc;
      return 0;
    }
    po::notify(vm);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "watch-bench: %s\n", e.what());
    return 2;
  }

  asio::io_context io(1);
  kube::ClientOptions copts;
  copts.request_timeout = std::chrono::seconds(120);
  kube::Client client(io.get_executor(), kube::load_kubeconfig(kubeconfig), copts);
  if (mode == "transport") return transport_only(io, client, parse_resource(resource), ns, events_wanted, timeout_s);
  if (mode == "seed" || mode == "churn") {
    const bench::SeedOptions so{ns, seed_objects, bytes, shape, parallel};
    const auto r = mode == "seed" ? bench::seed_workloads(io, client, so) : bench::churn_workloads(io, client, so, events_wanted);
    std::printf("{\"tool\":\"watch-bench-%s\",\"done\":%ld,\"existed\":%ld,\"failed\":%ld,\"seconds\":%.3f,"
                "\"per_second\":%.0f}\n",
                mode.c_str(), r.created, r.existed, r.failed, r.seconds, r.seconds > 0 ? static_cast<double>(r.created) / r.seconds : 0.0);
    return r.failed == 0 ? 0 : 1;
  }
  if (mode != "informer") {
    std::fprintf(stderr, "watch-bench: --mode: informer, transport, seed or churn\n");
    return 2;
  }
  // "bridge": what the bridge's Workload informer stores (its projection and index).
  kube::WatchCacheOptions opts = projection == "bridge" ? op::workload_informer_options(ns) : kube::WatchCacheOptions{};
  opts.type = parse_resource(resource);
  opts.ns = ns;
  opts.reflector.label_selector.clear();
  // Paged lists by default: compare_watch.sh holds the first watch while the changes are
  // made, and a streaming list would be that watch. --list streaming measures the
  // streaming list's list+sync and memory (without such a hold).
  opts.reflector.streaming_list = list_mode == "streaming";
  kube::WatchCache cache(io.get_executor(), client, opts);

  const long rss_before = rss_kb("VmRSS:");
  const auto start = Clock::now();
  Clock::time_point synced_at{}, watch_start{}, watch_end{};
  long watch_events = 0;
  bool done = false;
  bool listed = false;
  int lists = 0;
  auto count = [&](const json::object&) {
    if (!listed) return;
    if (watch_events == 0) watch_start = Clock::now();
    if (++watch_events >= events_wanted && !done) {
      done = true;
      watch_end = Clock::now();
      io.stop();
    }
  };
  // The handlers the program sets: the new state only (on_modified), as operator/app.cpp.
  cache.set_handlers({.on_add = [&](const json::object& o) { count(o); },
                      .on_delete = [&](const json::object& o) { count(o); },
                      .on_informer_event =
                          [](const kube::InformerEvent& e) {
                            if (e.kind == kube::InformerEventKind::Listed || e.kind == kube::InformerEventKind::WatchEnded) return;
                            const auto what = kube::to_string(e.kind);
                            std::fprintf(stderr, "watch-bench: %.*s: %s\n", static_cast<int>(what.size()), what.data(),
                                         e.detail.c_str());
                          },
                      .on_listed =
                          [&](std::size_t n) {
                            ++lists;
                            if (listed) return;
                            listed = true;
                            synced_at = Clock::now();
                            std::fprintf(stderr, "watch-bench: listed %zu objects; waiting for %ld events\n", n, events_wanted);
                          },
                      .on_modified = [&](const json::object& o) { count(o); }});
  auto run = [](kube::WatchCache* c) -> asio::awaitable<void> { co_await c->run(); };
  asio::co_spawn(io, run(&cache), [](std::exception_ptr) {});
  io.run_for(std::chrono::milliseconds(static_cast<long>(timeout_s * 1000)));

  // Give back the heap the list answers and parse buffers used, so that RSS shows what
  // the cache holds (glibc keeps freed memory otherwise).
  malloc_trim(0);
  const long rss_peak = rss_kb("VmHWM:");
  const long rss_now = rss_kb("VmRSS:");
  const std::size_t objects = cache.cache().size();
  const double list_s = synced_at == Clock::time_point{} ? -1 : std::chrono::duration<double>(synced_at - start).count();
  const double watch_s = done ? std::chrono::duration<double>(watch_end - watch_start).count() : -1;
  const long relist_peak =
      done && sim_relist
          ? sim_relist_peak_kb(io, client, kube::Requests(opts.type, ns).collection_path(), lists, std::min(timeout_s, 120.0))
          : -1;

  // The ceiling: Boost.JSON parsing event lines of the same objects, whole, as the server
  // sends them (a page of the list, each item wrapped as a MODIFIED event), nothing else.
  std::vector<std::string> sample;
  if (ceilings) {
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
  }
  const Ceilings ceil = measure_ceilings(sample, opts);
  const double parse_eps = ceil.parse, parse_arena_eps = ceil.arena, tokenize_eps = ceil.tokenize,
               pipeline_eps = ceil.pipeline, event_bytes = ceil.event_bytes;
  std::printf(
      "{\"tool\":\"watch-bench\",\"objects_listed\":%zu,\"list_seconds\":%.3f,\"watch_events\":%ld,"
      "\"watch_seconds\":%.3f,\"watch_events_per_second\":%.0f,\"raw_parse_events_per_second\":%.0f,"
      "\"raw_parse_arena_events_per_second\":%.0f,\"tokenize_events_per_second\":%.0f,"
      "\"informer_no_network_events_per_second\":%.0f,"
      "\"event_bytes\":%.0f,\"peak_rss_kb\":%ld,\"rss_kb\":%ld,\"rss_per_object_bytes\":%.0f,\"packed_bytes_per_object\":%.0f,"
      "\"relist_peak_rss_kb\":%ld,\"projection\":\"%s\",\"completed\":%s}\n",
      objects, list_s, watch_events, watch_s, watch_s > 0 ? static_cast<double>(watch_events) / watch_s : 0.0, parse_eps,
      parse_arena_eps, tokenize_eps, pipeline_eps, event_bytes, rss_peak, rss_now,
      objects ? static_cast<double>(rss_now - rss_before) * 1024.0 / static_cast<double>(objects) : 0.0,
      objects ? static_cast<double>(cache.cache().packed_bytes()) / static_cast<double>(objects) : 0.0, relist_peak,
      projection.c_str(),
      done ? "true" : "false");
  return done ? 0 : 1;
}

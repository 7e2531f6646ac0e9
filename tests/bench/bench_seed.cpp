#include "tests/bench/bench_seed.hpp"

#include "sim/seed.hpp"

#include "watch/client_io.hpp"
#include "watch/errors.hpp"
#include "watch/request.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <cstdio>
#include <iterator>

namespace fdb::bench {

namespace asio = boost::asio;
namespace json = boost::json;
using Clock = std::chrono::steady_clock;

namespace {

// Bytes the API server adds to a stored Workload (uid, resourceVersion, generation,
// creationTimestamp, one managedFields entry) that the body does not carry.
constexpr std::size_t kServerAdds = 700;

// What the workers of one run share (they all run on the io_context's one thread).
struct Run {
  long next = 0;
  long count = 0;
  std::function<kube::HttpRequest(long)> make;
  SeedResult result;
};

// One of `parallel` workers: takes the next index and sends its request until none is left.
// A free function taking its state (GCC 12 does not keep a lambda coroutine's captures).
asio::awaitable<void> worker(kube::Client* client, Run* run) {
  while (run->next < run->count) {
    const kube::HttpRequest req = run->make(run->next++);
    std::string problem;
    try {
      const kube::HttpResponse r = co_await client->send(req);
      if (r.status / 100 == 2) ++run->result.created;
      else if (r.status == 409) ++run->result.existed;
      else problem = fmt::format("HTTP {}: {}", r.status, r.body.substr(0, 200));
    } catch (const kube::ApiError& e) {
      problem = e.what();
    }
    if (!problem.empty() && ++run->result.failed <= 3) {
      std::fprintf(stderr, "bench seed: %s %s: %s\n", req.method.c_str(), req.target.c_str(), problem.c_str());
    }
  }
}

SeedResult run_parallel(asio::io_context& io, kube::Client& client, long count, int parallel,
                        std::function<kube::HttpRequest(long)> make) {
  Run run;
  run.count = count;
  run.make = std::move(make);
  const auto start = Clock::now();
  for (int w = 0; w < std::max(1, parallel); ++w) {
    asio::co_spawn(io, worker(&client, &run), [](std::exception_ptr e) {
      if (e) std::rethrow_exception(e);
    });
  }
  io.restart();
  io.run();
  run.result.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return run.result;
}

}  // namespace

std::string bench_workload(long index, std::string_view shape, std::size_t bytes) {
  json::object o{
      {"apiVersion", "foreman.llmkube.dev/v1alpha1"},
      {"kind", "Workload"},
      {"metadata",
       json::object{{"name", fmt::format("wl-bench-{}", index)},
                    {"labels", json::object{{"created-by", "dispatch-bridge"}, {"lane", index % 3 == 0 ? "cloud" : "local"}}},
                    {"annotations", json::object{{"foreman.llmkube.dev/attempt", "1"},
                                                 {"foreman.llmkube.dev/issue-id", fmt::format("I_bench{:06d}", index)},
                                                 {"foreman.llmkube.dev/agent-name", "foreman-coder"}}}}},
      {"spec", json::object{{"intent", "Fix the parser for trailing commas"},
                            {"repo", "misospace/bench-repo"},
                            {"issues", json::array{index}},
                            {"coderAgentRef", json::object{{"name", "coder"}}},
                            {"reviewerAgentRefs", json::array{json::object{{"name", "reviewer"}}}},
                            {"verifierAgentRef", json::object{{"name", "gate"}}}}}};
  const std::size_t size = json::serialize(o).size() + kServerAdds;
  if (size < bytes) {
    const std::size_t n = bytes - size;
    auto& intent = o["spec"].as_object()["intent"].as_string();
    if (shape == "realistic") intent += "\n" + sim::issue_text(n);
    else intent += " " + std::string(n, 'x');
  }
  return json::serialize(o);
}

std::string churn_patch(long value) {
  return fmt::format(R"({{"metadata":{{"annotations":{{"bench.llmkube.dev/churn":"{}-{}"}}}}}})", std::chrono::steady_clock::now().time_since_epoch().count(), value);
}

SeedResult seed_workloads(asio::io_context& io, kube::Client& client, const SeedOptions& options) {
  // The namespace first (a real cluster may not have it; 409: it exists). A server that
  // has no namespaces to create (kube-sim) answers 404: Workloads are created all the same.
  const kube::Requests namespaces(kube::ResourceType{"", "v1", "namespaces", false});
  const std::string ns_body = json::serialize(
      json::object{{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", json::object{{"name", options.ns}}}});
  run_parallel(io, client, 1, 1, [&](long) { return namespaces.create(ns_body); });
  const kube::Requests workloads(kube::workloads(), options.ns);
  return run_parallel(io, client, options.objects, options.parallel, [&](long i) {
    return workloads.create(bench_workload(i, options.shape, options.bytes));
  });
}

SeedResult churn_workloads(asio::io_context& io, kube::Client& client, const SeedOptions& options, long events) {
  const kube::Requests workloads(kube::workloads(), options.ns);
  const long objects = std::max(1L, options.objects);
  return run_parallel(io, client, events, options.parallel, [&](long i) {
    return workloads.patch(fmt::format("wl-bench-{}", i % objects), kube::PatchType::Merge, churn_patch(i));
  });
}

}  // namespace fdb::bench

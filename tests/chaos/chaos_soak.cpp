// chaos-soak: the bridge under faults, bounded, stopping by itself (issue 9).
//
// kube-sim with its dispatch side seeded with N issues, Foreman failing a share of the
// Workloads, and R leader-elected bridge replicas. For --seconds, faults are injected at
// random (a seeded schedule): watch drops, history expiry (every watch resumes from an
// expired resourceVersion: 410, relist), 500/503/429 bursts and latency spikes on the API
// server, dispatch outages and garbage answers, connects that stall (either listener
// accepts nothing for a few seconds, its idle connections closed), writes acted on and then
// reset unanswered (API and dispatch), watches ended at once with no event, and the leader
// killed with SIGKILL (a new replica replaces it). Then the faults stop, the system is given time to settle, and the
// invariants of tests/chaos/invariants.hpp are checked against the simulators' records.
// Prints progress lines on stderr and one JSON summary line on stdout; exits 1 on any
// violation.
//
//   chaos-soak --sim PATH/kube-sim --bridge PATH/foreman-dispatch-bridge
//              [--seconds 60] [--issues 120] [--seed 1] [--replicas 3] [--fail-rate 0.3]
#include "chaos/invariants.hpp"
#include "support/bridge_process.hpp"
#include "support/sim_client.hpp"

#include <boost/json/serialize.hpp>
#include <boost/program_options.hpp>

#include <fmt/format.h>

#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <random>
#include <sstream>
#include <thread>

namespace json = boost::json;
namespace po = boost::program_options;
using namespace fdb;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

const std::string kWorkloads = "/apis/foreman.llmkube.dev/v1alpha1/namespaces/llm/workloads";
const std::string kIntents = "/api/v1/namespaces/llm/configmaps?labelSelector=foreman.llmkube.dev%2Fretry-intent%3Dtrue";
constexpr int kMaxAttempts = 3;

struct Replica {
  std::string identity;
  std::string log;
  std::unique_ptr<test::Process> process;
  int pid = -1;
  double mid_mb = -1;  // RSS half-way, when it was alive then
  int pid_at_mid = -1;
};

double rss_mb(int pid) {
  std::ifstream in(fmt::format("/proc/{}/status", pid));
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;
  }
  return -1;
}

std::string holder(const test::SimClient& api) {
  try {
    const auto l = api.lease("llm", "foreman-dispatch-bridge");
    const auto* spec = l.is_object() ? l.as_object().if_contains("spec") : nullptr;
    const auto* h = spec && spec->is_object() ? spec->as_object().if_contains("holderIdentity") : nullptr;
    return h && h->is_string() ? std::string(h->as_string()) : std::string();
  } catch (const std::exception&) {
    return {};
  }
}

void say(const std::string& line) { std::fprintf(stderr, "chaos-soak: %s\n", line.c_str()); }

// Lines of the replicas' logs (bridge-*.log in `dir`) that hold `needle`: how often a
// fault's path was taken (a leader stopped by its deadline, a watch that backed off).
int count_in_logs(const std::string& dir, const std::string& needle) {
  int n = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    if (!name.starts_with("bridge-") || !name.ends_with(".log")) continue;
    std::ifstream in(entry.path());
    std::string line;
    while (std::getline(in, line)) n += line.find(needle) != std::string::npos;
  }
  return n;
}

}  // namespace

int main(int argc, char** argv) {
  std::string sim_path, bridge_path;
  int seconds = 60, issues = 120, replicas_n = 3, settle_s = 90;
  std::uint64_t seed = 1;
  double fail_rate = 0.3;
  po::options_description desc("chaos-soak options");
  desc.add_options()("help", "this text")("sim", po::value(&sim_path)->required(), "path of kube-sim")(
      "bridge", po::value(&bridge_path)->required(), "path of foreman-dispatch-bridge")(
      "seconds", po::value(&seconds)->default_value(60), "seconds of faults")(
      "issues", po::value(&issues)->default_value(120), "issues seeded in dispatch")(
      "seed", po::value(&seed)->default_value(1), "seed of the fault schedule and of Foreman")(
      "replicas", po::value(&replicas_n)->default_value(3), "bridge replicas")(
      "fail-rate", po::value(&fail_rate)->default_value(0.3), "share of Workload attempts Foreman fails")(
      "settle", po::value(&settle_s)->default_value(90), "seconds allowed to settle after the faults");
  po::variables_map vm;
  try {
    po::store(po::parse_command_line(argc, argv, desc), vm);
    if (vm.count("help")) {
      std::cout << desc;
      return 0;
    }
    po::notify(vm);
    if (seconds < 1 || issues < 1 || replicas_n < 1 || settle_s < 1 || fail_rate < 0 || fail_rate > 1) {
      throw std::invalid_argument("seconds, issues, replicas and settle must be positive; fail-rate in [0,1]");
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "chaos-soak: %s\n", e.what());
    return 2;
  }

  const std::string dir = test::temp_dir("chaos");
  say(fmt::format("seed {}, {} issues, {} replicas, {} s of faults, logs in {}", seed, issues, replicas_n, seconds, dir));
  test::Process sim_process({sim_path, "--listen", "127.0.0.1:0", "--dispatch-listen", "127.0.0.1:0", "--kubeconfig-out",
                             dir + "/kubeconfig", "--foreman-step-ms", "100", "--foreground-delay-ms", "50",
                             "--fail-rate", fmt::format("{}", fail_rate), "--seed", std::to_string(seed),
                             "--seed-issues", std::to_string(issues), "--history", "5000"},
                            {}, dir + "/kube-sim.log");
  test::Sim sim;
  {
    auto api = sim_process.wait_for_line("kube-sim listening on ", 60s);
    auto dispatch = sim_process.wait_for_line("dispatch listening on ", 10s);
    if (!api || !dispatch) {
      say("kube-sim did not start; see " + dir + "/kube-sim.log");
      return 2;
    }
    sim.api_url = *api;
    sim.dispatch_url = *dispatch;
    sim.kubeconfig = dir + "/kubeconfig";
  }
  test::SimClient api(sim.api_url);

  const std::map<std::string, std::string> env = {
      {"LEADER_ELECT", "true"},       {"LEASE_DURATION_S", "3"},         {"RENEW_DEADLINE_S", "2"},
      {"RETRY_PERIOD_S", "1"},        {"PARK_ON_GIVE_UP", "false"},      {"RETRY_MAX_ATTEMPTS", std::to_string(kMaxAttempts)},
      {"LOG_LEVEL", "INFO"},          {"CLAIM_INTERVAL_S", "1"},         {"DELETE_WORKLOAD_TIMEOUT_S", "10"},
      {"MAX_IN_PROGRESS", "40"}};
  int generation = 0;
  auto start_replica = [&](Replica& r) {
    r.identity = fmt::format("bridge-{}", generation++);
    r.log = fmt::format("{}/{}.log", dir, r.identity);
    auto e = test::bridge_env(sim, env);
    e["POD_NAME"] = r.identity;
    r.process = std::make_unique<test::Process>(std::vector<std::string>{bridge_path}, e, r.log);
    r.pid = r.process->pid();
  };
  std::vector<Replica> replicas(static_cast<std::size_t>(replicas_n));
  for (auto& r : replicas) start_replica(r);

  std::mt19937_64 rng(seed);
  auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  std::map<std::string, int> faults;
  int kills = 0;
  auto last_kill = Clock::now();
  auto last_stall = Clock::now() - 1h;
  const auto start = Clock::now();
  const auto end = start + std::chrono::seconds(seconds);
  bool mid_sampled = false;
  std::vector<std::pair<Clock::time_point, std::size_t>> restarts;  // when, which replica

  auto post_fault = [&](const std::string& path, const json::object& body) {
    try {
      api.post(path, body);
    } catch (const std::exception& e) {
      say(fmt::format("could not inject a fault ({}): {}", path, e.what()));
    }
  };

  while (Clock::now() < end) {
    std::this_thread::sleep_for(std::chrono::milliseconds(pick(300, 700)));
    const auto now = Clock::now();
    for (auto it = restarts.begin(); it != restarts.end();) {
      if (it->first <= now) {
        start_replica(replicas[it->second]);
        it = restarts.erase(it);
      } else {
        ++it;
      }
    }
    if (!mid_sampled && now - start >= (end - start) / 2) {
      mid_sampled = true;
      for (auto& r : replicas) {
        if (r.process && r.process->running()) {
          r.mid_mb = rss_mb(r.pid);
          r.pid_at_mid = r.pid;
        }
      }
    }
    const int kind = pick(0, 14);
    switch (kind) {
      case 0:
        post_fault("/_sim/faults", json::object{{"action", "dropWatches"}});
        ++faults["watch-drop"];
        break;
      case 1:
        post_fault("/_sim/faults", json::object{{"action", "expireHistory"}});
        post_fault("/_sim/faults", json::object{{"action", "dropWatches"}});
        ++faults["history-expiry"];
        break;
      case 2:
      case 3: {
        const int codes[] = {500, 503, 429};
        const int code = codes[pick(0, 2)];
        json::object f{{"path", "/apis"}, {"code", code}, {"count", pick(3, 15)}};
        if (code == 429) f["retryAfter"] = 1;
        post_fault("/_sim/faults", f);
        ++faults[fmt::format("api-{}", code)];
        break;
      }
      case 4:
        post_fault("/_sim/faults", json::object{{"path", "/api"}, {"latencyMs", pick(200, 800)}, {"count", pick(5, 20)}});
        ++faults["api-latency"];
        break;
      case 5:
        post_fault("/_sim/dispatch/faults",
                   json::object{{"path", "/api/"}, {"mode", "status"}, {"code", 503}, {"count", pick(5, 30)}});
        ++faults["dispatch-outage"];
        break;
      case 6:
        post_fault("/_sim/dispatch/faults", json::object{{"path", "/api/agents/"}, {"mode", "garbage"}, {"count", pick(1, 5)}});
        ++faults["dispatch-garbage"];
        break;
      case 7:
        post_fault("/_sim/dispatch/faults",
                   json::object{{"path", "/api/"}, {"mode", "latency"}, {"latencyMs", pick(200, 1500)}, {"count", pick(3, 10)}});
        ++faults["dispatch-latency"];
        break;
      case 8:
      case 9: {
        // New connections stall in connect (the listener accepts nothing) and idle ones are
        // closed: renewals, creates and claims must connect, and hang. Not more often than
        // every 6 s, so the soak's own control calls (stalled too) keep up.
        if (now - last_stall < 6s) break;
        last_stall = now;
        const bool api_side = kind == 8;
        post_fault("/_sim/faults", json::object{{"action", "stallConnects"},
                                                {"front", api_side ? "api" : "dispatch"},
                                                {"ms", pick(1500, 3500)}});
        ++faults[api_side ? "api-connect-stall" : "dispatch-connect-stall"];
        break;
      }
      case 10: {
        // Writes acted on, then the connection reset without an answer.
        const char* methods[] = {"POST", "PUT", "DELETE"};
        post_fault("/_sim/faults", json::object{{"path", "/api"}, {"method", methods[pick(0, 2)]}, {"reset", true},
                                                {"count", pick(1, 4)}});
        ++faults["api-reset-after-write"];
        break;
      }
      case 11:
        // Half of them aimed at claims (the POSTs of reports, unclaims and parks would take
        // most of the others, a status call's retries each taking one).
        post_fault("/_sim/dispatch/faults",
                   json::object{{"path", pick(0, 1) == 0 ? "/api/issues/claim" : "/api/issues/"},
                                {"method", "POST"},
                                {"mode", "reset"},
                                {"count", pick(1, 4)}});
        ++faults["dispatch-reset-after-write"];
        break;
      case 12:
        // Watches ended at once, with no event (a proxy that cuts them).
        post_fault("/_sim/faults",
                   json::object{{"path", "/api"}, {"watchOnly", true}, {"closeAtOnce", true}, {"count", pick(5, 30)}});
        ++faults["watch-closed-at-once"];
        break;
      default: {
        // The leader, killed at a random moment (not more often than every 4 s, so that
        // there is a leader to kill), replaced by a new replica 1–3 s later.
        if (now - last_kill < 4s) break;
        const std::string lead = holder(api);
        for (std::size_t i = 0; i < replicas.size(); ++i) {
          auto& r = replicas[i];
          if (r.identity != lead || !r.process || !r.process->running()) continue;
          r.process->signal(SIGKILL);
          r.process->wait(5s);
          ++kills;
          last_kill = now;
          restarts.emplace_back(now + std::chrono::milliseconds(pick(1000, 3000)), i);
          say(fmt::format("killed the leader {} (kill {})", lead, kills));
          break;
        }
      }
    }
  }

  // The faults stop; every replica runs; the system settles.
  api.del("/_sim/faults");
  api.del("/_sim/dispatch/faults");
  for (auto& [when, which] : restarts) start_replica(replicas[which]);
  restarts.clear();
  int total_faults = 0;
  for (const auto& [k, n] : faults) total_faults += n;
  say(fmt::format("{} faults and {} kills injected; settling (at most {} s)", total_faults, kills, settle_s));

  auto snapshot = [&]() {
    chaos::Inputs in;
    in.records = chaos::records_from(api.get("/_sim/records"));
    in.live = chaos::live_from(api.get(kWorkloads));
    in.issues = chaos::issues_from(api.dispatch_state());
    const json::value cms = api.get(kIntents);
    if (const auto* items = cms.is_object() ? cms.as_object().if_contains("items") : nullptr; items && items->is_array()) {
      for (const auto& cm : items->as_array()) in.intents_left.emplace_back(cm.at("metadata").at("name").as_string());
    }
    in.max_attempts = kMaxAttempts;
    in.agent = "foreman-coder";
    return in;
  };
  // Settled: no Workload in flight or waiting for its retry, no retry intent, and the
  // records unchanged for 5 s. What has not settled by the deadline is reported by the
  // invariants (unsettled, retry-lost, intent-left).
  const auto settle_deadline = Clock::now() + std::chrono::seconds(settle_s);
  std::size_t last_records = 0;
  auto stable_since = Clock::now();
  bool settled = false;
  chaos::Inputs in;
  while (Clock::now() < settle_deadline) {
    std::this_thread::sleep_for(1s);
    try {
      in = snapshot();
    } catch (const std::exception& e) {
      say(std::string("could not read the simulators: ") + e.what());
      continue;
    }
    bool busy = !in.intents_left.empty();
    // A Failed Workload below the cap is work still to do (its retry), not an end.
    for (const auto& w : in.live) {
      busy = busy || w.terminating || (w.phase != "Completed" && w.phase != "Failed") ||
             (w.phase == "Failed" && w.attempt < kMaxAttempts);
    }
    if (busy || in.records.size() != last_records) {
      last_records = in.records.size();
      stable_since = Clock::now();
      continue;
    }
    if (Clock::now() - stable_since >= 5s) {
      settled = true;
      break;
    }
  }
  const double settle_seconds = std::chrono::duration<double>(Clock::now() - end).count();

  for (auto& r : replicas) {
    if (r.process && r.process->running() && r.pid == r.pid_at_mid && r.mid_mb > 0) {
      in.memory.push_back({r.identity, r.mid_mb, rss_mb(r.pid)});
    }
  }
  const chaos::Verdict verdict = chaos::check(in);

  int created = 0, retried = 0, failed = 0;
  for (const auto& r : in.records) {
    if (r.op == "create") {
      ++created;
      retried += r.attempt > 1;
    }
  }
  for (const auto& r : in.records) failed += r.op == "delete";
  int claimed = 0;
  for (const auto& i : in.issues) claimed += i.ever_claimed;
  int violations = 0;
  json::object inv;
  for (const auto& [name, n] : verdict.counts) {
    inv[name] = n;
    violations += n;
  }
  for (const auto& v : verdict.violations) say(fmt::format("VIOLATION {}: {}", v.invariant, v.detail));
  json::object fj;
  for (const auto& [k, n] : faults) fj[k] = n;
  json::array mem;
  for (const auto& m : in.memory) mem.push_back(json::object{{"replica", m.replica}, {"mid_mb", m.mid_mb}, {"end_mb", m.end_mb}});
  const json::object summary{{"tool", "chaos-soak"},
                             {"seed", seed},
                             {"seconds", seconds},
                             {"issues", issues},
                             {"issues_claimed", claimed},
                             {"workloads_created", created},
                             {"retries", retried},
                             {"workloads_deleted", failed},
                             {"faults", total_faults},
                             {"faults_by_kind", fj},
                             {"leader_kills", kills},
                             {"leader_deadline_stops", count_in_logs(dir, "not renewed within the renew deadline")},
                             {"watch_short_backoffs", count_in_logs(dir, "watch ended at once")},
                             {"claims_settled_by_list", count_in_logs(dir, "is ours in dispatch's list of claims")},
                             {"settled", settled},
                             {"settle_seconds", settle_seconds},
                             {"survivor_memory", mem},
                             {"invariants", inv},
                             {"violations", violations}};
  std::printf("%s\n", json::serialize(summary).c_str());
  for (auto& r : replicas) {
    if (r.process && r.process->running()) r.process->signal(SIGTERM);
  }
  for (auto& r : replicas) {
    if (r.process) r.process->wait(10s);
  }
  sim_process.signal(SIGTERM);
  sim_process.wait(5s);
  if (!settled) say("the system did not settle in time; see the logs in " + dir);
  return violations == 0 && settled ? 0 : 1;
}

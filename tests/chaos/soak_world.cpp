#include "chaos/soak_world.hpp"

#include "support/bridge_process.hpp"

#include <fmt/format.h>

#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>

namespace fdb::chaos {

namespace json = boost::json;
using namespace std::chrono_literals;

namespace {

const std::string kWorkloads = "/apis/foreman.llmkube.dev/v1alpha1/namespaces/llm/workloads";
const std::string kIntents =
    "/api/v1/namespaces/llm/configmaps?labelSelector=foreman.llmkube.dev%2Fretry-intent%3Dtrue";

double rss_mb(int pid) {
  std::ifstream in(fmt::format("/proc/{}/status", pid));
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;
  }
  return -1;
}

// The Lease's holderIdentity, empty when there is none or it cannot be read.
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

bool alive(Replica& r) { return r.process && r.process->running(); }

}  // namespace

SoakWorld::SoakWorld(SoakOptions o) : options(std::move(o)), rng(options.seed) {}

int SoakWorld::pick(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); }

void say(const std::string& line) { std::fprintf(stderr, "chaos-soak: %s\n", line.c_str()); }

bool set_up(SoakWorld& w) {
  const SoakOptions& o = w.options;
  w.dir = test::temp_dir("chaos");
  say(fmt::format("seed {}, {} issues, {} replicas, {} s of faults, logs in {}", o.seed, o.issues, o.replicas, o.seconds,
                  w.dir));
  w.sim.process = std::make_unique<test::Process>(
      std::vector<std::string>{o.sim_path, "--listen", "127.0.0.1:0", "--dispatch-listen", "127.0.0.1:0",
                               "--kubeconfig-out", w.dir + "/kubeconfig", "--foreman-step-ms", "100",
                               "--foreground-delay-ms", "50", "--fail-rate", fmt::format("{}", o.fail_rate), "--seed",
                               std::to_string(o.seed), "--seed-issues", std::to_string(o.issues), "--history", "5000"},
      std::map<std::string, std::string>{}, w.dir + "/kube-sim.log");
  auto api = w.sim.process->wait_for_line("kube-sim listening on ", 60s);
  auto dispatch = w.sim.process->wait_for_line("dispatch listening on ", 10s);
  if (!api || !dispatch) {
    say("kube-sim did not start; see " + w.dir + "/kube-sim.log");
    return false;
  }
  w.sim.api_url = *api;
  w.sim.dispatch_url = *dispatch;
  w.sim.kubeconfig = w.dir + "/kubeconfig";
  w.api.emplace(w.sim.api_url);
  w.replicas.resize(static_cast<std::size_t>(o.replicas));
  for (auto& r : w.replicas) start_replica(w, r);
  return true;
}

void start_replica(SoakWorld& w, Replica& r) {
  static const std::map<std::string, std::string> kEnv = {
      {"LEADER_ELECT", "true"},    {"LEASE_DURATION_S", "3"},    {"RENEW_DEADLINE_S", "2"},
      {"RETRY_PERIOD_S", "1"},     {"PARK_ON_GIVE_UP", "false"}, {"RETRY_MAX_ATTEMPTS", std::to_string(kMaxAttempts)},
      {"LOG_LEVEL", "INFO"},       {"CLAIM_INTERVAL_S", "1"},    {"DELETE_WORKLOAD_TIMEOUT_S", "10"},
      {"MAX_IN_PROGRESS", "40"}};
  r.identity = fmt::format("bridge-{}", w.generation++);
  r.log = fmt::format("{}/{}.log", w.dir, r.identity);
  auto e = test::bridge_env(w.sim, kEnv);
  e["POD_NAME"] = r.identity;
  r.process = std::make_unique<test::Process>(std::vector<std::string>{w.options.bridge_path}, e, r.log);
  r.pid = r.process->pid();
}

void restart_due(SoakWorld& w, Clock::time_point now, bool all) {
  for (auto it = w.restarts.begin(); it != w.restarts.end();) {
    if (all || it->first <= now) {
      start_replica(w, w.replicas[it->second]);
      it = w.restarts.erase(it);
    } else {
      ++it;
    }
  }
}

void sample_mid_memory(SoakWorld& w) {
  for (auto& r : w.replicas) {
    if (alive(r)) {
      r.mid_mb = rss_mb(r.pid);
      r.pid_at_mid = r.pid;
    }
  }
}

bool kill_leader(SoakWorld& w, Clock::time_point now, int kills_so_far) {
  const std::string lead = holder(*w.api);
  for (std::size_t i = 0; i < w.replicas.size(); ++i) {
    auto& r = w.replicas[i];
    if (r.identity != lead || !alive(r)) continue;
    r.process->signal(SIGKILL);
    r.process->wait(5s);
    w.restarts.emplace_back(now + std::chrono::milliseconds(w.pick(1000, 3000)), i);
    say(fmt::format("killed the leader {} (kill {})", lead, kills_so_far + 1));
    return true;
  }
  return false;
}

void inject(SoakWorld& w, const Fault& fault) {
  for (const auto& post : fault.posts) {
    try {
      w.api->post(post.path(), post.body);
    } catch (const std::exception& e) {
      say(fmt::format("could not inject a fault ({}): {}", post.path(), e.what()));
    }
  }
}

void clear_faults(SoakWorld& w) {
  w.api->del("/_sim/faults");
  w.api->del("/_sim/dispatch/faults");
}

Inputs snapshot(const SoakWorld& w) {
  Inputs in;
  in.records = records_from(w.api->get("/_sim/records"));
  in.live = live_from(w.api->get(kWorkloads));
  in.issues = issues_from(w.api->dispatch_state());
  const json::value cms = w.api->get(kIntents);
  if (const auto* items = cms.is_object() ? cms.as_object().if_contains("items") : nullptr; items && items->is_array()) {
    for (const auto& cm : items->as_array()) in.intents_left.emplace_back(cm.at("metadata").at("name").as_string());
  }
  in.max_attempts = kMaxAttempts;
  in.agent = "foreman-coder";
  return in;
}

std::vector<Memory> survivor_memory(const SoakWorld& w) {
  std::vector<Memory> out;
  for (const auto& r : w.replicas) {
    if (r.process && r.process->running() && r.pid == r.pid_at_mid && r.mid_mb > 0) {
      out.push_back({r.identity, r.mid_mb, rss_mb(r.pid)});
    }
  }
  return out;
}

int count_in_logs(const SoakWorld& w, const std::string& needle) {
  int n = 0;
  for (const auto& entry : std::filesystem::directory_iterator(w.dir)) {
    const std::string name = entry.path().filename().string();
    if (!name.starts_with("bridge-") || !name.ends_with(".log")) continue;
    std::ifstream in(entry.path());
    std::string line;
    while (std::getline(in, line)) n += line.find(needle) != std::string::npos;
  }
  return n;
}

void shut_down(SoakWorld& w) {
  for (auto& r : w.replicas) {
    if (alive(r)) r.process->signal(SIGTERM);
  }
  for (auto& r : w.replicas) {
    if (r.process) r.process->wait(10s);
  }
  w.sim.process->signal(SIGTERM);
  w.sim.process->wait(5s);
}

}  // namespace fdb::chaos

// Three leader-elected replicas against kube-sim (SPEC §9, issue 6): exactly one leads;
// kill -9 the leader mid-retry and another leads within lease duration + retry period and
// finishes the retry once; SIGTERM the leader and another leads within 3 s; over the
// whole run no Workload name is created while it exists and no attempt passes the cap.
#include "support/bridge_process.hpp"
#include "support/sim_client.hpp"

#include <boost/json/serialize.hpp>
#include <boost/test/unit_test.hpp>

#include <csignal>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <thread>

namespace json = boost::json;
using namespace fdb::test;
using namespace std::chrono_literals;

namespace {

struct Replica {
  std::string identity;
  std::string log;
  std::unique_ptr<Process> process;
  std::string metrics_url;
};

// leader_election_master_status of a replica: 1, 0, or -1 when it does not answer.
int leading(const Replica& r) {
  try {
    const std::string body = SimClient(r.metrics_url).text("/metrics");
    static const std::regex line(R"re(leader_election_master_status\{name="foreman-dispatch-bridge"\} ([0-9.]+))re");
    std::smatch m;
    if (std::regex_search(body, m, line)) return std::stod(m[1].str()) > 0.5 ? 1 : 0;
  } catch (const std::exception&) {
  }
  return -1;
}

std::string holder(const SimClient& api) {
  const auto l = api.lease("llm", "foreman-dispatch-bridge");
  if (l.is_null()) return {};
  const auto* spec = l.as_object().if_contains("spec");
  if (spec == nullptr) return {};
  const auto* h = spec->as_object().if_contains("holderIdentity");
  return h && h->is_string() ? std::string(h->as_string()) : std::string();
}

// Three replicas of the bridge, leader-elected with a 3 s lease, against one kube-sim; the
// named steps of the scenario.
struct HaCluster {
  Sim sim = start_test_sim("ha");
  SimClient api{sim.api_url};
  std::vector<Replica> replicas;

  void start_replicas(int n) {
    const std::map<std::string, std::string> timings = {
        {"LEADER_ELECT", "true"}, {"LEASE_DURATION_S", "3"}, {"RENEW_DEADLINE_S", "2"}, {"RETRY_PERIOD_S", "1"}};
    replicas.resize(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) {
      auto& r = replicas[static_cast<std::size_t>(i)];
      r.identity = "bridge-" + std::to_string(i);
      r.log = temp_dir("ha-" + r.identity) + "/bridge.log";
      auto env = timings;
      env["POD_NAME"] = r.identity;
      r.process = start_bridge(sim, env, r.log);
      r.metrics_url = metrics_url_from_log(r.log);
      BOOST_REQUIRE_MESSAGE(!r.metrics_url.empty(), "no metrics address in " << r.log);
    }
  }
  Replica& find(const std::string& id) {
    for (auto& r : replicas) {
      if (r.identity == id) return r;
    }
    throw std::runtime_error("no replica " + id);
  }
  // How many running replicas say they lead.
  int leaders() {
    int n = 0;
    for (const auto& r : replicas) n += r.process && r.process->running() && leading(r) == 1;
    return n;
  }
  // How many `op` records wl-o-r-11 has (at `attempt`; empty: any).
  int records_of(const std::string& op, const std::string& attempt) const {
    int n = 0;
    for (const auto& r : api.workload_records("wl-o-r-11")) {
      n += r.at("op").as_string() == op && (attempt.empty() || r.at("attempt").as_string() == attempt);
    }
    return n;
  }

  // Exactly one leader, and it is the lease holder.
  void await_one_leader() {
    BOOST_REQUIRE(SimClient::wait_until([&] { return !holder(api).empty(); }, 15s));
    BOOST_REQUIRE(SimClient::wait_until([&] { return leaders() == 1; }, 10s));
    BOOST_TEST(leading(find(holder(api))) == 1);
  }
  // o/r#11 fails its first attempt; its retry is in flight (deleted, every create failing).
  void start_a_retry_whose_creates_fail() {
    api.add_issue("o/r", 11, "local");
    api.set_issue_rule("o/r", 11, {{"1", "fail-review"}, {"2", "hang"}});
    BOOST_REQUIRE(SimClient::wait_until([&] { return records_of("create", "1") == 1; }, 20s));
    api.post("/_sim/faults", json::object{{"path", "/apis/foreman.llmkube.dev/v1alpha1/namespaces/llm/workloads"},
                                          {"method", "POST"}, {"code", 500}, {"count", 1000000}});
    BOOST_REQUIRE(SimClient::wait_until([&] { return records_of("delete", "") == 1; }, 20s));
    std::this_thread::sleep_for(200ms);
  }
  // kill -9 the leader, then let creates succeed again; the killed identity and when.
  std::pair<std::string, std::chrono::steady_clock::time_point> kill_the_leader() {
    const std::string killed = holder(api);
    find(killed).process->signal(SIGKILL);
    find(killed).process->wait(5s);
    const auto killed_at = std::chrono::steady_clock::now();
    api.del("/_sim/faults");
    return {killed, killed_at};
  }
  // Another leads within lease duration + retry period (3 s + 1 s; a little slack for
  // process scheduling), and finishes the retry exactly once.
  void await_takeover_and_the_retry_once(const std::string& killed, std::chrono::steady_clock::time_point killed_at) {
    BOOST_REQUIRE(SimClient::wait_until([&] { const auto h = holder(api); return !h.empty() && h != killed; }, 10s));
    const double takeover = std::chrono::duration<double>(std::chrono::steady_clock::now() - killed_at).count();
    BOOST_TEST_MESSAGE("takeover after kill -9: " << takeover << " s");
    BOOST_TEST(takeover < 3.0 + 1.0 + 1.5);
    BOOST_REQUIRE(SimClient::wait_until([&] { return records_of("create", "2") == 1; }, 20s));
    std::this_thread::sleep_for(1s);
    BOOST_TEST(records_of("create", "2") == 1);
  }
  // SIGTERM the leader: it releases the lease and exits 0; another (not `killed`) leads
  // within 3 s.
  void sigterm_the_leader_and_await_handover(const std::string& killed) {
    const std::string second = holder(api);
    auto& sr = find(second);
    sr.process->signal(SIGTERM);
    const auto term_at = std::chrono::steady_clock::now();
    BOOST_TEST(sr.process->wait(10s).value_or(-1) == 0);
    BOOST_REQUIRE(SimClient::wait_until([&] { const auto h = holder(api); return !h.empty() && h != second && h != killed; }, 10s));
    const double handover = std::chrono::duration<double>(std::chrono::steady_clock::now() - term_at).count();
    BOOST_TEST_MESSAGE("handover after SIGTERM: " << handover << " s");
    BOOST_TEST(handover < 3.0);
    BOOST_REQUIRE(SimClient::wait_until([&] { return leaders() == 1; }, 10s));
  }
  // Over the whole run: no name created while it existed, no attempt above the cap (3).
  void check_no_create_over_a_live_name_nor_past_the_cap() const {
    const json::value recs = api.records();
    for (const auto& r : recs.at("workloads").as_array()) {
      if (r.at("op").as_string() != "create") continue;
      BOOST_TEST(!r.at("liveExisted").as_bool(), json::serialize(r));
      const std::string attempt(r.at("attempt").as_string());
      BOOST_TEST(std::atoi(attempt.c_str()) <= 3, json::serialize(r));
    }
  }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(ha)

BOOST_AUTO_TEST_CASE(three_replicas_one_leader_failover_exactly_once) {
  HaCluster c;
  c.start_replicas(3);
  c.await_one_leader();
  c.start_a_retry_whose_creates_fail();
  const auto [killed, killed_at] = c.kill_the_leader();
  c.await_takeover_and_the_retry_once(killed, killed_at);
  c.sigterm_the_leader_and_await_handover(killed);
  c.check_no_create_over_a_live_name_nor_past_the_cap();
}

BOOST_AUTO_TEST_SUITE_END()

// kube-sim: the Beast HTTP front of the simulator (Kubernetes API, dispatch API, control
// API), watch streaming with fan-out, the GC/Foreman ticker, and the command line.
#include "sim/api.hpp"
#include "sim/github.hpp"
#include "sim/listener_stall.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>

#include <fmt/format.h>
#include <zlib.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <list>
#include <map>
#include <set>

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;
using net::ip::tcp;
using namespace fdb::sim;

namespace {

constexpr auto kTuple = net::as_tuple(net::use_awaitable);
constexpr std::size_t kGzipMin = 128 * 1024;  // the API server's compression threshold

bool accepts_gzip(const std::string& header) {
  std::size_t pos = 0;
  while (pos < header.size()) {
    auto comma = header.find(',', pos);
    std::string tok = header.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    pos = comma == std::string::npos ? header.size() : comma + 1;
    auto b = tok.find_first_not_of(' ');
    if (b == std::string::npos) continue;
    tok = tok.substr(b);
    if (tok.rfind("gzip", 0) == 0 && tok.find("q=0") == std::string::npos) return true;
  }
  return false;
}

std::string gzip(const std::string& in) {
  z_stream zs{};
  if (deflateInit2(&zs, Z_BEST_SPEED, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    throw std::runtime_error("gzip: deflateInit2 failed");
  std::string out(deflateBound(&zs, static_cast<uLong>(in.size())) + 32, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  int rc = deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  if (rc != Z_STREAM_END) throw std::runtime_error("gzip: deflate did not finish");
  return out;
}

struct Watcher {
  explicit Watcher(net::any_io_executor ex) : wake(std::move(ex)) {}
  WatchSpec spec;
  std::deque<std::shared_ptr<const std::string>> queue;
  std::size_t bytes = 0;
  bool closed = false;
  bool overflow = false;
  net::steady_timer wake;
};

struct Config {
  std::string listen = "127.0.0.1:0";
  std::string dispatch_listen;
  std::string github_listen;
  std::string token;
  std::string kubeconfig_out;
  std::string kubeconfig_namespace = "default";
  int seed_issues = 0;
  int seed_workloads = 0;
  int workload_bytes = 2500;
  // "padded": the intent padded with one long run of 'x' to workload_bytes. "realistic":
  // the shape of a Workload read back from a real API server — managedFields for the
  // bridge's create and Foreman's status writes, an intent of issue text with newlines,
  // quotes and code — filled with prose to workload_bytes.
  std::string workload_shape = "padded";
  // "finished": one in five seeded Workloads Failed, the others Completed. "running": all
  // Running, as Foreman leaves them while their tasks work (nothing for the bridge to do:
  // the idle benchmark).
  std::string seed_phase = "finished";
  std::string seed_namespace = "llm";
  double fail_rate = 0.0;
  std::uint64_t seed = 1;
  int foreman_step_ms = 200;
  int foreground_delay_ms = 100;
  std::size_t history = 10000;
  int bookmark_ms = 5000;
  std::size_t watcher_buffer_bytes = 256u << 20;
  std::string crds;
  bool crds_explicit = false;
  std::vector<std::string> lanes = {"local", "cloud", "frontier"};
};

class Sim {
 public:
  Sim(net::io_context& ioc, const Config& cfg)
      : ioc_(ioc),
        cfg_(cfg),
        store_(Store::Options{cfg.history, std::chrono::milliseconds(cfg.foreground_delay_ms)}),
        foreman_(store_, ForemanRules{cfg.fail_rate, cfg.seed, std::chrono::milliseconds(cfg.foreman_step_ms), {}}),
        dispatch_(cfg.lanes, cfg.token),
        api_(store_, foreman_, cfg.dispatch_listen.empty() ? nullptr : &dispatch_, Api::Options{cfg.token, ""}) {
    store_.on_event = [this](const std::shared_ptr<const Event>& ev) {
      auto now = Clock::now();
      api_.observe(*ev, now);
      foreman_.observe(*ev, now);
      publish(ev);
    };
  }

  Store& store() { return store_; }
  Dispatch& dispatch() { return dispatch_; }
  enum class Front { Api, Dispatch, GitHub };
  void set_host(std::string h) { host_ = std::move(h); }

  void publish(const std::shared_ptr<const Event>& ev) {
    for (auto& w : watchers_) {
      if (w->closed) continue;
      auto t = w->spec.filter.classify(*ev);
      if (!t) continue;
      auto line = *t == ev->type ? ev->line : std::make_shared<const std::string>(event_line(*t, *ev->object));
      w->bytes += line->size();
      w->queue.push_back(std::move(line));
      if (w->bytes > cfg_.watcher_buffer_bytes) {
        // Too far behind: end its stream, as the real server does with a slow watcher.
        w->overflow = true;
        w->closed = true;
        w->queue.clear();
        w->bytes = 0;
        std::cerr << "kube-sim: dropping a watcher that fell " << cfg_.watcher_buffer_bytes << " bytes behind\n";
      }
      w->wake.cancel();
    }
  }
  void drop_watches() {
    for (auto& w : watchers_) {
      w->closed = true;
      w->wake.cancel();
    }
  }

  net::awaitable<void> ticker() {
    net::steady_timer t(ioc_);
    for (;;) {
      t.expires_after(std::chrono::milliseconds(10));
      auto [ec] = co_await t.async_wait(kTuple);
      if (ec) co_return;
      auto now = Clock::now();
      store_.tick(now);
      foreman_.tick(now);
      for (const auto& e : foreman_.take_errors()) std::cerr << "kube-sim: foreman: " << e << "\n";
    }
  }

  net::awaitable<void> serve_watch(beast::tcp_stream& stream, WatchSpec spec, int stall_ms) {
    auto w = std::make_shared<Watcher>(stream.get_executor());
    w->spec = std::move(spec);
    const ResourceInfo& r = *w->spec.filter.res;
    auto bookmark = [&r](std::uint64_t rv, bool initial_end) {
      json::object md{{"resourceVersion", std::to_string(rv)}};
      if (initial_end) md["annotations"] = json::object{{"k8s.io/initial-events-end", "true"}};
      json::object o{{"kind", r.kind}, {"apiVersion", r.api_version()}, {"metadata", md}};
      return event_line("BOOKMARK", json::serialize(o));
    };
    std::string first =
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nCache-Control: no-cache, private\r\n"
        "Transfer-Encoding: chunked\r\n\r\n";
    std::string initial;
    // A fault may end the stream right after its header, with no event at all.
    bool end_now = w->spec.end_at_once;
    if (!end_now && !w->spec.from_rv) {
      for (const auto& o : store_.snapshot(w->spec.filter)) initial += event_line("ADDED", *o.json);
      if (w->spec.initial_events_end) initial += bookmark(store_.resource_version(), true);
    } else if (end_now) {
      // nothing to send
    } else if (auto h = store_.since(*w->spec.from_rv)) {
      for (const auto& ev : *h)
        if (auto t = w->spec.filter.classify(*ev)) initial += *t == ev->type ? *ev->line : event_line(*t, *ev->object);
    } else {
      ApiError e{410, "Expired",
                 fmt::format("too old resource version: {} ({})", *w->spec.from_rv, store_.compacted() + 1), {}};
      initial += "{\"type\":\"ERROR\",\"object\":" + status_json(e) + "}\n";
      end_now = true;
    }
    if (!end_now) watchers_.push_back(w);
    auto chunk = [](std::string& out, const std::string& data) {
      if (data.empty()) return;
      out += fmt::format("{:x}\r\n", data.size());
      out += data;
      out += "\r\n";
    };
    chunk(first, initial);
    if (end_now) first += "0\r\n\r\n";
    stream.expires_after(std::chrono::seconds(60));
    auto [ec0, n0] = co_await net::async_write(stream, net::buffer(first), kTuple);
    (void)n0;
    bool ok = !ec0 && !end_now;
    if (ok && stall_ms > 0) {
      net::steady_timer st(stream.get_executor());
      st.expires_after(std::chrono::milliseconds(stall_ms));
      co_await st.async_wait(kTuple);
    }
    auto start = std::chrono::steady_clock::now();
    auto deadline = w->spec.timeout_s > 0 ? start + std::chrono::seconds(w->spec.timeout_s)
                                          : std::chrono::steady_clock::time_point::max();
    auto next_bookmark = start + std::chrono::milliseconds(cfg_.bookmark_ms);
    std::string out;
    while (ok && !w->closed) {
      auto now = std::chrono::steady_clock::now();
      if (now >= deadline) break;
      if (w->spec.bookmarks && now >= next_bookmark) {
        w->queue.push_back(std::make_shared<const std::string>(bookmark(store_.resource_version(), false)));
        next_bookmark = now + std::chrono::milliseconds(cfg_.bookmark_ms);
      }
      if (w->queue.empty()) {
        w->wake.expires_at(w->spec.bookmarks ? std::min(deadline, next_bookmark) : deadline);
        co_await w->wake.async_wait(kTuple);
        continue;
      }
      std::string data;
      data.reserve(std::min<std::size_t>(w->bytes, 4u << 20) + 64);
      while (!w->queue.empty() && data.size() < (4u << 20)) {
        data += *w->queue.front();
        w->bytes -= w->queue.front()->size();
        w->queue.pop_front();
      }
      out.clear();
      chunk(out, data);
      stream.expires_after(std::chrono::seconds(60));
      auto [ec, n] = co_await net::async_write(stream, net::buffer(out), kTuple);
      (void)n;
      if (ec) ok = false;
    }
    w->closed = true;
    watchers_.remove(w);
    if (ok && !w->overflow) {
      static const std::string last = "0\r\n\r\n";
      stream.expires_after(std::chrono::seconds(10));
      co_await net::async_write(stream, net::buffer(last), kTuple);
    }
  }

  net::awaitable<void> session(tcp::socket sock, Front front) {
    beast::tcp_stream stream(std::move(sock));
    beast::flat_buffer buf;
    for (;;) {
      http::request_parser<http::string_body> parser;
      parser.body_limit(512u << 20);
      stream.expires_never();
      if (buf.size() == 0) idle_[front].insert(&stream);  // closed by a connect stall
      auto [ec, n] = co_await http::async_read(stream, buf, parser, kTuple);
      idle_[front].erase(&stream);
      (void)n;
      if (ec) break;
      auto& msg = parser.get();
      Request req;
      req.method = std::string(msg.method_string());
      std::string target(msg.target());
      auto q = target.find('?');
      req.path = url_decode(std::string_view(target).substr(0, q), false);
      if (q != std::string::npos) req.query = parse_query(std::string_view(target).substr(q + 1));
      req.content_type = std::string(msg[http::field::content_type]);
      req.authorization = std::string(msg[http::field::authorization]);
      req.body = std::move(msg.body());
      std::string accept_encoding(msg[http::field::accept_encoding]);
      bool keep = msg.keep_alive();
      unsigned version = msg.version();
      Answer a;
      try {
        if (front == Front::Dispatch && req.path.rfind("/_sim/", 0) != 0)
          a.http = dispatch_.handle(req.method, req.path, req.query, req.body, req.authorization);
        else if (front == Front::GitHub)
          a.http = github_.handle(req.method, req.path, req.body, req.authorization);
        else
          a = api_.handle(req, Clock::now());
      } catch (const std::exception& e) {
        // Any unexpected failure is an InternalError for this request only.
        a = error_answer(ApiError{500, "InternalError", std::string("kube-sim internal error: ") + e.what(), {}});
      }
      if (a.drop_watches) drop_watches();
      if (a.stall_connects_ms > 0) stall_connects(a.stall_front == "api" ? Front::Api : Front::Dispatch, a.stall_connects_ms);
      if (!a.watch && a.stall_ms > 0) a.http.delay_ms += a.stall_ms;  // a stalled plain answer is held
      if (a.http.delay_ms > 0) {
        net::steady_timer t(stream.get_executor());
        t.expires_after(std::chrono::milliseconds(a.http.delay_ms));
        co_await t.async_wait(kTuple);
      }
      if (a.watch) {
        co_await serve_watch(stream, std::move(*a.watch), a.stall_ms);
        break;
      }
      if (a.http.reset) {
        // A fault: acted on, never answered; the client sees a reset.
        beast::error_code ignored;
        stream.socket().set_option(net::socket_base::linger(true, 0), ignored);
        stream.socket().close(ignored);
        co_return;
      }
      http::response<http::string_body> res{static_cast<http::status>(a.http.status), version};
      res.set(http::field::content_type, a.http.content_type);
      res.set(http::field::cache_control, "no-cache, private");
      for (const auto& [k, v] : a.http.headers) res.set(k, v);
      // Like kube-apiserver: gzip a large answer only when the client accepts it.
      if (a.http.body.size() >= kGzipMin && accepts_gzip(accept_encoding)) {
        res.set(http::field::content_encoding, "gzip");
        a.http.body = gzip(a.http.body);
      }
      res.body() = std::move(a.http.body);
      res.keep_alive(keep);
      res.prepare_payload();
      stream.expires_after(std::chrono::seconds(120));
      auto [wec, wn] = co_await http::async_write(stream, res, kTuple);
      (void)wn;
      if (wec || !keep) break;
    }
    beast::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
  }

  // New connections to `front` stall for `ms`; its idle keep-alive connections are closed.
  void stall_connects(Front front, int ms) {
    auto it = stalls_.find(front);
    if (it == stalls_.end()) return;
    it->second->stall_for(std::chrono::milliseconds(ms));
    for (auto* s : idle_[front]) {
      beast::error_code ignored;
      s->socket().shutdown(tcp::socket::shutdown_both, ignored);
    }
  }

  net::awaitable<void> accept(tcp::acceptor& acc, Front front) {
    if (stalls_.find(front) == stalls_.end()) {
      auto resume = [this, &acc, front] { net::co_spawn(ioc_, accept(acc, front), net::detached); };
      stalls_.emplace(front, std::make_unique<ListenerStall>(acc, resume));
    }
    for (;;) {
      auto [ec, sock] = co_await acc.async_accept(kTuple);
      if (ec) {
        if (ec == net::error::operation_aborted) co_return;
        std::cerr << "kube-sim: accept: " << ec.message() << "\n";
        continue;
      }
      sock.set_option(tcp::no_delay(true), ec);
      auto fn = [this, front](tcp::socket s) -> net::awaitable<void> { co_await session(std::move(s), front); };
      net::co_spawn(ioc_, fn(std::move(sock)), net::detached);
    }
  }

  Api& api() { return api_; }

 private:
  net::io_context& ioc_;
  Config cfg_;
  Store store_;
  Foreman foreman_;
  Dispatch dispatch_;
  GitHub github_;
  Api api_;
  std::string host_;
  std::list<std::shared_ptr<Watcher>> watchers_;
  std::map<Front, std::unique_ptr<ListenerStall>> stalls_;
  std::map<Front, std::set<beast::tcp_stream*>> idle_;  // sessions waiting for a request
};

tcp::endpoint parse_endpoint(const std::string& s, const char* flag) {
  auto colon = s.rfind(':');
  if (colon == std::string::npos) throw std::invalid_argument(std::string(flag) + ": expected HOST:PORT, got \"" + s + "\"");
  boost::system::error_code ec;
  auto addr = net::ip::make_address(s.substr(0, colon), ec);
  if (ec) throw std::invalid_argument(std::string(flag) + ": bad address \"" + s.substr(0, colon) + "\"");
  int port = std::stoi(s.substr(colon + 1));
  if (port < 0 || port > 65535) throw std::invalid_argument(std::string(flag) + ": bad port");
  return {addr, static_cast<unsigned short>(port)};
}

// The managedFields a real API server keeps on a bridge Workload: one entry for the
// bridge's create, one for Foreman's writes of the status subresource.
json::array managed_fields(const std::string& time) {
  auto leaf = [] { return json::object{}; };
  auto set = [&](std::initializer_list<const char*> keys) {
    json::object o{{".", leaf()}};
    for (const char* k : keys) o[std::string("f:") + k] = leaf();
    return o;
  };
  json::object spec = set({"intent", "issues", "repo", "reviewerAgentRefs"});
  spec["f:coderAgentRef"] = set({"name"});
  spec["f:verifierAgentRef"] = set({"name"});
  json::object md{{"f:annotations", set({"foreman.llmkube.dev/agent-name", "foreman.llmkube.dev/attempt",
                                          "foreman.llmkube.dev/issue-id"})},
                  {"f:labels", set({"created-by", "lane"})}};
  json::object conds = set({});
  conds["k:{\"type\":\"Completed\"}"] = set({"lastTransitionTime", "message", "reason", "status", "type"});
  json::object status = set({"failedTasks", "phase", "succeededTasks"});
  status["f:conditions"] = std::move(conds);
  return json::array{
      json::object{{"manager", "foreman-dispatch-bridge"}, {"operation", "Update"},
                   {"apiVersion", "foreman.llmkube.dev/v1alpha1"}, {"time", time}, {"fieldsType", "FieldsV1"},
                   {"fieldsV1", json::object{{"f:metadata", std::move(md)}, {"f:spec", std::move(spec)}}}},
      json::object{{"manager", "foreman-controller"}, {"operation", "Update"},
                   {"apiVersion", "foreman.llmkube.dev/v1alpha1"}, {"time", time}, {"fieldsType", "FieldsV1"},
                   {"fieldsV1", json::object{{"f:status", std::move(status)}}}, {"subresource", "status"}}};
}

// `n` bytes of issue text: prose with newlines, quotes, backticks and a code block.
std::string issue_text(std::size_t n) {
  static const char* const kParts[] = {
      "The parser rejects a trailing comma in an array literal, e.g. `[1, 2,]`. ",
      "Steps to reproduce:\n1. run `tool check examples/trailing.json`\n2. see \"unexpected ]\"\n",
      "Expected: the comma is accepted when `--lenient` is given, as the docs say. ",
      "```\nerror: unexpected token ']' at line 3, column 7\n```\n",
      "This started after the tokenizer rewrite; the old one skipped it. ",
  };
  std::string out;
  for (std::size_t i = 0; out.size() < n; ++i) out += kParts[i % std::size(kParts)];
  out.resize(n);
  while (!out.empty() && (out.back() == '\\' || static_cast<unsigned char>(out.back()) >= 0x80)) out.pop_back();
  return out;
}

void seed_workloads(Store& store, const Config& cfg) {
  const ResourceInfo& wl = workloads();
  auto now = Clock::now();
  std::string filler;
  const bool realistic = cfg.workload_shape == "realistic";
  for (int i = 0; i < cfg.seed_workloads; ++i) {
    // The name the bridge gives the issue (SPEC §3, wl-{owner}-{repo}-{number}), as a
    // cluster the bridge made holds them: only Workloads named otherwise (the Python
    // bridge's, say) go into its issue index.
    std::string name = fmt::format("wl-misospace-seed-repo-{}", i);
    const bool failed = i % 5 == 0;
    const bool running = cfg.seed_phase == "running";
    json::object o{
        {"apiVersion", "foreman.llmkube.dev/v1alpha1"},
        {"kind", "Workload"},
        {"metadata",
         json::object{{"name", name},
                      {"labels", json::object{{"created-by", "dispatch-bridge"}, {"lane", i % 3 == 0 ? "cloud" : "local"}}},
                      {"annotations", json::object{{"foreman.llmkube.dev/attempt", "1"},
                                                   {"foreman.llmkube.dev/issue-id", fmt::format("I_seed{:06d}", i)},
                                                   {"foreman.llmkube.dev/agent-name", "foreman-coder"}}}}},
        {"spec", json::object{{"intent", "Fix the parser for trailing commas" + (filler.empty() ? "" : (realistic ? "\n" : " ") + filler)},
                              {"repo", "misospace/seed-repo"},
                              {"issues", json::array{i}},
                              {"coderAgentRef", json::object{{"name", "coder"}}},
                              {"reviewerAgentRefs", json::array{json::object{{"name", "reviewer"}}}},
                              {"verifierAgentRef", json::object{{"name", "gate"}}}}},
        {"status",
         running ? json::object{{"phase", "Running"}, {"succeededTasks", 0}, {"failedTasks", 0}}
                 : json::object{{"phase", failed ? "Failed" : "Completed"},
                      {"succeededTasks", failed ? 2 : 3},
                      {"failedTasks", failed ? 1 : 0},
                      {"conditions", json::array{json::object{{"type", "Completed"},
                                                              {"status", failed ? "False" : "True"},
                                                              {"reason", failed ? "ChildrenFailed" : "AllChildrenSucceeded"},
                                                              {"message", failed ? "a task failed" : "all tasks succeeded"},
                                                              {"lastTransitionTime", format_time(now)}}}}}}};
    if (realistic) o["metadata"].as_object()["managedFields"] = managed_fields(format_time(now));
    auto r = store.create(wl, cfg.seed_namespace, std::move(o), now, true);
    if (!r) throw std::runtime_error("seeding workloads: " + r.error->message);
    if (i == 0 && static_cast<int>(r.object.json->size()) < cfg.workload_bytes) {
      // Pad the intent so that each stored object is about --workload-bytes long.
      const std::size_t n = static_cast<std::size_t>(cfg.workload_bytes) - r.object.json->size();
      filler = realistic ? issue_text(n) : std::string(n, 'x');
      auto d = store.remove(wl, cfg.seed_namespace, name, DeleteOptions{"Background", {}, {}}, now);
      if (!d) throw std::runtime_error("seeding workloads: " + d.error->message);
      --i;
    }
  }
}

void write_kubeconfig(const Config& cfg, const std::string& url) {
  std::ofstream f(cfg.kubeconfig_out);
  f << "apiVersion: v1\nkind: Config\nclusters:\n- name: kube-sim\n  cluster:\n    server: " << url
    << "\ncontexts:\n- name: kube-sim\n  context:\n    cluster: kube-sim\n    user: kube-sim\n    namespace: "
    << cfg.kubeconfig_namespace << "\ncurrent-context: kube-sim\nusers:\n- name: kube-sim\n  user:";
  if (cfg.token.empty()) f << " {}\n";
  else f << "\n    token: " << cfg.token << "\n";
  if (!f) throw std::runtime_error("cannot write kubeconfig " + cfg.kubeconfig_out);
}

const char* kUsage =
    "usage: kube-sim --listen HOST:PORT [--dispatch-listen HOST:PORT] [--github-listen HOST:PORT] [--token T]\n"
    "  [--kubeconfig-out PATH]"
    "  [--kubeconfig-namespace NS] [--seed-issues N] [--seed-workloads N] [--workload-bytes B]\n"
    "  [--workload-shape padded|realistic] [--seed-phase finished|running]\n"
    "  [--seed-namespace NS] [--fail-rate F] [--seed S] [--foreman-step-ms MS] [--foreground-delay-ms MS]\n"
    "  [--history N] [--bookmark-ms MS] [--watcher-buffer-mb MB] [--crds DIR] [--dispatch-lanes a,b,c]\n";

Config parse_args(int argc, char** argv) {
  Config c;
  if (const char* d = std::getenv("FDB_CRDS_DIR")) c.crds = d;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--help" || a == "-h") {
      std::cout << kUsage;
      std::exit(0);
    }
    if (i + 1 >= argc) throw std::invalid_argument(a + " needs a value (or is unknown)\n" + kUsage);
    std::string v = argv[++i];
    auto num = [&]() {
      try {
        std::size_t pos = 0;
        long long x = std::stoll(v, &pos);
        if (pos != v.size() || x < 0) throw std::invalid_argument(v);
        return x;
      } catch (const std::exception&) {
        throw std::invalid_argument(a + ": expected a non-negative integer, got \"" + v + "\"");
      }
    };
    if (a == "--listen") c.listen = v;
    else if (a == "--dispatch-listen") c.dispatch_listen = v;
    else if (a == "--github-listen") c.github_listen = v;
    else if (a == "--token") c.token = v;
    else if (a == "--kubeconfig-out") c.kubeconfig_out = v;
    else if (a == "--kubeconfig-namespace") c.kubeconfig_namespace = v;
    else if (a == "--seed-issues") c.seed_issues = static_cast<int>(num());
    else if (a == "--seed-workloads") c.seed_workloads = static_cast<int>(num());
    else if (a == "--workload-bytes") c.workload_bytes = static_cast<int>(num());
    else if (a == "--seed-phase") {
      c.seed_phase = v;
      if (c.seed_phase != "finished" && c.seed_phase != "running")
        throw std::invalid_argument("--seed-phase: finished or running, got \"" + v + "\"");
    } else if (a == "--workload-shape") {
      c.workload_shape = v;
      if (c.workload_shape != "padded" && c.workload_shape != "realistic")
        throw std::invalid_argument("--workload-shape: padded or realistic");
    }
    else if (a == "--seed-namespace") c.seed_namespace = v;
    else if (a == "--fail-rate") {
      try {
        c.fail_rate = std::stod(v);
      } catch (const std::exception&) {
        throw std::invalid_argument("--fail-rate: expected a number in [0,1], got \"" + v + "\"");
      }
      if (c.fail_rate < 0 || c.fail_rate > 1) throw std::invalid_argument("--fail-rate: expected a number in [0,1]");
    } else if (a == "--seed") c.seed = static_cast<std::uint64_t>(num());
    else if (a == "--foreman-step-ms") c.foreman_step_ms = static_cast<int>(num());
    else if (a == "--foreground-delay-ms") c.foreground_delay_ms = static_cast<int>(num());
    else if (a == "--history") c.history = static_cast<std::size_t>(std::max(1LL, num()));
    else if (a == "--bookmark-ms") c.bookmark_ms = static_cast<int>(std::max(10LL, num()));
    else if (a == "--watcher-buffer-mb") c.watcher_buffer_bytes = static_cast<std::size_t>(num()) << 20;
    else if (a == "--crds") c.crds = v, c.crds_explicit = true;
    else if (a == "--dispatch-lanes") {
      c.lanes.clear();
      std::size_t pos = 0;
      while (pos <= v.size()) {
        auto comma = v.find(',', pos);
        std::string l = v.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
        if (!l.empty()) c.lanes.push_back(l);
        if (comma == std::string::npos) break;
        pos = comma + 1;
      }
      if (c.lanes.empty()) throw std::invalid_argument("--dispatch-lanes: expected a comma-separated list");
    } else throw std::invalid_argument("unknown flag " + a + "\n" + kUsage);
  }
  return c;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    Config cfg = parse_args(argc, argv);
    net::io_context ioc(1);
    Sim sim(ioc, cfg);
    if (cfg.crds.empty()) {
      std::cerr << "kube-sim: no CRD directory (--crds or $FDB_CRDS_DIR): serving without schema validation\n";
    } else if (!cfg.crds_explicit && !std::filesystem::is_directory(cfg.crds)) {
      std::cerr << "kube-sim: $FDB_CRDS_DIR " << cfg.crds << " is not a directory: serving without schema validation\n";
    } else {
      for (auto& crd : load_crds(cfg.crds)) {
        for (auto& [version, schema] : crd.versions) {
          const ResourceInfo* r = find_resource(crd.group, version, crd.plural);
          if (r == nullptr) {
            std::cerr << "kube-sim: CRD " << crd.plural << "." << crd.group << "/" << version << " is not served: ignored\n";
            continue;
          }
          sim.store().set_schema(*r, std::move(schema));
          std::cerr << "kube-sim: validating and pruning " << r->qualified() << "/" << version << " by its CRD\n";
        }
      }
    }
    if (cfg.seed_workloads > 0) {
      auto t0 = std::chrono::steady_clock::now();
      seed_workloads(sim.store(), cfg);
      std::cerr << fmt::format("kube-sim: seeded {} workloads in {} ms\n", cfg.seed_workloads,
                               std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count());
    }
    if (cfg.seed_issues > 0) sim.dispatch().seed(cfg.seed_issues);

    tcp::acceptor api_acc(ioc, parse_endpoint(cfg.listen, "--listen"));
    auto ep = api_acc.local_endpoint();
    std::string url = fmt::format("http://{}:{}", ep.address().to_string(), ep.port());
    std::optional<tcp::acceptor> disp_acc;
    std::string durl;
    if (!cfg.dispatch_listen.empty()) {
      disp_acc.emplace(ioc, parse_endpoint(cfg.dispatch_listen, "--dispatch-listen"));
      auto dep = disp_acc->local_endpoint();
      durl = fmt::format("http://{}:{}", dep.address().to_string(), dep.port());
    }
    std::optional<tcp::acceptor> gh_acc;
    std::string ghurl;
    if (!cfg.github_listen.empty()) {
      gh_acc.emplace(ioc, parse_endpoint(cfg.github_listen, "--github-listen"));
      auto gep = gh_acc->local_endpoint();
      ghurl = fmt::format("http://{}:{}", gep.address().to_string(), gep.port());
    }
    if (!cfg.kubeconfig_out.empty()) write_kubeconfig(cfg, url);
    std::cout << "kube-sim listening on " << url << "\n";
    if (disp_acc) std::cout << "dispatch listening on " << durl << "\n";
    if (gh_acc) std::cout << "github listening on " << ghurl << "\n";
    std::cout.flush();

    auto acc_fn = [&sim](tcp::acceptor& a, Sim::Front f) -> net::awaitable<void> { co_await sim.accept(a, f); };
    net::co_spawn(ioc, acc_fn(api_acc, Sim::Front::Api), net::detached);
    if (disp_acc) net::co_spawn(ioc, acc_fn(*disp_acc, Sim::Front::Dispatch), net::detached);
    if (gh_acc) net::co_spawn(ioc, acc_fn(*gh_acc, Sim::Front::GitHub), net::detached);
    auto tick_fn = [&sim]() -> net::awaitable<void> { co_await sim.ticker(); };
    net::co_spawn(ioc, tick_fn(), net::detached);
    net::signal_set signals(ioc, SIGINT, SIGTERM);
    signals.async_wait([&](const boost::system::error_code&, int sig) {
      std::cerr << "kube-sim: signal " << sig << ", exiting\n";
      ioc.stop();
    });
    ioc.run();
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "kube-sim: " << e.what() << "\n";
    return 2;
  }
}

// kube-sim: the Beast HTTP front of the simulator (Kubernetes API, dispatch API, control
// API), watch streaming with fan-out, the GC/Foreman ticker, and the command line.
#include "sim/api.hpp"
#include "sim/github.hpp"
#include "sim/listener_stall_io.hpp"
#include "sim/options.hpp"
#include "sim/seed.hpp"
#include "sim/watch_backlog.hpp"

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
  Watcher(net::any_io_executor ex, std::size_t limit_bytes) : backlog(limit_bytes), wake(std::move(ex)) {}
  WatchSpec spec;
  WatchBacklog backlog;
  bool closed = false;
  bool overflow = false;
  net::steady_timer wake;
};

using Config = ServerOptions;

// A BOOKMARK event line at `rv` (with the initial-events-end annotation when it closes a
// streamed list).
std::string bookmark_line(const ResourceInfo& r, std::uint64_t rv, bool initial_end) {
  json::object md{{"resourceVersion", std::to_string(rv)}};
  if (initial_end) md["annotations"] = json::object{{"k8s.io/initial-events-end", "true"}};
  json::object o{{"kind", r.kind}, {"apiVersion", r.api_version()}, {"metadata", md}};
  return event_line("BOOKMARK", json::serialize(o));
}

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
      if (!w->backlog.push(std::move(line))) {
        // Too far behind: end its stream, as the real server does with a slow watcher.
        std::cerr << fmt::format("kube-sim: dropping a watcher that fell {} bytes ({} events) behind (limit {})\n",
                                 w->backlog.bytes(), w->backlog.lines(), w->backlog.limit());
        w->overflow = true;
        w->closed = true;
        w->backlog.clear();
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

  // What a new watch starts with: the state (ADDED events and, streaming, the closing
  // bookmark), or the history since its resourceVersion, or a 410 ERROR event (then
  // `end_now`). A fault may end the stream right after its header, with no event at all.
  std::string initial_events(const WatchSpec& spec, bool& end_now) {
    std::string initial;
    end_now = spec.end_at_once;
    if (end_now) return initial;
    if (!spec.from_rv) {
      for (const auto& o : store_.snapshot(spec.filter)) initial += event_line("ADDED", *o.json);
      if (spec.initial_events_end) initial += bookmark_line(*spec.filter.res, store_.resource_version(), true);
    } else if (auto h = store_.since(*spec.from_rv)) {
      for (const auto& ev : *h)
        if (auto t = spec.filter.classify(*ev)) initial += *t == ev->type ? *ev->line : event_line(*t, *ev->object);
    } else {
      ApiError e{410, "Expired", fmt::format("too old resource version: {} ({})", *spec.from_rv, store_.compacted() + 1), {}};
      initial += "{\"type\":\"ERROR\",\"object\":" + status_json(e) + "}\n";
      end_now = true;
    }
    return initial;
  }

  net::awaitable<void> serve_watch(beast::tcp_stream& stream, WatchSpec spec, int stall_ms) {
    auto w = std::make_shared<Watcher>(stream.get_executor(), cfg_.watcher_buffer_bytes);
    w->spec = std::move(spec);
    const ResourceInfo& r = *w->spec.filter.res;
    std::string first =
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nCache-Control: no-cache, private\r\n"
        "Transfer-Encoding: chunked\r\n\r\n";
    bool end_now = false;
    const std::string initial = initial_events(w->spec, end_now);
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
        // Counted like any event line: a bookmark taken out of the backlog was put in it.
        w->backlog.push(std::make_shared<const std::string>(bookmark_line(r, store_.resource_version(), false)));
        next_bookmark = now + std::chrono::milliseconds(cfg_.bookmark_ms);
      }
      if (w->backlog.empty()) {
        w->wake.expires_at(w->spec.bookmarks ? std::min(deadline, next_bookmark) : deadline);
        co_await w->wake.async_wait(kTuple);
        continue;
      }
      std::string data;
      data.reserve(std::min<std::size_t>(w->backlog.bytes(), 4u << 20) + 64);
      w->backlog.take(data, 4u << 20);
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

#include "operator/http_server_io.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <atomic>
#include <charconv>
#include <cstdint>
#include <map>
#include <stdexcept>
#include <system_error>

namespace fdb::op {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::awaitable;
using asio::use_awaitable;
using tcp = asio::ip::tcp;

HostPort parse_host_port(std::string_view address) {
  const auto bad = [&](std::string_view why) {
    return std::invalid_argument("listen address \"" + std::string(address) + "\": " + std::string(why) +
                                 " (want host:port, [v6]:port or :port)");
  };
  HostPort hp;
  std::string_view port;
  if (address.starts_with('[')) {
    const auto close = address.find(']');
    if (close == std::string_view::npos) throw bad("unclosed '['");
    hp.host = std::string(address.substr(1, close - 1));
    if (hp.host.empty()) throw bad("empty IPv6 address");
    if (close + 1 >= address.size() || address[close + 1] != ':') throw bad("no port");
    port = address.substr(close + 2);
  } else {
    const auto colon = address.rfind(':');
    if (colon == std::string_view::npos) throw bad("no port");
    hp.host = std::string(address.substr(0, colon));
    if (hp.host.find(':') != std::string::npos) throw bad("an IPv6 address needs brackets");
    port = address.substr(colon + 1);
  }
  if (hp.host.empty()) hp.host = "0.0.0.0";
  unsigned value = 0;
  const auto r = std::from_chars(port.data(), port.data() + port.size(), value);
  if (port.empty() || r.ec != std::errc() || r.ptr != port.data() + port.size() || value > 65535)
    throw bad("the port is not a number from 0 to 65535");
  hp.port = static_cast<unsigned short>(value);
  return hp;
}

namespace {

constexpr std::string_view kMetricsType = "text/plain; version=0.0.4; charset=utf-8";
constexpr std::string_view kTextType = "text/plain; charset=utf-8";

struct Session {
  explicit Session(tcp::socket s) : stream(std::move(s)) {}
  beast::tcp_stream stream;
  // Idle: no byte of a request yet; Reading: a request begun; Answering: being answered.
  // Idle and Reading are safe to cancel (no answer is cut).
  enum class State { Idle, Reading, Answering } state = State::Idle;
  bool evicted = false;  // closed to make way for a newer connection
};

using Response = http::response<http::string_body>;

Response text(unsigned version, http::status status, std::string_view content_type, std::string body) {
  Response res{status, version};
  res.set(http::field::content_type, content_type);
  res.set(http::field::cache_control, "no-store");
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

Response health_answer(unsigned version, const std::function<Health()>& check) {
  const Health h = check();
  if (h.ok) return text(version, http::status::ok, kTextType, "ok\n");
  return text(version, http::status::service_unavailable, kTextType, "not ok: " + h.reason + "\n");
}

}  // namespace

struct HttpServer::Impl {
  Impl(asio::any_io_executor ex, Routes r, ServerOptions o)
      : strand(asio::make_strand(ex)), acceptor(strand), routes(std::move(r)), opts(o) {}

  asio::strand<asio::any_io_executor> strand;
  tcp::acceptor acceptor;
  Routes routes;
  ServerOptions opts;
  std::string host;
  unsigned short port = 0;
  bool started = false;
  bool stopping = false;  // on the strand
  std::atomic<std::size_t> open{0};
  std::uint64_t next_id = 0;
  std::map<std::uint64_t, std::weak_ptr<Session>> sessions;

  Response answer(const http::request<http::string_body>& req) const {
    std::string_view target = req.target();
    if (const auto q = target.find('?'); q != std::string_view::npos) target = target.substr(0, q);
    const unsigned v = req.version();
    const bool known = (target == "/metrics" && routes.metrics) || (target == "/healthz" && routes.healthz) ||
                       (target == "/readyz" && routes.readyz);
    if (!known) return text(v, http::status::not_found, kTextType, "404 page not found\n");
    if (req.method() != http::verb::get && req.method() != http::verb::head) {
      auto res = text(v, http::status::method_not_allowed, kTextType, "method not allowed\n");
      res.set(http::field::allow, "GET, HEAD");
      return res;
    }
    try {
      if (target == "/metrics") return text(v, http::status::ok, kMetricsType, routes.metrics());
      if (target == "/healthz") return health_answer(v, routes.healthz);
      return health_answer(v, routes.readyz);
    } catch (const std::exception& e) {
      return text(v, http::status::internal_server_error, kTextType, std::string("internal error: ") + e.what() + "\n");
    }
  }
};

namespace {

using ImplPtr = std::shared_ptr<HttpServer::Impl>;

// Answers a request that could not be read (too large, malformed), then the caller closes.
awaitable<void> refuse(std::shared_ptr<Session> session, http::status status, std::chrono::milliseconds timeout) {
  Response res = text(11, status, kTextType, std::string(http::obsolete_reason(status)) + "\n");
  res.keep_alive(false);
  session->stream.expires_after(timeout);
  auto [ec, n] = co_await http::async_write(session->stream, res, asio::as_tuple(use_awaitable));
  (void)n;
  if (ec) co_return;
  // A lingering close: closing with unread input makes the kernel send a reset, which can
  // destroy the answer before the client reads it; so read and drop what the client is
  // still sending (bounded in time and size) until it closes its side.
  boost::system::error_code ignored;
  session->stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
  session->stream.expires_after(std::chrono::seconds(1));
  char sink[4096];
  for (std::size_t total = 0; total < 256 * 1024;) {
    auto [rec, got] = co_await session->stream.async_read_some(asio::buffer(sink), asio::as_tuple(use_awaitable));
    if (rec) break;
    total += got;
  }
}

awaitable<void> serve(ImplPtr impl, std::shared_ptr<Session> session, std::uint64_t id) {
  beast::flat_buffer buffer;
  for (;;) {
    if (impl->stopping || session->evicted) break;
    http::request_parser<http::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(impl->opts.max_header_bytes));
    parser.body_limit(impl->opts.max_body_bytes);
    if (buffer.size() == 0) {
      // Idle until the first byte of a request: the short idle timeout, and first to go
      // when a new connection needs the room.
      session->state = Session::State::Idle;
      session->stream.expires_after(impl->opts.idle_timeout);
      auto [iec, got] = co_await session->stream.async_read_some(buffer.prepare(4096), asio::as_tuple(use_awaitable));
      buffer.commit(got);
      if (iec || session->evicted) break;
    }
    session->state = Session::State::Reading;
    session->stream.expires_after(impl->opts.read_timeout);
    auto [ec, n] = co_await http::async_read(session->stream, buffer, parser, asio::as_tuple(use_awaitable));
    session->state = Session::State::Answering;
    (void)n;
    if (session->evicted) break;
    if (ec) {
      if (ec == http::error::header_limit) {
        co_await refuse(session, http::status::request_header_fields_too_large, impl->opts.write_timeout);
      } else if (ec == http::error::body_limit) {
        co_await refuse(session, http::status::payload_too_large, impl->opts.write_timeout);
      } else if (ec.category() == http::make_error_code(http::error::bad_method).category() &&
                 ec != http::error::end_of_stream && ec != http::error::partial_message) {
        co_await refuse(session, http::status::bad_request, impl->opts.write_timeout);
      }
      break;  // end of stream, timeout, cancelled (stop), reset, or refused
    }
    const auto& req = parser.get();
    Response res = impl->answer(req);
    const bool head = req.method() == http::verb::head;
    if (head) {
      // The headers of the GET answer (its Content-Length) without the body.
      const auto length = res.body().size();
      res.body().clear();
      res.content_length(length);
    }
    const bool keep = req.keep_alive() && !impl->stopping;
    res.keep_alive(keep);
    session->stream.expires_after(impl->opts.write_timeout);
    if (head) {
      http::response_serializer<http::string_body> sr{res};
      auto [hec, hn] = co_await http::async_write_header(session->stream, sr, asio::as_tuple(use_awaitable));
      (void)hn;
      if (hec) break;
    } else {
      auto [wec, wn] = co_await http::async_write(session->stream, res, asio::as_tuple(use_awaitable));
      (void)wn;
      if (wec) break;
    }
    if (!keep) break;
  }
  boost::system::error_code ignored;
  session->stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
  session->stream.close();
  impl->sessions.erase(id);
  --impl->open;
}

// Closes the oldest idle connection, else the oldest still reading its request (one a
// closed connection is not waiting for yet); false when every one is being answered.
// Sessions are keyed by a growing id: the map's order is their age.
bool make_room(HttpServer::Impl& impl) {
  for (const auto state : {Session::State::Idle, Session::State::Reading}) {
    for (auto& [id, weak] : impl.sessions) {
      auto s = weak.lock();
      if (!s || s->evicted || s->state != state) continue;
      s->evicted = true;
      boost::system::error_code ignored;
      s->stream.socket().cancel(ignored);
      return true;
    }
  }
  return false;
}

awaitable<void> accept_loop(ImplPtr impl) {
  while (!impl->stopping) {
    auto [ec, socket] = co_await impl->acceptor.async_accept(asio::as_tuple(use_awaitable));
    if (impl->stopping || ec == asio::error::operation_aborted || !impl->acceptor.is_open()) break;
    if (ec) {
      // e.g. too many open files: pause a little rather than spin, then go on.
      asio::steady_timer pause(impl->strand, std::chrono::milliseconds(100));
      co_await pause.async_wait(asio::as_tuple(use_awaitable));
      continue;
    }
    if (impl->open.load() >= impl->opts.max_connections && !make_room(*impl)) {
      boost::system::error_code ignored;
      socket.close(ignored);
      continue;
    }
    auto session = std::make_shared<Session>(std::move(socket));
    const auto id = impl->next_id++;
    impl->sessions.emplace(id, session);
    ++impl->open;
    asio::co_spawn(impl->strand, serve(impl, session, id), asio::detached);
  }
}

void stop_now(const ImplPtr& impl) {
  if (impl->stopping) return;
  impl->stopping = true;
  boost::system::error_code ignored;
  impl->acceptor.close(ignored);
  for (auto& [id, weak] : impl->sessions) {
    if (auto s = weak.lock(); s && s->state != Session::State::Answering) s->stream.socket().cancel(ignored);
  }
}

}  // namespace

HttpServer::HttpServer(asio::any_io_executor ex, std::string_view address, Routes routes, ServerOptions options)
    : impl_(std::make_shared<Impl>(std::move(ex), std::move(routes), options)) {
  const HostPort hp = parse_host_port(address);
  tcp::resolver resolver(impl_->strand);
  boost::system::error_code ec;
  const auto results = resolver.resolve(hp.host, std::to_string(hp.port),
                                        tcp::resolver::passive | tcp::resolver::numeric_service, ec);
  if (ec || results.empty())
    throw std::system_error(ec ? std::error_code(ec) : std::make_error_code(std::errc::address_not_available),
                            "listen address \"" + std::string(address) + "\": cannot resolve " + hp.host);
  const tcp::endpoint ep = *results.begin();
  auto& a = impl_->acceptor;
  const auto fail = [&](const char* what) {
    throw std::system_error(std::error_code(ec), std::string(what) + " " + std::string(address));
  };
  a.open(ep.protocol(), ec);
  if (ec) fail("cannot open a socket for");
  a.set_option(asio::socket_base::reuse_address(true), ec);
  if (ec) fail("cannot set SO_REUSEADDR on");
  a.bind(ep, ec);
  if (ec) fail("cannot bind");
  a.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) fail("cannot listen on");
  const auto local = a.local_endpoint();
  impl_->port = local.port();
  impl_->host = local.address().is_v6() ? "[" + local.address().to_string() + "]" : local.address().to_string();
}

HttpServer::~HttpServer() { stop(); }

void HttpServer::start() {
  auto impl = impl_;
  asio::dispatch(impl->strand, [impl] {
    if (impl->started || impl->stopping) return;
    impl->started = true;
    asio::co_spawn(impl->strand, accept_loop(impl), asio::detached);
  });
}

void HttpServer::stop() {
  auto impl = impl_;
  asio::dispatch(impl->strand, [impl] { stop_now(impl); });
}

unsigned short HttpServer::port() const noexcept { return impl_->port; }

std::string HttpServer::local_address() const { return impl_->host + ":" + std::to_string(impl_->port); }

std::size_t HttpServer::connections() const noexcept { return impl_->open.load(); }

}  // namespace fdb::op

// The asynchronous API client: the connection pool, requests with their deadlines, and
// watch streams. This file, client_conn.* and the HTTP server sources are the only places
// that include Beast; Asio itself is compiled once in asio_impl.cpp.
#include "watch/client_io.hpp"

#include "watch/base64.hpp"
#include "watch/client_conn.hpp"
#include "watch/errors.hpp"
#include "watch/event_stream.hpp"
#include "watch/token.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <fmt/format.h>

#include <cstdlib>
#include <deque>
#include <openssl/ssl.h>

namespace fdb::kube {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using asio::awaitable;
using asio::use_awaitable;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;
using detail::Conn;
using detail::Endpoint;
using detail::idempotent_method;
using detail::idle_connection_alive;
using detail::make_tls_context;
using detail::openssl_errors;
using detail::parse_server;
using detail::throw_io;

namespace {

// A failure that means a pooled connection was closed by the server while idle; the
// request can be sent again on a fresh connection.
bool stale_connection(const boost::system::error_code& ec) {
  return ec == http::error::end_of_stream || ec == asio::error::eof ||
         ec == asio::error::connection_reset || ec == asio::error::broken_pipe ||
         ec == ssl::error::stream_truncated;
}

std::string header(const http::fields& f, http::field name) {
  const auto it = f.find(name);
  return it == f.end() ? std::string{} : std::string(it->value());
}

}  // namespace

struct Client::Impl {
  asio::any_io_executor ex;
  ClusterConfig cfg;
  ClientOptions opts;
  Endpoint ep;
  std::unique_ptr<ssl::context> ssl_ctx;
  TokenSource token;
  std::string basic_auth;
  std::deque<std::unique_ptr<Conn>> idle;
  std::size_t opened = 0;
  RequestObserver observer;

  Impl(asio::any_io_executor e, ClusterConfig c, ClientOptions o)
      : ex(std::move(e)), cfg(std::move(c)), opts(std::move(o)), ep(parse_server(cfg.server)) {
    if (!cfg.token_file.empty()) token = TokenSource::from_file(cfg.token_file);
    else if (!cfg.token.empty()) token = TokenSource::fixed(cfg.token);
    if (!cfg.username.empty()) {
      const std::string raw = cfg.username + ":" + cfg.password;
      basic_auth = "Basic " + base64_encode(raw);
    }
    if (ep.tls) ssl_ctx = make_tls_context(cfg, ep);
  }

  std::string context_of(const HttpRequest& req) const {
    // The path only: query strings carry selectors, never secrets, but keep logs short.
    const auto q = req.target.find('?');
    return fmt::format("{} {}", req.method, q == std::string::npos ? req.target : req.target.substr(0, q));
  }

  http::request<http::string_body> make_request(const HttpRequest& req) {
    const auto verb = http::string_to_verb(req.method);
    if (verb == http::verb::unknown) {
      throw ApiError(ErrorKind::BadRequest, 0, {}, fmt::format("unknown HTTP method {:?}", req.method));
    }
    http::request<http::string_body> r{verb, ep.path_prefix + req.target, 11};
    r.set(http::field::host, ep.host_header);
    r.set(http::field::user_agent, opts.user_agent);
    r.set(http::field::accept, "application/json");
    if (!token.empty()) r.set(http::field::authorization, "Bearer " + token.token());
    else if (!basic_auth.empty()) r.set(http::field::authorization, basic_auth);
    for (const auto& [name, value] : opts.extra_headers) r.set(name, value);
    if (!req.content_type.empty()) r.set(http::field::content_type, req.content_type);
    r.keep_alive(true);
    r.body() = req.body;
    r.prepare_payload();
    return r;
  }

  using Deadline = std::chrono::steady_clock::time_point;

  // Resolves, connects and handshakes within connect_timeout and before `deadline` (the
  // request's own: a connection made for a request never outlives it). The resolver has
  // no deadline of its own, so the whole step races a timer.
  awaitable<std::unique_ptr<Conn>> connect(const std::string& context, Deadline deadline) {
    using namespace asio::experimental::awaitable_operators;
    const auto now = std::chrono::steady_clock::now();
    const bool by_deadline = deadline < now + opts.connect_timeout;
    const Deadline limit = by_deadline ? deadline : now + opts.connect_timeout;
    if (limit <= now) {
      throw ApiError(ErrorKind::Timeout, 0, {}, "the request timed out before a connection was made", context);
    }
    asio::steady_timer timer(ex, limit);
    // `||` waits for the first branch to *succeed*, so the connect branch reports its
    // failure as a value rather than throwing.
    auto result = co_await (open_connection_noexcept(context, limit) || timer.async_wait(use_awaitable));
    if (result.index() == 1) {
      throw ApiError(ErrorKind::Timeout, 0, {},
                     by_deadline ? fmt::format("the request timed out while connecting to {}", ep.host_header)
                                 : fmt::format("connecting to {} took longer than {} ms", ep.host_header,
                                               opts.connect_timeout.count()),
                     context);
    }
    auto [conn, error] = std::move(std::get<0>(result));
    if (error) std::rethrow_exception(error);
    co_return std::move(conn);
  }

  awaitable<std::pair<std::unique_ptr<Conn>, std::exception_ptr>> open_connection_noexcept(const std::string& context,
                                                                                          Deadline limit) {
    try {
      co_return std::pair{co_await open_connection(context, limit), std::exception_ptr{}};
    } catch (...) {
      co_return std::pair{std::unique_ptr<Conn>{}, std::current_exception()};
    }
  }

  awaitable<std::unique_ptr<Conn>> open_connection(const std::string& context, Deadline limit) {
    auto conn = std::make_unique<Conn>();
    tcp::resolver resolver(ex);
    auto [rec, endpoints] = co_await resolver.async_resolve(
        ep.host, ep.port, asio::as_tuple(use_awaitable));
    if (rec) throw_io(rec, context + " (resolving " + ep.host + ")");
    if (ep.tls) {
      conn->tls = std::make_unique<beast::ssl_stream<beast::tcp_stream>>(ex, *ssl_ctx);
    } else {
      conn->plain = std::make_unique<beast::tcp_stream>(ex);
    }
    auto& low = conn->lowest();
    low.expires_at(limit);
    auto [cec, _] = co_await low.async_connect(endpoints, asio::as_tuple(use_awaitable));
    if (cec) throw_io(cec, context + " (connecting to " + ep.host_header + ")");
    low.socket().set_option(tcp::no_delay(true));
    if (ep.tls) {
      const std::string sni = cfg.tls_server_name.empty() ? ep.host : cfg.tls_server_name;
      if (!(ep.host_is_ip && cfg.tls_server_name.empty()) &&
          !SSL_set_tlsext_host_name(conn->tls->native_handle(), sni.c_str())) {
        throw ApiError(ErrorKind::Transport, 0, {}, "cannot set TLS SNI: " + openssl_errors(), context);
      }
      auto [hec] = co_await conn->tls->async_handshake(ssl::stream_base::client, asio::as_tuple(use_awaitable));
      if (hec) throw_io(hec, context + " (TLS handshake with " + ep.host_header + ")");
    }
    low.expires_never();
    ++opened;
    co_return conn;
  }

  awaitable<std::unique_ptr<Conn>> acquire(const std::string& context, Deadline deadline) {
    while (!idle.empty()) {
      auto c = std::move(idle.front());
      idle.pop_front();
      if (idle_connection_alive(c->lowest().socket())) {
        c->reused = true;
        co_return c;
      }
      c->close();
    }
    co_return co_await connect(context, deadline);
  }

  void release(std::unique_ptr<Conn> c) {
    c->lowest().expires_never();
    if (idle.size() >= opts.max_idle_connections) {
      c->close();
      return;
    }
    idle.push_back(std::move(c));
  }

  // Writes the request and reads the whole answer on `s`.
  template <class Stream>
  static awaitable<boost::system::error_code> exchange(Stream& s, Conn& c,
                                                       http::request<http::string_body>& req,
                                                       http::response_parser<http::string_body>& parser,
                                                       bool& wrote) {
    auto [wec, wn] = co_await http::async_write(s, req, asio::as_tuple(use_awaitable));
    if (wec) co_return wec;
    wrote = true;
    auto [rec, rn] = co_await http::async_read(s, c.buffer, parser, asio::as_tuple(use_awaitable));
    co_return rec;
  }

  void observe(const HttpRequest& req, int status, std::chrono::steady_clock::time_point start) {
    if (!observer) return;
    const std::chrono::duration<double> d = std::chrono::steady_clock::now() - start;
    observer(req.method, status, d.count());
  }

  // One request within `timeout`, counted from now and never restarted: connecting, a
  // second try on a fresh connection and reading the answer all share it.
  awaitable<HttpResponse> send(const HttpRequest& req, std::chrono::milliseconds timeout) {
    const auto start = std::chrono::steady_clock::now();
    const Deadline deadline = start + timeout;
    const std::string context = context_of(req);
    try {
      for (int attempt = 0;; ++attempt) {
        auto conn = co_await acquire(context, deadline);
        auto r = make_request(req);
        http::response_parser<http::string_body> parser;
        parser.body_limit(opts.max_body_bytes);
        parser.header_limit(64 * 1024);
        conn->lowest().expires_at(deadline);
        bool wrote = false;
        const auto ec = conn->tls ? co_await exchange(*conn->tls, *conn, r, parser, wrote)
                                  : co_await exchange(*conn->plain, *conn, r, parser, wrote);
        if (ec) {
          // A pooled connection the server closed: try once more on a fresh one, unless
          // the request was written and is not idempotent (the server may have acted on
          // it: the caller decides what to do, see ApiError::request_sent).
          const bool retry = conn->reused && attempt == 0 && stale_connection(ec) && !parser.got_some() &&
                             (!wrote || idempotent_method(req.method)) &&
                             std::chrono::steady_clock::now() < deadline;
          conn->close();
          if (retry) continue;
          if (ec == http::error::body_limit) {
            throw ApiError(ErrorKind::Decode, 0, {},
                           fmt::format("the answer is larger than {} bytes", opts.max_body_bytes), context);
          }
          throw_io(ec, context, wrote);
        }
        auto res = parser.release();
        HttpResponse out;
        out.status = static_cast<int>(res.result_int());
        out.content_type = header(res, http::field::content_type);
        out.retry_after = header(res, http::field::retry_after);
        const bool keep = res.keep_alive();
        out.body = std::move(res.body());
        if (keep) release(std::move(conn));
        else conn->close();
        observe(req, out.status, start);
        co_return out;
      }
    } catch (const ApiError&) {
      observe(req, 0, start);
      throw;
    }
  }

  template <class Stream>
  static awaitable<void> read_stream(Stream& s, Conn& c, http::request<http::string_body>& req,
                                     const std::string& context, std::chrono::milliseconds timeout,
                                     std::chrono::milliseconds idle_timeout, std::size_t max_line,
                                     const std::function<void(std::string_view)>& on_line,
                                     int& status_out) {
    c.lowest().expires_after(timeout);
    auto [wec, wn] = co_await http::async_write(s, req, asio::as_tuple(use_awaitable));
    if (wec) throw_io(wec, context);

    http::response_parser<http::buffer_body> parser;
    parser.body_limit(boost::none);  // a watch never ends by itself
    auto [hec, hn] = co_await http::async_read_header(s, c.buffer, parser, asio::as_tuple(use_awaitable));
    if (hec) throw_io(hec, context);
    const int status = static_cast<int>(parser.get().result_int());
    status_out = status;
    const std::string retry_after = header(parser.get(), http::field::retry_after);

    // The body: read from the socket in large blocks and run the parser over all that is
    // buffered, so a block holding many events (one chunk each, as the API server sends
    // them) costs one read and one timer reset, not one of each per event. The pieces of
    // a chunked body are handed over where they lie in the read buffer (on_chunk_body), not
    // copied out first; the splitter copies only a line that spans two reads.
    static constexpr std::size_t kReadBlock = 256 * 1024;
    std::array<char, 64 * 1024> block{};  // a body that is not chunked is copied through this
    LineSplitter splitter(max_line);
    std::string error_body;
    const bool ok = status >= 200 && status < 300;
    auto deliver = [&](std::string_view data) {
      if (data.empty()) return;
      if (ok) {
        try {
          splitter.feed(data, on_line);
        } catch (const LineTooLong& e) {
          throw ApiError(ErrorKind::Decode, status, {}, e.what(), context);
        }
      } else if (error_body.size() < 64 * 1024) {
        error_body.append(data.data(), std::min(data.size(), 64 * 1024 - error_body.size()));
      }
    };
    auto on_chunk = [&](std::uint64_t, boost::core::string_view body, boost::system::error_code&) -> std::size_t {
      deliver(std::string_view(body.data(), body.size()));
      return body.size();
    };
    parser.on_chunk_body(on_chunk);
    parser.eager(true);  // past the header: parse every chunk in the buffer in one put()
    while (!parser.is_done()) {
      // Parse what is buffered.
      for (;;) {
        parser.get().body().data = block.data();
        parser.get().body().size = block.size();
        boost::system::error_code pec;
        const std::size_t used = c.buffer.size() == 0 ? 0 : parser.put(c.buffer.data(), pec);
        c.buffer.consume(used);
        const std::size_t got = block.size() - parser.get().body().size;
        deliver(std::string_view(block.data(), got));
        if (pec == http::error::need_buffer) continue;  // our block is full: hand out more
        if (pec == http::error::need_more) break;       // a partial chunk header: read more
        if (pec) throw_io(pec, context);
        if (parser.is_done() || (used == 0 && got == 0)) break;
      }
      if (parser.is_done()) break;
      c.lowest().expires_after(ok ? idle_timeout : timeout);
      auto [rec, rn] = co_await s.async_read_some(c.buffer.prepare(kReadBlock), asio::as_tuple(use_awaitable));
      c.buffer.commit(rn);
      if (rec) {
        if (rec == asio::error::eof) {  // a body that ends with the connection
          boost::system::error_code eec;
          parser.put_eof(eec);
          if (!eec && parser.is_done()) break;
        }
        // A server that closes mid-chunk ends the watch; it is resumed by the caller.
        if (ok && stale_connection(rec)) co_return;
        throw_io(rec, context);
      }
    }
    if (!ok) throw decode_status(status, error_body, retry_after, context);
    if (auto rest = splitter.take_rest(); !rest.empty()) on_line(rest);
  }

  awaitable<void> stream(const HttpRequest& req, const std::function<void(std::string_view)>& on_line,
                         std::chrono::milliseconds idle_timeout) {
    const auto start = std::chrono::steady_clock::now();
    const std::string context = context_of(req);
    int status = 0;
    // A watch gets a connection of its own, never returned to the pool.
    auto conn = co_await connect(context, start + opts.connect_timeout);
    auto r = make_request(req);
    try {
      if (conn->tls) {
        co_await read_stream(*conn->tls, *conn, r, context, opts.request_timeout, idle_timeout,
                             opts.max_line_bytes, on_line, status);
      } else {
        co_await read_stream(*conn->plain, *conn, r, context, opts.request_timeout, idle_timeout,
                             opts.max_line_bytes, on_line, status);
      }
    } catch (...) {
      conn->close();
      observe(req, status, start);
      throw;
    }
    conn->close();
    observe(req, status, start);
  }
};

Client::Client(asio::any_io_executor ex, ClusterConfig cfg, ClientOptions opts)
    : impl_(std::make_shared<Impl>(std::move(ex), std::move(cfg), std::move(opts))) {}

Client::~Client() { close_idle(); }

awaitable<HttpResponse> Client::send(const HttpRequest& request, std::optional<std::chrono::milliseconds> timeout) {
  auto impl = impl_;  // keeps the state alive across suspension
  const HttpRequest req = request;
  co_return co_await impl->send(req, timeout.value_or(impl->opts.request_timeout));
}

awaitable<std::string> Client::call(const HttpRequest& request, std::optional<std::chrono::milliseconds> timeout) {
  auto impl = impl_;
  const HttpRequest req = request;
  HttpResponse res = co_await impl->send(req, timeout.value_or(impl->opts.request_timeout));
  if (res.status >= 200 && res.status < 300) co_return std::move(res.body);
  throw decode_status(res.status, res.body, res.retry_after, impl->context_of(req));
}

awaitable<void> Client::stream(const HttpRequest& request, const std::function<void(std::string_view)>& line_handler,
                               std::chrono::milliseconds idle_timeout) {
  auto impl = impl_;
  const HttpRequest req = request;
  const std::function<void(std::string_view)> on_line = line_handler;
  co_await impl->stream(req, on_line, idle_timeout);
}

void Client::set_observer(RequestObserver observer) { impl_->observer = std::move(observer); }
const ClusterConfig& Client::config() const noexcept { return impl_->cfg; }
const ClientOptions& Client::options() const noexcept { return impl_->opts; }
std::size_t Client::connections_opened() const noexcept { return impl_->opened; }

void Client::close_idle() {
  for (auto& c : impl_->idle) c->close();
  impl_->idle.clear();
}

}  // namespace fdb::kube

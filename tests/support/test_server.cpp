#include "support/test_server.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <cctype>

namespace fdb::test {

TestReply reply(int status, std::string body, std::vector<std::pair<std::string, std::string>> headers) {
  TestReply r;
  r.status = status;
  r.body = std::move(body);
  r.headers = std::move(headers);
  return r;
}

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using asio::awaitable;
using asio::use_awaitable;
using tcp = asio::ip::tcp;

struct TestServer::Impl : std::enable_shared_from_this<Impl> {
  asio::io_context& io;
  Handler handler;
  tcp::acceptor acceptor;
  std::unique_ptr<ssl::context> ctx;
  std::size_t accepted = 0;
  std::size_t handshake_failures = 0;
  std::vector<TestRequest> requests;
  bool stopped = false;
  bool stalling = false;
  std::vector<tcp::socket> fillers;  // hold the accept queue full while stalling

  Impl(asio::io_context& i, Handler h, const std::optional<TlsOptions>& tls)
      : io(i), handler(std::move(h)), acceptor(i, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
    if (tls) {
      ctx = std::make_unique<ssl::context>(ssl::context::tls_server);
      ctx->use_certificate_chain(asio::buffer(tls->cert_pem));
      ctx->use_private_key(asio::buffer(tls->key_pem), ssl::context::pem);
      if (!tls->client_ca_pem.empty()) {
        ctx->add_certificate_authority(asio::buffer(tls->client_ca_pem));
        ctx->set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert);
      }
    }
  }

  awaitable<void> accept_loop() {
    auto self = shared_from_this();
    while (!stopped && !stalling) {
      auto [ec, sock] = co_await acceptor.async_accept(asio::as_tuple(use_awaitable));
      if (ec) co_return;  // a stall cancels the accept; a new loop starts after it
      const std::size_t id = ++accepted;
      // A coroutine's parameters live in its frame (a lambda's captures would not).
      asio::co_spawn(io, serve_one(self, std::move(sock), id), asio::detached);
    }
  }

  static awaitable<void> serve_one(std::shared_ptr<Impl> self, tcp::socket sock, std::size_t id) {
    co_await self->serve(std::move(sock), id);
  }
  static awaitable<void> accept_one(std::shared_ptr<Impl> self) { co_await self->accept_loop(); }

  awaitable<void> serve(tcp::socket sock, std::size_t id) {
    if (ctx) {
      beast::ssl_stream<beast::tcp_stream> s(std::move(sock), *ctx);
      beast::get_lowest_layer(s).expires_after(std::chrono::seconds(10));
      auto [ec] = co_await s.async_handshake(ssl::stream_base::server, asio::as_tuple(use_awaitable));
      if (ec) {
        ++handshake_failures;
        co_return;
      }
      std::string cn;
      if (X509* peer = SSL_get1_peer_certificate(s.native_handle())) {
        char buf[256] = {};
        X509_NAME_get_text_by_NID(X509_get_subject_name(peer), NID_commonName, buf, sizeof buf);
        cn = buf;
        X509_free(peer);
      }
      co_await session(s, id, cn);
    } else {
      beast::tcp_stream s(std::move(sock));
      co_await session(s, id, {});
    }
  }

  template <class Stream>
  awaitable<void> session(Stream& s, std::size_t id, const std::string& cn) {
    beast::flat_buffer buffer;
    for (;;) {
      beast::get_lowest_layer(s).expires_after(std::chrono::seconds(30));
      http::request<http::string_body> req;
      auto [ec, n] = co_await http::async_read(s, buffer, req, asio::as_tuple(use_awaitable));
      if (ec) co_return;
      TestRequest tr;
      tr.method = std::string(req.method_string());
      tr.target = std::string(req.target());
      tr.body = req.body();
      for (const auto& f : req) {
        std::string name(f.name_string());
        for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        tr.headers[name] = std::string(f.value());
      }
      tr.client_cn = cn;
      tr.connection = id;
      requests.push_back(tr);
      TestReply reply = handler(tr);
      beast::get_lowest_layer(s).expires_never();

      switch (reply.mode) {
        case TestReply::Mode::Drop:
          co_return;
        case TestReply::Mode::Stall: {
          asio::steady_timer t(io, std::chrono::seconds(60));
          co_await t.async_wait(asio::as_tuple(use_awaitable));
          co_return;
        }
        case TestReply::Mode::Normal: {
          http::response<http::string_body> res{static_cast<http::status>(reply.status), 11};
          res.set(http::field::content_type, "application/json");
          for (const auto& [k, v] : reply.headers) res.set(k, v);
          res.body() = reply.body;
          res.keep_alive(!reply.close && req.keep_alive());
          res.prepare_payload();
          auto [wec, wn] = co_await http::async_write(s, res, asio::as_tuple(use_awaitable));
          if (wec || reply.close || !req.keep_alive()) co_return;
          break;
        }
        case TestReply::Mode::Stream: {
          http::response<http::empty_body> res{static_cast<http::status>(reply.status), 11};
          res.set(http::field::content_type, "application/json");
          for (const auto& [k, v] : reply.headers) res.set(k, v);
          res.chunked(true);
          http::response_serializer<http::empty_body> sr{res};
          auto [hec, hn] = co_await http::async_write_header(s, sr, asio::as_tuple(use_awaitable));
          if (hec) co_return;
          for (std::size_t i = 0; i < reply.chunks.size(); ++i) {
            if (reply.before_chunk) co_await reply.before_chunk(i);
            auto [cec, cn2] = co_await asio::async_write(s, http::make_chunk(asio::buffer(reply.chunks[i])),
                                                         asio::as_tuple(use_awaitable));
            if (cec) co_return;
          }
          if (!reply.end_stream) {
            asio::steady_timer t(io, std::chrono::seconds(60));
            co_await t.async_wait(asio::as_tuple(use_awaitable));
            co_return;
          }
          auto [lec, ln] = co_await asio::async_write(s, http::make_chunk_last(), asio::as_tuple(use_awaitable));
          if (lec || reply.close) co_return;
          break;
        }
      }
    }
  }
};

TestServer::TestServer(asio::io_context& io, Handler handler, std::optional<TlsOptions> tls)
    : impl_(std::make_shared<Impl>(io, std::move(handler), tls)) {
  asio::co_spawn(io, Impl::accept_one(impl_), asio::detached);
}

TestServer::~TestServer() { stop(); }

unsigned short TestServer::port() const { return impl_->acceptor.local_endpoint().port(); }

std::string TestServer::url(const std::string& host) const {
  return std::string(impl_->ctx ? "https://" : "http://") + host + ":" + std::to_string(port());
}

std::size_t TestServer::connections() const { return impl_->accepted; }
const std::vector<TestRequest>& TestServer::requests() const { return impl_->requests; }
std::size_t TestServer::handshake_failures() const { return impl_->handshake_failures; }

void TestServer::stall_connects(bool on) {
  auto& i = *impl_;
  if (on == i.stalling || i.stopped) return;
  i.stalling = on;
  boost::system::error_code ec;
  if (on) {
    i.acceptor.cancel(ec);
    i.acceptor.listen(0, ec);  // one place in the accept queue...
    i.fillers.emplace_back(i.io);
    i.fillers.back().connect(i.acceptor.local_endpoint(), ec);  // ...taken
    return;
  }
  for (auto& f : i.fillers) f.close(ec);
  i.fillers.clear();
  i.acceptor.listen(asio::socket_base::max_listen_connections, ec);
  asio::co_spawn(i.io, Impl::accept_one(impl_), asio::detached);
}

void TestServer::stop() {
  impl_->stopped = true;
  boost::system::error_code ec;
  impl_->acceptor.close(ec);
}

}  // namespace fdb::test

// A small HTTP/1.1 server for tests (plain or TLS, optionally requiring a client
// certificate) whose answers a test scripts per request: a normal answer, a stall, a
// chunked stream written piece by piece, or a dropped connection.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace fdb::test {

struct TestRequest {
  std::string method;
  std::string target;
  std::string body;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string client_cn;                       // CN of the client certificate, if any
  std::size_t connection = 0;                  // which accepted connection carried it (1-based)
};

struct TestReply {
  enum class Mode { Normal, Stall, Stream, Drop };
  Mode mode = Mode::Normal;
  int status = 200;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  std::vector<std::string> chunks;  // Stream: each written as its own HTTP chunk
  // Stream: awaited before chunk i is written (e.g. to wait until the client saw i-1).
  std::function<boost::asio::awaitable<void>(std::size_t)> before_chunk;
  bool end_stream = true;  // Stream: write the last chunk, or stall after the chunks
  bool close = false;      // close the connection after answering
};

// A normal answer: `status`, `body` and these headers.
TestReply reply(int status, std::string body, std::vector<std::pair<std::string, std::string>> headers = {});

struct TlsOptions {
  std::string cert_pem;
  std::string key_pem;
  std::string client_ca_pem;  // when set, a client certificate signed by it is required
};

using Handler = std::function<TestReply(const TestRequest&)>;

class TestServer {
 public:
  TestServer(boost::asio::io_context& io, Handler handler, std::optional<TlsOptions> tls = {});
  ~TestServer();

  unsigned short port() const;
  // "http://127.0.0.1:PORT" or "https://127.0.0.1:PORT"
  std::string url(const std::string& host = "127.0.0.1") const;
  std::size_t connections() const;
  const std::vector<TestRequest>& requests() const;
  // Failed TLS handshakes (e.g. a client that rejected our certificate).
  std::size_t handshake_failures() const;
  // On: new connections stall in connect (the listener stops accepting, its accept queue
  // is shrunk to one place and filled, and the kernel drops further SYNs); connections
  // already open go on. Off: accepting again (the stalled connects complete when their
  // SYN is sent again).
  void stall_connects(bool on);
  void stop();

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace fdb::test

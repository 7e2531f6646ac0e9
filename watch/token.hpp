// The bearer token, static or from a file that is re-read when it changes: bound
// service-account tokens are rotated by the kubelet (hourly), usually by an atomic swap of
// a symlinked folder, so the file's identity (inode, size, mtime) is checked on each use.
#pragma once

#include <filesystem>
#include <mutex>
#include <string>

namespace fdb::kube {

class TokenSource {
 public:
  // No token at all.
  TokenSource() = default;
  static TokenSource fixed(std::string token);
  static TokenSource from_file(std::filesystem::path path);

  TokenSource(const TokenSource&) = delete;
  TokenSource& operator=(const TokenSource&) = delete;
  TokenSource(TokenSource&& other) noexcept;
  TokenSource& operator=(TokenSource&& other) noexcept;

  // The current token (surrounding whitespace trimmed). For a file, re-read when it
  // changed; when the file cannot be read the last good token is kept (and the first
  // read failing throws ConfigError). Thread-safe.
  std::string token();
  bool empty() const;
  // How many times the file was (re)read, for tests and metrics.
  unsigned reloads() const;

 private:
  mutable std::mutex mu_;
  std::string token_;
  std::filesystem::path path_;
  std::string stamp_;  // identity of the file as last read
  unsigned reloads_ = 0;
};

}  // namespace fdb::kube

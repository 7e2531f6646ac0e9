#include "watch/token.hpp"

#include "watch/config.hpp"

#include <fmt/format.h>

#include <fstream>
#include <sstream>
#include <sys/stat.h>

namespace fdb::kube {

namespace {

std::string trim(std::string s) {
  const auto first = s.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return {};
  const auto last = s.find_last_not_of(" \t\r\n");
  return s.substr(first, last - first + 1);
}

// The identity of the file behind the path (following symlinks, as the kubelet's
// projected volumes swap a symlinked folder): device, inode, size, modification time.
std::string stamp_of(const std::filesystem::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return {};
  return fmt::format("{}:{}:{}:{}.{}", st.st_dev, st.st_ino, st.st_size, st.st_mtim.tv_sec,
                     st.st_mtim.tv_nsec);
}

}  // namespace

TokenSource TokenSource::fixed(std::string token) {
  TokenSource t;
  t.token_ = trim(std::move(token));
  return t;
}

TokenSource TokenSource::from_file(std::filesystem::path path) {
  TokenSource t;
  t.path_ = std::move(path);
  t.token();  // the first read must succeed
  return t;
}

TokenSource::TokenSource(TokenSource&& other) noexcept {
  std::lock_guard lock(other.mu_);
  token_ = std::move(other.token_);
  path_ = std::move(other.path_);
  stamp_ = std::move(other.stamp_);
  reloads_ = other.reloads_;
}

TokenSource& TokenSource::operator=(TokenSource&& other) noexcept {
  if (this != &other) {
    std::scoped_lock lock(mu_, other.mu_);
    token_ = std::move(other.token_);
    path_ = std::move(other.path_);
    stamp_ = std::move(other.stamp_);
    reloads_ = other.reloads_;
  }
  return *this;
}

std::string TokenSource::token() {
  std::lock_guard lock(mu_);
  if (path_.empty()) return token_;
  const std::string stamp = stamp_of(path_);
  if (!stamp.empty() && stamp == stamp_) return token_;
  std::ifstream in(path_, std::ios::binary);
  if (!in) {
    if (reloads_ == 0) throw ConfigError(fmt::format("token file {}: cannot be read", path_.string()));
    return token_;  // keep the last good token; the server will say 401 if it is stale
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  std::string fresh = trim(ss.str());
  if (fresh.empty()) {
    if (reloads_ == 0) throw ConfigError(fmt::format("token file {}: is empty", path_.string()));
    return token_;  // a half-written file: keep the last good token
  }
  token_ = std::move(fresh);
  stamp_ = stamp;
  ++reloads_;
  return token_;
}

bool TokenSource::empty() const {
  std::lock_guard lock(mu_);
  return token_.empty() && path_.empty();
}

unsigned TokenSource::reloads() const {
  std::lock_guard lock(mu_);
  return reloads_;
}

}  // namespace fdb::kube

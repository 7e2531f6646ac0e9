// Helpers of the configuration tests (tests/unit/core, tests/unit/hostile,
// tests/unit/model): a temporary folder removed at the end of the test, and an
// environment made of a map (kube::GetEnv). Header-only: those tests link no support library.
#pragma once

#include "watch/config.hpp"

#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <string_view>

namespace fdb::test {

// A temporary folder removed at the end of the test.
struct TempDir {
  std::filesystem::path path;
  explicit TempDir(std::string_view prefix = "fdb-test-") {
    std::random_device rd;
    path = std::filesystem::temp_directory_path() / (std::string(prefix) + std::to_string(rd()) + std::to_string(rd()));
    std::filesystem::create_directories(path);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  // Writes `text` to `name` under the folder (making the folders it names) and returns its path.
  std::filesystem::path write(const std::string& name, const std::string& text) const {
    const std::filesystem::path p = path / name;
    std::filesystem::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << text;
    return p;
  }
};

// The environment `vars` (a name not in it is unset).
inline kube::GetEnv env_of(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](std::string_view name) -> std::optional<std::string> {
    const auto it = vars.find(std::string(name));
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

}  // namespace fdb::test

#include "crd_schema.hpp"

#include <yaml-cpp/yaml.h>

#include <cstdlib>
#include <filesystem>
#include <limits>
#include <regex>
#include <stdexcept>

namespace fdb::test {

namespace json = boost::json;

namespace {

void check(const json::value& v, const YAML::Node& s, const std::string& path, std::vector<std::string>& out) {
  if (s["x-kubernetes-preserve-unknown-fields"] && s["x-kubernetes-preserve-unknown-fields"].as<bool>()) return;
  const std::string type = s["type"] ? s["type"].as<std::string>() : std::string();
  auto bad = [&](const std::string& what) { out.push_back((path.empty() ? "(root)" : path) + ": " + what); };

  if (type == "object") {
    if (!v.is_object()) return bad("expected an object");
    const auto& o = v.get_object();
    const YAML::Node props = s["properties"];
    const YAML::Node additional = s["additionalProperties"];
    if (s["required"])
      for (const auto& r : s["required"])
        if (!o.contains(r.as<std::string>())) bad("missing required field " + r.as<std::string>());
    for (const auto& [key, value] : o) {
      const std::string k(key);
      const std::string sub = path.empty() ? k : path + "." + k;
      if (props && props[k]) {
        check(value, props[k], sub, out);
      } else if (additional && additional.IsMap()) {
        check(value, additional, sub, out);
      } else if (props || (additional && additional.IsScalar() && !additional.as<bool>())) {
        out.push_back(sub + ": unknown field (the API server would drop it)");
      }
      // An object schema without properties (metadata) accepts any keys.
    }
  } else if (type == "array") {
    if (!v.is_array()) return bad("expected an array");
    std::size_t i = 0;
    for (const auto& e : v.get_array()) check(e, s["items"], path + "[" + std::to_string(i++) + "]", out);
  } else if (type == "string") {
    if (!v.is_string()) return bad("expected a string");
    const std::string str(v.get_string());
    if (s["minLength"] && str.size() < s["minLength"].as<std::size_t>()) bad("shorter than minLength");
    if (s["pattern"] && !std::regex_search(str, std::regex(s["pattern"].as<std::string>(), std::regex::ECMAScript)))
      bad("does not match pattern " + s["pattern"].as<std::string>());
    if (s["enum"]) {
      bool found = false;
      for (const auto& e : s["enum"]) found = found || e.as<std::string>() == str;
      if (!found) bad("\"" + str + "\" not in enum");
    }
  } else if (type == "integer") {
    if (!v.is_int64() && !v.is_uint64()) return bad("expected an integer");
    const auto n = v.is_int64() ? v.get_int64() : static_cast<std::int64_t>(v.get_uint64());
    if (s["minimum"] && n < s["minimum"].as<std::int64_t>()) bad("below minimum");
    if (s["format"] && s["format"].as<std::string>() == "int32" &&
        (n > std::numeric_limits<std::int32_t>::max() || n < std::numeric_limits<std::int32_t>::min()))
      bad("out of int32 range");
  } else if (type == "boolean") {
    if (!v.is_bool()) bad("expected a boolean");
  } else if (type == "number") {
    if (!v.is_number()) bad("expected a number");
  }
}

}  // namespace

std::vector<std::string> validate_against_crd(const json::value& object, const std::string& crd_file) {
  const YAML::Node crd = YAML::LoadFile(crd_file);
  const YAML::Node schema = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"];
  if (!schema) throw std::runtime_error("no openAPIV3Schema in " + crd_file);
  std::vector<std::string> out;
  check(object, schema, "", out);
  return out;
}

std::string workload_crd_path() {
  namespace fs = std::filesystem;
  const char* file = "foreman.llmkube.dev_workloads.yaml";
  if (const char* dir = std::getenv("FDB_CRD_DIR"); dir != nullptr && *dir != '\0') return (fs::path(dir) / file).string();
#ifdef FDB_BRIDGE_TEST_DATA
  return (fs::path(FDB_BRIDGE_TEST_DATA) / file).string();
#else
  const char* src = std::getenv("FDB_SOURCE_DIR");
  const fs::path root = src != nullptr ? fs::path(src) : fs::path(".");
  return (root / "tests" / "unit" / "bridge" / "data" / file).string();
#endif
}

}  // namespace fdb::test

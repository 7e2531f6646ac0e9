#include "sim/schema.hpp"

#include <boost/json.hpp>
#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace fdb::sim {
namespace json = boost::json;

namespace {

json::value to_json(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Map: {
      json::object o;
      for (const auto& kv : n) o[kv.first.as<std::string>()] = to_json(kv.second);
      return o;
    }
    case YAML::NodeType::Sequence: {
      json::array a;
      for (const auto& v : n) a.push_back(to_json(v));
      return a;
    }
    case YAML::NodeType::Scalar: {
      const std::string& s = n.Scalar();
      if (n.Tag() == "!") return json::value(s);  // quoted: always a string
      if (s == "true" || s == "True") return json::value(true);
      if (s == "false" || s == "False") return json::value(false);
      if (s == "null" || s == "~") return json::value(nullptr);
      if (!s.empty() && s.find_first_not_of("-0123456789") == std::string::npos && s != "-") {
        try {
          std::size_t pos = 0;
          long long v = std::stoll(s, &pos);
          if (pos == s.size()) return json::value(v);
        } catch (const std::exception&) {
          // not an integer after all: a string
        }
      }
      return json::value(s);
    }
    default:
      return json::value(nullptr);
  }
}

const json::object* obj(const json::object& o, const char* k) {
  auto* v = o.if_contains(k);
  return v != nullptr && v->is_object() ? &v->as_object() : nullptr;
}
bool flag(const json::object& o, const char* k) {
  auto* v = o.if_contains(k);
  return v != nullptr && v->is_bool() && v->as_bool();
}
std::string str(const json::object& o, const char* k) {
  auto* v = o.if_contains(k);
  return v != nullptr && v->is_string() ? std::string(v->as_string()) : std::string();
}
std::string show(const json::value& v) { return v.is_string() ? std::string(v.as_string()) : json::serialize(v); }
std::string type_name(const json::value& v) {
  if (v.is_string()) return "string";
  if (v.is_bool()) return "boolean";
  if (v.is_int64() || v.is_uint64()) return "integer";
  if (v.is_double()) return "number";
  if (v.is_array()) return "array";
  if (v.is_object()) return "object";
  return "null";
}

void walk(const json::object& s, json::value& v, const std::string& path, std::vector<SchemaCause>& out) {
  if (v.is_null() && flag(s, "nullable")) return;
  if (flag(s, "x-kubernetes-int-or-string")) {
    if (!v.is_string() && !v.is_int64() && !v.is_uint64())
      out.push_back({"FieldValueInvalid", path,
                     "Invalid value: \"" + type_name(v) + "\": " + path + " in body must be of type int-or-string"});
    return;
  }
  std::string type = str(s, "type");
  auto type_error = [&] {
    out.push_back({"FieldValueInvalid", path,
                   "Invalid value: \"" + type_name(v) + "\": " + path + " in body must be of type " + type + ": \"" +
                       type_name(v) + "\""});
  };
  if (type == "object") {
    if (!v.is_object()) return type_error();
    auto& o = v.as_object();
    const json::object* props = obj(s, "properties");
    const json::value* addl = s.if_contains("additionalProperties");
    bool preserve = flag(s, "x-kubernetes-preserve-unknown-fields");
    std::vector<std::string> drop;
    for (auto& [k, child] : o) {
      std::string key(k);
      std::string cpath = path.empty() ? key : path + "." + key;
      const json::object* cs = props != nullptr ? obj(*props, key.c_str()) : nullptr;
      if (cs == nullptr && addl != nullptr && addl->is_object()) cs = &addl->as_object();
      if (cs != nullptr) {
        if (child.is_null() && !flag(*cs, "nullable")) {
          drop.push_back(key);  // nulls of non-nullable fields are pruned
          continue;
        }
        walk(*cs, child, cpath, out);
      } else if (!preserve && !(addl != nullptr && addl->is_bool() && addl->as_bool())) {
        drop.push_back(key);
      }
    }
    for (const auto& k : drop) o.erase(k);
    if (auto* req = s.if_contains("required"); req != nullptr && req->is_array())
      for (const auto& r : req->as_array())
        if (r.is_string() && !o.contains(r.as_string())) {
          std::string f = path.empty() ? std::string(r.as_string()) : path + "." + std::string(r.as_string());
          out.push_back({"FieldValueRequired", f, "Required value"});
        }
  } else if (type == "array") {
    if (!v.is_array()) return type_error();
    if (const json::object* items = obj(s, "items")) {
      std::size_t i = 0;
      for (auto& e : v.as_array()) walk(*items, e, path + "[" + std::to_string(i++) + "]", out);
    }
  } else if (type == "string") {
    if (!v.is_string()) return type_error();
  } else if (type == "integer") {
    if (!v.is_int64() && !v.is_uint64()) return type_error();
  } else if (type == "number") {
    if (!v.is_number()) return type_error();
  } else if (type == "boolean") {
    if (!v.is_bool()) return type_error();
  }
  if (auto* en = s.if_contains("enum"); en != nullptr && en->is_array()) {
    bool found = false;
    std::string allowed;
    for (const auto& e : en->as_array()) {
      found = found || e == v;
      if (!allowed.empty()) allowed += ", ";
      allowed += "\"" + show(e) + "\"";
    }
    if (!found)
      out.push_back({"FieldValueNotSupported", path, "Unsupported value: \"" + show(v) + "\": supported values: " + allowed});
  }
}

}  // namespace

std::vector<SchemaCause> Schema::apply(json::object& o) const {
  std::vector<SchemaCause> out;
  if (!root_.is_object()) return out;
  const auto& s = root_.as_object();
  const json::object* props = obj(s, "properties");
  std::vector<std::string> drop;
  for (auto& [k, v] : o) {
    std::string key(k);
    if (key == "apiVersion" || key == "kind" || key == "metadata") continue;
    const json::object* cs = props != nullptr ? obj(*props, key.c_str()) : nullptr;
    if (cs == nullptr) {
      if (!flag(s, "x-kubernetes-preserve-unknown-fields")) drop.push_back(key);
      continue;
    }
    if (v.is_null() && !flag(*cs, "nullable")) {
      drop.push_back(key);
      continue;
    }
    walk(*cs, v, key, out);
  }
  for (const auto& k : drop) o.erase(k);
  if (auto* req = s.if_contains("required"); req != nullptr && req->is_array())
    for (const auto& r : req->as_array())
      if (r.is_string() && !o.contains(r.as_string())) out.push_back({"FieldValueRequired", std::string(r.as_string()), "Required value"});
  return out;
}

Crd parse_crd(const std::string& text) {
  YAML::Node doc;
  try {
    doc = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    throw CrdError(std::string("not YAML: ") + e.what());
  }
  json::value v = to_json(doc);
  if (!v.is_object() || str(v.as_object(), "kind") != "CustomResourceDefinition")
    throw CrdError("not a CustomResourceDefinition");
  const json::object* spec = obj(v.as_object(), "spec");
  const json::object* names = spec != nullptr ? obj(*spec, "names") : nullptr;
  auto* versions = spec != nullptr ? spec->if_contains("versions") : nullptr;
  if (names == nullptr || versions == nullptr || !versions->is_array())
    throw CrdError("CRD without spec.names or spec.versions");
  Crd crd;
  crd.group = str(*spec, "group");
  crd.plural = str(*names, "plural");
  for (const auto& ver : versions->as_array()) {
    if (!ver.is_object()) continue;
    const json::object* schema = obj(ver.as_object(), "schema");
    const json::object* root = schema != nullptr ? obj(*schema, "openAPIV3Schema") : nullptr;
    if (root == nullptr) throw CrdError("version " + str(ver.as_object(), "name") + " has no openAPIV3Schema");
    crd.versions.emplace(str(ver.as_object(), "name"), Schema(*root));
  }
  return crd;
}

std::vector<Crd> load_crds(const std::string& dir) {
  std::vector<Crd> out;
  std::error_code ec;
  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec))
    if (e.path().extension() == ".yaml" || e.path().extension() == ".yml") files.push_back(e.path());
  if (ec) throw CrdError("cannot read CRD directory " + dir + ": " + ec.message());
  std::sort(files.begin(), files.end());
  for (const auto& f : files) {
    std::ifstream in(f);
    std::stringstream ss;
    ss << in.rdbuf();
    if (!in) throw CrdError("cannot read " + f.string());
    try {
      out.push_back(parse_crd(ss.str()));
    } catch (const CrdError& e) {
      throw CrdError(f.string() + ": " + e.what());
    }
  }
  return out;
}

}  // namespace fdb::sim

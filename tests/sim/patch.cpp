#include "sim/patch.hpp"

#include <boost/json.hpp>

#include <vector>

namespace fdb::sim {
namespace json = boost::json;

json::value merge_patch(json::value target, const json::value& patch) {
  if (!patch.is_object()) return patch;
  if (!target.is_object()) target = json::object();
  auto& obj = target.as_object();
  for (const auto& [k, v] : patch.as_object()) {
    if (v.is_null()) {
      obj.erase(k);
    } else {
      auto it = obj.find(k);
      json::value cur = it == obj.end() ? json::value() : it->value();
      obj[k] = merge_patch(std::move(cur), v);
    }
  }
  return target;
}

namespace {

std::vector<std::string> split_pointer(const std::string& ptr, std::size_t op) {
  std::vector<std::string> out;
  if (ptr.empty()) return out;
  if (ptr.front() != '/') throw PatchError("operation " + std::to_string(op) + ": path \"" + ptr + "\" must start with '/'");
  std::size_t pos = 1;
  for (;;) {
    auto next = ptr.find('/', pos);
    std::string tok = ptr.substr(pos, next == std::string::npos ? std::string::npos : next - pos);
    std::string dec;
    for (std::size_t i = 0; i < tok.size(); ++i) {
      if (tok[i] == '~' && i + 1 < tok.size() && (tok[i + 1] == '0' || tok[i + 1] == '1')) {
        dec += tok[i + 1] == '0' ? '~' : '/';
        ++i;
      } else if (tok[i] == '~') {
        throw PatchError("operation " + std::to_string(op) + ": bad escape in path \"" + ptr + "\"");
      } else {
        dec += tok[i];
      }
    }
    out.push_back(std::move(dec));
    if (next == std::string::npos) break;
    pos = next + 1;
  }
  return out;
}

std::size_t index_of(const std::string& tok, std::size_t size, bool allow_end, std::size_t op) {
  if (allow_end && tok == "-") return size;
  if (tok.empty() || tok.size() > 9 || tok.find_first_not_of("0123456789") != std::string::npos ||
      (tok.size() > 1 && tok[0] == '0'))
    throw PatchError("operation " + std::to_string(op) + ": \"" + tok + "\" is not an array index");
  std::size_t i = std::stoul(tok);
  if (i > size || (!allow_end && i == size))
    throw PatchError("operation " + std::to_string(op) + ": index " + tok + " out of range");
  return i;
}

json::value* resolve(json::value& root, const std::vector<std::string>& toks, std::size_t count, std::size_t op) {
  json::value* cur = &root;
  for (std::size_t i = 0; i < count; ++i) {
    if (cur->is_object()) {
      auto* next = cur->as_object().if_contains(toks[i]);
      if (next == nullptr) throw PatchError("operation " + std::to_string(op) + ": path member \"" + toks[i] + "\" not found");
      cur = next;
    } else if (cur->is_array()) {
      cur = &cur->as_array()[index_of(toks[i], cur->as_array().size(), false, op)];
    } else {
      throw PatchError("operation " + std::to_string(op) + ": cannot descend into a scalar at \"" + toks[i] + "\"");
    }
  }
  return cur;
}

json::value get_at(json::value& root, const std::string& ptr, std::size_t op) {
  auto toks = split_pointer(ptr, op);
  return *resolve(root, toks, toks.size(), op);
}

json::value remove_at(json::value& root, const std::string& ptr, std::size_t op) {
  auto toks = split_pointer(ptr, op);
  if (toks.empty()) throw PatchError("operation " + std::to_string(op) + ": cannot remove the whole document");
  json::value* parent = resolve(root, toks, toks.size() - 1, op);
  if (parent->is_object()) {
    auto it = parent->as_object().find(toks.back());
    if (it == parent->as_object().end())
      throw PatchError("operation " + std::to_string(op) + ": nothing to remove at \"" + ptr + "\"");
    json::value v = it->value();
    parent->as_object().erase(it);
    return v;
  }
  if (parent->is_array()) {
    auto& arr = parent->as_array();
    std::size_t i = index_of(toks.back(), arr.size(), false, op);
    json::value v = arr[i];
    arr.erase(arr.begin() + static_cast<std::ptrdiff_t>(i));
    return v;
  }
  throw PatchError("operation " + std::to_string(op) + ": parent of \"" + ptr + "\" is a scalar");
}

void add_at(json::value& root, const std::string& ptr, json::value v, bool replace, std::size_t op) {
  auto toks = split_pointer(ptr, op);
  if (toks.empty()) {
    root = std::move(v);
    return;
  }
  json::value* parent = resolve(root, toks, toks.size() - 1, op);
  if (parent->is_object()) {
    if (replace && !parent->as_object().contains(toks.back()))
      throw PatchError("operation " + std::to_string(op) + ": nothing to replace at \"" + ptr + "\"");
    parent->as_object()[toks.back()] = std::move(v);
  } else if (parent->is_array()) {
    auto& arr = parent->as_array();
    if (replace) {
      arr[index_of(toks.back(), arr.size(), false, op)] = std::move(v);
    } else {
      std::size_t i = index_of(toks.back(), arr.size(), true, op);
      arr.insert(arr.begin() + static_cast<std::ptrdiff_t>(i), std::move(v));
    }
  } else {
    throw PatchError("operation " + std::to_string(op) + ": parent of \"" + ptr + "\" is a scalar");
  }
}

std::string field(const json::object& o, const char* name, std::size_t op) {
  auto* v = o.if_contains(name);
  if (v == nullptr || !v->is_string())
    throw PatchError("operation " + std::to_string(op) + ": missing string field \"" + name + "\"");
  return std::string(v->as_string());
}

}  // namespace

json::value json_patch(json::value target, const json::value& patch) {
  if (!patch.is_array()) throw PatchError("a JSON patch must be an array of operations");
  std::size_t n = 0;
  for (const auto& opv : patch.as_array()) {
    if (!opv.is_object()) throw PatchError("operation " + std::to_string(n) + " is not an object");
    const auto& o = opv.as_object();
    std::string op = field(o, "op", n);
    std::string path = field(o, "path", n);
    auto value = [&]() -> json::value {
      auto* v = o.if_contains("value");
      if (v == nullptr) throw PatchError("operation " + std::to_string(n) + " (" + op + ") needs a value");
      return *v;
    };
    if (op == "add") {
      add_at(target, path, value(), false, n);
    } else if (op == "remove") {
      remove_at(target, path, n);
    } else if (op == "replace") {
      add_at(target, path, value(), true, n);
    } else if (op == "move") {
      std::string from = field(o, "from", n);
      json::value v = remove_at(target, from, n);
      add_at(target, path, std::move(v), false, n);
    } else if (op == "copy") {
      std::string from = field(o, "from", n);
      add_at(target, path, get_at(target, from, n), false, n);
    } else if (op == "test") {
      if (get_at(target, path, n) != value())
        throw PatchError("operation " + std::to_string(n) + ": test failed at \"" + path + "\"");
    } else {
      throw PatchError("operation " + std::to_string(n) + ": unknown op \"" + op + "\"");
    }
    ++n;
  }
  return target;
}

}  // namespace fdb::sim

// Object metadata as the store keeps it: read from the JSON, keys, uids, time and name
// formats, the Lease decode check, event lines.
#include "sim/store_detail.hpp"
#include "watch/rfc3339.hpp"

#include <boost/json.hpp>

#include <cstdio>
#include <random>

namespace fdb::sim {
namespace json = boost::json;

namespace detail {

std::string str_or(const json::object& o, const char* k) {
  auto* v = o.if_contains(k);
  return v != nullptr && v->is_string() ? std::string(v->as_string()) : std::string();
}

json::object& obj_at(json::object& o, const char* k) {
  auto& v = o[k];
  if (!v.is_object()) v = json::object();
  return v.as_object();
}

Meta read_meta(const json::object& o) {
  Meta m;
  auto* mdv = o.if_contains("metadata");
  if (mdv == nullptr || !mdv->is_object()) return m;
  const auto& md = mdv->as_object();
  m.ns = str_or(md, "namespace");
  m.name = str_or(md, "name");
  m.uid = str_or(md, "uid");
  auto rvs = str_or(md, "resourceVersion");
  m.rv = rvs.empty() ? 0 : std::strtoull(rvs.c_str(), nullptr, 10);
  if (auto* l = md.if_contains("labels"); l != nullptr && l->is_object())
    for (const auto& [k, v] : l->as_object())
      if (v.is_string()) m.labels.emplace(std::string(k), std::string(v.as_string()));
  if (auto* refs = md.if_contains("ownerReferences"); refs != nullptr && refs->is_array())
    for (const auto& ref : refs->as_array())
      if (ref.is_object()) m.owner_uids.push_back(str_or(ref.as_object(), "uid"));
  if (auto* f = md.if_contains("finalizers"); f != nullptr && f->is_array())
    for (const auto& v : f->as_array())
      if (v.is_string()) m.finalizers.emplace_back(v.as_string());
  m.deleting = md.contains("deletionTimestamp") && !md.at("deletionTimestamp").is_null();
  if (str_or(o, "kind") == "Event" && str_or(o, "apiVersion") == "v1") {
    const auto* io = o.if_contains("involvedObject");
    const json::object empty;
    const json::object& inv = io != nullptr && io->is_object() ? io->as_object() : empty;
    for (const auto& f : core_event_fields()) {
      std::string_view name = f;
      if (name.starts_with("involvedObject."))
        m.fields.emplace_back(f, str_or(inv, std::string(name.substr(15)).c_str()));
      else if (name == "source") {
        const auto* src = o.if_contains("source");
        m.fields.emplace_back(f, src != nullptr && src->is_object() ? str_or(src->as_object(), "component") : "");
      } else
        m.fields.emplace_back(f, str_or(o, f.c_str()));
    }
  }
  return m;
}

void normalize_meta(json::object& obj) {
  auto* mdv = obj.if_contains("metadata");
  if (mdv == nullptr || !mdv->is_object()) return;
  auto& md = mdv->as_object();
  for (const char* k : {"labels", "annotations", "finalizers", "ownerReferences", "managedFields"}) {
    const auto* v = md.if_contains(k);
    if (v != nullptr && (v->is_null() || (v->is_object() && v->as_object().empty()) || (v->is_array() && v->as_array().empty())))
      md.erase(k);
  }
}

std::string key_of(const std::string& ns, const std::string& name) { return ns + "/" + name; }

namespace {
// Go's time.Parse with the MicroTime layout 2006-01-02T15:04:05.000000Z07:00: exactly six
// fractional digits, then Z or a numeric offset.
bool is_micro_time(const std::string& t) {
  auto digits = [&](std::size_t from, std::size_t n) {
    if (from + n > t.size()) return false;
    for (std::size_t i = from; i < from + n; ++i)
      if (t[i] < '0' || t[i] > '9') return false;
    return true;
  };
  if (!(digits(0, 4) && t.size() > 26 && t[4] == '-' && digits(5, 2) && t[7] == '-' && digits(8, 2) && t[10] == 'T' &&
        digits(11, 2) && t[13] == ':' && digits(14, 2) && t[16] == ':' && digits(17, 2) && t[19] == '.' && digits(20, 6)))
    return false;
  std::string zone = t.substr(26);
  return zone == "Z" || (zone.size() == 6 && (zone[0] == '+' || zone[0] == '-') && digits(27, 2) && zone[3] == ':' && digits(30, 2));
}

}  // namespace

// What the real server's decoding rejects for the kinds the bridge writes (400 BadRequest).
std::optional<ApiError> validate(const ResourceInfo& r, const json::object& obj) {
  if (r.kind != "Lease") return std::nullopt;
  auto* spec = obj.if_contains("spec");
  if (spec == nullptr || spec->is_null()) return std::nullopt;
  auto fail = [&](const std::string& why) {
    return ApiError{400, "BadRequest", "Lease in version \"v1\" cannot be handled as a Lease: " + why, {}};
  };
  if (!spec->is_object()) return fail("spec: expected an object");
  for (const char* k : {"acquireTime", "renewTime"}) {
    auto* v = spec->as_object().if_contains(k);
    if (v == nullptr || v->is_null()) continue;
    if (!v->is_string() || !is_micro_time(std::string(v->as_string())))
      return fail(std::string("parsing time ") + (v->is_string() ? "\"" + std::string(v->as_string()) + "\"" : json::serialize(*v)) +
                  " as \"2006-01-02T15:04:05.000000Z07:00\": cannot parse " + k);
  }
  for (const char* k : {"leaseDurationSeconds", "leaseTransitions"}) {
    auto* v = spec->as_object().if_contains(k);
    if (v != nullptr && !v->is_null() && !v->is_int64() && !v->is_uint64())
      return fail(std::string("spec.") + k + ": expected an integer");
  }
  auto* h = spec->as_object().if_contains("holderIdentity");
  if (h != nullptr && !h->is_null() && !h->is_string()) return fail("spec.holderIdentity: expected a string");
  return std::nullopt;
}

std::string make_uid(std::uint64_t n) {
  static std::mt19937_64 rng(std::random_device{}());
  std::uint64_t a = rng(), b = rng() ^ n;
  char buf[40];
  std::snprintf(buf, sizeof buf, "%08x-%04x-4%03x-%04x-%012llx", static_cast<unsigned>(a >> 32),
                static_cast<unsigned>((a >> 16) & 0xffff), static_cast<unsigned>(a & 0xfff),
                static_cast<unsigned>(0x8000 | ((b >> 48) & 0x3fff)),
                static_cast<unsigned long long>(b & 0xffffffffffffULL));
  return buf;
}

}  // namespace detail

std::string format_time(Clock::time_point t) {
  return fdb::kube::format_seconds(std::chrono::floor<std::chrono::seconds>(t));
}

bool is_dns1123_label(const std::string& s) {
  if (s.empty() || s.size() > 63) return false;
  for (char c : s)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  return s.front() != '-' && s.back() != '-';
}

bool is_dns1123_subdomain(const std::string& s) {
  if (s.empty() || s.size() > 253) return false;
  std::size_t pos = 0;
  for (;;) {
    auto dot = s.find('.', pos);
    std::string part = s.substr(pos, dot == std::string::npos ? std::string::npos : dot - pos);
    // Each part follows label characters; only the whole name has a length limit (253).
    if (part.empty() || part.front() == '-' || part.back() == '-') return false;
    for (char c : part)
      if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
    if (dot == std::string::npos) return true;
    pos = dot + 1;
  }
}

std::string event_line(const std::string& type, const std::string& object_json) {
  std::string s;
  s.reserve(object_json.size() + type.size() + 24);
  s += "{\"type\":\"";
  s += type;
  s += "\",\"object\":";
  s += object_json;
  s += "}\n";
  return s;
}

}  // namespace fdb::sim

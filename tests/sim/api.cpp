#include "sim/api.hpp"
#include "sim/api_detail.hpp"

#include <boost/json.hpp>

#include <fmt/format.h>

#include <set>

namespace fdb::sim {
namespace json = boost::json;
using namespace api_detail;

Answer error_answer(const ApiError& e) {
  Answer a;
  a.http.status = e.code;
  a.http.body = status_json(e);
  return a;
}

std::string url_decode(std::string_view s, bool plus_is_space) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '+' && plus_is_space) {
      out += ' ';
    } else if (c == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) != 0 &&
               std::isxdigit(static_cast<unsigned char>(s[i + 2])) != 0) {
      out += static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else {
      out += c;
    }
  }
  return out;
}

std::map<std::string, std::string> parse_query(std::string_view q) {
  std::map<std::string, std::string> out;
  std::size_t pos = 0;
  while (pos < q.size()) {
    auto amp = q.find('&', pos);
    if (amp == std::string_view::npos) amp = q.size();
    auto part = q.substr(pos, amp - pos);
    auto eq = part.find('=');
    if (!part.empty())
      out[url_decode(part.substr(0, eq), true)] = eq == std::string_view::npos ? "" : url_decode(part.substr(eq + 1), true);
    pos = amp + 1;
  }
  return out;
}

Api::Api(Store& store, Foreman& foreman, Dispatch* dispatch, Options opts)
    : store_(store), foreman_(foreman), dispatch_(dispatch), opts_(std::move(opts)) {}

void Api::observe(const Event& ev, Clock::time_point now) {
  if (ev.res != &workloads() || (ev.type != "ADDED" && ev.type != "DELETED")) return;
  std::string key = ev.meta.ns + "/" + ev.meta.name;
  WorkloadRecord rec;
  rec.op = ev.type == "ADDED" ? "create" : "delete";
  rec.ns = ev.meta.ns;
  rec.name = ev.meta.name;
  rec.uid = ev.meta.uid;
  rec.rv = ev.rv;
  rec.time = format_time(now);
  json::object o = json::parse(*ev.object).as_object();
  rec.attempt = str_at(o, {"metadata", "annotations", "foreman.llmkube.dev/attempt"});
  rec.phase = str_at(o, {"status", "phase"});
  if (ev.type == "ADDED") {
    rec.live_existed = live_uid_.count(key) != 0;
    live_uid_[key] = ev.meta.uid;
  } else {
    live_uid_.erase(key);
  }
  records_.push_back(std::move(rec));
}

Answer Api::handle(const Request& req, Clock::time_point now) {
  if (req.path.rfind("/_sim/", 0) == 0) return control(req, now);
  if (!opts_.token.empty() && req.authorization != "Bearer " + opts_.token)
    return error_answer(ApiError{401, "Unauthorized", "Unauthorized", {}});
  // Faults, applied after the request is counted.
  int latency = 0, stall = 0;
  bool reset = false, close_at_once = false;
  auto fault = [&]() -> std::optional<Answer> {
  for (auto it = faults_.begin(); it != faults_.end();) {
    const bool watching = parse_bool(qv(req, "watch"));
    if (req.path.rfind(it->path, 0) != 0 || (!it->method.empty() && it->method != req.method) ||
        (it->watch_only && !watching)) {
      ++it;
      continue;
    }
    ApiFault f = *it;
    if (it->count > 0 && --it->count == 0) it = faults_.erase(it);
    else ++it;
    latency += f.latency_ms;
    stall = std::max(stall, f.stall_ms);
    reset = reset || f.reset;
    close_at_once = close_at_once || f.close_at_once;
    if (f.code != 0) {
      std::string reason = f.code == 429 ? "TooManyRequests" : f.code == 503 ? "ServiceUnavailable" : "InternalError";
      ApiError e{f.code, reason, fmt::format("injected fault: {} {}", f.code, reason), {}};
      if (f.retry_after >= 0) e.details = json::object{{"retryAfterSeconds", f.retry_after}};
      Answer a = error_answer(e);
      if (f.retry_after >= 0) a.http.headers["Retry-After"] = std::to_string(f.retry_after);
      a.http.delay_ms = latency;
      return std::optional<Answer>(std::move(a));
    }
  }
    return std::nullopt;
  };
  auto finish = [&](Answer a) {
    a.http.delay_ms += latency;
    a.stall_ms = stall;
    if (a.watch) a.watch->end_at_once = close_at_once;
    else a.http.reset = reset;
    return a;
  };
  auto parts = split_path(req.path);
  // /api/v1/... or /apis/g/v/...
  std::string group, version;
  std::size_t i = 0;
  if (parts.size() >= 3 && parts[0] == "api") version = parts[1], i = 2;
  else if (parts.size() >= 4 && parts[0] == "apis") group = parts[1], version = parts[2], i = 3;
  else if (auto fa = fault()) return *fa;
  else if (req.method == "GET") return finish(discovery(req.path));
  else return finish(error_answer(ApiError{404, "NotFound", "the server could not find the requested resource", {}}));
  std::optional<std::string> ns;
  if (parts.size() >= i + 3 && parts[i] == "namespaces") {
    ns = parts[i + 1];
    i += 2;
  }
  const ResourceInfo* r = find_resource(group, version, parts[i]);
  if (r == nullptr || parts.size() > i + 3)
    return finish(error_answer(ApiError{404, "NotFound", "the server could not find the requested resource", {}}));
  std::string name = parts.size() > i + 1 ? parts[i + 1] : "";
  std::string sub = parts.size() > i + 2 ? parts[i + 2] : "";
  if (!sub.empty() && (sub != "status" || !r->status_subresource))
    return finish(error_answer(ApiError{404, "NotFound", "the server could not find the requested resource", {}}));
  counters_[req.method + " " + r->resource + (sub.empty() ? "" : "/" + sub)]++;
  if (auto fa = fault()) return *fa;
  return finish(resource(req, *r, ns, name, sub, now));
}

}  // namespace fdb::sim

// Lists: paging with continue tokens (a snapshot resourceVersion and the last key, base64
// JSON as the real server's are opaque), namespace and selector filtering, snapshots.
#include "sim/store_detail.hpp"

#include <boost/json.hpp>

namespace fdb::sim {
namespace json = boost::json;
using namespace detail;

namespace {
std::string b64(const std::string& in) {
  static const char* t = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    unsigned v = (static_cast<unsigned char>(in[i]) << 16) | (static_cast<unsigned char>(in[i + 1]) << 8) |
                 static_cast<unsigned char>(in[i + 2]);
    out += t[v >> 18], out += t[(v >> 12) & 63], out += t[(v >> 6) & 63], out += t[v & 63];
  }
  if (i + 1 == in.size()) {
    unsigned v = static_cast<unsigned char>(in[i]) << 16;
    out += t[v >> 18], out += t[(v >> 12) & 63], out += "==";
  } else if (i + 2 == in.size()) {
    unsigned v = (static_cast<unsigned char>(in[i]) << 16) | (static_cast<unsigned char>(in[i + 1]) << 8);
    out += t[v >> 18], out += t[(v >> 12) & 63], out += t[(v >> 6) & 63], out += '=';
  }
  return out;
}
std::optional<std::string> unb64(const std::string& in) {
  std::string out;
  unsigned v = 0;
  int bits = 0;
  for (char c : in) {
    int d;
    if (c >= 'A' && c <= 'Z') d = c - 'A';
    else if (c >= 'a' && c <= 'z') d = c - 'a' + 26;
    else if (c >= '0' && c <= '9') d = c - '0' + 52;
    else if (c == '+' || c == '-') d = 62;
    else if (c == '/' || c == '_') d = 63;
    else if (c == '=') break;
    else return std::nullopt;
    v = (v << 6) | static_cast<unsigned>(d);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((v >> bits) & 0xff);
    }
  }
  return out;
}
}  // namespace

namespace {

// Where a page starts: the snapshot resourceVersion and the last key already returned.
struct Continue {
  std::uint64_t rv = 0;
  std::string start;
};

std::optional<ApiError> decode_continue(const std::string& token, std::uint64_t compacted, Continue& out) {
  auto dec = unb64(token);
  boost::system::error_code ec;
  json::value v = dec ? json::parse(*dec, ec) : json::value();
  if (!dec || ec || !v.is_object() || !v.as_object().contains("rv") || !v.as_object().at("rv").is_int64() ||
      !v.as_object().contains("start") || !v.as_object().at("start").is_string())
    return bad_request("continue key is not valid: could not decode the continue token");
  out.rv = static_cast<std::uint64_t>(v.as_object().at("rv").as_int64());
  out.start = std::string(v.as_object().at("start").as_string());
  if (out.rv < compacted)
    return ApiError{410, "Expired",
                    "The provided continue parameter is too old to display a consistent list result. You can "
                    "start a new list without the continue parameter, or use the continue token in this "
                    "response to retrieve the remainder of the results. Continuing with the provided token "
                    "results in an inconsistent list - objects that were created, modified, or deleted "
                    "between the time the first chunk was returned and now may show up in the list.",
                    {}};
  return std::nullopt;
}

// One page of a table: the matching objects' JSON joined by commas, and whether keys are left.
struct Page {
  std::string items;
  std::size_t n = 0;
  std::string last;      // the key of the last item, for the continue token
  bool more = false;
  std::size_t remaining = 0;  // keys left when cheaply counted, else 0
};

template <class Table>
Page read_page(const Table& t, const Filter& f, const ListOptions& opts, const std::string& start) {
  Page p;
  auto it = start.empty() ? t.begin() : t.upper_bound(start);
  if (f.ns && start.empty()) it = t.lower_bound(*f.ns + "/");
  if (opts.limit <= 0) {
    std::size_t total_bytes = 0;
    for (auto j = it; j != t.end(); ++j) total_bytes += j->second.json->size() + 1;
    p.items.reserve(total_bytes);
  }
  for (; it != t.end(); ++it) {
    const Object& o = it->second;
    if (f.ns && o.meta.ns != *f.ns) {
      if (o.meta.ns > *f.ns) break;
      continue;
    }
    if (opts.limit > 0 && static_cast<std::int64_t>(p.n) == opts.limit) {
      // A full page and more keys in range: a continue token (like the API server,
      // which filters after paging, so a later page may come back empty). The count of
      // the rest (optional in the API) is only given without selectors and when it is
      // cheap: a walk over at most kMaxCounted keys, so a page costs O(limit), not O(N).
      p.more = true;
      if (!f.labels.empty() || !f.fields.reqs.empty()) break;
      constexpr std::size_t kMaxCounted = 10000;
      for (; it != t.end() && (!f.ns || it->second.meta.ns == *f.ns) && p.remaining <= kMaxCounted; ++it) ++p.remaining;
      if (p.remaining > kMaxCounted) p.remaining = 0;  // not counted
      break;
    }
    if (!f.matches(o.meta)) continue;
    if (p.n != 0) p.items += ',';
    p.items += *o.json;
    p.last = it->first;
    ++p.n;
  }
  return p;
}

}  // namespace

Store::ListAnswer Store::list(const Filter& f, const ListOptions& opts) const {
  ListAnswer ans;
  const ResourceInfo& r = *f.res;
  Continue from{rv_, {}};
  if (!opts.continue_token.empty()) {
    if (auto e = decode_continue(opts.continue_token, compacted_, from)) {
      ans.error = std::move(e);
      return ans;
    }
  }
  Page page;
  if (const Table* t = table_if(r)) page = read_page(*t, f, opts, from.start);
  std::string body;
  body.reserve(page.items.size() + 256);
  body += "{\"kind\":\"" + r.kind + "List\",\"apiVersion\":\"" + r.api_version() + "\",\"metadata\":{";
  body += "\"resourceVersion\":\"" + std::to_string(from.rv) + "\"";
  if (page.more) {
    json::object tok{{"rv", static_cast<std::int64_t>(from.rv)}, {"start", page.last}};
    body += ",\"continue\":\"" + b64(json::serialize(tok)) + "\"";
    if (page.remaining > 0) body += ",\"remainingItemCount\":" + std::to_string(page.remaining);
  }
  body += "},\"items\":[";
  body += page.items;
  body += "]}";
  ans.body = std::move(body);
  ans.items = page.n;
  return ans;
}

std::vector<Object> Store::snapshot(const Filter& f) const {
  std::vector<Object> out;
  if (const Table* t = table_if(*f.res))
    for (const auto& [k, o] : *t)
      if (f.matches(o.meta)) out.push_back(o);
  return out;
}

}  // namespace fdb::sim

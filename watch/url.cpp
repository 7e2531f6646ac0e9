#include "watch/url.hpp"

#include <boost/url/encode.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>
#include <boost/url/url.hpp>

#include <algorithm>
#include <array>

namespace fdb::kube {

namespace urls = boost::urls;

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; });
  return out;
}

bool secret_key(std::string_view key) {
  const std::string k = lower(key);
  static constexpr std::array<std::string_view, 5> kExact = {"key", "api_key", "apikey", "sig", "signature"};
  if (std::find(kExact.begin(), kExact.end(), k) != kExact.end()) return true;
  return k.find("token") != std::string::npos || k.find("secret") != std::string::npos ||
         k.find("password") != std::string::npos || k.find("passwd") != std::string::npos;
}

// For a text that is not a URI: hide all between "://" and the last '@' of the authority.
std::string redact_unparsed(std::string_view url) {
  const auto s = url.find("://");
  if (s == std::string_view::npos) return std::string(url);
  const auto end = url.find_first_of("/?#", s + 3);
  const auto authority = url.substr(s + 3, end == std::string_view::npos ? std::string_view::npos : end - s - 3);
  const auto at = authority.rfind('@');
  if (at == std::string_view::npos) return std::string(url);
  return std::string(url.substr(0, s + 3)) + "***@" + std::string(url.substr(s + 3 + at + 1));
}

}  // namespace

std::string percent_encode(std::string_view value) { return urls::encode(value, urls::unreserved_chars); }

std::string with_query(std::string_view path, const std::vector<std::pair<std::string_view, std::string>>& params) {
  urls::url u;
  u.set_encoded_path(path);
  for (const auto& [key, value] : params) {
    const std::string encoded = percent_encode(value);
    u.encoded_params().append(urls::param_pct_view(key, encoded));
  }
  return std::string(u.buffer());
}

std::string redact_url(std::string_view url) {
  const auto parsed = urls::parse_uri(url);
  if (!parsed) return redact_unparsed(url);
  urls::url u(*parsed);
  if (u.has_userinfo()) u.set_encoded_userinfo("***");
  if (u.has_query()) {
    auto params = u.encoded_params();
    for (auto it = params.begin(); it != params.end(); ++it) {
      const auto p = *it;
      if (p.has_value && secret_key(p.key.decode())) it = params.replace(it, urls::param_pct_view(p.key, "***"));
    }
  }
  return std::string(u.buffer());
}

std::string url_host(std::string_view url) {
  const auto parsed = urls::parse_uri(url);
  if (!parsed) return {};
  return std::string(parsed->encoded_host());
}

}  // namespace fdb::kube

// URLs through Boost.URL (pure): percent-encoding, request targets with a query, and
// redaction for logs and errors.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace fdb::kube {

// Percent-encodes every byte outside RFC 3986's unreserved set (A-Z a-z 0-9 - . _ ~),
// upper-case hex: a query value or one path segment.
std::string percent_encode(std::string_view value);

// `path` followed by "?k=v&k=v" in the given order, each value percent-encoded as above
// (keys are written as given: callers pass fixed names); just `path` without parameters.
std::string with_query(std::string_view path, const std::vector<std::pair<std::string_view, std::string>>& params);

// The URL fit for a log line or an error: user-info replaced by "***" (scheme://***@host),
// the values of query parameters that carry credentials (token, access_token, password,
// secret, api_key, key, sig, signature, … any name containing "token", "secret" or
// "password", case-insensitive) replaced by "***". A text Boost.URL cannot parse as a URI
// still has everything between "://" and the last '@' of its authority hidden.
std::string redact_url(std::string_view url);

// The host of an absolute URL as written (an IPv6 literal with its brackets), "" when the
// text is not a URL with a host.
std::string url_host(std::string_view url);

}  // namespace fdb::kube

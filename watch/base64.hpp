// Base64 (RFC 4648, the standard alphabet) through OpenSSL's EVP_EncodeBlock and
// EVP_DecodeBlock. Pure. Decoding is value-or-error (docs/errors.md) and as lenient as
// kubeconfig data needs and no more: whitespace (space, tab, CR, LF) anywhere is ignored
// (wrapped lines), trailing padding is optional; a character outside the alphabet, data
// after padding, or a length that cannot be base64 (4n+1 characters) is an error naming why.
#pragma once

#include <string>
#include <string_view>
#include <variant>

namespace fdb::kube {

struct Base64Error {
  std::string reason;  // "is not valid base64", "is not valid base64 (truncated)"
};

std::string base64_encode(std::string_view bytes);
std::variant<std::string, Base64Error> base64_decode(std::string_view text);

}  // namespace fdb::kube

// CRD structural schemas (openAPIV3Schema) applied the way kube-apiserver does: unknown
// fields pruned (unless x-kubernetes-preserve-unknown-fields), nulls of non-nullable fields
// dropped, then types, enums and required fields checked. Pure.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace fdb::sim {

struct SchemaCause {
  std::string reason;   // FieldValueRequired, FieldValueNotSupported, FieldValueInvalid
  std::string field;    // spec.pipeline[0].kind
  std::string message;  // Required value / Unsupported value: "x": supported values: "a", "b"
};

class CrdError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class Schema {
 public:
  explicit Schema(boost::json::value root) : root_(std::move(root)) {}
  // Prunes `obj` in place (not metadata, apiVersion, kind) and returns what is invalid.
  std::vector<SchemaCause> apply(boost::json::object& obj) const;
  const boost::json::value& root() const { return root_; }

 private:
  boost::json::value root_;
};

// A parsed CRD: its plural, group and the schema of each served version.
struct Crd {
  std::string group;
  std::string plural;
  std::map<std::string, Schema> versions;
};

// Parses a CustomResourceDefinition YAML document. Throws CrdError with the reason.
Crd parse_crd(const std::string& yaml_text);
// Every *.yaml CRD in `dir`. Throws CrdError on an unreadable or malformed file.
std::vector<Crd> load_crds(const std::string& dir);

}  // namespace fdb::sim

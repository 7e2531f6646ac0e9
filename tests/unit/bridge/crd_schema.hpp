// A small structural-schema checker for tests: validates a JSON object against the
// openAPIV3Schema of a CRD the way the API server would reject it (types, required,
// enum, minLength, pattern, minimum, int32), and, stricter than the server (which prunes
// silently), reports every field the schema does not know.
#pragma once

#include <boost/json/value.hpp>

#include <string>
#include <vector>

namespace fdb::test {

// The problems found ("spec.pipeline[0].payload: missing required field"), none when valid.
// `crd_file` is a CRD YAML; its first version's schema is used.
std::vector<std::string> validate_against_crd(const boost::json::value& object, const std::string& crd_file);

// The Workload CRD: $FDB_CRD_DIR, else the copy in tests/unit/bridge/data (path compiled in).
std::string workload_crd_path();

}  // namespace fdb::test

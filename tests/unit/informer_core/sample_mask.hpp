// The mask the informer-core tables share: a few kept paths, a prefix, nested arrays.
#pragma once

#include "watch/field_mask.hpp"

namespace fdb::kube::test {

inline FieldMask sample_mask() {
  FieldMask m;
  m.keep({"metadata", "name"});
  m.keep({"metadata", "labels"});
  m.keep_prefix({"metadata", "annotations"}, "keep.me/");
  m.keep({"spec", "steps", "kind"});
  m.keep({"status", "phase"});
  m.keep({"status", "conditions", "type"});
  return m;
}

}  // namespace fdb::kube::test

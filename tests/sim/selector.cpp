// Field selectors and the filter a list or a watcher asks with (namespace, labels, fields),
// and how a watcher with a filter sees an event.
#include "sim/store.hpp"

#include <algorithm>

namespace fdb::sim {
namespace json = boost::json;

const std::vector<std::string>& core_event_fields() {
  // Kubernetes' pkg/apis/core/v1: the field label conversion of Event.
  static const std::vector<std::string> f = {
      "involvedObject.kind",      "involvedObject.namespace",       "involvedObject.name",
      "involvedObject.uid",       "involvedObject.apiVersion",      "involvedObject.resourceVersion",
      "involvedObject.fieldPath", "reason",                         "reportingComponent",
      "source",                   "type"};
  return f;
}

FieldSelector FieldSelector::parse(const std::string& text, const ResourceInfo* res) {
  const bool core_event = res != nullptr && res->group.empty() && res->resource == "events";
  FieldSelector fs;
  std::size_t pos = 0;
  while (pos < text.size()) {
    auto comma = text.find(',', pos);
    std::string part = text.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    pos = comma == std::string::npos ? text.size() : comma + 1;
    if (part.empty()) continue;
    Req r;
    std::size_t op;
    std::size_t oplen;
    if ((op = part.find("!=")) != std::string::npos) r.equals = false, oplen = 2;
    else if ((op = part.find("==")) != std::string::npos) oplen = 2;
    else if ((op = part.find('=')) != std::string::npos) oplen = 1;
    else throw ApiError{400, "BadRequest", "invalid field selector: \"" + part + "\": no operator", {}};
    r.field = part.substr(0, op);
    r.value = part.substr(op + oplen);
    const auto& ev = core_event_fields();
    if (r.field != "metadata.name" && r.field != "metadata.namespace" &&
        !(core_event && std::find(ev.begin(), ev.end(), r.field) != ev.end()))
      throw ApiError{400, "BadRequest", "field label not supported: " + r.field, {}};
    fs.reqs.push_back(std::move(r));
  }
  return fs;
}

bool FieldSelector::matches(const Meta& m) const {
  static const std::string none;
  for (const auto& r : reqs) {
    const std::string* v = r.field == "metadata.name" ? &m.name : r.field == "metadata.namespace" ? &m.ns : &none;
    for (const auto& [k, val] : m.fields)
      if (k == r.field) v = &val;
    if ((*v == r.value) != r.equals) return false;
  }
  return true;
}

bool Filter::matches(const Meta& m) const {
  if (ns && *ns != m.ns) return false;
  return labels.matches(m.labels) && fields.matches(m);
}

std::optional<std::string> Filter::classify(const Event& ev) const {
  if (ev.res != res) return std::nullopt;
  bool now = matches(ev.meta);
  if (ev.type != "MODIFIED" || !ev.old) return now ? std::optional<std::string>(ev.type) : std::nullopt;
  bool before = matches(*ev.old);
  if (now && before) return std::string("MODIFIED");
  if (now) return std::string("ADDED");
  if (before) return std::string("DELETED");
  return std::nullopt;
}

}  // namespace fdb::sim

#include "sim/events.hpp"

#include <initializer_list>
#include <string_view>
#include <utility>

namespace fdb::sim {
namespace json = boost::json;

namespace {
using Pair = std::pair<std::string_view, std::string_view>;
using Pairs = std::initializer_list<Pair>;

// Copies from[a] to to[b] for each pair present in `from`.
template <class Range>
void move_fields(const json::object& from, json::object& to, const Range& pairs) {
  for (const auto& [a, b] : pairs)
    if (const auto* v = from.if_contains(a)) to[b] = *v;
}

json::object metadata_of(const json::object& ev) {
  json::object meta;
  if (const auto* m = ev.if_contains("metadata"); m != nullptr && m->is_object())
    move_fields(m->as_object(), meta, Pairs{{"name", "name"}, {"namespace", "namespace"}, {"labels", "labels"},
                                       {"annotations", "annotations"}});
  return meta;
}

// Both directions keep these names.
const Pair kSame[] = {{"eventTime", "eventTime"}, {"action", "action"},   {"reason", "reason"},
                         {"type", "type"},           {"related", "related"}, {"series", "series"},
                         {"reportingInstance", "reportingInstance"}};
}  // namespace

json::object core_event_of(const json::object& ev) {
  json::object out{{"apiVersion", "v1"}, {"kind", "Event"}, {"metadata", metadata_of(ev)}};
  move_fields(ev, out, kSame);
  move_fields(ev, out, Pairs{{"regarding", "involvedObject"}, {"note", "message"},
                        {"reportingController", "reportingComponent"}, {"deprecatedSource", "source"},
                        {"deprecatedFirstTimestamp", "firstTimestamp"}, {"deprecatedLastTimestamp", "lastTimestamp"},
                        {"deprecatedCount", "count"}});
  if (!out.contains("source") && out.contains("reportingComponent"))
    out["source"] = json::object{{"component", out["reportingComponent"]}};
  if (!out.contains("involvedObject")) out["involvedObject"] = json::object();
  return out;
}

json::object events_v1_event_of(const json::object& ev) {
  json::object out{{"apiVersion", "events.k8s.io/v1"}, {"kind", "Event"}, {"metadata", metadata_of(ev)}};
  move_fields(ev, out, kSame);
  move_fields(ev, out, Pairs{{"involvedObject", "regarding"}, {"message", "note"},
                        {"reportingComponent", "reportingController"}, {"source", "deprecatedSource"},
                        {"firstTimestamp", "deprecatedFirstTimestamp"}, {"lastTimestamp", "deprecatedLastTimestamp"},
                        {"count", "deprecatedCount"}});
  return out;
}

}  // namespace fdb::sim

// One Event, two APIs: a real API server stores core/v1 Events and events.k8s.io/v1 Events
// in one place and converts between them, so an Event written through either group is
// read through both (`kubectl get events` reads core/v1; the bridge writes events.k8s.io/v1).
// kube-sim keeps the two groups in separate stores and mirrors every created Event into
// the other one with these conversions (the field mapping of Kubernetes'
// pkg/apis/events/v1 conversion). Pure.
#pragma once

#include <boost/json/object.hpp>

namespace fdb::sim {

// events.k8s.io/v1 -> v1: regarding -> involvedObject, note -> message,
// reportingController -> reportingComponent (and source.component), deprecated* -> the core
// fields. The name and namespace are kept; the server's metadata is left to the store.
boost::json::object core_event_of(const boost::json::object& ev);
// v1 -> events.k8s.io/v1, the inverse.
boost::json::object events_v1_event_of(const boost::json::object& ev);

}  // namespace fdb::sim

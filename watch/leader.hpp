// Leader election on a coordination.k8s.io/v1 Lease: the pure lease machine and the
// awaiting elector that drives it. Included by callers that want both.
#pragma once

#include "watch/leader_io.hpp"
#include "watch/lease_machine.hpp"

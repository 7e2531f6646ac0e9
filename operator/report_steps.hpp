// The report step of the terminal sweeps (SPEC §6): what to tell dispatch about a
// Completed Workload, and what follows dispatch's answer — pure functions, run by the
// reconciler's executor (Reconciler::report in operator/reconciler_reads_io.cpp), which
// only reads the tasks, makes the call report_call() names and turns dispatch's answer
// into a ReportOutcome.
//
//   dispatch's answer        reported-status                     sweeps_total{report,…}  then
//   Sent: in-review, done    the status                          in-review, done         Event InReview, Resolved
//   Sent: parked (backlog)   "backlog"                           parked                  parks_total, Event Parked
//   RefusedPermanently{n}    "rejected: {status} (HTTP n)"       rejected                a warning; never asked again
//   Failed (may mend)        not written                         error (the executor's)  Rethrow: a backoff, again
//   NotSent (no issue)       "skipped: no issue on the Workload" skipped                 a warning
// The terminal-since-Completed stamp, when the sweep asks for it, goes in the same merge
// patch (and alone before a Rethrow, so that the Workload's age is right meanwhile).
#pragma once

#include "operator/foreman_model.hpp"
#include "operator/retry_steps.hpp"
#include "operator/sweeps.hpp"

#include <exception>
#include <optional>
#include <string>
#include <variant>

namespace fdb::op::steps {

// What the report step reads: the cached Workload and completed_report() of it and its tasks.
struct ReportFacts {
  WorkloadView workload;
  op::Report report;
  bool write_stamp = false;  // stamp terminal-since-Completed with `seen` in the same patch
  WallTime seen;             // when the report step started
};

// The dispatch call of a report.
struct ReportCall {
  bool park = false;   // status backlog, then (best effort) label needs-human and the park comment
  std::string status;  // not parking: the status to set (in-review, done)
  std::string reason;  // parking: the comment's reason
};

// The call to make; nullopt when the Workload names no issue (nothing to tell dispatch).
std::optional<ReportCall> report_call(const ReportFacts& facts);

// dispatch's answer to a report's call, as a value.
namespace report {
struct Sent {};
struct RefusedPermanently {  // asking again will not change it
  int http_status = 0;
  std::string error;  // for the log line
};
struct Failed {  // a failure asking again later may mend: rethrown after the stamp
  std::exception_ptr error;
};
struct NotSent {};  // report_call() said there was nothing to send
}  // namespace report
using ReportOutcome = std::variant<report::Sent, report::RefusedPermanently, report::Failed, report::NotSent>;

// A refusal that asking again will not change (the issue is unknown, or the request is not
// acceptable for it: 400, 404, 409, 410, 422, not marked transient). Authentication and
// server errors are not: those are retried.
bool refused_for_good(int http_status, bool transient) noexcept;

// The outcome of a dispatch error (its status, whether it is transient, its text, the
// exception itself for a rethrow).
ReportOutcome report_outcome(int http_status, bool transient, std::string error, std::exception_ptr exception);

// The actions after dispatch's answer: PatchAnnotations (reported-status and the stamp),
// Count, ReportLog, Event, then Done{"report"}; or, for Failed, the stamp alone and Rethrow.
Actions report_actions(const ReportFacts& facts, const ReportOutcome& outcome);

}  // namespace fdb::op::steps

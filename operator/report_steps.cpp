#include "operator/report_steps.hpp"

#include <fmt/format.h>

namespace fdb::op::steps {

namespace json = boost::json;

namespace {

bool names_an_issue(const WorkloadView& w) { return !w.repo.empty() && w.number > 0; }

std::string issue_of(const WorkloadView& w) { return fmt::format("{}#{}", w.repo, w.number); }

// The annotations of a report: the stamp when asked for, then reported-status (when known).
json::object annotations(const ReportFacts& f, const std::string* reported) {
  json::object ann;
  if (f.write_stamp) ann[terminal_since_key("Completed")] = format_stamp(f.seen);
  if (reported != nullptr) ann[kReportedAnnotation] = *reported;
  return ann;
}

// What reported-status records, and the result sweeps_total counts.
struct Recorded {
  std::string sent;
  std::string result;
};

Recorded recorded(const ReportFacts& f, const ReportOutcome& outcome) {
  const op::Report& r = f.report;
  if (std::holds_alternative<report::NotSent>(outcome)) return {"skipped: no issue on the Workload", "skipped"};
  if (const auto* refused = std::get_if<report::RefusedPermanently>(&outcome)) {
    return {fmt::format("rejected: {} (HTTP {})", r.status, refused->http_status), "rejected"};
  }
  return {r.status, r.status == "backlog" ? "parked" : r.status};
}

// The Event (and for a park its counter) that follows a report dispatch took.
void follow_up(const ReportFacts& f, const std::string& result, Actions& a) {
  const WorkloadView& w = f.workload;
  const op::Report& r = f.report;
  if (result == "in-review") {
    a.push_back(event_about(w, "Normal", "InReview", "Report",
                            fmt::format("issue {} moved to in-review: {}", issue_of(w), r.pull_request)));
  } else if (result == "done") {
    a.push_back(event_about(w, "Normal", "Resolved", "Report", fmt::format("issue {} moved to done: {}", issue_of(w), r.reason)));
  } else if (result == "parked") {
    a.push_back(Count{Counter::Park, "completed-without-pr", {}});
    a.push_back(event_about(w, "Warning", "Parked", "Park", "Needs a human decision: " + r.reason));
  }
}

}  // namespace

std::optional<ReportCall> report_call(const ReportFacts& facts) {
  if (!names_an_issue(facts.workload)) return std::nullopt;
  const op::Report& r = facts.report;
  if (r.status == "backlog") return ReportCall{true, r.status, r.reason};
  return ReportCall{false, r.status, {}};
}

bool refused_for_good(int s, bool transient) noexcept {
  if (transient) return false;
  return s == 400 || s == 404 || s == 409 || s == 410 || s == 422;
}

ReportOutcome report_outcome(int http_status, bool transient, std::string error, std::exception_ptr exception) {
  if (refused_for_good(http_status, transient)) return report::RefusedPermanently{http_status, std::move(error)};
  return report::Failed{std::move(exception)};
}

Actions report_actions(const ReportFacts& f, const ReportOutcome& outcome) {
  const WorkloadView& w = f.workload;
  const op::Report& r = f.report;
  if (const auto* failed = std::get_if<report::Failed>(&outcome)) {
    // Retried after a backoff; the stamp is kept meanwhile, so the age is right.
    Actions a;
    if (f.write_stamp) a.push_back(PatchAnnotations{w.name, annotations(f, nullptr)});
    a.push_back(Rethrow{failed->error});
    return a;
  }
  Actions a;
  if (std::holds_alternative<report::NotSent>(outcome)) {
    a.push_back(ReportLog{ReportLine::NoIssue, {}, {}, {}, {}, {}});
  } else if (const auto* refused = std::get_if<report::RefusedPermanently>(&outcome)) {
    a.push_back(ReportLog{ReportLine::Refused, issue_of(w), r.status, {}, {}, refused->error});
  }
  const Recorded rec = recorded(f, outcome);
  a.push_back(PatchAnnotations{w.name, annotations(f, &rec.sent)});
  a.push_back(Count{Counter::Sweep, "report", rec.result});
  a.push_back(ReportLog{ReportLine::Reported, issue_of(w), rec.sent, r.reason, r.pull_request, {}});
  follow_up(f, rec.result, a);
  a.push_back(Done{"report"});
  return a;
}

}  // namespace fdb::op::steps

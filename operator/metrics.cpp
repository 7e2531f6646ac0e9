#include "operator/metrics.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace fdb::metrics {

std::string_view to_string(Type type) noexcept {
  switch (type) {
    case Type::Counter: return "counter";
    case Type::Gauge: return "gauge";
    case Type::Histogram: return "histogram";
  }
  return "untyped";
}

// ---------------------------------------------------------------------------------------
// Values

void Counter::inc(double v) {
  if (!(v >= 0.0)) throw std::invalid_argument("counter increment must be >= 0");
  value_.fetch_add(v, std::memory_order_relaxed);
}

void Gauge::inc(double v) noexcept { value_.fetch_add(v, std::memory_order_relaxed); }

namespace {

void check_bounds(const std::vector<double>& bounds) {
  for (std::size_t i = 0; i < bounds.size(); ++i) {
    if (!std::isfinite(bounds[i])) throw std::invalid_argument("histogram bounds must be finite");
    if (i > 0 && !(bounds[i - 1] < bounds[i]))
      throw std::invalid_argument("histogram bounds must be strictly increasing");
  }
}

}  // namespace

Histogram::Histogram(std::vector<double> bounds) : bounds_(std::move(bounds)) {
  check_bounds(bounds_);
  counts_.assign(bounds_.size() + 1, 0);
}

void Histogram::observe(double v) {
  if (std::isnan(v)) return;
  // The first bucket whose upper bound is >= v (bounds are inclusive upper limits).
  const auto i = static_cast<std::size_t>(std::lower_bound(bounds_.begin(), bounds_.end(), v) - bounds_.begin());
  std::lock_guard lock(mu_);
  ++counts_[i];
  sum_ += v;
  ++count_;
}

Histogram::Snapshot Histogram::snapshot() const {
  Snapshot s;
  s.bounds = bounds_;
  std::lock_guard lock(mu_);
  s.cumulative.reserve(counts_.size());
  std::uint64_t acc = 0;
  for (auto c : counts_) {
    acc += c;
    s.cumulative.push_back(acc);
  }
  s.sum = sum_;
  s.count = count_;
  return s;
}

std::vector<double> default_buckets() { return {.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}; }

std::vector<double> exponential_buckets(double start, double factor, int count) {
  if (!(start > 0) || !(factor > 1) || count < 1)
    throw std::invalid_argument("exponential_buckets: need start > 0, factor > 1, count >= 1");
  std::vector<double> out;
  out.reserve(static_cast<std::size_t>(count));
  double b = start;
  for (int i = 0; i < count; ++i, b *= factor) out.push_back(b);
  return out;
}

std::vector<double> linear_buckets(double start, double width, int count) {
  if (!(width > 0) || count < 1) throw std::invalid_argument("linear_buckets: need width > 0, count >= 1");
  std::vector<double> out;
  out.reserve(static_cast<std::size_t>(count));
  for (int i = 0; i < count; ++i) out.push_back(start + width * i);
  return out;
}

// ---------------------------------------------------------------------------------------
// Text format helpers

std::string format_value(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

std::string escape_label_value(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '"': out += "\\\""; break;
      case '\n': out += "\\n"; break;
      default: out += c;
    }
  }
  return out;
}

std::string escape_help(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      default: out += c;
    }
  }
  return out;
}

namespace {

bool is_alpha_(char c) noexcept { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

}  // namespace

bool valid_metric_name(std::string_view name) noexcept {
  if (name.empty()) return false;
  if (!is_alpha_(name[0]) && name[0] != ':') return false;
  return std::all_of(name.begin() + 1, name.end(), [](char c) { return is_alpha_(c) || is_digit(c) || c == ':'; });
}

bool valid_label_name(std::string_view name) noexcept {
  if (name.empty() || !is_alpha_(name[0])) return false;
  if (name.starts_with("__")) return false;
  return std::all_of(name.begin() + 1, name.end(), [](char c) { return is_alpha_(c) || is_digit(c); });
}

namespace {

// `{a="x",b="y"}` for the names and values, plus an optional extra pair (le); empty when
// there is nothing to write.
void write_labels(std::string& out, const std::vector<std::string>& names, const std::vector<std::string>& values,
                  std::string_view extra_name = {}, std::string_view extra_value = {}) {
  if (names.empty() && extra_name.empty()) return;
  out += '{';
  bool first = true;
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (!first) out += ',';
    first = false;
    out += names[i];
    out += "=\"";
    out += escape_label_value(values[i]);
    out += '"';
  }
  if (!extra_name.empty()) {
    if (!first) out += ',';
    out += extra_name;
    out += "=\"";
    out += escape_label_value(extra_value);
    out += '"';
  }
  out += '}';
}

void write_header(std::string& out, const FamilyBase& f) {
  out += "# HELP ";
  out += f.name();
  out += ' ';
  out += escape_help(f.help());
  out += "\n# TYPE ";
  out += f.name();
  out += ' ';
  out += to_string(f.type());
  out += '\n';
}

}  // namespace

// ---------------------------------------------------------------------------------------
// Families

FamilyBase::FamilyBase(std::string name, std::string help, Type type, std::vector<std::string> label_names)
    : name_(std::move(name)), help_(std::move(help)), type_(type), label_names_(std::move(label_names)) {
  if (!valid_metric_name(name_)) throw std::invalid_argument("invalid metric name: " + name_);
  for (std::size_t i = 0; i < label_names_.size(); ++i) {
    const auto& l = label_names_[i];
    if (!valid_label_name(l)) throw std::invalid_argument("metric " + name_ + ": invalid label name: " + l);
    if (type_ == Type::Histogram && l == "le")
      throw std::invalid_argument("metric " + name_ + ": a histogram cannot have a label named le");
    for (std::size_t j = 0; j < i; ++j)
      if (label_names_[j] == l) throw std::invalid_argument("metric " + name_ + ": duplicate label name: " + l);
  }
}

void FamilyBase::check_arity(std::size_t n) const {
  if (n != label_names_.size())
    throw std::invalid_argument("metric " + name_ + ": expected " + std::to_string(label_names_.size()) +
                                " label values, got " + std::to_string(n));
}

namespace {

template <class T>
std::unique_ptr<T> make_child(const std::vector<double>& bounds) {
  if constexpr (std::is_same_v<T, Histogram>) return std::make_unique<Histogram>(bounds);
  else return std::make_unique<T>();
}

}  // namespace

template <class T>
T& Family<T>::labels(const std::vector<std::string>& values) {
  check_arity(values.size());
  std::lock_guard lock(mu_);
  auto it = children_.find(values);
  if (it == children_.end()) it = children_.emplace(values, make_child<T>(bounds_)).first;
  return *it->second;
}

template <class T>
T& Family<T>::labels(std::initializer_list<std::string_view> values) {
  std::vector<std::string> v;
  v.reserve(values.size());
  for (auto s : values) v.emplace_back(s);
  return labels(v);
}

template <class T>
std::vector<std::pair<std::vector<std::string>, const T*>> Family<T>::children() const {
  std::lock_guard lock(mu_);
  std::vector<std::pair<std::vector<std::string>, const T*>> out;
  out.reserve(children_.size());
  for (const auto& [k, v] : children_) out.emplace_back(k, v.get());
  return out;
}

template <class T>
void Family<T>::write(std::string& out) const {
  write_header(out, *this);
  // Children are never removed, so the pointers stay valid without the lock.
  for (const auto& [values, child] : children()) {
    if constexpr (std::is_same_v<T, Histogram>) {
      const auto s = child->snapshot();
      for (std::size_t i = 0; i <= s.bounds.size(); ++i) {
        out += name();
        out += "_bucket";
        const auto le = i < s.bounds.size() ? format_value(s.bounds[i]) : std::string("+Inf");
        write_labels(out, label_names(), values, "le", le);
        out += ' ';
        out += std::to_string(s.cumulative[i]);
        out += '\n';
      }
      out += name();
      out += "_sum";
      write_labels(out, label_names(), values);
      out += ' ';
      out += format_value(s.sum);
      out += '\n';
      out += name();
      out += "_count";
      write_labels(out, label_names(), values);
      out += ' ';
      out += std::to_string(s.count);
      out += '\n';
    } else {
      out += name();
      write_labels(out, label_names(), values);
      out += ' ';
      out += format_value(child->value());
      out += '\n';
    }
  }
}

template class Family<Counter>;
template class Family<Gauge>;
template class Family<Histogram>;

// ---------------------------------------------------------------------------------------
// Registry

template <class F>
F& Registry::declare(std::string name, std::string help, Type type, std::vector<std::string> label_names,
                     std::vector<double> bounds) {
  std::lock_guard lock(mu_);
  if (auto it = families_.find(name); it != families_.end()) {
    auto* existing = dynamic_cast<F*>(it->second.get());
    if (!existing || existing->type() != type || existing->help() != help || existing->label_names() != label_names ||
        (type == Type::Histogram && existing->bounds() != bounds))
      throw std::invalid_argument("metric " + name + " is already declared differently");
    return *existing;
  }
  auto family = std::make_unique<F>(name, std::move(help), type, std::move(label_names));
  if (type == Type::Histogram) {
    check_bounds(bounds);
    family->set_bounds(std::move(bounds));
  }
  auto& ref = *family;
  families_.emplace(std::move(name), std::move(family));
  return ref;
}

CounterFamily& Registry::counter(std::string name, std::string help, std::vector<std::string> label_names) {
  return declare<CounterFamily>(std::move(name), std::move(help), Type::Counter, std::move(label_names), {});
}

GaugeFamily& Registry::gauge(std::string name, std::string help, std::vector<std::string> label_names) {
  return declare<GaugeFamily>(std::move(name), std::move(help), Type::Gauge, std::move(label_names), {});
}

HistogramFamily& Registry::histogram(std::string name, std::string help, std::vector<std::string> label_names,
                                     std::vector<double> bounds) {
  if (bounds.empty()) bounds = default_buckets();
  return declare<HistogramFamily>(std::move(name), std::move(help), Type::Histogram, std::move(label_names),
                                  std::move(bounds));
}

void Registry::on_collect(std::function<void()> hook) {
  std::lock_guard lock(mu_);
  hooks_.push_back(std::move(hook));
}

std::string Registry::expose() const {
  std::vector<std::function<void()>> hooks;
  std::vector<const FamilyBase*> families;
  {
    std::lock_guard lock(mu_);
    hooks = hooks_;
  }
  for (const auto& h : hooks) h();
  {
    // Families are never removed; the pointers outlive the lock.
    std::lock_guard lock(mu_);
    families.reserve(families_.size());
    for (const auto& [name, f] : families_) families.push_back(f.get());
  }
  std::string out;
  out.reserve(families.size() * 256);
  for (const auto* f : families) f->write(out);
  return out;
}

const FamilyBase* Registry::find(std::string_view name) const {
  std::lock_guard lock(mu_);
  auto it = families_.find(name);
  return it == families_.end() ? nullptr : it->second.get();
}

// ---------------------------------------------------------------------------------------
// The bridge's families

BridgeMetrics declare_bridge_metrics(Registry& r) {
  // client-go's work queue buckets: 10 ns to 10 s, by tens.
  const auto queue_buckets = exponential_buckets(1e-8, 10, 10);
  // client-go's REST client latency buckets.
  const std::vector<double> rest_buckets{0.005, 0.025, 0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60};
  // Failed → recreated spans a delete with foreground propagation: seconds to minutes.
  const std::vector<double> recreate_buckets{0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600};
  return BridgeMetrics{
      .workqueue_depth = r.gauge("workqueue_depth", "Current number of items waiting in the work queue.", {"name"}),
      .workqueue_adds_total =
          r.counter("workqueue_adds_total", "Total number of adds handled by the work queue.", {"name"}),
      .workqueue_queue_duration_seconds = r.histogram(
          "workqueue_queue_duration_seconds",
          "How long in seconds an item waits in the work queue before a worker takes it.", {"name"}, queue_buckets),
      .workqueue_work_duration_seconds =
          r.histogram("workqueue_work_duration_seconds",
                      "How long in seconds a worker takes to process one item of the work queue.", {"name"},
                      queue_buckets),
      .workqueue_retries_total =
          r.counter("workqueue_retries_total", "Total number of rate-limited re-adds handled by the work queue.",
                    {"name"}),
      .workqueue_unfinished_work_seconds = r.gauge(
          "workqueue_unfinished_work_seconds",
          "Seconds of work in progress that work_duration has not observed yet; a steady rise means a stuck worker.",
          {"name"}),
      .workqueue_longest_running_processor_seconds =
          r.gauge("workqueue_longest_running_processor_seconds",
                  "How many seconds the longest running worker of the work queue has been processing its item.",
                  {"name"}),
      .leader_election_master_status =
          r.gauge("leader_election_master_status",
                  "1 when this replica holds the lease named by 'name' (the leader), 0 when it follows.", {"name"}),
      .rest_client_requests_total =
          r.counter("rest_client_requests_total",
                    "Requests to the Kubernetes API server by verb and HTTP status code (\"<error>\" when none).",
                    {"verb", "code"}),
      .rest_client_request_duration_seconds =
          r.histogram("rest_client_request_duration_seconds",
                      "Latency in seconds of requests to the Kubernetes API server, by verb.", {"verb"},
                      rest_buckets),
      .watch_restarts_total =
          r.counter("foreman_bridge_watch_restarts_total",
                    "Watches re-opened from the last seen resourceVersion after the watch failed or ended at once (after a backoff), by resource.",
                    {"resource"}),
      .watch_relists_total =
          r.counter("foreman_bridge_watch_relists_total",
                    "Full lists of a resource applied to the cache: the first list and each relist after an expired resourceVersion (410), by resource.",
                    {"resource"}),
      .watch_decode_fallbacks_total =
          r.counter("foreman_bridge_watch_decode_fallbacks_total",
                    "Watch lines that simdjson's parser handed to Boost.JSON's (decoded all the same, only slower), by resource and reason (refused, kept-double, duplicate-key).",
                    {"resource", "reason"}),
      .cache_objects =
          r.gauge("foreman_bridge_cache_objects", "Objects currently held in the informer cache, by resource.",
                  {"resource"}),
      .claims_total = r.counter("foreman_bridge_claims_total",
                                "Claim attempts on dispatch issues by lane and result (claimed, taken, closed, "
                                "unknown, error, lane-error, unclaimed, stranded).",
                                {"lane", "result"}),
      .workloads_created_total =
          r.counter("foreman_bridge_workloads_created_total", "Workloads created by the bridge, by lane.", {"lane"}),
      .retries_total = r.counter("foreman_bridge_retries_total",
                                 "Workloads recreated after a failure, by the attempt number they were recreated at "
                                 "(\"infra\" for infrastructure retries that spend no attempt).",
                                 {"attempt"}),
      .tombstones_total =
          r.counter("foreman_bridge_tombstones_total",
                    "Failed Workloads left in place as tombstones, by reason (issue_closed, give_up).", {"reason"}),
      .parks_total = r.counter("foreman_bridge_parks_total",
                               "Issues parked for a human (status backlog, label needs-human), by reason.",
                               {"reason"}),
      .escalations_total = r.counter("foreman_bridge_escalations_total",
                                     "Issues re-laned after reaching the attempt cap, by source and target lane.",
                                     {"from_lane", "to_lane"}),
      .dispatch_requests_total =
          r.counter("foreman_bridge_dispatch_requests_total",
                    "Requests to the dispatch service by endpoint and HTTP status code (\"<error>\" when none).",
                    {"endpoint", "code"}),
      .dispatch_request_duration_seconds =
          r.histogram("foreman_bridge_dispatch_request_duration_seconds",
                      "Latency in seconds of requests to the dispatch service, by endpoint and HTTP status code.",
                      {"endpoint", "code"}, rest_buckets),
      .dispatch_malformed_items_total =
          r.counter("foreman_bridge_dispatch_malformed_items_total",
                    "Malformed items in dispatch lane queue answers, skipped, by lane.", {"lane"}),
      .github_requests_total =
          r.counter("foreman_bridge_github_requests_total",
                    "Requests to the GitHub API (with GITHUB_TOKEN when set, else unauthenticated) by call (branch, "
                    "pull, check-runs) and HTTP status code (\"<error>\" when none).",
                    {"call", "code"}),
      .failed_to_recreate_seconds =
          r.histogram("foreman_bridge_failed_to_recreate_seconds",
                      "Seconds from first seeing a Workload Failed to creating its next attempt.", {},
                      recreate_buckets),
      .task_reads_total = r.counter("foreman_bridge_task_reads_total",
                                    "AgenticTask reads for a retry decision, by source: cache (the task informer, "
                                    "complete for that Workload) or api (a LIST).",
                                    {"source"}),
      .sweeps_total = r.counter("foreman_bridge_sweeps_total",
                                "Actions of the sweeps of terminal Workloads and claims, by sweep (report, stamp, "
                                "prune, stranded, stuck, prfix, park) and result.",
                                {"sweep", "result"}),
      .reconcile_total = r.counter("foreman_bridge_reconcile_total",
                                   "Reconciliations by controller and result (success, error, requeue).",
                                   {"controller", "result"}),
      .reconcile_duration_seconds =
          r.histogram("foreman_bridge_reconcile_duration_seconds", "Duration in seconds of one reconciliation.",
                      {"controller"}),
      .build_info = r.gauge("foreman_bridge_build_info", "Always 1; the version label names the running build.",
                            {"version"}),
  };
}

std::string status_code_label(int status) { return status == 0 ? std::string("<error>") : std::to_string(status); }

std::function<void(std::string_view, int, double)> rest_client_observer(const BridgeMetrics& m) {
  CounterFamily* requests = &m.rest_client_requests_total;
  HistogramFamily* durations = &m.rest_client_request_duration_seconds;
  return [requests, durations](std::string_view method, int status, double seconds) {
    requests->labels({method, status_code_label(status)}).inc();
    durations->labels({method}).observe(seconds);
  };
}

}  // namespace fdb::metrics

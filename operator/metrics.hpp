// A small Prometheus registry: counters, gauges and histograms in families with fixed
// label names, safe to update from any thread, exposed in the text format 0.0.4
// (https://prometheus.io/docs/instrumenting/exposition_formats/). Families are written
// sorted by name and their children sorted by label values, so the output is stable.
//
// Children are created on first use and live as long as the registry: keep the returned
// reference and update it without a lookup on hot paths.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace fdb::metrics {

enum class Type { Counter, Gauge, Histogram };
std::string_view to_string(Type type) noexcept;

// A monotonically increasing value.
class Counter {
 public:
  // Adds `v`; a negative or NaN `v` throws std::invalid_argument (counters never go down).
  void inc(double v = 1.0);
  double value() const noexcept { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0.0};
};

// A value that goes up and down.
class Gauge {
 public:
  void set(double v) noexcept { value_.store(v, std::memory_order_relaxed); }
  void inc(double v = 1.0) noexcept;
  void dec(double v = 1.0) noexcept { inc(-v); }
  double value() const noexcept { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0.0};
};

// Observations counted in cumulative buckets (upper bounds, +Inf implied), with their sum.
class Histogram {
 public:
  struct Snapshot {
    std::vector<double> bounds;           // finite upper bounds, increasing (no +Inf)
    std::vector<std::uint64_t> cumulative;  // per bound, then one more for +Inf (== count)
    double sum = 0.0;
    std::uint64_t count = 0;
  };

  explicit Histogram(std::vector<double> bounds);
  // NaN observations are ignored.
  void observe(double v);
  Snapshot snapshot() const;

 private:
  std::vector<double> bounds_;
  mutable std::mutex mu_;
  std::vector<std::uint64_t> counts_;  // per bucket (not cumulative), last is +Inf
  double sum_ = 0.0;
  std::uint64_t count_ = 0;
};

// Prometheus' default buckets: .005 .01 .025 .05 .1 .25 .5 1 2.5 5 10.
std::vector<double> default_buckets();
// `count` bounds: start, start*factor, …  (start > 0, factor > 1, count >= 1).
std::vector<double> exponential_buckets(double start, double factor, int count);
// `count` bounds: start, start+width, …  (width > 0, count >= 1).
std::vector<double> linear_buckets(double start, double width, int count);

// What all families share: name, help, type, label names.
class FamilyBase {
 public:
  FamilyBase(std::string name, std::string help, Type type, std::vector<std::string> label_names);
  virtual ~FamilyBase() = default;
  FamilyBase(const FamilyBase&) = delete;
  FamilyBase& operator=(const FamilyBase&) = delete;

  const std::string& name() const noexcept { return name_; }
  const std::string& help() const noexcept { return help_; }
  Type type() const noexcept { return type_; }
  const std::vector<std::string>& label_names() const noexcept { return label_names_; }

  // Appends this family in text format 0.0.4 (HELP, TYPE, then every sample).
  virtual void write(std::string& out) const = 0;

 protected:
  // Throws std::invalid_argument unless there is one value per label name.
  void check_arity(std::size_t n) const;

 private:
  std::string name_;
  std::string help_;
  Type type_;
  std::vector<std::string> label_names_;
};

// A family of children of one type, one per distinct tuple of label values.
template <class T>
class Family final : public FamilyBase {
 public:
  using FamilyBase::FamilyBase;

  // The child for these label values (in the order of label_names()), created on first
  // use. Throws std::invalid_argument on a wrong number of values.
  T& labels(const std::vector<std::string>& values);
  T& labels(std::initializer_list<std::string_view> values);
  // The child of a family without labels.
  T& get() { return labels(std::vector<std::string>{}); }

  // The children that exist, sorted by label values.
  std::vector<std::pair<std::vector<std::string>, const T*>> children() const;

  void write(std::string& out) const override;

  // Histograms only: the bounds used for new children.
  void set_bounds(std::vector<double> bounds) { bounds_ = std::move(bounds); }
  const std::vector<double>& bounds() const noexcept { return bounds_; }

 private:
  mutable std::mutex mu_;
  std::map<std::vector<std::string>, std::unique_ptr<T>> children_;
  std::vector<double> bounds_;
};

using CounterFamily = Family<Counter>;
using GaugeFamily = Family<Gauge>;
using HistogramFamily = Family<Histogram>;

extern template class Family<Counter>;
extern template class Family<Gauge>;
extern template class Family<Histogram>;

class Registry {
 public:
  Registry() = default;
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // Declares a family; names must match [a-zA-Z_:][a-zA-Z0-9_:]*, label names
  // [a-zA-Z_][a-zA-Z0-9_]* without a leading "__", distinct, and not "le" for histograms.
  // Declaring the same name again with the same type, help and labels returns the
  // existing family; anything else throws std::invalid_argument.
  CounterFamily& counter(std::string name, std::string help, std::vector<std::string> label_names = {});
  GaugeFamily& gauge(std::string name, std::string help, std::vector<std::string> label_names = {});
  // `bounds`: finite and strictly increasing; +Inf is added implicitly. Empty means
  // default_buckets().
  HistogramFamily& histogram(std::string name, std::string help, std::vector<std::string> label_names = {},
                             std::vector<double> bounds = {});

  // Called (in order of registration, without the registry's lock held) at the start of
  // every expose(): to refresh gauges computed on demand (queue ages, cache sizes).
  void on_collect(std::function<void()> hook);

  // The whole registry in text format 0.0.4, families sorted by name.
  std::string expose() const;

  // A family by name, or nullptr.
  const FamilyBase* find(std::string_view name) const;

 private:
  template <class F>
  F& declare(std::string name, std::string help, Type type, std::vector<std::string> label_names,
             std::vector<double> bounds);

  mutable std::mutex mu_;
  std::map<std::string, std::unique_ptr<FamilyBase>, std::less<>> families_;
  std::vector<std::function<void()>> hooks_;
};

// The content type of expose()'s output.
inline constexpr std::string_view kContentType = "text/plain; version=0.0.4; charset=utf-8";

// Text-format helpers, exposed for tests.
// A sample value: "+Inf", "-Inf", "NaN", or the shortest decimal that reads back exactly.
std::string format_value(double v);
// Escapes a label value: backslash, double quote and newline.
std::string escape_label_value(std::string_view v);
// Escapes HELP text: backslash and newline.
std::string escape_help(std::string_view v);
bool valid_metric_name(std::string_view name) noexcept;
bool valid_label_name(std::string_view name) noexcept;

// ---------------------------------------------------------------------------------------
// Every family the bridge exposes (docs/metrics.md lists them with their help texts).
// Label names are given in the comments, in order.
struct BridgeMetrics {
  // client-go work queue metrics, labels {name}.
  GaugeFamily& workqueue_depth;
  CounterFamily& workqueue_adds_total;
  HistogramFamily& workqueue_queue_duration_seconds;
  HistogramFamily& workqueue_work_duration_seconds;
  CounterFamily& workqueue_retries_total;
  GaugeFamily& workqueue_unfinished_work_seconds;
  GaugeFamily& workqueue_longest_running_processor_seconds;

  // client-go leader election, {name} (the lease name): 1 leading, 0 following.
  GaugeFamily& leader_election_master_status;

  // client-go REST client: {verb, code} ("GET", "200"; code "<error>" when no answer).
  CounterFamily& rest_client_requests_total;
  // {verb}
  HistogramFamily& rest_client_request_duration_seconds;

  // Informers: {resource}.
  CounterFamily& watch_restarts_total;  // foreman_bridge_watch_restarts_total
  CounterFamily& watch_relists_total;   // foreman_bridge_watch_relists_total
  CounterFamily& watch_decode_fallbacks_total;  // foreman_bridge_watch_decode_fallbacks_total
  GaugeFamily& cache_objects;           // foreman_bridge_cache_objects

  // The bridge's own.
  CounterFamily& claims_total;                 // {lane, result}
  CounterFamily& workloads_created_total;      // {lane}
  CounterFamily& retries_total;                // {attempt}
  CounterFamily& tombstones_total;             // {reason}
  CounterFamily& parks_total;                  // {reason}
  CounterFamily& escalations_total;            // {from_lane, to_lane}
  CounterFamily& dispatch_requests_total;      // {endpoint, code}
  HistogramFamily& dispatch_request_duration_seconds;  // {endpoint, code}
  CounterFamily& dispatch_malformed_items_total;       // {lane}
  CounterFamily& github_requests_total;                // {call, code}
  HistogramFamily& failed_to_recreate_seconds;         // {}
  CounterFamily& task_reads_total;                     // {source}: cache or api
  CounterFamily& sweeps_total;                         // {sweep, result}: report, stamp, prune, stranded, stuck
  CounterFamily& reconcile_total;              // {controller, result}
  HistogramFamily& reconcile_duration_seconds;  // {controller}
  GaugeFamily& build_info;                     // foreman_bridge_build_info {version}
};

// Declares every family above in `registry` and returns references to them.
BridgeMetrics declare_bridge_metrics(Registry& registry);

// The value of a `code` label: the HTTP status as decimal, "<error>" for 0 (no answer).
std::string status_code_label(int status);

// An observer for fdb::kube::Client::set_observer (a kube::RequestObserver): counts into
// rest_client_requests_total{verb,code} and times into rest_client_request_duration_seconds.
// `m` must outlive it.
std::function<void(std::string_view method, int status, double seconds)> rest_client_observer(const BridgeMetrics& m);

}  // namespace fdb::metrics

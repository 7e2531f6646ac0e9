#include "operator/cache_view.hpp"

#include "watch/json_access.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace fdb::op {

namespace asio = boost::asio;

namespace {
constexpr auto& obj = kube::object_field;
constexpr auto& str = kube::string_field;
}  // namespace

std::string coder_of(const boost::json::object& w) {
  const auto* spec = obj(&w, "spec");
  if (auto name = str(obj(spec, "coderAgentRef"), "name"); !name.empty()) return name;
  if (spec == nullptr) return {};
  const auto* steps = spec->if_contains("pipeline");
  if (steps == nullptr || !steps->is_array()) return {};
  for (const auto& step : steps->get_array()) {
    if (!step.is_object()) continue;
    if (str(&step.get_object(), "kind") == "issue-fix") return str(obj(&step.get_object(), "agentRef"), "name");
  }
  return {};
}

bool in_progress(const boost::json::object& w) {
  const auto* md = obj(&w, "metadata");
  if (str(obj(md, "labels"), "created-by") != "dispatch-bridge") return false;
  if (md != nullptr && md->if_contains("deletionTimestamp") != nullptr && !md->at("deletionTimestamp").is_null()) {
    return false;
  }
  const std::string phase = str(obj(&w, "status"), "phase");
  return phase != "Completed" && phase != "Failed";
}

bool tasks_countable(const boost::json::object& w) {
  const auto* status = obj(&w, "status");
  if (status == nullptr) return false;
  bool any = false;
  for (const char* k : {"succeededTasks", "failedTasks", "incompleteTasks"}) {
    const auto* v = status->if_contains(k);
    if (v == nullptr) continue;
    if (!v->is_int64() || v->get_int64() < 0) return false;
    any = true;
  }
  return any;
}

bool tasks_complete(const boost::json::object& w, const boost::json::array& tasks) {
  const auto* status = obj(&w, "status");
  if (status == nullptr) return false;
  bool any = false;
  std::int64_t expected = 0;
  for (const char* k : {"succeededTasks", "failedTasks", "incompleteTasks"}) {
    const auto* v = status->if_contains(k);
    if (v == nullptr) continue;
    if (!v->is_int64() || v->get_int64() < 0) return false;
    any = true;
    expected += v->get_int64();
  }
  if (!any || expected != static_cast<std::int64_t>(tasks.size())) return false;
  for (const auto& t : tasks) {
    if (!t.is_object()) return false;
    const std::string phase = str(obj(&t.get_object(), "status"), "phase");
    if (phase != "Succeeded" && phase != "Failed") return false;
  }
  return true;
}

std::vector<std::string> in_progress_index(const boost::json::object& w) {
  if (!in_progress(w)) return {};
  return {coder_of(w)};
}

CacheView::Load load_from_index(const std::map<std::string, std::size_t, std::less<>>& counts) {
  CacheView::Load load;
  for (const auto& [coder, n] : counts) {
    load.in_progress += static_cast<int>(n);
    if (!coder.empty()) load.by_coder[coder] = static_cast<int>(n);
  }
  return load;
}

CacheView::Load CacheView::load() const {
  std::map<std::string, std::size_t, std::less<>> counts;
  for_each_workload([&](const boost::json::object& w) {
    for (auto& coder : in_progress_index(w)) ++counts[coder];
  });
  return load_from_index(counts);
}

struct GoneWaiter::Impl {
  asio::any_io_executor ex;
  std::multimap<std::string, asio::steady_timer*> waiters;
};

GoneWaiter::GoneWaiter(asio::any_io_executor ex) : impl_(std::make_unique<Impl>()) { impl_->ex = std::move(ex); }
GoneWaiter::~GoneWaiter() = default;

void GoneWaiter::notify(const std::string& name) {
  auto [begin, end] = impl_->waiters.equal_range(name);
  for (auto it = begin; it != end; ++it) it->second->cancel();
}

std::size_t GoneWaiter::waiting() const noexcept { return impl_->waiters.size(); }

asio::awaitable<bool> GoneWaiter::wait(std::string name, std::chrono::milliseconds timeout,
                                       std::function<bool()> present) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  asio::steady_timer timer(impl_->ex);
  while (present()) {
    if (std::chrono::steady_clock::now() >= deadline) co_return false;
    timer.expires_at(deadline);
    const auto it = impl_->waiters.emplace(name, &timer);
    auto [ec] = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    impl_->waiters.erase(it);
    // operation_aborted: a notify() (or our cancellation, which the next await surfaces).
    (void)ec;
    if (auto cs = co_await asio::this_coro::cancellation_state; cs.cancelled() != asio::cancellation_type::none) {
      co_return !present();
    }
  }
  co_return true;
}

}  // namespace fdb::op

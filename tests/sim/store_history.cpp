// The store's event history and fan-out: every change becomes one Event, kept in a bounded
// history (resumes from a resourceVersion) and handed to on_event (the watchers).
#include "sim/store.hpp"

#include <algorithm>

namespace fdb::sim {
namespace json = boost::json;

void Store::emit(const ResourceInfo& r, const std::string& type, const Object& o, const std::optional<Meta>& old) {
  auto ev = std::make_shared<Event>();
  ev->rv = rv_;
  ev->type = type;
  ev->res = &r;
  ev->meta = o.meta;
  ev->old = old;
  ev->object = o.json;
  ev->line = std::make_shared<const std::string>(event_line(type, *o.json));
  history_.push_back(ev);
  while (history_.size() > opts_.history) {
    compacted_ = history_.front()->rv;
    history_.pop_front();
  }
  if (on_event) on_event(ev);
}

void Store::expire_history() {
  history_.clear();
  compacted_ = rv_;
}

std::optional<std::vector<std::shared_ptr<const Event>>> Store::since(std::uint64_t rv) const {
  if (rv < compacted_) return std::nullopt;
  std::vector<std::shared_ptr<const Event>> out;
  auto it = std::upper_bound(history_.begin(), history_.end(), rv,
                             [](std::uint64_t v, const std::shared_ptr<const Event>& e) { return v < e->rv; });
  out.assign(it, history_.end());
  return out;
}

}  // namespace fdb::sim

#include "sim/watch_backlog.hpp"

namespace fdb::sim {

bool WatchBacklog::push(std::shared_ptr<const std::string> line) {
  bytes_ += line->size();
  queue_.push_back(std::move(line));
  return bytes_ <= limit_;
}

std::size_t WatchBacklog::take(std::string& out, std::size_t max_bytes) {
  std::size_t moved = 0;
  while (!queue_.empty() && out.size() < max_bytes) {
    out += *queue_.front();
    bytes_ -= queue_.front()->size();
    queue_.pop_front();
    ++moved;
  }
  return moved;
}

void WatchBacklog::clear() {
  queue_.clear();
  bytes_ = 0;
}

}  // namespace fdb::sim

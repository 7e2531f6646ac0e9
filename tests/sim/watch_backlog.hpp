// One watcher's backlog in kube-sim: the event lines published to it and not yet written to
// its connection, and their byte count. Every line in (events and bookmarks alike) is
// counted on the way in and on the way out, so the count is always the real backlog; the
// server drops a watcher whose backlog passes the limit. Pure: no I/O.
#pragma once

#include <cstddef>
#include <deque>
#include <memory>
#include <string>

namespace fdb::sim {

class WatchBacklog {
 public:
  explicit WatchBacklog(std::size_t limit_bytes) : limit_(limit_bytes) {}

  // Queues `line`; false when the backlog, with it, is over the limit (the line is queued
  // all the same, so that bytes() reports the backlog that was too much).
  bool push(std::shared_ptr<const std::string> line);
  // Moves queued lines into `out` (appending) until `out` holds at least `max_bytes` or the
  // queue is empty; returns the number of lines moved.
  std::size_t take(std::string& out, std::size_t max_bytes);
  void clear();

  std::size_t bytes() const noexcept { return bytes_; }
  std::size_t lines() const noexcept { return queue_.size(); }
  bool empty() const noexcept { return queue_.empty(); }
  std::size_t limit() const noexcept { return limit_; }

 private:
  std::size_t limit_;
  std::size_t bytes_ = 0;
  std::deque<std::shared_ptr<const std::string>> queue_;
};

}  // namespace fdb::sim

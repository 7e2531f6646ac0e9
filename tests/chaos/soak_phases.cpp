#include "chaos/soak_phases.hpp"

#include <fmt/format.h>

#include <thread>

namespace fdb::chaos {

using namespace std::chrono_literals;

namespace {

// The spacing of the gated kinds.
struct Gates {
  Clock::time_point last_kill = Clock::now();
  Clock::time_point last_stall = Clock::now() - 1h;
};

// One draw from the schedule at `now`.
void draw_fault(SoakWorld& w, Clock::time_point now, Gates& gates, FaultTally& tally) {
  const FaultSlot& slot = kFaultSchedule[static_cast<std::size_t>(w.pick(0, static_cast<int>(kFaultSlots) - 1))];
  switch (slot.gate) {
    case Gate::Kill:
      if (now - gates.last_kill < kKillGap) return;
      if (kill_leader(w, now, tally.kills)) {
        ++tally.kills;
        gates.last_kill = now;
      }
      return;
    case Gate::Stall:
      if (now - gates.last_stall < kStallGap) return;
      gates.last_stall = now;
      break;
    case Gate::None:
      break;
  }
  const Fault fault = slot.make(Pick([&w](int lo, int hi) { return w.pick(lo, hi); }));
  inject(w, fault);
  ++tally.by_kind[fault.kind];
}

}  // namespace

FaultTally inject_faults(SoakWorld& w) {
  FaultTally tally;
  Gates gates;
  w.start = Clock::now();
  w.end = w.start + std::chrono::seconds(w.options.seconds);
  bool mid_sampled = false;
  while (Clock::now() < w.end) {
    std::this_thread::sleep_for(std::chrono::milliseconds(w.pick(300, 700)));
    const auto now = Clock::now();
    restart_due(w, now, false);
    if (!mid_sampled && now - w.start >= (w.end - w.start) / 2) {
      mid_sampled = true;
      sample_mid_memory(w);
    }
    draw_fault(w, now, gates, tally);
  }
  // The faults stop; every replica runs.
  clear_faults(w);
  restart_due(w, Clock::now(), true);
  say(fmt::format("{} faults and {} kills injected; settling (at most {} s)", tally.total(), tally.kills,
                  w.options.settle_s));
  return tally;
}

Settling settle(SoakWorld& w) {
  Settling out;
  const auto deadline = Clock::now() + std::chrono::seconds(w.options.settle_s);
  std::size_t last_records = 0;
  auto stable_since = Clock::now();
  while (Clock::now() < deadline) {
    std::this_thread::sleep_for(1s);
    try {
      out.inputs = snapshot(w);
    } catch (const std::exception& e) {
      say(std::string("could not read the simulators: ") + e.what());
      continue;
    }
    if (work_left(out.inputs) || out.inputs.records.size() != last_records) {
      last_records = out.inputs.records.size();
      stable_since = Clock::now();
      continue;
    }
    if (Clock::now() - stable_since >= 5s) {
      out.settled = true;
      break;
    }
  }
  out.seconds = std::chrono::duration<double>(Clock::now() - w.end).count();
  return out;
}

}  // namespace fdb::chaos

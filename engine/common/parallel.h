// Fork-join over a few threads, for the engine's parallel stages.
#pragma once

#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace shardlab::engine {

// Runs fn(t) for every t in [0, count), each on its own thread (t = 0 on the caller's), and
// returns once all have ended. The first exception any of them threw is rethrown here.
template <typename F>
void run_in_parallel(unsigned count, F&& fn) {
  std::exception_ptr failure;
  std::mutex failure_mutex;
  auto guarded = [&](unsigned t) {
    try {
      fn(t);
    } catch (...) {
      std::lock_guard<std::mutex> lock(failure_mutex);
      if (!failure) failure = std::current_exception();
    }
  };
  std::vector<std::thread> helpers;
  for (unsigned t = 1; t < count; ++t) helpers.emplace_back(guarded, t);
  guarded(0);
  for (std::thread& helper : helpers) helper.join();
  if (failure) std::rethrow_exception(failure);
}

}  // namespace shardlab::engine

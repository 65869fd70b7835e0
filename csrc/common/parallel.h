// Minimal data-parallel loop over [0, n) on std::threads (no OpenMP dependency).
#pragma once

#include <algorithm>
#include <cstdint>
#include <thread>
#include <vector>

namespace mimiclab {

// Fewer items than this per thread are not worth a thread start (~10 us).
constexpr int64_t kMinItemsPerThread = 256;

inline int resolve_num_threads(int requested, int64_t n) {
  int hw = static_cast<int>(std::thread::hardware_concurrency());
  int t = requested > 0 ? requested : std::max(1, hw);
  const int64_t useful = requested > 0 ? n : (n + kMinItemsPerThread - 1) / kMinItemsPerThread;
  return static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(t, useful)));
}

// Calls fn(begin, end) on contiguous chunks; the calling thread runs the first chunk.
template <typename Fn>
void parallel_for(int64_t n, int num_threads, Fn fn) {
  if (n <= 0) return;
  const int t = resolve_num_threads(num_threads, n);
  if (t == 1) {
    fn(int64_t{0}, n);
    return;
  }
  const int64_t chunk = (n + t - 1) / t;
  std::vector<std::thread> workers;
  workers.reserve(t - 1);
  for (int i = 1; i < t; ++i) {
    const int64_t begin = i * chunk, end = std::min(n, begin + chunk);
    if (begin >= end) break;
    workers.emplace_back([=] { fn(begin, end); });
  }
  fn(int64_t{0}, std::min(n, chunk));
  for (auto& w : workers) w.join();
}

}  // namespace mimiclab

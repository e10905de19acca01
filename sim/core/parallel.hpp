#pragma once
// The model's parallel loops over index ranges. By default they are TBB's parallel_for (in the
// task arena of the run, so with its number of threads). The ThreadSanitizer build
// (RURALSIM_PLAIN_THREADS, set by -DRURALSIM_TSAN=ON) runs the same loop bodies on plain
// std::threads instead: Debian's TBB library is not built with ThreadSanitizer, so the hand-off
// of work through its scheduler is invisible to it and would be reported as races; thread start
// and join are seen, so every race between loop bodies of ruralsim is still found.
// Results never depend on how a range is split (see docs/architecture.md, determinism).
#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include <cstddef>

#ifdef RURALSIM_PLAIN_THREADS
#include <tbb/task_arena.h>

#include <algorithm>
#include <exception>
#include <thread>
#include <vector>
#endif

namespace ruralsim {

using IndexRange = tbb::blocked_range<std::size_t>;

// body(const IndexRange&) for disjoint sub-ranges covering [begin, end), of about `grain`
// indices or more, possibly at the same time.
template <class Body>
void parallel_for(std::size_t begin, std::size_t end, std::size_t grain, const Body& body) {
#ifdef RURALSIM_PLAIN_THREADS
  if (end <= begin) return;
  const std::size_t n = end - begin, g = std::max<std::size_t>(grain, 1);
  const auto threads =
      static_cast<std::size_t>(std::max(1, tbb::this_task_arena::max_concurrency()));
  const std::size_t chunks = std::max<std::size_t>(1, std::min(threads * 2, (n + g - 1) / g));
  const std::size_t workers = std::min(threads, chunks);
  std::vector<std::exception_ptr> errors(workers);
  auto work = [&](std::size_t t) {
    try {
      for (std::size_t k = t; k < chunks; k += workers)
        body(IndexRange(begin + n * k / chunks, begin + n * (k + 1) / chunks));
    } catch (...) {
      errors[t] = std::current_exception();
    }
  };
  std::vector<std::thread> pool;
  for (std::size_t t = 1; t < workers; ++t) pool.emplace_back(work, t);
  work(0);
  for (auto& th : pool) th.join();
  for (auto& e : errors)
    if (e) std::rethrow_exception(e);
#else
  tbb::parallel_for(IndexRange(begin, end, grain), body);
#endif
}

}  // namespace ruralsim

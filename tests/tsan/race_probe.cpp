// Built only with -DRURALSIM_TSAN=ON and run by ./run.sh tsan, which expects ThreadSanitizer to
// report the data race below: proof that the parallel loops of this build (plain threads, see
// sim/core/parallel.hpp) run their bodies concurrently where ThreadSanitizer can see them, so
// that a clean run of the parallel tests means something.
#include <tbb/task_arena.h>

#include <cstdio>

#include "core/parallel.hpp"

int main() {
  tbb::task_arena arena(2);
  long sum = 0;
  arena.execute([&] {
    ruralsim::parallel_for(0, 100000, 1000, [&](const ruralsim::IndexRange& r) {
      for (auto i = r.begin(); i != r.end(); ++i) sum += static_cast<long>(i);  // the race
    });
  });
  std::printf("%ld\n", sum);
  return 0;
}

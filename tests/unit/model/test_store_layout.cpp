// The stores are kept in place: a village owns a range of slots, its stores are the first
// entries of the range, closed stores leave it with the others moving down in order, new stores
// are appended, and all villages are laid out anew only when one runs out of spare slots.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdint>
#include <utility>
#include <vector>

#include "model/world.hpp"
#include "run/simulation.hpp"
#include "support.hpp"

using namespace ruralsim;

namespace {

// A store's fingerprint (the model has no store id): its tick of birth and its quality.
using Print = std::pair<std::int32_t, float>;

std::vector<std::vector<Print>> live_stores(const World& w) {
  const auto& m = w.m;
  std::vector<std::vector<Print>> out(w.geo.villages());
  for (std::size_t v = 0; v < out.size(); ++v)
    for (auto i = m.offset[v]; i < m.end[v]; ++i)
      if (m.alive[i]) out[v].emplace_back(m.birth_tick[i], m.quality[i]);
  return out;
}

}  // namespace

TEST_CASE("stores are removed and inserted in place, in order", "[layout]") {
  const Scenario sc = test::scenario_file("scenarios/baseline.yaml", {});
  Simulation sim(sc);
  auto before = live_stores(sim.world());
  std::size_t slots = sim.world().m.size();
  std::vector<std::uint64_t> offsets = sim.world().m.offset;
  int relayouts = 0, moved = 0, in_place = 0, closed = 0, opened = 0;
  while (!sim.finished()) {
    const std::int32_t tick = sim.clock().tick;
    sim.step();
    const World& w = sim.world();
    const auto& m = w.m;
    const std::size_t nv = w.geo.villages();
    REQUIRE(m.offset.size() == nv);
    REQUIRE(m.end.size() == nv);
    REQUIRE(m.limit.size() == nv);
    std::vector<std::uint8_t> owner(m.size(), 0);  // slots owned by a village
    bool changed = false;
    for (std::size_t v = 0; v < nv; ++v) {
      INFO("tick " << tick << ", village " << v);
      REQUIRE(m.offset[v] <= m.end[v]);
      REQUIRE(m.end[v] <= m.limit[v]);
      REQUIRE(m.limit[v] <= m.size());
      for (auto i = m.offset[v]; i < m.limit[v]; ++i) CHECK(owner[i]++ == 0);  // owned once
      std::int32_t alive = 0;
      for (auto i = m.offset[v]; i < m.end[v]; ++i) {
        CHECK(m.village[i] == v);
        alive += m.alive[i];
      }
      CHECK(alive == w.v.stores[v]);  // exit_step keeps the count of the live ones
      for (auto i = m.end[v]; i < m.limit[v]; ++i) CHECK(m.alive[i] == 0);  // spare
      // The rebuild of this tick kept the stores live before it, in their order, and appended
      // the new ones (born at this tick) after them; exit then closed some (alive 0 until the
      // next rebuild). At the first tick the seed stores are also born at tick 0.
      std::vector<Print> kept;
      int born = 0;
      bool seen_born = false;
      for (auto i = m.offset[v]; i < m.end[v]; ++i) {
        if (m.birth_tick[i] == tick && tick > 0) {
          seen_born = true;
          ++born;
        } else {
          CHECK(!seen_born);
          kept.emplace_back(m.birth_tick[i], m.quality[i]);
        }
      }
      if (tick > 0) CHECK(kept == before[v]);
      closed += static_cast<int>(m.entries(v)) - alive;
      opened += born;
      changed = changed || born > 0 || m.entries(v) != before[v].size();
    }
    std::uint64_t owned = 0;
    for (std::size_t i = 0; i < m.size(); ++i) {
      if (!owner[i]) CHECK(m.alive[i] == 0);  // dead space left by villages that moved
      owned += owner[i];
    }
    if (m.size() != slots || m.offset != offsets) {
      // laid out anew: village order, no dead space; else villages moved
      const bool ordered = std::is_sorted(m.offset.begin(), m.offset.end());
      ++(ordered && owned == m.size() ? relayouts : moved);
    } else if (changed) {
      ++in_place;
    }
    slots = m.size();
    offsets = m.offset;
    before = live_stores(w);
  }
  INFO("opened " << opened << ", closed " << closed << ", laid out anew " << relayouts << ", moved "
                 << moved << ", in place " << in_place);
  CHECK(opened > 100);
  CHECK(closed > 100);
  CHECK(moved > 0);               // villages ran out of spare slots and moved ...
  CHECK(in_place > moved);        // ... less often than stores came and went in place
  CHECK(relayouts < moved / 10);  // all laid out anew rarely
}

TEST_CASE("a village without room moves; relayout keeps each village's entries in order",
          "[layout]") {
  MerchantStore m;
  // village 0: two entries, no spare; village 1: none; village 2: one entry and a spare slot
  m.offset = {0, 2, 2};
  m.end = {2, 2, 3};
  m.limit = {2, 2, 4};
  m.resize(4);
  for (std::size_t i = 0; i < 3; ++i) {
    m.village[i] = i < 2 ? 0 : 2;
    m.alive[i] = 1;
    m.quality[i] = static_cast<float>(i + 1);
  }
  CHECK(MerchantStore::spare_slots(0) == 0);
  CHECK(MerchantStore::spare_slots(5) == 8);
  CHECK(MerchantStore::spare_slots(40) == 10);
  CHECK(MerchantStore::spare_slots(41) == 10);
  // room everywhere: nothing moves
  CHECK(m.make_room({0, 0, 1}) == 0);
  CHECK(m.size() == 4);
  // village 0 needs 3 slots: it moves to the end with 8 spare; its old slots are dead space
  CHECK(m.make_room({1, 0, 1}) == 1);
  CHECK(m.offset == std::vector<std::uint64_t>{4, 2, 2});
  CHECK(m.end == std::vector<std::uint64_t>{6, 2, 3});
  CHECK(m.limit == std::vector<std::uint64_t>{15, 2, 4});
  CHECK(m.size() == 15);
  CHECK(m.alive[0] == 0);
  CHECK(m.alive[1] == 0);
  CHECK(m.quality[4] == 1.0f);
  CHECK(m.quality[5] == 2.0f);
  CHECK(m.quality[2] == 3.0f);
  // laid out anew, in village order: need 5, 0 and 9 entries: spare 8, 0 and 8
  const std::size_t slots = m.relayout({3, 0, 8});
  CHECK(m.offset == std::vector<std::uint64_t>{0, 13, 13});
  CHECK(m.end == std::vector<std::uint64_t>{2, 13, 14});
  CHECK(m.limit == std::vector<std::uint64_t>{13, 13, 30});
  CHECK(slots == 30);
  CHECK(m.size() == 30);
  CHECK(m.quality[0] == 1.0f);
  CHECK(m.quality[1] == 2.0f);
  CHECK(m.quality[13] == 3.0f);
  CHECK(m.village[13] == 2);
  for (std::size_t i = 0; i < 30; ++i)
    if (i != 0 && i != 1 && i != 13) CHECK(m.alive[i] == 0);
  CHECK(m.attract.size() == 30);  // scratch follows the slots
  // A village that keeps outgrowing its slots leaves dead space behind at each move; when more
  // than a third of the slots would be dead, all villages are laid out anew instead (no dead
  // space).
  int result = 0, moves = 0;
  while (moves < 50) {
    const auto room = static_cast<std::int32_t>(m.limit[0] - m.offset[0] - m.entries(0));
    result = m.make_room({room + 1, 0, 0});
    if (result != 1) break;
    ++moves;
  }
  CHECK(result == 2);
  CHECK(moves >= 1);
  std::uint64_t owned = 0;
  for (std::size_t v = 0; v < 3; ++v) owned += m.limit[v] - m.offset[v];
  CHECK(owned == m.size());
  CHECK(m.offset[0] == 0);
  CHECK(m.quality[0] == 1.0f);
  CHECK(m.quality[1] == 2.0f);
  CHECK(m.quality[m.offset[2]] == 3.0f);
}

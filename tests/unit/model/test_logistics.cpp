// Station opening and closing rules at their edges.
#include <catch2/catch.hpp>

#include "model/submodels.hpp"

using namespace ruralsim;

TEST_CASE("station opens at the parcel threshold, not below", "[logistics]") {
  Params p;
  p.logistics.station_open_parcels = 20000;
  CHECK_FALSE(station_opens(19999.999, p));
  CHECK(station_opens(20000.0, p));
  CHECK(station_opens(25000.0, p));
}

TEST_CASE("station closes only after more than close_ticks low ticks", "[logistics]") {
  CHECK_FALSE(station_closes(26, 26, 100, 0));
  CHECK(station_closes(27, 26, 100, 0));
}

TEST_CASE("a subsidised station does not close", "[logistics]") {
  CHECK_FALSE(station_closes(1000, 26, 99, 100));  // subsidy runs until tick 100 (exclusive)
  CHECK(station_closes(1000, 26, 100, 100));
}

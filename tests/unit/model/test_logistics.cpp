// Station opening and closing rules at their edges.
#include <catch2/catch.hpp>

#include "io/geography.hpp"
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

TEST_CASE("service level: best node, distance, congestion above capacity", "[logistics]") {
  Params p;
  p.geography.provinces = 1;
  p.geography.counties_per_province = 1;
  p.geography.towns_per_county = 1;
  p.geography.villages_per_town = 1;
  World w;
  w.categories = {{"a", 1.0, 0.2, 80.0}};
  w.geo = generate_geography(p, 1);
  const std::vector<std::pair<int, double>> no_table;
  const StepCtx ctx{p, w.categories, no_table, Clock{}, 1, 0.0};
  init_state(w, ctx);
  const auto& lp = p.logistics;
  const double d = w.geo.dist_seat[0];
  service_level(w, ctx);  // no node
  CHECK(w.v.delivery_days[0] == lp.days_none);
  CHECK(w.v.ship_cost[0] == Approx(lp.cost_none_base + lp.cost_none_per_km * d));
  w.c.centre[0] = 1;  // county centre, below and above capacity
  w.c.parcels_year[0] = lp.centre_capacity;
  service_level(w, ctx);
  CHECK(w.v.delivery_days[0] == lp.days_centre);
  CHECK(w.v.ship_cost[0] == Approx(lp.cost_centre_base + lp.cost_centre_per_km * d));
  w.c.parcels_year[0] = 2.5 * lp.centre_capacity;
  service_level(w, ctx);
  CHECK(w.v.delivery_days[0] == Approx(lp.days_centre + 1.5 * lp.congestion_days));
  w.v.station[0] = 1;  // a station beats the centre; its own congestion
  w.v.parcels_year[0] = lp.station_capacity;
  service_level(w, ctx);
  CHECK(w.v.delivery_days[0] == lp.days_station);
  CHECK(w.v.ship_cost[0] == lp.cost_station);
  w.v.parcels_year[0] = 3.0 * lp.station_capacity;
  service_level(w, ctx);
  CHECK(w.v.delivery_days[0] == Approx(lp.days_station + 2.0 * lp.congestion_days));
  w.v.ship_subsidy[0] = 10.0;  // a subsidy larger than the cost leaves it at 0
  service_level(w, ctx);
  CHECK(w.v.ship_cost[0] == 0.0);
}

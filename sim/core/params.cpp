#include "core/params.hpp"

#include "core/format.hpp"

#include <cmath>
#include <limits>
#include <sstream>

namespace ruralsim {
namespace {

#define RS_REF(field) [](Params& p) -> ParamRef { return &p.field; }

const char* const kModel = "MODEL.md";
const char* const kCal = "calibrated (docs/ODD.md)";
const char* const kChoice = "modelling choice (docs/ODD.md)";

std::vector<ParamSpec> build_table() {
  return {
      // simulation
      {"simulation.seed", "-", 0, 9.0e18, "Seed of every random stream of the run", "-", "",
       RS_REF(simulation.seed)},
      {"simulation.replicate", "-", 0, 1.0e9,
       "Replicate number; mixed into the seed so that replicates differ", "-", "",
       RS_REF(simulation.replicate)},
      {"simulation.start_year", "yr", 1990, 2100, "Calendar year of the first tick", kModel, "",
       RS_REF(simulation.start_year)},
      {"simulation.years", "yr", 1, 100, "Number of simulated years", kModel, "",
       RS_REF(simulation.years)},
      {"simulation.ticks_per_year", "1/yr", 12, 365, "Ticks per year: 12, 52 or 365", kModel, "",
       RS_REF(simulation.ticks_per_year)},
      // geography
      {"geography.source", "-", 0, 0, "Where villages come from: generated or read from a CSV", "-",
       "generate|csv", RS_REF(geography.source)},
      {"geography.csv", "-", 0, 0,
       "Village table (CSV) when source is csv; relative to the scenario file", "-", "",
       RS_REF(geography.csv)},
      {"geography.seed", "-", 0, 9.0e18,
       "Seed of the generated geography (kept fixed across replicates)", "-", "",
       RS_REF(geography.seed)},
      {"geography.provinces", "count", 1, 100, "Provinces generated", "-", "",
       RS_REF(geography.provinces)},
      {"geography.counties_per_province", "count", 1, 1000, "Counties generated per province", "-",
       "", RS_REF(geography.counties_per_province)},
      {"geography.towns_per_county", "count", 1, 1000, "Towns generated per county", "-", "",
       RS_REF(geography.towns_per_county)},
      {"geography.villages_per_town", "count", 1, 1000,
       "Mean villages per town (1 + Poisson(mean - 1))", "-", "",
       RS_REF(geography.villages_per_town)},
      {"geography.households_mean", "households", 1, 100000, "Mean households per village", kModel,
       "", RS_REF(geography.households_mean)},
      {"geography.households_sigma", "-", 0, 3, "Lognormal sigma of households per village",
       kChoice, "", RS_REF(geography.households_sigma)},
      {"geography.province_size_km", "km", 10, 5000, "Side of the square each province covers",
       kChoice, "", RS_REF(geography.province_size_km)},
      {"geography.county_radius_km", "km", 1, 500,
       "Radius around the county seat in which towns are placed", kChoice, "",
       RS_REF(geography.county_radius_km)},
      {"geography.town_radius_km", "km", 0.1, 100,
       "Radius around the town in which villages are placed", kChoice, "",
       RS_REF(geography.town_radius_km)},
      {"geography.sigma_province", "-", 0, 3, "Lognormal sigma of the province specialty factor",
       kModel, "", RS_REF(geography.sigma_province)},
      {"geography.sigma_county", "-", 0, 3, "Lognormal sigma of the county specialty factor",
       kModel, "", RS_REF(geography.sigma_county)},
      {"geography.sigma_town", "-", 0, 3, "Lognormal sigma of the town specialty factor", kModel,
       "", RS_REF(geography.sigma_town)},
      {"geography.sigma_village", "-", 0, 3, "Lognormal sigma of the village specialty factor",
       kModel, "", RS_REF(geography.sigma_village)},
      {"geography.specialty_same_as_county", "-", 0, 1,
       "Probability that a village's specialty category is its county's", kChoice, "",
       RS_REF(geography.specialty_same_as_county)},
      {"geography.base_income_mean", "RMB/yr", 1, 1.0e7,
       "Mean base (farm/off-farm) household income at the start year", "NBS 2009 rural income", "",
       RS_REF(geography.base_income_mean)},
      {"geography.base_income_sigma", "-", 0, 3, "Lognormal sigma of village base income", kChoice,
       "", RS_REF(geography.base_income_sigma)},
      {"geography.rollout_offset_sd", "yr", 0, 20,
       "Standard deviation of the province internet roll-out offset", kChoice, "",
       RS_REF(geography.rollout_offset_sd)},
      {"geography.industrial_base_sigma", "-", 0, 3,
       "Lognormal sigma of the province industrial base multiplier", kChoice, "",
       RS_REF(geography.industrial_base_sigma)},
      {"geography.poverty_share", "-", 0, 1,
       "Share of counties (lowest base income) flagged formerly poverty-listed", kChoice, "",
       RS_REF(geography.poverty_share)},
      // internet
      {"internet.k", "1/yr", 0, 10, "Steepness of the internet roll-out logistic", kModel, "",
       RS_REF(internet.k)},
      {"internet.t_mid", "yr", 1990, 2100, "Mid-point year of the internet roll-out", kModel, "",
       RS_REF(internet.t_mid)},
      // adoption
      {"adoption.h_max", "-", 0, 1, "Maximum share of households that can run a store", kModel, "",
       RS_REF(adoption.h_max)},
      {"adoption.alpha", "1/yr", 0, 100, "Spontaneous adoption rate", kModel, "",
       RS_REF(adoption.alpha)},
      {"adoption.beta", "1/yr", 0, 1000, "In-village imitation rate", kCal, "",
       RS_REF(adoption.beta)},
      {"adoption.gamma", "1/yr", 0, 1000, "Neighbour-village imitation rate", kCal, "",
       RS_REF(adoption.gamma)},
      {"adoption.theta_s", "-", 0, 10, "Exponent of specialty strength in the adoption rate",
       kModel, "", RS_REF(adoption.theta_s)},
      {"adoption.radius_km", "km", 0, 100, "Radius R of neighbour imitation", kModel, "",
       RS_REF(adoption.radius_km)},
      {"adoption.access_none", "-", 0, 10, "Logistics access factor with no node", kModel, "",
       RS_REF(adoption.access_none)},
      {"adoption.access_centre", "-", 0, 10, "Logistics access factor with a county centre only",
       kModel, "", RS_REF(adoption.access_centre)},
      {"adoption.access_station", "-", 0, 10, "Logistics access factor with a village station",
       kModel, "", RS_REF(adoption.access_station)},
      {"adoption.tv_spillover_own", "-", 0, 10, "Adoption-rate uplift rho_TV for a Taobao Village",
       kModel, "", RS_REF(adoption.tv_spillover_own)},
      {"adoption.tv_spillover_neighbour", "-", 0, 10,
       "Adoption-rate uplift rho_TV next to a Taobao Village (within R)", kModel, "",
       RS_REF(adoption.tv_spillover_neighbour)},
      {"adoption.p_specialty", "-", 0, 1, "Probability a new store sells the village specialty",
       kModel, "", RS_REF(adoption.p_specialty)},
      {"adoption.sigma_q", "-", 0, 5, "Lognormal sigma of store quality", kModel, "",
       RS_REF(adoption.sigma_q)},
      {"adoption.seed_share", "-", 0, 1,
       "Share of households running a store at the start (Binomial per village)", kCal, "",
       RS_REF(adoption.seed_share)},
      // market
      {"market.demand_initial", "RMB/yr", 0, 1.0e15,
       "National online demand for rural physical goods in the start year (annual total, all "
       "categories)",
       "extrapolated from MOFCOM rural online retail 2014-2016", "", RS_REF(market.demand_initial)},
      {"market.demand_growth", "1/yr", -0.99, 10,
       "Growth rate of demand outside the demand table (or everywhere without one)", kCal, "",
       RS_REF(market.demand_growth)},
      {"market.physical_share", "-", 0, 1, "Share of demand-table values that are physical goods",
       "MOFCOM 2016-2017 (~63%)", "", RS_REF(market.physical_share)},
      {"market.phi_rural", "-", 0, 1,
       "Share phi_rural of category demand contested by rural household stores", kModel, "",
       RS_REF(market.phi_rural)},
      {"market.national_households", "households", 1, 1.0e10,
       "Rural households of the nation; demand is scaled by scenario households / this", kModel, "",
       RS_REF(market.national_households)},
      {"market.outside_per_household", "-", 0, 1.0e6,
       "Attractiveness of the outside option (other sellers) per household of the scenario",
       kChoice, "", RS_REF(market.outside_per_household)},
      {"market.rho", "-", 0, 5, "Exponent of (1 + reputation) in attractiveness", kModel, "",
       RS_REF(market.rho)},
      {"market.delta_delivery", "1/day", 0, 10, "Attractiveness loss per day of delivery time",
       kModel, "", RS_REF(market.delta_delivery)},
      {"market.reputation_orders", "orders", 1, 1.0e9, "Orders that add one unit of reputation",
       kChoice, "", RS_REF(market.reputation_orders)},
      {"market.reputation_decay", "1/yr", 0, 100, "Decay rate of reputation", kModel, "",
       RS_REF(market.reputation_decay)},
      // accounting
      {"accounting.fixed_cost", "RMB/yr", 0, 1.0e9, "Fixed cost of running a store", kCal, "",
       RS_REF(accounting.fixed_cost)},
      {"accounting.revenue_per_worker", "RMB/yr", 1, 1.0e10,
       "Annualised sales that employ one worker", kChoice, "",
       RS_REF(accounting.revenue_per_worker)},
      {"accounting.wage_min", "RMB/month", 0, 1.0e6, "Monthly wage where stores are scarce",
       "Alibaba ESG 2022 case (3,000-5,000)", "", RS_REF(accounting.wage_min)},
      {"accounting.wage_max", "RMB/month", 0, 1.0e6, "Monthly wage where stores are dense",
       "Alibaba ESG 2022 case (3,000-5,000)", "", RS_REF(accounting.wage_max)},
      {"accounting.time_share", "-", 0, 1,
       "Share of base income a store-running household gives up", kModel, "",
       RS_REF(accounting.time_share)},
      // exit
      {"exit.loss_years", "yr", 0, 100, "Loss-making time L_exit after which exit hazard applies",
       kModel, "", RS_REF(exit.loss_years)},
      {"exit.hazard", "1/yr", 0, 1000, "Exit hazard h_exit after sustained losses", kModel, "",
       RS_REF(exit.hazard)},
      {"exit.background", "1/yr", 0, 100, "Background exit rate of every store", kModel, "",
       RS_REF(exit.background)},
      // recognition
      {"recognition.village_sales", "RMB/yr", 0, 1.0e15,
       "Taobao Village: minimum annual e-commerce sales", "AliResearch rule", "",
       RS_REF(recognition.village_sales)},
      {"recognition.village_stores", "count", 0, 1.0e9,
       "Taobao Village: active stores (alternative to the share rule)", "AliResearch rule", "",
       RS_REF(recognition.village_stores)},
      {"recognition.village_store_share", "-", 0, 1,
       "Taobao Village: stores as share of households (alternative)", "AliResearch rule", "",
       RS_REF(recognition.village_store_share)},
      {"recognition.town_villages", "count", 0, 1.0e6,
       "Taobao Town: minimum Taobao Villages in the town", "AliResearch rule", "",
       RS_REF(recognition.town_villages)},
      {"recognition.town_sales", "RMB/yr", 0, 1.0e15,
       "Taobao Town: sales strictly above this (or the store rule)", "AliResearch rule", "",
       RS_REF(recognition.town_sales)},
      {"recognition.town_stores", "count", 0, 1.0e9,
       "Taobao Town: active stores strictly above this (or the sales rule)", "AliResearch rule", "",
       RS_REF(recognition.town_stores)},
      {"recognition.visibility_boost", "-", 0, 100,
       "Attractiveness boost of stores in a Taobao Village (V = 1 + boost)", kModel, "",
       RS_REF(recognition.visibility_boost)},
      {"recognition.fixed_cost_subsidy", "-", 0, 1,
       "Share of store fixed cost subsidised in a Taobao Village", kModel, "",
       RS_REF(recognition.fixed_cost_subsidy)},
      {"recognition.can_lose", "-", 0, 1,
       "Whether a village or town that stops meeting the rule loses its status", kModel, "",
       RS_REF(recognition.can_lose)},
      // livestream
      {"livestream.start_year", "yr", 1990, 2100, "Year livestream selling becomes possible",
       "platform history (2016)", "", RS_REF(livestream.start_year)},
      {"livestream.platform_mid", "yr", 1990, 2100,
       "Mid-point year of the platform's livestream uptake (scales organic entry)", kCal, "",
       RS_REF(livestream.platform_mid)},
      {"livestream.platform_k", "1/yr", 0, 10, "Steepness of the livestream uptake logistic", kCal,
       "", RS_REF(livestream.platform_k)},
      {"livestream.entry_rate", "1/yr", 0, 100,
       "Organic livestreamer entry per store household per year (times uptake)", kCal, "",
       RS_REF(livestream.entry_rate)},
      {"livestream.sessions_per_week", "1/week", 0, 100, "Mean sessions n_sess per livestreamer",
       kModel, "", RS_REF(livestream.sessions_per_week)},
      {"livestream.k_promo", "count", 1, 100, "Merchants promoted per session", kModel, "",
       RS_REF(livestream.k_promo)},
      {"livestream.view_rate", "-", 0, 100, "Viewers per follower per session", kModel, "",
       RS_REF(livestream.view_rate)},
      {"livestream.conversion", "-", 0, 1, "Orders per viewer (at skill 1)", kModel, "",
       RS_REF(livestream.conversion)},
      {"livestream.commission", "-", 0, 1, "Share of livestream sales paid to the livestreamer",
       kModel, "", RS_REF(livestream.commission)},
      {"livestream.skill_sigma", "-", 0, 5, "Lognormal sigma of livestreamer skill", kModel, "",
       RS_REF(livestream.skill_sigma)},
      {"livestream.initial_followers", "followers", 0, 1.0e9,
       "Followers of a new organic livestreamer", kModel, "", RS_REF(livestream.initial_followers)},
      {"livestream.follower_growth", "-", 0, 100,
       "Follower growth g_F per session (times skill and F^phi)", kModel, "",
       RS_REF(livestream.follower_growth)},
      {"livestream.follower_phi", "-", 0, 1, "Exponent phi of followers in follower growth", kModel,
       "", RS_REF(livestream.follower_phi)},
      {"livestream.follower_decay", "1/yr", 0, 100, "Follower loss rate delta_F", kModel, "",
       RS_REF(livestream.follower_decay)},
      {"livestream.exit_hazard", "1/yr", 0, 100,
       "Exit hazard of a livestreamer (scaled down by audience)", kChoice, "",
       RS_REF(livestream.exit_hazard)},
      // logistics
      {"logistics.cost_none_base", "RMB/parcel", 0, 1000, "Shipping cost without a node (base)",
       kModel, "", RS_REF(logistics.cost_none_base)},
      {"logistics.cost_none_per_km", "RMB/parcel/km", 0, 100,
       "Shipping cost without a node, per km to the county seat", kModel, "",
       RS_REF(logistics.cost_none_per_km)},
      {"logistics.days_none", "days", 0, 100, "Delivery days without a node", kModel, "",
       RS_REF(logistics.days_none)},
      {"logistics.cost_centre_base", "RMB/parcel", 0, 1000,
       "Shipping cost with a county centre only (base)", kModel, "",
       RS_REF(logistics.cost_centre_base)},
      {"logistics.cost_centre_per_km", "RMB/parcel/km", 0, 100,
       "Shipping cost with a county centre only, per km", kModel, "",
       RS_REF(logistics.cost_centre_per_km)},
      {"logistics.days_centre", "days", 0, 100, "Delivery days with a county centre only", kModel,
       "", RS_REF(logistics.days_centre)},
      {"logistics.cost_station", "RMB/parcel", 0, 1000, "Shipping cost with a village station",
       kModel, "", RS_REF(logistics.cost_station)},
      {"logistics.days_station", "days", 0, 100, "Delivery days with a village station", kModel, "",
       RS_REF(logistics.days_station)},
      {"logistics.station_open_parcels", "parcels/yr", 0, 1.0e12,
       "Trailing-year parcel volume (in + out) at which a station opens", kCal, "",
       RS_REF(logistics.station_open_parcels)},
      {"logistics.station_close_years", "yr", 0, 100,
       "Time below break-even after which an unsubsidised station closes", kModel, "",
       RS_REF(logistics.station_close_years)},
      {"logistics.station_fee", "RMB/parcel", 0, 1000, "Station income per parcel handled", kChoice,
       "", RS_REF(logistics.station_fee)},
      {"logistics.station_cost", "RMB/yr", 0, 1.0e9, "Station operating cost", kChoice, "",
       RS_REF(logistics.station_cost)},
      {"logistics.station_capacity", "parcels/yr", 1, 1.0e12,
       "Parcels a station handles without congestion", kChoice, "",
       RS_REF(logistics.station_capacity)},
      {"logistics.congestion_days", "days", 0, 100,
       "Extra delivery days per unit of utilisation above capacity (stations and county centres)", kChoice, "",
       RS_REF(logistics.congestion_days)},
      {"logistics.centre_open_parcels", "parcels/yr", 0, 1.0e15,
       "Trailing-year county parcel volume at which a county centre opens", kCal, "",
       RS_REF(logistics.centre_open_parcels)},
      {"logistics.centre_capacity", "parcels/yr", 1, 1.0e15,
       "Parcels a county centre handles a year without congestion (county volume of villages it serves and their stations)",
       kChoice, "", RS_REF(logistics.centre_capacity)},
      {"logistics.initial_centre_share", "-", 0, 1, "Share of counties with a centre at the start",
       kModel, "", RS_REF(logistics.initial_centre_share)},
      {"logistics.parcels_in_per_household", "parcels/yr", 0, 1.0e6,
       "Online purchases c_in per connected household at base income", kChoice, "",
       RS_REF(logistics.parcels_in_per_household)},
      {"logistics.parcels_in_income_elasticity", "-", 0, 10,
       "Income elasticity of online purchases", kChoice, "",
       RS_REF(logistics.parcels_in_income_elasticity)},
      {"logistics.basket_value", "RMB/parcel", 0, 1.0e6, "Value of a purchased parcel", kChoice, "",
       RS_REF(logistics.basket_value)},
      {"logistics.saving_share", "-", 0, 1,
       "Share of an online purchase saved against buying locally (consumption gain)", kChoice, "",
       RS_REF(logistics.saving_share)},
      // income
      {"income.base_growth", "1/yr", -0.99, 10, "Growth of base household income", "NBS", "",
       RS_REF(income.base_growth)},
      {"income.household_size", "persons", 1, 20, "Persons per rural household", "NBS", "",
       RS_REF(income.household_size)},
      {"income.urban_per_capita", "RMB/yr", 0, 1.0e7,
       "Urban per-capita disposable income at the start year", "NBS 2009", "",
       RS_REF(income.urban_per_capita)},
      {"income.urban_growth", "1/yr", -0.99, 10, "Growth of urban per-capita income",
       "NBS 2009-2021", "", RS_REF(income.urban_growth)},
      // output
      {"output.every", "ticks", 1, 100000, "Record the time series every this many ticks", "-", "",
       RS_REF(output.every)},
      {"output.village_snapshots", "-", 0, 1,
       "Write annual village snapshots (large for national runs)", "-", "",
       RS_REF(output.village_snapshots)},
  };
}
#undef RS_REF

std::string fmt_number(double v) {
  return num(v);
}

}  // namespace

const std::vector<ParamSpec>& param_table() {
  static const std::vector<ParamSpec> table = build_table();
  return table;
}

const ParamSpec* find_param(const std::string& key) {
  for (const auto& s : param_table())
    if (key == s.key) return &s;
  return nullptr;
}

std::string param_value_text(const ParamSpec& spec, const Params& p) {
  Params& mp = const_cast<Params&>(p);
  ParamRef r = spec.ref(mp);
  if (auto d = std::get_if<double*>(&r)) return fmt_number(**d);
  if (auto i = std::get_if<std::int64_t*>(&r)) return std::to_string(**i);
  if (auto b = std::get_if<bool*>(&r)) return **b ? "true" : "false";
  const std::string& s = *std::get<std::string*>(r);
  std::string q = "\"";  // always quoted, with YAML double-quote escapes
  for (char ch : s) {
    if (ch == '"' || ch == '\\') q += '\\';
    q += ch;
  }
  return q + "\"";
}

std::string params_markdown() {
  Params defaults;
  std::ostringstream os;
  os << "| key | default | unit | valid range | description | source |\n";
  os << "|---|---|---|---|---|---|\n";
  for (const auto& s : param_table()) {
    ParamRef r = s.ref(defaults);
    std::string range;
    if (std::holds_alternative<std::string*>(r))
      range = *s.choices ? std::string("one of ") + s.choices : "text";
    else if (std::holds_alternative<bool*>(r))
      range = "true / false";
    else
      range = "[" + fmt_number(s.min) + ", " + fmt_number(s.max) + "]";
    std::string choices = range;
    for (auto& c : choices)
      if (c == '|') c = '/';
    os << "| `" << s.key << "` | " << param_value_text(s, defaults) << " | " << s.unit << " | "
       << choices << " | " << s.doc << " | " << s.source << " |\n";
  }
  return os.str();
}

}  // namespace ruralsim

#pragma once
// The parameter table: every scalar model and run parameter, declared once with its unit, valid
// range, documentation and source. Default values are the member initialisers below; YAML
// parsing, validation, `ruralsim params` and docs/parameters.md are generated from the table.
#include <cstdint>
#include <string>
#include <variant>
#include <vector>

namespace ruralsim {

// In a list of years (output.snapshot_years), this value stands for the last simulated year
// (written `last` in scenarios).
inline constexpr std::int64_t kLastYear = 0;

struct Params {
  struct Simulation {
    std::int64_t seed = 1;
    std::int64_t replicate = 0;
    std::int64_t start_year = 2009;
    std::int64_t years = 13;
    std::int64_t ticks_per_year = 52;
  } simulation;

  struct Geography {
    std::string source = "generate";
    std::string csv;
    std::int64_t seed = 20090101;
    std::int64_t provinces = 1;
    std::int64_t counties_per_province = 6;
    std::int64_t towns_per_county = 10;
    double villages_per_town = 17.5;
    double households_mean = 340.0;
    double households_sigma = 0.45;
    double province_size_km = 600.0;
    double county_radius_km = 35.0;
    double town_radius_km = 7.0;
    double sigma_province = 0.3;
    double sigma_county = 0.5;
    double sigma_town = 0.4;
    double sigma_village = 0.5;
    double specialty_same_as_county = 0.7;
    double base_income_mean = 18036.0;
    double base_income_sigma = 0.35;
    double rollout_offset_sd = 1.0;
    double industrial_base_sigma = 0.25;
    double poverty_share = 0.29;
    // national geography from the province table (source: provinces)
    std::int64_t national_villages = 599078;
    double province_income_scale = 1.0824;
    double industrial_base_income_exponent = 2.0;
    double rollout_offset_east = -1.0;
    double rollout_offset_central = 0.0;
    double rollout_offset_northeast = 0.0;
    double rollout_offset_west = 1.0;
  } geography;

  struct Internet {
    double k = 0.19;
    double t_mid = 2019.6;
  } internet;

  struct Adoption {
    double h_max = 0.4;
    double alpha = 0.002;
    double beta = 6.0;
    double gamma = 3.0;
    double theta_s = 1.0;
    double radius_km = 5.0;
    double access_none = 0.35;
    double access_centre = 0.7;
    double access_station = 1.0;
    double tv_spillover_own = 0.2;
    double tv_spillover_neighbour = 0.1;
    double p_specialty = 0.8;
    double sigma_q = 0.5;
    double quality_tail_shape = 1.5;
    double seed_share = 0.0004;
    double income_sigma = 0.5;
    double neighbour_weight = 0.5;
    double prior_weight = 5.0;
    double entry_cost = 5000.0;
    double discount_rate = 0.1;
  } adoption;

  struct Market {
    double demand_initial = 2.5e10;
    double demand_growth = 0.35;
    double physical_share = 0.63;
    double phi_rural = 1.0;
    double national_households = 2.061e8;
    double outside_per_household = 0.005;
    double rho = 0.5;
    double delta_delivery = 0.08;
    double reputation_orders = 2000.0;
    double reputation_decay = 0.2;
    double demand_growth_longrun = 0.05;
    double demand_decay_years = 3.0;
  } market;

  struct Accounting {
    double fixed_cost = 5000.0;
    double revenue_per_worker = 400000.0;
    double wage_min = 3000.0;
    double wage_max = 5000.0;
    double time_share_side = 0.25;
    double time_share_full = 0.8;
    double scale_exponent = 0.5;
  } accounting;

  struct Exit {
    double loss_years = 0.5;
    double hazard = 1.5;
    double background = 0.03;
  } exit;

  struct Recognition {
    double village_sales = 1.0e7;
    std::int64_t village_stores = 100;
    double village_store_share = 0.10;
    std::int64_t town_villages = 3;
    double town_sales = 3.0e7;
    std::int64_t town_stores = 300;
    double visibility_boost = 0.3;
    double fixed_cost_subsidy = 0.0;
    bool can_lose = true;
    std::string village_rule = "sales and (stores or share)";
    std::string town_rule = "villages and (sales or stores)";
  } recognition;

  struct Livestream {
    double start_year = 2016.0;
    double platform_mid = 2019.5;
    double platform_k = 1.2;
    double entry_rate = 0.01;
    double sessions_per_week = 3.0;
    std::int64_t k_promo = 3;
    double view_rate = 0.3;
    double conversion = 0.02;
    double commission = 0.2;
    double skill_sigma = 0.5;
    double initial_followers = 200.0;
    double follower_growth = 0.05;
    double follower_phi = 0.8;
    double follower_decay = 1.4;
    double exit_hazard = 0.1;
    double channel_share = 0.25;
    double outside_strength = 1.0;
  } livestream;

  struct Logistics {
    double cost_none_base = 9.0;
    double cost_none_per_km = 0.15;
    double days_none = 5.0;
    double cost_centre_base = 5.0;
    double cost_centre_per_km = 0.05;
    double days_centre = 3.0;
    double cost_station = 3.5;
    double days_station = 2.0;
    double station_open_parcels = 20000.0;
    double station_close_years = 0.5;
    double station_fee = 1.0;
    double station_cost = 12000.0;
    double station_capacity = 150000.0;
    double congestion_days = 1.0;
    double centre_open_parcels = 1.5e6;
    double centre_capacity = 5.0e6;
    double initial_centre_share = 0.0;
    double parcels_in_per_household = 6.0;
    double parcels_in_income_elasticity = 1.0;
    double basket_value = 80.0;
    double saving_share = 0.1;
    double buyer_cost_share = 0.5;
    double delay_cost = 0.5;
    double purchases_none = 0.4;
    double purchases_centre = 0.7;
    double purchases_station = 1.0;
  } logistics;

  struct Income {
    double base_growth = 0.095;
    double household_size = 3.5;
    double urban_per_capita = 17175.0;
    double urban_growth = 0.088;
  } income;

  struct Output {
    std::int64_t every = 1;
    bool village_snapshots = false;
    double large_store_sales = 1.0e6;
    // Year ends at which every store and livestreamer is written (/snapshots/<year>).
    std::vector<std::int64_t> snapshot_years = {kLastYear};
  } output;
};

// A parameter is a number, a whole number, a boolean, a text or a list of calendar years
// (elements in [min, max], or kLastYear).
using YearList = std::vector<std::int64_t>;
using ParamRef = std::variant<double*, std::int64_t*, bool*, std::string*, YearList*>;

struct ParamSpec {
  const char* key;   // dotted path, e.g. "adoption.alpha"
  const char* unit;  // "1/yr", "RMB", "-" ...
  double min;        // valid range (inclusive) for numbers
  double max;
  const char* doc;
  const char* source;
  const char* choices;  // for strings: "a|b|c" (empty: any string)
  ParamRef (*ref)(Params&);
};

const std::vector<ParamSpec>& param_table();
const ParamSpec* find_param(const std::string& key);
// Text form of the value a parameter has in `p` (YAML scalar syntax).
std::string param_value_text(const ParamSpec& spec, const Params& p);
// output.snapshot_years as calendar years of the run: `last` resolved, sorted, without repeats.
std::vector<std::int32_t> snapshot_years(const Params& p);
// Markdown table of all parameters (docs/parameters.md body).
std::string params_markdown();

}  // namespace ruralsim

#include "core/params.hpp"

#include "core/format.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>

namespace ruralsim {
namespace {

#define RS_REF(field) [](Params& p) -> ParamRef { return &p.field; }

// The source column says where a value comes from: a publication that gives it, or
// "assumption: ..." with the reason. Nothing is marked calibrated until a recorded procedure
// fits it (docs/calibration.md).
const char* const kRun = "run setting";

std::vector<ParamSpec> build_table() {
  return {
      // simulation
      {"simulation.seed", "-", 0, 9.0e18, "Seed of every random stream of the run", kRun, "",
       RS_REF(simulation.seed)},
      {"simulation.replicate", "-", 0, 1.0e9,
       "Replicate number; mixed into the seed so that replicates differ", kRun, "",
       RS_REF(simulation.replicate)},
      {"simulation.start_year", "yr", 1990, 2100, "Calendar year of the first tick", kRun, "",
       RS_REF(simulation.start_year)},
      {"simulation.years", "yr", 1, 100, "Number of simulated years", kRun, "",
       RS_REF(simulation.years)},
      {"simulation.ticks_per_year", "1/yr", 12, 365, "Ticks per year: 12, 52 or 365", kRun, "",
       RS_REF(simulation.ticks_per_year)},
      // geography
      {"geography.source", "-", 0, 0,
       "Where villages come from: generated, read from a CSV village table, or built from a "
       "province table (national geography, docs/ODD.md section 5.3)",
       kRun, "generate|csv|provinces", RS_REF(geography.source)},
      {"geography.csv", "-", 0, 0,
       "Village table (CSV) when source is csv, province table when source is provinces; "
       "relative to the scenario file",
       kRun, "", RS_REF(geography.csv)},
      {"geography.seed", "-", 0, 9.0e18,
       "Seed of the generated geography (kept fixed across replicates)", kRun, "",
       RS_REF(geography.seed)},
      {"geography.provinces", "count", 1, 100, "Provinces generated", kRun, "",
       RS_REF(geography.provinces)},
      {"geography.counties_per_province", "count", 1, 1000, "Counties generated per province", kRun,
       "", RS_REF(geography.counties_per_province)},
      {"geography.towns_per_county", "count", 1, 1000, "Towns generated per county",
       "China Statistical Yearbook 2010, table 1-1: 34,170 towns and townships in 2,858 "
       "county-level divisions (end of 2009), about 12 per county",
       "", RS_REF(geography.towns_per_county)},
      {"geography.villages_per_town", "count", 1, 1000,
       "Mean villages per town (1 + Poisson(mean - 1))",
       "Ministry of Civil Affairs: 599,078 villagers' committees in 34,170 towns and townships "
       "(end of 2009), 17.5 per town",
       "", RS_REF(geography.villages_per_town)},
      {"geography.households_mean", "households", 1, 100000, "Mean households per village",
       "China Statistical Yearbook 2009, table 3-4 (721 million rural residents, end of 2008) / "
       "3.5 persons per household / 599,078 villages: about 340",
       "", RS_REF(geography.households_mean)},
      {"geography.households_sigma", "-", 0, 3, "Lognormal sigma of households per village",
       "assumption: village sizes vary about 1.5-fold around the mean; no national size "
       "distribution was found",
       "", RS_REF(geography.households_sigma)},
      {"geography.province_size_km", "km", 10, 5000, "Side of the square each province covers",
       "assumption: a synthetic province's extent (spacing of generated counties)", "",
       RS_REF(geography.province_size_km)},
      {"geography.county_radius_km", "km", 1, 500,
       "Radius around the county seat in which towns are placed",
       "assumption: a county of about 3,800 km2 (China's land area over 2,858 county-level "
       "divisions: 3,360 km2)",
       "", RS_REF(geography.county_radius_km)},
      {"geography.town_radius_km", "km", 0.1, 100,
       "Radius around the town in which villages are placed",
       "assumption: villages within a short drive of the township seat", "",
       RS_REF(geography.town_radius_km)},
      {"geography.sigma_province", "-", 0, 3, "Lognormal sigma of the province specialty factor",
       "assumption: specialty strength is spatially correlated at every level (nested lognormal "
       "factors); the sigmas set how much of its variance each level holds",
       "", RS_REF(geography.sigma_province)},
      {"geography.sigma_county", "-", 0, 3, "Lognormal sigma of the county specialty factor",
       "assumption: the county is the level where specialties (a product, a craft) cluster most",
       "", RS_REF(geography.sigma_county)},
      {"geography.sigma_town", "-", 0, 3, "Lognormal sigma of the town specialty factor",
       "assumption: see geography.sigma_province", "", RS_REF(geography.sigma_town)},
      {"geography.sigma_village", "-", 0, 3, "Lognormal sigma of the village specialty factor",
       "assumption: see geography.sigma_province", "", RS_REF(geography.sigma_village)},
      {"geography.specialty_same_as_county", "-", 0, 1,
       "Probability that a village's specialty category is its county's",
       "assumption: most villages share their county's specialty (county branding cases)", "",
       RS_REF(geography.specialty_same_as_county)},
      {"geography.base_income_mean", "RMB/yr", 1, 1.0e7,
       "Mean base (farm/off-farm) household income at the start year",
       "NBS: rural net income per capita RMB 5,153 in 2009, times 3.5 persons per household", "",
       RS_REF(geography.base_income_mean)},
      {"geography.base_income_sigma", "-", 0, 3, "Lognormal sigma of village base income",
       "assumption: provincial mean rural incomes range about 3-fold (CSY 2009 table 9-22); "
       "villages within a synthetic province vary somewhat less",
       "", RS_REF(geography.base_income_sigma)},
      {"geography.rollout_offset_sd", "yr", 0, 20,
       "Standard deviation of the province internet roll-out offset",
       "assumption: provinces reach the same internet share a few years apart", "",
       RS_REF(geography.rollout_offset_sd)},
      {"geography.industrial_base_sigma", "-", 0, 3,
       "Lognormal sigma of the province industrial base multiplier",
       "assumption: provinces differ in manufacturing depth; multiplies specialty strength", "",
       RS_REF(geography.industrial_base_sigma)},
      {"geography.poverty_share", "-", 0, 1,
       "Share of counties (lowest base income) flagged formerly poverty-listed",
       "832 poverty-listed counties of 2,858 county-level divisions (29%)", "",
       RS_REF(geography.poverty_share)},
      {"geography.national_villages", "count", 1, 5.0e6,
       "Villages of a province-table geography, spread over provinces in proportion to their "
       "towns and townships (source: provinces)",
       "Ministry of Civil Affairs: 599,078 villagers' committees at the end of 2009", "",
       RS_REF(geography.national_villages)},
      {"geography.province_income_scale", "-", 0.01, 100,
       "Factor from the province table's 2008 rural net income per capita to the start year "
       "(source: provinces)",
       "NBS: national rural net income per capita RMB 5,153 in 2009 over RMB 4,760.62 in 2008 "
       "(CSY 2009 table 9-22)",
       "", RS_REF(geography.province_income_scale)},
      {"geography.industrial_base_income_exponent", "-", 0, 4,
       "Industrial base of a table province: (its income / the household-weighted mean income) "
       "to this power (source: provinces)",
       "assumption: the generator ties base income to the square root of the industrial base "
       "(section 5.1); a table province's income is given, so the relation is inverted",
       "", RS_REF(geography.industrial_base_income_exponent)},
      {"geography.rollout_offset_east", "yr", -20, 20,
       "Internet roll-out offset of provinces in the NBS east region (source: provinces)",
       "assumption: eastern provinces got online about a year before the national mean (CNNIC "
       "reports rank them first in penetration); no rural figures by province were found",
       "", RS_REF(geography.rollout_offset_east)},
      {"geography.rollout_offset_central", "yr", -20, 20,
       "Internet roll-out offset of provinces in the NBS central region (source: provinces)",
       "assumption: central provinces follow the national mean", "",
       RS_REF(geography.rollout_offset_central)},
      {"geography.rollout_offset_northeast", "yr", -20, 20,
       "Internet roll-out offset of provinces in the NBS northeast region (source: provinces)",
       "assumption: northeastern provinces follow the national mean", "",
       RS_REF(geography.rollout_offset_northeast)},
      {"geography.rollout_offset_west", "yr", -20, 20,
       "Internet roll-out offset of provinces in the NBS west region (source: provinces)",
       "assumption: western provinces got online about a year after the national mean (CNNIC "
       "reports rank them last in penetration); with east -1 the rural-population-weighted "
       "mean offset is about 0, so the national roll-out keeps its calibration",
       "", RS_REF(geography.rollout_offset_west)},
      // internet
      {"internet.k", "1/yr", 0, 10, "Steepness of the internet roll-out logistic",
       "CNNIC: 84.6 million rural internet users at the end of 2008 (11.7% of 721 million rural "
       "residents) and 59.2% rural penetration in June 2021; the logistic through both points",
       "", RS_REF(internet.k)},
      {"internet.t_mid", "yr", 1990, 2100, "Mid-point year of the internet roll-out",
       "CNNIC: the logistic through the 2008 and 2021 rural penetration points (see internet.k)",
       "", RS_REF(internet.t_mid)},
      // adoption
      {"adoption.h_max", "-", 0, 1, "Maximum share of households that can run a store",
       "assumption: the most store-dense Taobao Villages have stores in roughly 40% of households",
       "", RS_REF(adoption.h_max)},
      {"adoption.alpha", "1/yr", 0, 100,
       "Spontaneous rate at which a household considers opening a store",
       "assumption: rare independent discovery before neighbours show the way", "",
       RS_REF(adoption.alpha)},
      {"adoption.beta", "1/yr", 0, 1000,
       "In-village imitation: consideration rate per unit share of households whose store gains",
       "assumption: a successful neighbour in the village is the main way households learn of "
       "e-commerce (Taobao Village case studies); order of magnitude only, not fitted for the "
       "baseline; the "
       "national scenario sets a value fitted to public figures (docs/calibration.md, \"The "
       "national fit\")",
       "", RS_REF(adoption.beta)},
      {"adoption.gamma", "1/yr", 0, 1000,
       "Neighbour-village imitation: consideration rate per unit share in villages within R",
       "assumption: half the in-village effect, as contacts are fewer", "", RS_REF(adoption.gamma)},
      {"adoption.theta_s", "-", 0, 10, "Exponent of specialty strength in the consideration rate",
       "assumption: proportional (1)", "", RS_REF(adoption.theta_s)},
      {"adoption.radius_km", "km", 0, 100, "Radius R of neighbour imitation",
       "assumption: villages within a short ride share markets and kin", "",
       RS_REF(adoption.radius_km)},
      {"adoption.access_none", "-", 0, 10,
       "Consideration-rate factor with no logistics node nearby",
       "assumption: without a node, e-commerce is less visible and harder to start", "",
       RS_REF(adoption.access_none)},
      {"adoption.access_centre", "-", 0, 10, "Consideration-rate factor with a county centre only",
       "assumption: between none and station", "", RS_REF(adoption.access_centre)},
      {"adoption.access_station", "-", 0, 10, "Consideration-rate factor with a village station",
       "assumption: reference (1)", "", RS_REF(adoption.access_station)},
      {"adoption.tv_spillover_own", "-", 0, 10,
       "Consideration-rate uplift rho_TV for a Taobao Village",
       "assumption: recognition brings attention, visitors and training", "",
       RS_REF(adoption.tv_spillover_own)},
      {"adoption.tv_spillover_neighbour", "-", 0, 10,
       "Consideration-rate uplift rho_TV next to a Taobao Village (within R)",
       "assumption: half the own-village uplift", "", RS_REF(adoption.tv_spillover_neighbour)},
      {"adoption.p_specialty", "-", 0, 1, "Probability a new store sells the village specialty",
       "assumption: Taobao Villages are typically built on one product", "",
       RS_REF(adoption.p_specialty)},
      {"adoption.sigma_q", "-", 0, 5, "Lognormal sigma of store quality (body of the distribution)",
       "assumption: moderate dispersion of seller ability", "", RS_REF(adoption.sigma_q)},
      {"adoption.quality_tail_shape", "-", 1.05, 1000,
       "Pareto shape of the store productivity multiplier (smaller: heavier tail)",
       "assumption: firm sizes are close to Zipf (Axtell 2001, Science 293: shape about 1.06 for "
       "US firms); 1.5 keeps a finite mean with a heavy tail",
       "", RS_REF(adoption.quality_tail_shape)},
      {"adoption.seed_share", "-", 0, 1,
       "Share of households that weigh a store at the start (Binomial per village); they open "
       "one only if the start year's market makes it pay",
       "assumption: a few households per thousand had tried online selling by 2009, when three "
       "Taobao Villages were known nationally; the national scenario sets a value fitted to public "
       "figures (docs/calibration.md, \"The national fit\")",
       "", RS_REF(adoption.seed_share)},
      {"adoption.income_sigma", "-", 0, 3,
       "Lognormal sigma of a household's base income around its village mean (opportunity cost)",
       "assumption: within-village income dispersion comparable to the rural Gini of about 0.35",
       "", RS_REF(adoption.income_sigma)},
      {"adoption.neighbour_weight", "-", 0, 100,
       "Weight of a neighbouring village's store in a household's expected profit, relative to a "
       "store of its own village",
       "assumption: households trust what they see at home more", "",
       RS_REF(adoption.neighbour_weight)},
      {"adoption.prior_weight", "stores", 0, 1.0e6,
       "Weight, in stores, of what the market offers a new store of the village specialty "
       "(market prior) in expected profit",
       "assumption: what the platform shows a newcomer counts like a few stores seen", "",
       RS_REF(adoption.prior_weight)},
      {"adoption.entry_cost", "RMB", 0, 1.0e9,
       "One-off cost of opening a store (equipment, stock, learning)",
       "assumption: a computer, a camera and first stock, a few thousand yuan", "",
       RS_REF(adoption.entry_cost)},
      {"adoption.discount_rate", "1/yr", 0, 10,
       "Rate at which a household annualises the entry cost (with the background exit rate)",
       "assumption: rural borrowing rates of about 10% a year", "", RS_REF(adoption.discount_rate)},
      // market
      {"market.demand_initial", "RMB/yr", 0, 1.0e15,
       "National online demand for rural physical goods in the start year when there is no "
       "demand table",
       "assumption: the 2014 rural online retail sales (MOFCOM, RMB 180 billion) brought back to "
       "2009 at 35% a year, physical goods only",
       "", RS_REF(market.demand_initial)},
      {"market.demand_growth", "1/yr", -0.99, 10,
       "Growth rate of demand before the first table point (or from the start year without a "
       "table; it then decays towards demand_growth_longrun)",
       "MOFCOM rural online retail sales: RMB 180 billion (2014) to 353 billion (2015) and 895 "
       "billion (2016), above 35% a year; the national scenario sets a value fitted to the Taobao "
       "Villages of 2009 (docs/calibration.md, \"The national fit\", second stage)",
       "", RS_REF(market.demand_growth)},
      {"market.demand_growth_longrun", "1/yr", -0.99, 10,
       "Long-run growth rate that demand growth decays towards after the last table point",
       "assumption: close to nominal growth of household consumption", "",
       RS_REF(market.demand_growth_longrun)},
      {"market.demand_decay_years", "yr", 0.01, 1000,
       "Time constant of the decay of demand growth towards the long-run rate",
       "assumption: platform growth rates halve in about two years once markets mature", "",
       RS_REF(market.demand_decay_years)},
      {"market.physical_share", "-", 0, 1, "Share of demand-table values that are physical goods",
       "MOFCOM 2016-2017: physical goods about 63% of rural online retail sales", "",
       RS_REF(market.physical_share)},
      {"market.phi_rural", "-", 0, 1,
       "Share phi_rural of category demand contested by rural household stores",
       "assumption: all of the rural online retail sales of physical goods (the demand table "
       "counts sales of rural sellers)",
       "", RS_REF(market.phi_rural)},
      {"market.national_households", "households", 1, 1.0e10,
       "Rural households of the nation; demand is scaled by scenario households / this",
       "China Statistical Yearbook 2009, table 3-4: 721.35 million rural residents (end of 2008) / "
       "3.5 persons per household",
       "", RS_REF(market.national_households)},
      {"market.outside_per_household", "-", 0, 1.0e6,
       "Attractiveness of the outside option (sellers outside the modelled villages) per "
       "household of the scenario",
       "assumption: urban shops, brands and unmodelled rural sellers compete with the strength "
       "of one average store per 200 households; they take most sales while village stores are "
       "few, a small share once stores are dense",
       "", RS_REF(market.outside_per_household)},
      {"market.rho", "-", 0, 5, "Exponent of (1 + reputation) in attractiveness",
       "assumption: concave returns to reputation (square root)", "", RS_REF(market.rho)},
      {"market.delta_delivery", "1/day", 0, 10, "Attractiveness loss per day of delivery time",
       "assumption: each extra day of delivery loses about 8% of buyers", "",
       RS_REF(market.delta_delivery)},
      {"market.reputation_orders", "orders", 1, 1.0e9, "Orders that add one unit of reputation",
       "assumption: a store needs a few thousand orders to look established", "",
       RS_REF(market.reputation_orders)},
      {"market.reputation_decay", "1/yr", 0, 100, "Decay rate of reputation",
       "assumption: reviews older than about five years carry little weight", "",
       RS_REF(market.reputation_decay)},
      // accounting
      {"accounting.fixed_cost", "RMB/yr", 0, 1.0e9,
       "Fixed cost of running a store (platform fees, tools, rent)",
       "assumption: a few thousand yuan a year for a small store; the national scenario sets a "
       "value fitted to public figures (docs/calibration.md, \"The national fit\")",
       "", RS_REF(accounting.fixed_cost)},
      {"accounting.revenue_per_worker", "RMB/yr", 1, 1.0e10,
       "Annualised sales that employ one worker",
       "assumption: one packing or service worker per RMB 400,000 of sales a year", "",
       RS_REF(accounting.revenue_per_worker)},
      {"accounting.wage_min", "RMB/month", 0, 1.0e6, "Monthly wage where stores are scarce",
       "Alibaba ESG Report 2022 case: fulfilment jobs in Taobao Villages pay RMB 3,000-5,000 a "
       "month",
       "", RS_REF(accounting.wage_min)},
      {"accounting.wage_max", "RMB/month", 0, 1.0e6, "Monthly wage where stores are dense",
       "Alibaba ESG Report 2022 case (RMB 3,000-5,000 a month)", "", RS_REF(accounting.wage_max)},
      {"accounting.time_share_side", "-", 0, 1,
       "Share of its base income a household gives up to run a side-business store",
       "assumption: evenings and slack seasons, about a quarter of working time", "",
       RS_REF(accounting.time_share_side)},
      {"accounting.time_share_full", "-", 0, 1,
       "Share of its base income a household gives up to run a full-time store",
       "assumption: most of the household's working time; some farm income remains", "",
       RS_REF(accounting.time_share_full)},
      {"accounting.scale_exponent", "-", 0, 1,
       "Selling capacity of a store relative to a full-time one is (time share / full-time "
       "share)^this",
       "assumption: diminishing returns to time (square root), so households with a high "
       "opportunity cost choose side businesses",
       "", RS_REF(accounting.scale_exponent)},
      // exit
      {"exit.loss_years", "yr", 0, 100,
       "Time a store's trailing profit stays below its opportunity cost before the exit hazard "
       "applies",
       "assumption: households give a store half a year", "", RS_REF(exit.loss_years)},
      {"exit.hazard", "1/yr", 0, 1000,
       "Exit hazard h_exit while trailing profit stays below the opportunity cost",
       "assumption: most such stores close within a year", "", RS_REF(exit.hazard)},
      {"exit.background", "1/yr", 0, 100, "Background exit rate of every store",
       "assumption: moves, illness, migration", "", RS_REF(exit.background)},
      // recognition
      {"recognition.village_sales", "RMB/yr", 0, 1.0e15,
       "Taobao Village criterion 'sales': annual e-commerce sales at least this",
       "AliResearch Taobao Village rule (RMB 10 million)", "", RS_REF(recognition.village_sales)},
      {"recognition.village_stores", "count", 0, 1.0e9,
       "Taobao Village criterion 'stores': active stores at least this",
       "AliResearch Taobao Village rule (100 stores)", "", RS_REF(recognition.village_stores)},
      {"recognition.village_store_share", "-", 0, 1,
       "Taobao Village criterion 'share': stores at least this share of households",
       "AliResearch Taobao Village rule (10% of households)", "",
       RS_REF(recognition.village_store_share)},
      {"recognition.town_villages", "count", 0, 1.0e6,
       "Taobao Town criterion 'villages': Taobao Villages in the town at least this",
       "AliResearch Taobao Town rule (3 villages)", "", RS_REF(recognition.town_villages)},
      {"recognition.town_sales", "RMB/yr", 0, 1.0e15,
       "Taobao Town criterion 'sales': town sales strictly above this",
       "AliResearch Taobao Town rule (RMB 30 million)", "", RS_REF(recognition.town_sales)},
      {"recognition.town_stores", "count", 0, 1.0e9,
       "Taobao Town criterion 'stores': active stores strictly above this",
       "AliResearch Taobao Town rule (300 stores)", "", RS_REF(recognition.town_stores)},
      {"recognition.village_rule", "-", 0, 0,
       "How the village criteria combine: an expression of sales, stores, share with and, or "
       "and parentheses",
       "AliResearch Taobao Village rule: sales AND (stores OR share)", "",
       RS_REF(recognition.village_rule)},
      {"recognition.town_rule", "-", 0, 0,
       "How the town criteria combine: an expression of villages, sales, stores with and, or "
       "and parentheses",
       "AliResearch Taobao Town rule: villages AND (sales OR stores)", "",
       RS_REF(recognition.town_rule)},
      {"recognition.visibility_boost", "-", 0, 100,
       "Attractiveness boost of stores in a Taobao Village (V = 1 + boost)",
       "assumption: the label draws buyers and wholesale clients", "",
       RS_REF(recognition.visibility_boost)},
      {"recognition.fixed_cost_subsidy", "-", 0, 1,
       "Share of store fixed cost subsidised in a Taobao Village",
       "assumption: none by default; local support varies", "",
       RS_REF(recognition.fixed_cost_subsidy)},
      {"recognition.can_lose", "-", 0, 1,
       "Whether a village or town that stops meeting the rule loses its status (re-evaluation)",
       "AliResearch publishes the lists anew every year", "", RS_REF(recognition.can_lose)},
      // livestream
      {"livestream.start_year", "yr", 1990, 2100, "Year livestream selling becomes possible",
       "Taobao Live launched in 2016", "", RS_REF(livestream.start_year)},
      {"livestream.platform_mid", "yr", 1990, 2100,
       "Mid-point year of the platform's livestream uptake (channel share and organic entry)",
       "assumption: livestream selling took off in 2019-2020", "", RS_REF(livestream.platform_mid)},
      {"livestream.platform_k", "1/yr", 0, 10, "Steepness of the livestream uptake logistic",
       "assumption: from a few percent to most of its ceiling in about four years", "",
       RS_REF(livestream.platform_k)},
      {"livestream.channel_share", "-", 0, 1,
       "Ceiling of the livestream channel's share of demand (times uptake)",
       "assumption: livestream selling reached roughly a fifth of online retail by 2021", "",
       RS_REF(livestream.channel_share)},
      {"livestream.outside_strength", "-", 0, 1.0e6,
       "Selling potential of outside livestreamers (urban anchors, brands) as a multiple of the "
       "channel's demand",
       "assumption: outside anchors are as strong as a local potential equal to the whole "
       "channel, so local livestreamers take half of it when their potential reaches it",
       "", RS_REF(livestream.outside_strength)},
      {"livestream.entry_rate", "1/yr", 0, 100,
       "Organic livestreamer entry per store household per year (times uptake)",
       "assumption: one store household in a hundred starts streaming each year at full uptake", "",
       RS_REF(livestream.entry_rate)},
      {"livestream.sessions_per_week", "1/week", 0, 100, "Mean sessions n_sess per livestreamer",
       "assumption: a few sessions a week", "", RS_REF(livestream.sessions_per_week)},
      {"livestream.k_promo", "count", 1, 100, "Merchants promoted per session",
       "assumption: a few products per session", "", RS_REF(livestream.k_promo)},
      {"livestream.view_rate", "-", 0, 100, "Viewers per follower per session",
       "assumption: a third of followers watch a session", "", RS_REF(livestream.view_rate)},
      {"livestream.conversion", "-", 0, 1, "Orders per viewer (at skill 1)",
       "assumption: a few percent of viewers buy", "", RS_REF(livestream.conversion)},
      {"livestream.commission", "-", 0, 1, "Share of livestream sales paid to the livestreamer",
       "assumption: commissions of 20% are common for agricultural products", "",
       RS_REF(livestream.commission)},
      {"livestream.skill_sigma", "-", 0, 5, "Lognormal sigma of livestreamer skill",
       "assumption: skill varies several-fold", "", RS_REF(livestream.skill_sigma)},
      {"livestream.initial_followers", "followers", 0, 1.0e9,
       "Followers of a new organic livestreamer",
       "assumption: friends, family and existing customers", "",
       RS_REF(livestream.initial_followers)},
      {"livestream.follower_growth", "-", 0, 100,
       "Follower growth g_F per session (times skill and F^phi)",
       "assumption: a good session adds a few percent to a small audience", "",
       RS_REF(livestream.follower_growth)},
      {"livestream.follower_phi", "-", 0, 1, "Exponent phi of followers in follower growth",
       "assumption: slightly below 1, so audiences grow into a heavy tail without exploding", "",
       RS_REF(livestream.follower_phi)},
      {"livestream.follower_decay", "1/yr", 0, 100, "Follower loss rate delta_F",
       "assumption: audiences halve in about six months without sessions", "",
       RS_REF(livestream.follower_decay)},
      {"livestream.exit_hazard", "1/yr", 0, 100,
       "Exit hazard of a livestreamer (scaled down by audience)",
       "assumption: one in ten small streamers quits each year", "",
       RS_REF(livestream.exit_hazard)},
      // logistics
      {"logistics.cost_none_base", "RMB/parcel", 0, 1000, "Shipping cost without a node (base)",
       "assumption: express rates from remote villages of about RMB 10 a parcel", "",
       RS_REF(logistics.cost_none_base)},
      {"logistics.cost_none_per_km", "RMB/parcel/km", 0, 100,
       "Shipping cost without a node, per km to the county seat",
       "assumption: the last mile is paid per trip", "", RS_REF(logistics.cost_none_per_km)},
      {"logistics.days_none", "days", 0, 100, "Delivery days without a node",
       "assumption: about five days", "", RS_REF(logistics.days_none)},
      {"logistics.cost_centre_base", "RMB/parcel", 0, 1000,
       "Shipping cost with a county centre only (base)",
       "assumption: consolidation at the county halves the base rate", "",
       RS_REF(logistics.cost_centre_base)},
      {"logistics.cost_centre_per_km", "RMB/parcel/km", 0, 100,
       "Shipping cost with a county centre only, per km",
       "assumption: scheduled county routes cut the per-km cost", "",
       RS_REF(logistics.cost_centre_per_km)},
      {"logistics.days_centre", "days", 0, 100, "Delivery days with a county centre only",
       "assumption: about three days", "", RS_REF(logistics.days_centre)},
      {"logistics.cost_station", "RMB/parcel", 0, 1000, "Shipping cost with a village station",
       "assumption: pick-up at the village at urban express rates", "",
       RS_REF(logistics.cost_station)},
      {"logistics.days_station", "days", 0, 100, "Delivery days with a village station",
       "assumption: about two days", "", RS_REF(logistics.days_station)},
      {"logistics.station_open_parcels", "parcels/yr", 0, 1.0e12,
       "Trailing-year parcel volume (in + out) at which a station opens",
       "assumption: about 60 parcels a day keep an operator busy part-time; the national scenario "
       "sets a value fitted to public figures (docs/calibration.md, \"The national fit\")",
       "", RS_REF(logistics.station_open_parcels)},
      {"logistics.station_close_years", "yr", 0, 100,
       "Time below break-even after which an unsubsidised station closes",
       "assumption: half a year", "", RS_REF(logistics.station_close_years)},
      {"logistics.station_fee", "RMB/parcel", 0, 1000, "Station income per parcel handled",
       "assumption: about RMB 1 a parcel", "", RS_REF(logistics.station_fee)},
      {"logistics.station_cost", "RMB/yr", 0, 1.0e9, "Station operating cost",
       "assumption: a part-time operator and a room", "", RS_REF(logistics.station_cost)},
      {"logistics.station_capacity", "parcels/yr", 1, 1.0e12,
       "Parcels a station handles without congestion", "assumption: about 400 parcels a day", "",
       RS_REF(logistics.station_capacity)},
      {"logistics.congestion_days", "days", 0, 100,
       "Extra delivery days per unit of utilisation above capacity (stations and county centres)",
       "assumption: one day per doubling of load", "", RS_REF(logistics.congestion_days)},
      {"logistics.centre_open_parcels", "parcels/yr", 0, 1.0e15,
       "Trailing-year county parcel volume at which a county centre opens",
       "assumption: about 4,000 parcels a day justify a county sorting centre; the national "
       "scenario sets a value fitted to public figures (docs/calibration.md, \"The national fit\")",
       "", RS_REF(logistics.centre_open_parcels)},
      {"logistics.centre_capacity", "parcels/yr", 1, 1.0e15,
       "Parcels a county centre handles a year without congestion (county volume of villages it "
       "serves and their stations)",
       "assumption: about 14,000 parcels a day", "", RS_REF(logistics.centre_capacity)},
      {"logistics.initial_centre_share", "-", 0, 1, "Share of counties with a centre at the start",
       "assumption: none in 2009", "", RS_REF(logistics.initial_centre_share)},
      {"logistics.parcels_in_per_household", "parcels/yr", 0, 1.0e6,
       "Online purchases c_in per connected household at base income with a village station",
       "assumption: about one parcel every two months", "",
       RS_REF(logistics.parcels_in_per_household)},
      {"logistics.parcels_in_income_elasticity", "-", 0, 10,
       "Income elasticity of online purchases", "assumption: proportional to income (1)", "",
       RS_REF(logistics.parcels_in_income_elasticity)},
      {"logistics.basket_value", "RMB/parcel", 0, 1.0e6, "Value of a purchased parcel",
       "assumption: a typical order of about RMB 80", "", RS_REF(logistics.basket_value)},
      {"logistics.saving_share", "-", 0, 1,
       "Price advantage of an online purchase over buying locally, as a share of its value",
       "assumption: online prices about 10% below village shops (Couture, Faber, Gu and Liu "
       "2021, AER: Insights, find the gains of rural e-commerce on the buyer side)",
       "", RS_REF(logistics.saving_share)},
      {"logistics.buyer_cost_share", "-", 0, 10,
       "Share of the parcel's shipping cost (by node and distance) that the buyer bears as fees "
       "or a trip to collect it",
       "assumption: the buyer pays about half of the last mile", "",
       RS_REF(logistics.buyer_cost_share)},
      {"logistics.delay_cost", "RMB/parcel/day", 0, 1000,
       "Cost to the buyer of each day of delivery time", "assumption: half a yuan per parcel-day",
       "", RS_REF(logistics.delay_cost)},
      {"logistics.purchases_none", "-", 0, 10,
       "Online purchases (variety reached) with no node, relative to a village station",
       "assumption: without a node many goods are not delivered to the village", "",
       RS_REF(logistics.purchases_none)},
      {"logistics.purchases_centre", "-", 0, 10,
       "Online purchases with a county centre only, relative to a village station",
       "assumption: between none and station", "", RS_REF(logistics.purchases_centre)},
      {"logistics.purchases_station", "-", 0, 10,
       "Online purchases with a village station (reference)", "assumption: reference (1)", "",
       RS_REF(logistics.purchases_station)},
      // income
      {"income.base_growth", "1/yr", -0.99, 10, "Growth of base household income",
       "assumption: somewhat below the growth of rural per-capita income 2009-2021 (net income "
       "RMB 5,153 in 2009, disposable income RMB 18,931 in 2021, NBS; the definitions differ); the "
       "national scenario sets a value fitted to public figures (docs/calibration.md, \"The "
       "national fit\")",
       "", RS_REF(income.base_growth)},
      {"income.household_size", "persons", 1, 20, "Persons per rural household",
       "assumption: rural households are larger than the 3.10-person national mean of the 2010 "
       "census",
       "", RS_REF(income.household_size)},
      {"income.urban_per_capita", "RMB/yr", 0, 1.0e7,
       "Urban per-capita disposable income at the start year",
       "NBS: urban per-capita disposable income RMB 17,175 in 2009", "",
       RS_REF(income.urban_per_capita)},
      {"income.urban_growth", "1/yr", -0.99, 10, "Growth of urban per-capita income",
       "NBS: RMB 17,175 (2009) to 47,412 (2021), 8.8% a year", "", RS_REF(income.urban_growth)},
      // output
      {"output.every", "ticks", 1, 100000, "Record the time series every this many ticks", kRun, "",
       RS_REF(output.every)},
      {"output.village_snapshots", "-", 0, 1,
       "Write annual village snapshots (large for national runs)", kRun, "",
       RS_REF(output.village_snapshots)},
      {"output.large_store_sales", "RMB/yr", 0, 1.0e15,
       "Trailing-year sales above which a store counts as large (large_store_share)", kRun, "",
       RS_REF(output.large_store_sales)},
      {"output.snapshot_years", "yr", 1990, 2199,
       "Years at whose end every store and livestreamer is written to /snapshots/<year> "
       "(docs/outputs.md); a list of calendar years of the run, `last` for the last simulated "
       "year, [] for none",
       kRun, "", RS_REF(output.snapshot_years)},
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
  if (auto l = std::get_if<YearList*>(&r)) {
    std::string out = "[";
    for (std::size_t i = 0; i < (*l)->size(); ++i) {
      const std::int64_t y = (**l)[i];
      out += (i ? ", " : "") + (y == kLastYear ? std::string("last") : std::to_string(y));
    }
    return out + "]";
  }
  const std::string& s = *std::get<std::string*>(r);
  std::string q = "\"";  // always quoted, with YAML double-quote escapes
  for (char ch : s) {
    if (ch == '"' || ch == '\\') q += '\\';
    q += ch;
  }
  return q + "\"";
}

std::vector<std::int32_t> snapshot_years(const Params& p) {
  const auto last = p.simulation.start_year + p.simulation.years - 1;
  std::vector<std::int32_t> out;
  for (const std::int64_t y : p.output.snapshot_years)
    out.push_back(static_cast<std::int32_t>(y == kLastYear ? last : y));
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
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
    else if (std::holds_alternative<YearList*>(r))
      range = "list of years in [" + fmt_number(s.min) + ", " + fmt_number(s.max) +
              "] within the run, or last";
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

#pragma once
#include <string>

#include "core/params.hpp"
#include "model/world.hpp"

namespace ruralsim {

// Synthetic geography from the geography.* parameters (deterministic in geography.seed).
Geography generate_geography(const Params& p, std::size_t n_categories);
// Village table from CSV: id,town,county,province,x,y,households plus optional columns
// specialty,strength,base_income. Errors name the file, line and column.
Geography load_geography_csv(const std::string& path, const Params& p,
                             const std::vector<Category>& categories);
// Shared completion step: county/town ranges, distance to seat, neighbour lists within
// adoption.radius_km (spatial grid). Villages must already be sorted by (province, county, town).
void finish_geography(Geography& g, const Params& p);

}  // namespace ruralsim

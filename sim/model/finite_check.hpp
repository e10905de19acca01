#pragma once
// Results are finite: the additive quantities of every village and county and the recorded
// outputs are checked at each record. A NaN or an infinity stops the run with a message naming
// the variable, the entity and the tick (a ratio with a zero denominator is NaN by definition
// and is allowed; an infinity never is).
#include <stdexcept>
#include <string>
#include <vector>

#include "model/world.hpp"

namespace ruralsim {

class NonFiniteError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Every per-village and per-county additive quantity (flows since the last record and stocks).
void check_finite_quantities(const World& w, int tick, int ticks_per_year, int start_year);

// One record of outputs (output_table() order; province and county entity-major).
void check_finite_outputs(const Geography& g, int tick, int ticks_per_year, int start_year,
                          const std::vector<double>& national, const std::vector<double>& province,
                          const std::vector<double>& county);

}  // namespace ruralsim

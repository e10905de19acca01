#pragma once
// Factories of the intervention types (one file each); the registry lists them.
#include <memory>

#include "policy/intervention.hpp"

namespace ruralsim {

std::unique_ptr<Intervention> make_rural_commissioner(EntryReader& r);
std::unique_ptr<Intervention> make_rural_technology_officer(EntryReader& r);
std::unique_ptr<Intervention> make_livestream_training(EntryReader& r);
std::unique_ptr<Intervention> make_station_programme(EntryReader& r);
std::unique_ptr<Intervention> make_county_centre_programme(EntryReader& r);
std::unique_ptr<Intervention> make_branding_programme(EntryReader& r);
std::unique_ptr<Intervention> make_shipping_subsidy(EntryReader& r);
std::unique_ptr<Intervention> make_internet_upgrade(EntryReader& r);
std::unique_ptr<Intervention> make_taobao_thresholds(EntryReader& r);

}  // namespace ruralsim

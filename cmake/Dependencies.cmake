# Every external dependency, in one place. All come from Debian 12 packages:
#   libboost-dev libtbb-dev libhdf5-dev libyaml-cpp-dev catch2
find_package(Boost 1.74 REQUIRED)
find_package(TBB REQUIRED)
find_package(yaml-cpp REQUIRED)
find_package(HDF5 REQUIRED COMPONENTS C HL)
find_package(Threads REQUIRED)
if(RURALSIM_BUILD_TESTS)
  find_package(Catch2 2 REQUIRED)
endif()

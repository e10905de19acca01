// The Taobao Village and Taobao Town rules, exact at their edges.
#include <catch2/catch.hpp>

#include "model/submodels.hpp"

using namespace ruralsim;

TEST_CASE("Taobao Village: sales threshold is inclusive at RMB 10 million", "[recognition]") {
  RecognitionRules r;
  CHECK_FALSE(meets_taobao_village(9'999'999.0, 150, 1000, r));
  CHECK(meets_taobao_village(10'000'000.0, 150, 1000, r));
}

TEST_CASE("Taobao Village: 100 active stores", "[recognition]") {
  RecognitionRules r;
  // 5,000 households: 10% would need 500 stores, so only the count rule can hold.
  CHECK_FALSE(meets_taobao_village(2e7, 99, 5000, r));
  CHECK(meets_taobao_village(2e7, 100, 5000, r));
}

TEST_CASE("Taobao Village: stores >= 10% of households", "[recognition]") {
  RecognitionRules r;
  CHECK_FALSE(meets_taobao_village(2e7, 99, 1000, r));   // 9.9%
  CHECK(meets_taobao_village(2e7, 100, 1000, r));        // 10%
  CHECK_FALSE(meets_taobao_village(2e7, 32, 330, r));    // 9.7%
  CHECK(meets_taobao_village(2e7, 33, 330, r));          // exactly 10%
  CHECK_FALSE(meets_taobao_village(2e7, 0, 0, r));       // no households
  CHECK_FALSE(meets_taobao_village(9.9e6, 33, 330, r));  // store rule met, sales not
}

TEST_CASE("Taobao Village: every threshold is a parameter", "[recognition]") {
  RecognitionRules r;
  r.village_sales = 5e6;
  r.village_stores = 50;
  r.village_store_share = 0.2;
  CHECK(meets_taobao_village(5e6, 50, 10000, r));
  CHECK_FALSE(meets_taobao_village(5e6, 49, 10000, r));
  CHECK(meets_taobao_village(5e6, 40, 200, r));
  CHECK_FALSE(meets_taobao_village(5e6, 39, 200, r));
}

TEST_CASE("Taobao Town: three villages and sales or stores", "[recognition]") {
  RecognitionRules r;
  CHECK_FALSE(meets_taobao_town(2, 1e9, 1000, r));   // 2 villages
  CHECK(meets_taobao_town(3, 3.0e7 + 1, 0, r));      // sales alternative (strictly above)
  CHECK_FALSE(meets_taobao_town(3, 3.0e7, 300, r));  // both exactly at the line: not above
  CHECK(meets_taobao_town(3, 0, 301, r));            // store alternative (strictly above)
  CHECK_FALSE(meets_taobao_town(3, 2.9e7, 300, r));
}

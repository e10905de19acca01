#include <catch2/catch.hpp>

#include <cstdint>
#include <string>

#include "core/rng.hpp"
#include "core/sha256.hpp"

using ruralsim::Sha256;
using ruralsim::sha256_hex;

namespace {

// Runs the checks with the portable code, then with the SHA extensions where present.
struct BothImplementations {
  explicit BothImplementations(bool hw) : was(ruralsim::sha256_use_hardware(hw)) {}
  ~BothImplementations() { ruralsim::sha256_use_hardware(was); }
  bool was;
};

}  // namespace

TEST_CASE("sha256 standard vectors", "[sha256]") {
  const bool hw = GENERATE(false, true);
  if (hw && !ruralsim::sha256_hardware_available()) return;
  INFO("SHA extensions: " << hw);
  BothImplementations use(hw);
  CHECK(sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") ==
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  CHECK(sha256_hex(std::string(1000000, 'a')) ==
        "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST_CASE("sha256 incremental updates match one-shot hashing", "[sha256]") {
  const bool hw = GENERATE(false, true);
  if (hw && !ruralsim::sha256_hardware_available()) return;
  INFO("SHA extensions: " << hw);
  BothImplementations use(hw);
  // Feed one million 'a' in uneven pieces that straddle the 64-byte block boundary.
  const std::string chunk(997, 'a');
  Sha256 s;
  std::size_t fed = 0;
  while (fed + chunk.size() <= 1000000) {
    s.update(chunk.data(), chunk.size());
    fed += chunk.size();
  }
  s.update(chunk.data(), 1000000 - fed);
  CHECK(s.hex_digest() == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");

  // Byte-by-byte, around the padding edge cases (55, 56, 63, 64, 65 bytes).
  for (std::size_t n : {55u, 56u, 63u, 64u, 65u, 119u, 120u, 128u}) {
    const std::string msg(n, 'x');
    Sha256 b;
    for (char c : msg) b.update(&c, 1);
    CHECK(b.hex_digest() == sha256_hex(msg));
  }
}

TEST_CASE("sha256 digest does not disturb the running state", "[sha256]") {
  Sha256 s;
  s.update("ab", 2);
  CHECK(s.hex_digest() == sha256_hex("ab"));
  CHECK(s.hex_digest() == sha256_hex("ab"));  // repeatable
  s.update("c", 1);
  CHECK(s.hex_digest() == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  s.reset();
  CHECK(s.hex_digest() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST_CASE("sha256 with the SHA extensions equals the portable code", "[sha256]") {
  if (!ruralsim::sha256_hardware_available()) return;  // nothing to compare on this processor
  ruralsim::Stream rs(3, ruralsim::Purpose::Intervention, 0, 0);
  for (std::size_t n : {0u, 1u, 63u, 64u, 65u, 127u, 128u, 1000u, 4096u, 100003u}) {
    std::string data(n, '\0');
    for (auto& c : data) c = static_cast<char>(rs() & 0xff);
    ruralsim::sha256_use_hardware(false);
    const std::string portable = sha256_hex(data);
    ruralsim::sha256_use_hardware(true);
    // Fed in uneven pieces as well as in one piece.
    Sha256 pieces;
    for (std::size_t at = 0; at < n;) {
      const std::size_t take = std::min<std::size_t>(n - at, 1 + (rs() % 300));
      pieces.update(data.data() + at, take);
      at += take;
    }
    CHECK(sha256_hex(data) == portable);
    CHECK(pieces.hex_digest() == portable);
  }
  ruralsim::sha256_use_hardware(true);
}

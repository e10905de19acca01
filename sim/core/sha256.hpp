#pragma once
// Small self-contained SHA-256 (FIPS 180-4), used for the content hash of output files.
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

namespace ruralsim {

class Sha256 {
 public:
  Sha256() { reset(); }
  void reset();
  void update(const void* data, std::size_t size);
  void update(const std::string& s) { update(s.data(), s.size()); }
  // Digest of everything fed so far. Does not modify the state: more data may be fed afterwards
  // and the digest taken again (it then covers all data).
  std::array<std::uint8_t, 32> digest() const;
  std::string hex_digest() const;  // 64 lowercase hex characters

 private:
  void compress(const std::uint8_t* block);

  std::array<std::uint32_t, 8> h_{};
  std::array<std::uint8_t, 64> buf_{};
  std::size_t buf_len_ = 0;
  std::uint64_t total_bytes_ = 0;
};

// Hex SHA-256 of a byte string.
std::string sha256_hex(const std::string& data);

}  // namespace ruralsim

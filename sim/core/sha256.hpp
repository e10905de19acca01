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
  void compress(const std::uint8_t* block);                            // portable
  void compress_blocks(const std::uint8_t* data, std::size_t blocks);  // hardware when present

  std::array<std::uint32_t, 8> h_{};
  std::array<std::uint8_t, 64> buf_{};
  std::size_t buf_len_ = 0;
  std::uint64_t total_bytes_ = 0;
};

// Whether this processor has the x86 SHA extensions, which Sha256 then uses (the same digests).
bool sha256_hardware_available();
// Turns the use of the SHA extensions on (when available) or off, for every Sha256; returns the
// previous setting. For tests and measurements.
bool sha256_use_hardware(bool on);

// Hex SHA-256 of a byte string.
std::string sha256_hex(const std::string& data);

}  // namespace ruralsim

// Fuzzes decode_udp_header (RFC 1928 §7): a datagram arrives whole, so the
// decoder must never ask for more, and what it accepts must re-encode exactly.
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

#include "fuzz_check.hpp"
#include "socks5/codec.hpp"

using namespace socksify::socks5;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::byte> in(reinterpret_cast<const std::byte*>(data), size);
  const auto d = decode_udp_header(in);
  FUZZ_CHECK(d.status != DecodeStatus::NeedMore);
  if (d.status == DecodeStatus::Malformed) {
    FUZZ_CHECK(d.size == 0);
    return 0;
  }
  FUZZ_CHECK(d.size >= 8 && d.size <= size && d.size <= kMaxUdpHeader);
  FUZZ_CHECK(d.value.frag == data[2]);
  std::array<std::byte, kMaxUdpHeader> out{};
  const auto n = encode_udp_header(out, d.value.address);
  FUZZ_CHECK(n.ok() && *n == d.size);
  // The encoder writes FRAG 0; every other byte must match the input.
  FUZZ_CHECK(std::memcmp(out.data(), data, 2) == 0);
  FUZZ_CHECK(std::memcmp(out.data() + 3, data + 3, d.size - 3) == 0);
  return 0;
}

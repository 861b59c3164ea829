// Fuzzes decode_reply (RFC 1928 §6) with arbitrary bytes and checks the
// contract a reader relies on to never read past a reply.
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
  const auto d = decode_reply(in);
  switch (d.status) {
    case DecodeStatus::Malformed:
      FUZZ_CHECK(d.size == 0);
      break;
    case DecodeStatus::NeedMore:
      // Progress needs more than we have, and never more than the largest reply.
      FUZZ_CHECK(d.size > size);
      FUZZ_CHECK(d.size <= kMaxReply);
      break;
    case DecodeStatus::Ok: {
      FUZZ_CHECK(d.size >= 8 && d.size <= size && d.size <= kMaxReply);
      // Request and reply share a layout (RFC 1928 §4, §6): re-encoding the
      // decoded reply must give back exactly the consumed bytes.
      std::array<std::byte, kMaxRequest> out{};
      const auto n = encode_request(out, static_cast<Command>(data[1]), d.value.bound);
      FUZZ_CHECK(n.ok() && *n == d.size);
      FUZZ_CHECK(std::memcmp(out.data(), data, d.size) == 0);
      FUZZ_CHECK(d.value.code == data[1]);
      // Every shorter prefix asks for more, and for no more than this reply.
      for (std::size_t k = 0; k < d.size; ++k) {
        const auto p = decode_reply(in.first(k));
        FUZZ_CHECK(p.status == DecodeStatus::NeedMore && p.size > k && p.size <= d.size);
      }
      break;
    }
  }
  return 0;
}

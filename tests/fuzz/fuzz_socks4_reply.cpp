// Fuzzes socks4::decode_reply with arbitrary bytes and checks the contract a
// reader relies on to never read past the 8-byte reply.
#include <cstddef>
#include <cstdint>
#include <span>

#include "fuzz_check.hpp"
#include "socks4/codec.hpp"

using namespace socksify;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::byte> in(reinterpret_cast<const std::byte*>(data), size);
  const auto d = socks4::decode_reply(in);
  switch (d.status) {
    case socks5::DecodeStatus::Malformed:
      FUZZ_CHECK(d.size == 0);
      FUZZ_CHECK(size >= 1);
      FUZZ_CHECK(data[0] != 0 || (size >= 2 && (data[1] < 90 || data[1] > 93)));
      break;
    case socks5::DecodeStatus::NeedMore:
      FUZZ_CHECK(size < socks4::kReplySize && d.size == socks4::kReplySize);
      break;
    case socks5::DecodeStatus::Ok: {
      FUZZ_CHECK(d.size == socks4::kReplySize && size >= d.size);
      FUZZ_CHECK(data[0] == 0 && d.value.code == data[1]);
      FUZZ_CHECK(d.value.code >= 90 && d.value.code <= 93);
      FUZZ_CHECK(d.value.bound.kind() == Endpoint::Kind::IPv4);
      FUZZ_CHECK(d.value.bound.port() == ((data[2] << 8) | data[3]));
      const auto addr = d.value.bound.address();
      for (std::size_t i = 0; i < 4; ++i) FUZZ_CHECK(addr[i] == data[4 + i]);
      // Every shorter prefix asks for exactly the reply's size.
      for (std::size_t k = 0; k < d.size; ++k) {
        const auto p = socks4::decode_reply(in.first(k));
        FUZZ_CHECK(p.status == socks5::DecodeStatus::NeedMore && p.size == socks4::kReplySize);
      }
      const int e = socks4::reply_errno(d.value.code);
      FUZZ_CHECK(d.value.code == 90 ? e == 0 : e != 0);
      break;
    }
  }
  return 0;
}

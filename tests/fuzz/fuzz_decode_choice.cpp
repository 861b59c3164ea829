// Fuzzes the two-byte server messages: the method choice (RFC 1928 §3) and the
// username/password status (RFC 1929 §2).
#include <cstddef>
#include <cstdint>
#include <span>

#include "fuzz_check.hpp"
#include "socks5/codec.hpp"

using namespace socksify::socks5;

namespace {

template <class T>
void check_pair(const Decoded<T>& d, const std::uint8_t* data, std::size_t size,
                std::uint8_t version) {
  if (size >= 1 && data[0] != version) {
    FUZZ_CHECK(d.status == DecodeStatus::Malformed && d.size == 0);
  } else if (size < 2) {
    FUZZ_CHECK(d.status == DecodeStatus::NeedMore && d.size == 2);
  } else {
    FUZZ_CHECK(d.status == DecodeStatus::Ok && d.size == 2);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::byte> in(reinterpret_cast<const std::byte*>(data), size);

  const auto m = decode_method_choice(in);
  check_pair(m, data, size, kVersion);
  if (m.status == DecodeStatus::Ok) FUZZ_CHECK(static_cast<std::uint8_t>(m.value) == data[1]);

  const auto a = decode_auth_reply(in);
  check_pair(a, data, size, kAuthVersion);
  if (a.status == DecodeStatus::Ok) FUZZ_CHECK(a.value == (data[1] == 0));
  return 0;
}

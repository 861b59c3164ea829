#include "core/udp_datagram.hpp"

#include <algorithm>

#include "core/scatter.hpp"
#include "socks5/codec.hpp"

namespace socksify {

Unwrapped unwrap_datagram(std::span<const iovec> all, std::size_t expected, std::size_t length,
                          std::size_t capacity) noexcept {
  Unwrapped u;
  if (all.empty()) return u;
  const std::size_t received = std::min(length, scatter_size(all));
  const auto* header = static_cast<const std::byte*>(all[0].iov_base);
  auto h = socks5::decode_udp_header(
      std::span<const std::byte>(header, std::min({expected, all[0].iov_len, received})));
  if (h.status != socks5::DecodeStatus::Ok) {
    // Longer than expected (a name, or an IPv6 source after IPv4 ones): its
    // tail is in the program's buffers; read it across them.
    std::byte joined[socks5::kMaxUdpHeader];
    const std::size_t got =
        scatter_gather(all, 0, std::span<std::byte>(joined, std::min(received, sizeof joined)));
    h = socks5::decode_udp_header(std::span<const std::byte>(joined, got));
    if (h.status != socks5::DecodeStatus::Ok) return u;
  }
  u.ok = true;
  u.header_len = h.size;
  u.frag = h.value.frag;
  u.source = h.value.address;
  u.payload_len = length - u.header_len;
  u.delivered = std::min({u.payload_len, capacity, received - u.header_len});
  realign_payload(all, expected, u.header_len, u.delivered);
  return u;
}

}  // namespace socksify

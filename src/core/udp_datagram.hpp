// Unwrapping a datagram from the relay (RFC 1928 §7) received with
// scatter/gather into [header buffer | the program's buffers | slack]: decode
// its header wherever it lies, and move the payload to the start of the
// program's buffers when the header was not as long as the header buffer.
// Pure: tests feed it buffers laid out as the kernel would fill them.
#pragma once

#include <sys/uio.h>

#include <cstddef>
#include <span>

#include "base/endpoint.hpp"

namespace socksify {

struct Unwrapped {
  bool ok = false;              // false: malformed header (drop the datagram)
  std::size_t header_len = 0;   // the header's real length
  std::uint8_t frag = 0;        // FRAG; non-zero means a fragment (we drop those)
  Endpoint source;              // DST.ADDR/DST.PORT: where the payload came from
  std::size_t payload_len = 0;  // the whole payload, whether it fit or not
  std::size_t delivered = 0;    // payload bytes now at the start of the program's buffers
};

// `all` = the iovecs of the receive: all[0] the header buffer of `expected`
// bytes, then the program's buffers, then a slack buffer of
// socks5::kMaxUdpHeader - expected bytes (so any header fits without losing
// payload the program's buffers could hold). `length` is the datagram's full
// length (recvmsg with MSG_TRUNC). `capacity` is the program's buffers' size.
Unwrapped unwrap_datagram(std::span<const iovec> all, std::size_t expected, std::size_t length,
                          std::size_t capacity) noexcept;

}  // namespace socksify

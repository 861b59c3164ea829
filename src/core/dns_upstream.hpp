// Questions the DNS stub does not answer itself (MX, TXT, SRV... with a
// dns_upstream configured): sent through the proxy over TCP (RFC 7766) to the
// upstream, and the upstream's response, checked by dns/dns_forward.hpp,
// delivered where the program waits for it.
//
// On a helper thread (one per question, at most kMaxForwards at once, signals
// blocked): a program's non-blocking send returns at once and its event loop
// sees the answer arrive as a datagram or stream bytes, like any other. A
// failure (proxy down, upstream silent past connect_timeout, a response to
// another question) is answered SERVFAIL, so the program's resolver moves on
// instead of waiting out its timeout.
#pragma once

#include <sys/socket.h>

#include <atomic>
#include <cstddef>
#include <span>

#include "dns/resolv_answer.hpp"

namespace socksify {

inline constexpr int kMaxForwards = 32;

// Where the answer goes.
struct DnsReplyTo {
  // UDP: a datagram from the injector to this address (the program's socket).
  sockaddr_storage addr{};
  socklen_t addr_len = 0;
  bool v6only = false;
  // TCP: the stream's server end, as a duplicate the job owns (-1 for UDP).
  std::atomic<int> stream{-1};
};

// Starts the exchange for `query` (one DNS message, without a TCP prefix).
// False when no thread could be had (too many at once, no memory): the caller
// answers SERVFAIL itself. Takes a duplicate of stream_fd for a TCP reply.
bool dns_forward(std::span<const std::byte> query, const sockaddr_storage* udp_to,
                 socklen_t udp_to_len, bool v6only, int stream_fd) noexcept;

// The same exchange in the caller's thread, for callers that wait for the
// answer anyway (glibc's res_query and res_send, shim/resolv.cpp): the
// upstream's response to q into out (at most out.size() bytes, truncated with
// TC beyond), its size; 0 when there is none (the caller answers NODATA).
class UpstreamForwarder final : public dns::Forwarder {
 public:
  std::size_t forward(const dns::Query& q, std::span<const std::byte> query,
                      std::span<std::byte> out) noexcept override;
};

// The forwarder when a dns_upstream is configured, else nullptr.
dns::Forwarder* dns_upstream_forwarder() noexcept;

}  // namespace socksify

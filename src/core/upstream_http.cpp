// HTTP CONNECT (RFC 9110 §9.3.6) as an Upstream: one request and one reply,
// Basic credentials when the proxy URL has a user.
#include "core/upstream_http.hpp"

#include <cerrno>

#include "http/connect_exchange.hpp"

namespace socksify {
namespace {

class HttpUpstream final : public Upstream {
 public:
  // CONNECT makes a TCP tunnel to a host and port, nothing else: HTTP has no
  // UDP relay and no way to accept an inbound connection (BIND).
  bool carries(socks5::Command cmd) const noexcept override {
    return cmd == socks5::Command::Connect;
  }
  std::string_view refusal(socks5::Command cmd) const noexcept override {
    return cmd == socks5::Command::UdpAssociate
               ? "an HTTP proxy carries TCP only (CONNECT): UDP refused, not sent direct"
               : "an HTTP proxy cannot BIND (CONNECT only): refused, not done direct";
  }

  Result<socks5::Reply, socks5::Failure> open(socks5::Stream& stream, const ProxySpec& proxy,
                                              socks5::Command, const Endpoint& dst) const override {
    return http::connect(stream, proxy.user, proxy.password, dst);
  }

  // Sending the request failed or the proxy hung up before its first byte.
  bool is_down(const socks5::Failure& f) const noexcept override {
    if (f.stage != socks5::Stage::Greeting) return false;
    const int e = f.error.code;
    return e == ECONNRESET || e == ETIMEDOUT || e == EPIPE || e == ECONNREFUSED;
  }
};

constinit const HttpUpstream kHttp{};

}  // namespace

const Upstream& http_upstream() noexcept {
  return kHttp;
}

}  // namespace socksify

// HTTP CONNECT (RFC 9110 §9.3.6) as an Upstream: one request and one reply,
// Basic credentials when the proxy URL has a user.
#include "core/upstream_http.hpp"

#include "http/connect_exchange.hpp"

namespace socksify {
namespace {

// CONNECT makes a TCP tunnel to a host and port, nothing else: HTTP has no UDP
// relay and no way to accept an inbound connection (BIND).
class HttpUpstream final : public ConnectOnlyUpstream {
 public:
  constexpr HttpUpstream()
      : ConnectOnlyUpstream(
            "an HTTP proxy carries TCP only (CONNECT): UDP refused, not sent direct",
            "an HTTP proxy cannot BIND (CONNECT only): refused, not done direct") {}

  Result<socks5::Reply, socks5::Failure> open(socks5::Stream& stream, const ProxySpec& proxy,
                                              socks5::Command, const Endpoint& dst) const override {
    return http::connect(stream, proxy.user, proxy.password, dst);
  }
};

constinit const HttpUpstream kHttp{};

}  // namespace

const Upstream& http_upstream() noexcept {
  return kHttp;
}

}  // namespace socksify

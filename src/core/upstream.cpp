#include "core/upstream.hpp"

#include <cerrno>

#include "core/upstream_http.hpp"

namespace socksify {
namespace {

// RFC 1928 with the RFC 1929 username/password method when the proxy has a user.
class Socks5Upstream final : public Upstream {
 public:
  bool carries(socks5::Command) const noexcept override { return true; }

  Result<socks5::Reply, socks5::Failure> open(socks5::Stream& stream, const ProxySpec& proxy,
                                              socks5::Command cmd,
                                              const Endpoint& dst) const override {
    return socks5::handshake(stream, {proxy.user, proxy.password}, cmd, dst);
  }

  // Hung up or never answered the greeting. A proxy that chose a method, or
  // refused one, is up and has answered.
  bool is_down(const socks5::Failure& f) const noexcept override {
    if (f.stage != socks5::Stage::Greeting) return false;
    const int e = f.error.code;
    return e == ECONNRESET || e == ETIMEDOUT || e == EPIPE || e == ECONNREFUSED;
  }
};

// constinit: a hook may run before dynamic initialisation (another library's constructor).
constinit const Socks5Upstream kSocks5{};

}  // namespace

const Upstream& upstream_for(const ProxySpec& proxy) noexcept {
  switch (proxy.protocol) {
    case ProxyProtocol::Socks5: return kSocks5;
    case ProxyProtocol::Http: return http_upstream();
  }
  return kSocks5;
}

}  // namespace socksify

#include "core/upstream.hpp"

#include <cerrno>

#include "core/upstream_http.hpp"
#include "socks4/handshake.hpp"

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
  Result<socks5::Reply, socks5::Failure> open_pipelined(socks5::Stream& stream,
                                                        const ProxySpec& proxy, socks5::Command cmd,
                                                        const Endpoint& dst,
                                                        socks5::Pipelining how) const override {
    return socks5::handshake(stream, {proxy.user, proxy.password}, cmd, dst, how);
  }
};

// SOCKS4 (names refused) and SOCKS4a (names sent): CONNECT only. BIND would
// need its second reply read by tcp_bind, which speaks SOCKS5's; UDP does not exist.
class Socks4Upstream final : public ConnectOnlyUpstream {
 public:
  explicit constexpr Socks4Upstream(bool names)
      : ConnectOnlyUpstream(
            "a SOCKS4 proxy carries TCP only (CONNECT): UDP refused, not sent direct",
            "BIND over SOCKS4 is not supported"),
        names_(names) {}

  Result<socks5::Reply, socks5::Failure> open(socks5::Stream& stream, const ProxySpec& proxy,
                                              socks5::Command cmd,
                                              const Endpoint& dst) const override {
    // Sessions ask carries() first; --check's side requests need not.
    if (!carries(cmd)) {
      return socks5::Failure{Errno{EOPNOTSUPP}, socks5::Stage::Request, 0,
                             cmd == socks5::Command::UdpAssociate
                                 ? "SOCKS4 cannot carry UDP"
                                 : "BIND over SOCKS4 is not supported"};
    }
    return socks4::handshake(stream, proxy.user, socks4::Command::Connect, dst, names_);
  }

 private:
  bool names_;
};

// constinit: a hook may run before dynamic initialisation (another library's constructor).
constinit const Socks5Upstream kSocks5{};
constinit const Socks4Upstream kSocks4{false};
constinit const Socks4Upstream kSocks4a{true};

}  // namespace

bool Upstream::is_down(const socks5::Failure& f) const noexcept {
  if (f.stage != socks5::Stage::Greeting) return false;
  const int e = f.error.code;
  return e == ECONNRESET || e == ETIMEDOUT || e == EPIPE || e == ECONNREFUSED;
}

const Upstream& upstream_for(const ProxySpec& proxy) noexcept {
  switch (proxy.protocol) {
    case ProxyProtocol::Socks5:
      return kSocks5;
    case ProxyProtocol::Socks4:
      return kSocks4;
    case ProxyProtocol::Socks4a:
      return kSocks4a;
    case ProxyProtocol::Http:
      return http_upstream();
  }
  return kSocks5;
}

}  // namespace socksify

// Upstream: the protocol spoken to one proxy, chosen from its ProxySpec. A
// session (core/session.cpp) connects, then asks the proxy's Upstream to run
// its exchange over a socks5::Stream; failover, chains, the log line and
// --check are the same whatever the protocol. SOCKS5 and HTTP CONNECT
// (core/upstream_http.cpp) today; SOCKS4 (issue 13) adds an implementation
// and a case in upstream_for(), nothing else.
//
// The vocabulary is SOCKS5's (Command, Reply, Failure with its Stage): the
// others map onto it (SOCKS4 has CONNECT and BIND and a one-byte reply code;
// HTTP CONNECT has a request and a status line).
#pragma once

#include <string_view>

#include "base/endpoint.hpp"
#include "base/result.hpp"
#include "config/proxy_spec.hpp"
#include "socks5/codec.hpp"
#include "socks5/handshake.hpp"

namespace socksify {

class Upstream {
 public:
  // Whether the protocol has the command at all (a session refuses the
  // others with EOPNOTSUPP before connecting).
  virtual bool carries(socks5::Command cmd) const noexcept = 0;
  // Static text for the one line that refuses a command carries() denies.
  virtual std::string_view refusal(socks5::Command) const noexcept {
    return "the proxy's protocol cannot carry it";
  }
  // The whole exchange on a connected stream: asks `proxy` to carry `cmd` to dst.
  // Reads no byte past the proxy's reply.
  virtual Result<socks5::Reply, socks5::Failure> open(socks5::Stream& stream,
                                                      const ProxySpec& proxy, socks5::Command cmd,
                                                      const Endpoint& dst) const = 0;
  // open() with SOCKS5's pipelining (socks5/handshake.hpp); a protocol
  // without it runs open().
  virtual Result<socks5::Reply, socks5::Failure> open_pipelined(socks5::Stream& stream,
                                                                const ProxySpec& proxy,
                                                                socks5::Command cmd,
                                                                const Endpoint& dst,
                                                                socks5::Pipelining how) const {
    (void)how;
    return open(stream, proxy, cmd, dst);
  }
  // A proxy that failed this way said nothing (it is down or not there):
  // failover may try the next. Anything it answered is final. By default: it
  // hung up or never answered the first message (the Greeting stage: SOCKS5's
  // greeting, SOCKS4's request, HTTP's CONNECT); a SOCKS5 proxy that chose a
  // method, or refused one, is up and has answered.
  virtual bool is_down(const socks5::Failure& f) const noexcept;

 protected:
  ~Upstream() = default;  // static instances only
};

// A protocol with CONNECT alone (SOCKS4, HTTP CONNECT): no UDP relay and no
// BIND, each refused in the protocol's own words.
class ConnectOnlyUpstream : public Upstream {
 public:
  constexpr ConnectOnlyUpstream(std::string_view no_udp, std::string_view no_bind) noexcept
      : no_udp_(no_udp), no_bind_(no_bind) {}
  bool carries(socks5::Command cmd) const noexcept final { return cmd == socks5::Command::Connect; }
  std::string_view refusal(socks5::Command cmd) const noexcept final {
    return cmd == socks5::Command::UdpAssociate ? no_udp_ : no_bind_;
  }

 protected:
  ~ConnectOnlyUpstream() = default;

 private:
  std::string_view no_udp_;
  std::string_view no_bind_;
};

// The Upstream for the proxy's protocol; a static object, never allocated.
const Upstream& upstream_for(const ProxySpec& proxy) noexcept;

}  // namespace socksify

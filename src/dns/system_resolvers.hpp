// SystemResolvers: the addresses a program's own resolver sends its queries to
// (glibc, c-ares, dig, Chromium: every `nameserver` line of /etc/resolv.conf),
// so that under remote DNS socksify can answer a query sent there instead of
// letting it out (issue 10 item 2; core/dns_intercept.hpp).
//
// Pure: parses resolv.conf text given as a string; reading the file is the
// caller's business.
#pragma once

#include <sys/socket.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "base/endpoint.hpp"

namespace socksify::dns {

inline constexpr std::uint16_t kDnsPort = 53;  // RFC 1035 §4.2

class SystemResolvers {
 public:
  // More than glibc's MAXNS (3): c-ares and Chromium read every line, so every
  // line counts. Lines beyond this are ignored (a query to such a server is
  // then carried like any other UDP, through the proxy: it still cannot leak).
  static constexpr std::size_t kMax = 16;

  // Every `nameserver ADDR` line (IPv4 or IPv6, an IPv6 scope "%eth0" ignored;
  // resolv.conf(5) takes no port), in order, duplicates once. Then, always,
  // 127.0.0.53 (systemd-resolved's stub, which programs such as Chromium also
  // try when it is not listed), and, when the text names no valid server,
  // 127.0.0.1 and ::1: where glibc and c-ares send queries then.
  static SystemResolvers parse(std::string_view resolv_conf);

  // True when addr is one of them on port 53 (a v4-mapped IPv6 address counts
  // as its IPv4 address): a query sent there is a query to a system resolver.
  bool contains(const Endpoint& addr) const noexcept;
  bool contains(const sockaddr* addr, socklen_t len) const noexcept;

  std::size_t size() const noexcept { return count_; }
  const Endpoint& operator[](std::size_t i) const noexcept { return list_[i]; }

 private:
  void add(const Endpoint& ep, std::size_t limit) noexcept;

  std::array<Endpoint, kMax + 3> list_{};  // + the loopback defaults
  std::size_t count_ = 0;
};

}  // namespace socksify::dns

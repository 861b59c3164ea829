// What the benchmark programs share: IPv4 "a.b.c.d:port" arguments, whole reads
// and writes on blocking or non-blocking sockets, and the minimal SOCKS5 client
// that their baselines run themselves (no authentication, IPv4 requests). It is
// deliberately not socksify's code: a baseline must not measure the library.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace bench {

// "a.b.c.d:port"; exits with status 2 and a message naming `prog` otherwise.
inline sockaddr_in parse_ipv4(const std::string& text, const char* prog) {
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  const auto colon = text.rfind(':');
  if (colon == std::string::npos ||
      inet_pton(AF_INET, text.substr(0, colon).c_str(), &sa.sin_addr) != 1) {
    std::fprintf(stderr, "%s: bad address %s (want a.b.c.d:port)\n", prog, text.c_str());
    std::exit(2);
  }
  sa.sin_port = htons(static_cast<std::uint16_t>(std::atoi(text.c_str() + colon + 1)));
  return sa;
}

// Waits until fd reports `events`; false on timeout (errno ETIMEDOUT) or error.
inline bool wait_for(int fd, short events, int timeout_ms = 10000) {
  pollfd p{fd, events, 0};
  for (;;) {
    const int r = poll(&p, 1, timeout_ms);
    if (r < 0 && errno == EINTR) continue;
    if (r == 0) errno = ETIMEDOUT;
    return r > 0;
  }
}

// Exactly n bytes, waiting in poll when a non-blocking socket has none yet;
// false on error or end of stream (errno ECONNRESET).
inline bool read_exact(int fd, void* buf, std::size_t n) {
  auto* p = static_cast<unsigned char*>(buf);
  while (n > 0) {
    const ssize_t r = read(fd, p, n);
    if (r > 0) {
      p += r;
      n -= static_cast<std::size_t>(r);
      continue;
    }
    if (r == 0) {
      errno = ECONNRESET;
      return false;
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN || !wait_for(fd, POLLIN)) return false;
  }
  return true;
}

inline bool write_all(int fd, const void* buf, std::size_t n) {
  auto* p = static_cast<const unsigned char*>(buf);
  while (n > 0) {
    const ssize_t w = write(fd, p, n);
    if (w > 0) {
      p += w;
      n -= static_cast<std::size_t>(w);
      continue;
    }
    if (w < 0 && errno == EINTR) continue;
    if (w == 0 || errno != EAGAIN || !wait_for(fd, POLLOUT)) return false;
  }
  return true;
}

// The command line of the TCP benchmarks, in their two modes:
//   PROG plain  TARGET COUNT MAX_SECONDS         (under LD_PRELOAD: connect() only)
//   PROG socks5 PROXY TARGET COUNT MAX_SECONDS   (the baseline speaks SOCKS5 itself)
// Prints the usage and exits with status 2 when argv fits neither.
struct ModeArgs {
  bool self = false;     // the client speaks the proxy's protocol itself
  std::string protocol;  // then: "socks5", or (connect_cycles) "socks4" or "http"
  sockaddr_in proxy{};
  sockaddr_in target{};
  long count = 0;
  double max_seconds = 0;
};

inline ModeArgs parse_mode_args(int argc, char** argv, const char* prog, const char* count_name) {
  const std::string mode = argc > 1 ? argv[1] : "";
  ModeArgs out;
  out.self = mode == "socks5" || mode == "socks4" || mode == "http";
  out.protocol = mode;
  if (!((mode == "plain" && argc == 5) || (out.self && argc == 6))) {
    std::fprintf(
        stderr,
        "usage: %s plain TARGET %s MAX_SECONDS\n       %s socks5 PROXY TARGET %s MAX_SECONDS\n",
        argv[0], count_name, argv[0], count_name);
    std::exit(2);
  }
  int a = 2;
  if (out.self) out.proxy = parse_ipv4(argv[a++], prog);
  out.target = parse_ipv4(argv[a++], prog);
  out.count = std::atol(argv[a++]);
  out.max_seconds = std::atof(argv[a++]);
  return out;
}

inline constexpr unsigned char kConnect = 0x01;
inline constexpr unsigned char kUdpAssociate = 0x03;

// RFC 1928 §3, §4, §6 on a socket connected to the proxy: greeting with NO AUTH,
// the method choice, the request `cmd` for the IPv4 `dst`, and the reply, whose
// BND is stored in *bound when asked for (then it must be IPv4) and read past
// otherwise. nullptr when the proxy said "succeeded"; else the failing step,
// with errno set.
inline const char* socks5_request(int fd, unsigned char cmd, const sockaddr_in& dst,
                                  sockaddr_in* bound = nullptr) {
  const unsigned char greeting[] = {0x05, 0x01, 0x00};  // VER, NMETHODS, NO AUTH
  unsigned char choice[2];
  if (!write_all(fd, greeting, sizeof greeting)) return "send greeting";
  if (!read_exact(fd, choice, sizeof choice)) return "read method choice";
  if (choice[0] != 0x05 || choice[1] != 0x00) {
    errno = EPROTO;
    return "proxy refused method NO AUTH";
  }
  unsigned char req[10] = {0x05, cmd, 0x00, 0x01};  // VER, CMD, RSV, ATYP IPv4
  std::memcpy(req + 4, &dst.sin_addr, 4);
  std::memcpy(req + 8, &dst.sin_port, 2);
  if (!write_all(fd, req, sizeof req)) return "send request";
  unsigned char rep[4];
  if (!read_exact(fd, rep, sizeof rep)) return "read reply";
  if (rep[0] != 0x05 || rep[1] != 0x00) {
    errno = ECONNREFUSED;
    return "proxy reply not 'succeeded'";
  }
  std::size_t rest = 0;  // BND.ADDR by ATYP, then BND.PORT
  unsigned char len = 0;
  switch (rep[3]) {
    case 0x01:
      rest = 4 + 2;
      break;
    case 0x04:
      rest = 16 + 2;
      break;
    case 0x03:
      if (!read_exact(fd, &len, 1)) return "read reply";
      rest = len + 2u;
      break;
    default:
      errno = EPROTO;
      return "reply with unknown ATYP";
  }
  unsigned char addr[258];
  if (!read_exact(fd, addr, rest)) return "read reply address";
  if (bound != nullptr) {
    if (rep[3] != 0x01) {
      errno = EAFNOSUPPORT;
      return "reply address not IPv4";
    }
    *bound = sockaddr_in{};
    bound->sin_family = AF_INET;
    std::memcpy(&bound->sin_addr, addr, 4);
    std::memcpy(&bound->sin_port, addr + 4, 2);
  }
  return nullptr;
}

}  // namespace bench

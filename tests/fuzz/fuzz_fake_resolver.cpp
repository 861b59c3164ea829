// Fuzzes the remote-DNS fake resolver: getaddrinfo with fuzzed node, service
// and hints on a small NameTable, then getnameinfo / gethostbyname2_r /
// gethostbyaddr_r on what it handed out. Input layout:
//   [0] ai_flags (bit i -> kFlags[i])   [1] family   [2] socktype   [3] protocol
//   [4] bit 0 hints NULL, bit 1 service NULL, bit 2 node NULL, bits 3-4 table
//       ranges (both, v4 only, v6 only, tiny /24 + /120), bits 5-7 capacity-1
//   [5] getnameinfo flags (bit i -> kNiFlags[i])   [6] host buffer length
//   [7..] node, NUL, service.
// Properties: every entry has the family, length and socktype asked for, an
// address inside the configured range, and maps back to the name it was
// given for; lists free cleanly (ASan checks leaks and double frees).
#include <arpa/inet.h>
#include <netdb.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

#include "base/cidr.hpp"
#include "dns/fake_resolver.hpp"
#include "dns/name_table.hpp"
#include "fuzz_check.hpp"

using namespace socksify;

namespace {

constexpr int kFlags[] = {AI_PASSIVE, AI_CANONNAME,  AI_NUMERICHOST, AI_V4MAPPED,
                          AI_ALL,     AI_ADDRCONFIG, AI_NUMERICSERV, 0x4000 /* unknown */};
constexpr int kNiFlags[] = {NI_NUMERICHOST, NI_NUMERICSERV,       NI_NOFQDN, NI_NAMEREQD,
                            NI_DGRAM,       0x1000 /* unknown */, 0,         0};
constexpr int kFamilies[] = {AF_UNSPEC, AF_INET, AF_INET6, AF_UNIX};
constexpr int kSocktypes[] = {0, SOCK_STREAM, SOCK_DGRAM, SOCK_RAW, SOCK_SEQPACKET, SOCK_DCCP, 77};
constexpr int kProtocols[] = {
    0, IPPROTO_TCP, IPPROTO_UDP, IPPROTO_SCTP, IPPROTO_UDPLITE, IPPROTO_DCCP, 99};

// A fixed services database: the fuzzer should not depend on /etc/services.
std::optional<std::uint16_t> port_of(const char* name, const char* proto) noexcept {
  if (std::strcmp(name, "http") == 0) return 80;
  if (std::strcmp(name, "domain") == 0) return 53;
  if (std::strcmp(name, "tcponly") == 0 && std::strcmp(proto, "tcp") == 0) return 7000;
  return std::nullopt;
}
int name_of(std::uint16_t port, const char*, std::span<char> out) noexcept {
  const char* name = port == 80 ? "http" : port == 53 ? "domain" : nullptr;
  if (name == nullptr) return -1;
  const int len = static_cast<int>(std::strlen(name));
  if (static_cast<std::size_t>(len) < out.size()) std::memcpy(out.data(), name, len + 1);
  return len;
}
constexpr ServiceDb kServices{port_of, name_of};

Cidr cidr(const char* text) {
  return *parse_cidr(text);
}

bool in(const Cidr& c, const std::uint8_t* addr) {
  const unsigned bits = c.family == AF_INET ? 32 : 128;
  for (unsigned b = 0; b < c.prefix && b < bits; ++b) {
    const std::uint8_t m = 0x80 >> (b % 8);
    if ((addr[b / 8] & m) != (c.bytes[b / 8] & m)) return false;
  }
  return true;
}

template <std::size_t N>
int pick(const int (&table)[N], std::uint8_t byte) {
  return table[byte % N];
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 7) return 0;
  addrinfo hints{};
  for (int i = 0; i < 8; ++i) {
    if (data[0] & (1 << i)) hints.ai_flags |= kFlags[i];
  }
  hints.ai_family = pick(kFamilies, data[1]);
  hints.ai_socktype = pick(kSocktypes, data[2]);
  hints.ai_protocol = pick(kProtocols, data[3]);
  const bool null_hints = data[4] & 1, null_service = data[4] & 2, null_node = data[4] & 4;
  int ni_flags = 0;
  for (int i = 0; i < 8; ++i) {
    if (data[5] & (1 << i)) ni_flags |= kNiFlags[i];
  }
  const std::size_t hostlen = data[6];

  Cidr v4 = cidr("240.0.0.0/4"), v6 = cidr("100::/64");
  switch ((data[4] >> 3) & 3) {
    case 1:
      v6 = Cidr{};
      break;
    case 2:
      v4 = Cidr{};
      break;
    case 3:
      v4 = cidr("198.18.0.0/24");
      v6 = cidr("100::/120");
      break;
    default:
      break;
  }
  NameTable table(v4, v6, ((data[4] >> 5) & 7) + 1);

  const std::string_view rest(reinterpret_cast<const char*>(data + 7), size - 7);
  const auto nul = rest.find('\0');
  const std::string node(rest.substr(0, nul));
  const std::string service(nul == std::string_view::npos ? std::string_view()
                                                          : rest.substr(nul + 1));

  addrinfo* res = nullptr;
  const int rc = fake_getaddrinfo(table, null_node ? nullptr : node.c_str(),
                                  null_service ? nullptr : service.c_str(),
                                  null_hints ? nullptr : &hints, &res, kServices);
  if (rc != 0) {
    FUZZ_CHECK(res == nullptr);
    return 0;
  }
  FUZZ_CHECK(res != nullptr);
  FUZZ_CHECK(is_fake_addrinfo(res));
  for (addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
    FUZZ_CHECK(ai->ai_addr != nullptr);
    FUZZ_CHECK(ai->ai_family == ai->ai_addr->sa_family);
    if (!null_hints && hints.ai_family != AF_UNSPEC) FUZZ_CHECK(ai->ai_family == hints.ai_family);
    if (!null_hints && hints.ai_socktype != 0) FUZZ_CHECK(ai->ai_socktype == hints.ai_socktype);
    const std::uint8_t* addr = nullptr;
    if (ai->ai_family == AF_INET) {
      FUZZ_CHECK(ai->ai_addrlen == sizeof(sockaddr_in));
      addr = reinterpret_cast<const std::uint8_t*>(
          &reinterpret_cast<const sockaddr_in*>(ai->ai_addr)->sin_addr);
      FUZZ_CHECK(v4.family == AF_INET && in(v4, addr));
    } else {
      FUZZ_CHECK(ai->ai_family == AF_INET6);
      FUZZ_CHECK(ai->ai_addrlen == sizeof(sockaddr_in6));
      addr = reinterpret_cast<const std::uint8_t*>(
          &reinterpret_cast<const sockaddr_in6*>(ai->ai_addr)->sin6_addr);
      const bool mapped = std::memcmp(addr, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12) == 0;
      FUZZ_CHECK(mapped ? (v4.family == AF_INET && in(v4, addr + 12))
                        : (v6.family == AF_INET6 && in(v6, addr)));
    }

    // Back from the address to the name (the table is small, but nothing
    // else was resolved since, so the name is still there).
    char host[256];
    char serv[32];
    bool handled = false;
    const int nrc = fake_getnameinfo(table, ai->ai_addr, ai->ai_addrlen, hostlen ? host : nullptr,
                                     static_cast<socklen_t>(hostlen), serv, sizeof serv, ni_flags,
                                     &handled, kServices);
    FUZZ_CHECK(handled);
    if (nrc == 0 && hostlen != 0 && (ni_flags & NI_NUMERICHOST) == 0) {
      FUZZ_CHECK(strcasecmp(host, node.c_str()) == 0);
    }

    hostent he;
    hostent* result = nullptr;
    int herr = 0;
    alignas(char*) char buf[kFakeHostentBufferSize];
    const int hrc =
        fake_gethostbyaddr_r(table, addr, ai->ai_family == AF_INET ? 4 : 16, ai->ai_family, &he,
                             buf, hostlen % sizeof buf, &result, &herr, &handled);
    if (hrc == 0 && result != nullptr) FUZZ_CHECK(strcasecmp(result->h_name, node.c_str()) == 0);
  }
  fake_freeaddrinfo(res);

  hostent he;
  hostent* result = nullptr;
  int herr = 0;
  alignas(char*) char buf[kFakeHostentBufferSize];
  const int hrc = fake_gethostbyname_r(table, node.c_str(), pick(kFamilies, data[1]), &he, buf,
                                       hostlen % sizeof buf, &result, &herr);
  if (hrc == 0 && result != nullptr) FUZZ_CHECK(result->h_addr_list[0] != nullptr);
  return 0;
}

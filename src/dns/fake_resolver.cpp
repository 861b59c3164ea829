// fake_getaddrinfo and its list memory; the system services database.
#include "dns/fake_resolver.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <array>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <new>

#include "base/decimal.hpp"
#include "base/v4_mapped.hpp"
#include "dns/host_name.hpp"

namespace socksify {

namespace {

// ---- services ---------------------------------------------------------------

// Large enough for any /etc/services line with its aliases.
constexpr std::size_t kServentBuffer = 4096;

std::optional<std::uint16_t> system_port_of(const char* name, const char* proto) noexcept {
  servent entry;
  servent* found = nullptr;
  char buf[kServentBuffer];
  if (getservbyname_r(name, proto, &entry, buf, sizeof buf, &found) != 0 || found == nullptr) {
    return std::nullopt;
  }
  return ntohs(static_cast<std::uint16_t>(found->s_port));
}

int system_name_of(std::uint16_t port, const char* proto, std::span<char> out) noexcept {
  servent entry;
  servent* found = nullptr;
  char buf[kServentBuffer];
  if (getservbyport_r(htons(port), proto, &entry, buf, sizeof buf, &found) != 0 ||
      found == nullptr) {
    return -1;
  }
  const std::size_t len = std::strlen(found->s_name);
  if (len < out.size()) std::memcpy(out.data(), found->s_name, len + 1);
  return static_cast<int>(len);
}

// ---- socket types -----------------------------------------------------------

// The (socktype, protocol) pairs glibc knows, in its matching order: with
// explicit hints the first match wins (so protocol SCTP alone means a stream).
struct Protocol {
  int socktype;
  int protocol;
  const char* service_proto;  // for service names; nullptr: numeric ports only
  bool any_protocol;          // SOCK_RAW takes whatever protocol is asked for
};
constexpr Protocol kProtocols[] = {
    {SOCK_STREAM, IPPROTO_TCP, "tcp", false},
    {SOCK_DGRAM, IPPROTO_UDP, "udp", false},
    {SOCK_DCCP, IPPROTO_DCCP, nullptr, false},
    {SOCK_DGRAM, IPPROTO_UDPLITE, nullptr, false},
    {SOCK_STREAM, IPPROTO_SCTP, nullptr, false},
    {SOCK_SEQPACKET, IPPROTO_SCTP, nullptr, false},
    {SOCK_RAW, 0, nullptr, true},
};
// With socktype and protocol 0, glibc lists these three: TCP, UDP, raw.
constexpr int kDefaultProtocols[] = {0, 1, 6};
static_assert(kProtocols[0].protocol == IPPROTO_TCP && kProtocols[1].protocol == IPPROTO_UDP &&
              kProtocols[6].socktype == SOCK_RAW);

// One entry per address for each of these.
struct Kind {
  int socktype;
  int protocol;
  std::uint16_t port;  // host byte order
};
struct Kinds {
  std::array<Kind, 3> items;
  std::size_t count = 0;
  void add(int socktype, int protocol, std::uint16_t port) {
    items[count++] = {socktype, protocol, port};
  }
};

// A decimal port. "" is port 0 (as in glibc); more than 65535 is refused
// (glibc would silently wrap it).
enum class PortText { Numeric, Name, TooLarge };
PortText parse_port(const char* text, std::uint16_t* port) {
  if (*text == '\0') {
    *port = 0;
    return PortText::Numeric;
  }
  const auto value = parse_decimal(text, 65535);
  if (!value) return value.error() == DecimalError::TooLarge ? PortText::TooLarge : PortText::Name;
  *port = static_cast<std::uint16_t>(*value);
  return PortText::Numeric;
}

std::optional<std::uint16_t> named_port(const ServiceDb& db, const char* name, const char* proto) {
  if (proto == nullptr || db.port_of == nullptr) return std::nullopt;
  return db.port_of(name, proto);
}

// Which socket types to answer with, and their ports; 0 or an EAI_* code.
int plan_kinds(const addrinfo& hints, const char* service, const ServiceDb& db, Kinds& kinds) {
  std::uint16_t port = 0;
  bool numeric = service == nullptr;
  if (service != nullptr) {
    switch (parse_port(service, &port)) {
      case PortText::Numeric:
        numeric = true;
        break;
      case PortText::TooLarge:
        return EAI_SERVICE;
      case PortText::Name:
        if (hints.ai_flags & AI_NUMERICSERV) return EAI_NONAME;
        break;
    }
  }

  if (hints.ai_socktype == 0 && hints.ai_protocol == 0) {
    for (int i : kDefaultProtocols) {
      const Protocol& p = kProtocols[i];
      if (numeric) {
        kinds.add(p.socktype, p.protocol, port);
      } else if (auto named = named_port(db, service, p.service_proto)) {
        kinds.add(p.socktype, p.protocol, *named);
      }
    }
    return kinds.count == 0 ? EAI_SERVICE : 0;
  }

  for (const Protocol& p : kProtocols) {
    if (hints.ai_socktype != 0 && hints.ai_socktype != p.socktype) continue;
    if (hints.ai_protocol != 0 && !p.any_protocol && hints.ai_protocol != p.protocol) continue;
    const int protocol = hints.ai_protocol != 0 ? hints.ai_protocol : p.protocol;
    if (service == nullptr) {
      kinds.add(p.socktype, protocol, 0);
      return 0;
    }
    if (p.socktype == SOCK_RAW) return EAI_SERVICE;  // raw sockets have no ports
    if (numeric) {
      kinds.add(p.socktype, protocol, port);
      return 0;
    }
    auto named = named_port(db, service, p.service_proto);
    if (!named) return EAI_SERVICE;
    kinds.add(p.socktype, protocol, *named);
    return 0;
  }
  return hints.ai_socktype != 0 ? EAI_SOCKTYPE : EAI_SERVICE;
}

// ---- addresses --------------------------------------------------------------

struct Address {
  int family;
  std::array<std::uint8_t, 16> bytes;
};
struct Addresses {
  std::array<Address, 2> items;
  std::size_t count = 0;
};

// The fake addresses for name in answer order; 0 or an EAI_* code.
int plan_addresses(FakeNames& table, std::string_view name, const addrinfo& hints, Addresses& out) {
  const bool v4 = table.serves(AF_INET);
  const bool v6 = table.serves(AF_INET6);
  const bool mapped = (hints.ai_flags & AI_V4MAPPED) != 0;
  bool want_v4 = false;
  bool want_v6 = false;
  bool want_mapped = false;
  switch (hints.ai_family) {
    case AF_UNSPEC:  // one address, IPv4 if there is a range for it: see the header
      want_v4 = v4;
      want_v6 = v6 && !v4;
      break;
    case AF_INET:
      want_v4 = v4;
      break;
    case AF_INET6:
      want_v6 = v6;
      // RFC 3493 §6.1: mapped addresses only when there is no IPv6 one, or
      // in addition to it with AI_ALL.
      want_mapped = v4 && mapped && (!v6 || (hints.ai_flags & AI_ALL) != 0);
      break;
  }
  if (!want_v4 && !want_v6 && !want_mapped) {
    // A real name without records of the family asked for gets EAI_NODATA.
    return (v4 || v6) ? EAI_NODATA : EAI_FAIL;
  }

  std::array<std::uint8_t, 4> a4{};
  std::array<std::uint8_t, 16> a6{};
  if (!table.addresses_for(name, a4, a6)) return EAI_FAIL;
  if (want_v4) {
    Address& a = out.items[out.count++];
    a.family = AF_INET;
    std::memcpy(a.bytes.data(), a4.data(), 4);
  }
  if (want_v6) out.items[out.count++] = {AF_INET6, a6};
  if (want_mapped) {
    Address& a = out.items[out.count++];
    a.family = AF_INET6;
    a.bytes = to_v4_mapped(a4);
  }
  return 0;
}

// ---- list memory ------------------------------------------------------------

// One entry, one malloc, the addrinfo first so that free(ai) frees it all, as
// glibc's freeaddrinfo expects. The sockaddr sits one tag further than in
// glibc's entries (where it follows the addrinfo directly), which is how
// is_fake_addrinfo tells them apart without reading outside glibc's entries.
struct FakeEntry {
  addrinfo ai;
  std::uint64_t tag;  // kTag ^ the entry's own address
  std::uint64_t reserved;
  union {
    sockaddr_in v4;
    sockaddr_in6 v6;
  } addr;
};
constexpr std::uint64_t kTag = 0x736f636b73696679;  // "socksify"
static_assert(offsetof(FakeEntry, ai) == 0);
static_assert(offsetof(FakeEntry, addr) != sizeof(addrinfo));

std::uint64_t tag_for(const void* entry) {
  return kTag ^ reinterpret_cast<std::uintptr_t>(entry);
}

FakeEntry* new_entry(const Address& a, const Kind& k, int flags) {
  auto* e = static_cast<FakeEntry*>(std::malloc(sizeof(FakeEntry)));
  if (e == nullptr) return nullptr;
  std::memset(e, 0, sizeof *e);
  e->tag = tag_for(e);
  e->ai.ai_flags = flags;
  e->ai.ai_family = a.family;
  e->ai.ai_socktype = k.socktype;
  e->ai.ai_protocol = k.protocol;
  e->ai.ai_addr = reinterpret_cast<sockaddr*>(&e->addr);
  if (a.family == AF_INET) {
    e->ai.ai_addrlen = sizeof(sockaddr_in);
    e->addr.v4.sin_family = AF_INET;
    e->addr.v4.sin_port = htons(k.port);
    std::memcpy(&e->addr.v4.sin_addr, a.bytes.data(), 4);
  } else {
    e->ai.ai_addrlen = sizeof(sockaddr_in6);
    e->addr.v6.sin6_family = AF_INET6;
    e->addr.v6.sin6_port = htons(k.port);
    std::memcpy(&e->addr.v6.sin6_addr, a.bytes.data(), 16);
  }
  return e;
}

int build_list(const Addresses& addrs, const Kinds& kinds, int flags, const char* canonname,
               addrinfo** res) {
  addrinfo* head = nullptr;
  addrinfo** tail = &head;
  for (std::size_t i = 0; i < addrs.count; ++i) {
    for (std::size_t j = 0; j < kinds.count; ++j) {
      FakeEntry* e = new_entry(addrs.items[i], kinds.items[j], flags);
      if (e == nullptr) {
        fake_freeaddrinfo(head);
        return EAI_MEMORY;
      }
      *tail = &e->ai;
      tail = &e->ai.ai_next;
    }
  }
  if (canonname != nullptr && head != nullptr) {
    head->ai_canonname = strdup(canonname);  // malloc: freeaddrinfo frees it
    if (head->ai_canonname == nullptr) {
      fake_freeaddrinfo(head);
      return EAI_MEMORY;
    }
  }
  *res = head;
  return 0;
}

// Every flag glibc 2.36 accepts (0x100 and 0x200 are its deprecated IDN ones).
constexpr int kKnownFlags = 0x7ff;
// glibc's flags for hints == NULL.
constexpr int kDefaultFlags = AI_V4MAPPED | AI_ADDRCONFIG;

int getaddrinfo_impl(FakeNames& table, const char* node, const char* service,
                     const addrinfo* hints_in, addrinfo** res, const ServiceDb& services) {
  addrinfo hints{};
  if (hints_in != nullptr) {
    hints = *hints_in;
  } else {
    hints.ai_flags = kDefaultFlags;
  }
  if (hints.ai_flags & ~kKnownFlags) return EAI_BADFLAGS;
  if (hints.ai_family != AF_UNSPEC && hints.ai_family != AF_INET && hints.ai_family != AF_INET6) {
    return EAI_FAMILY;
  }
  Kinds kinds;
  if (int rc = plan_kinds(hints, service, services, kinds); rc != 0) return rc;

  const auto name = plausible_host_name(node);
  if (!name || (hints.ai_flags & AI_NUMERICHOST)) return EAI_NONAME;
  Addresses addrs;
  if (int rc = plan_addresses(table, *name, hints, addrs); rc != 0) return rc;
  return build_list(addrs, kinds, hints.ai_flags,
                    (hints.ai_flags & AI_CANONNAME) != 0 ? node : nullptr, res);
}

}  // namespace

const ServiceDb& system_services() noexcept {
  static constexpr ServiceDb kSystem{system_port_of, system_name_of};
  return kSystem;
}

int fake_getaddrinfo(FakeNames& table, const char* node, const char* service, const addrinfo* hints,
                     addrinfo** res, const ServiceDb& services) noexcept {
  if (res == nullptr) return EAI_FAIL;
  *res = nullptr;
  try {
    return getaddrinfo_impl(table, node, service, hints, res, services);
  } catch (const std::bad_alloc&) {
    return EAI_MEMORY;
  } catch (...) {
    return EAI_FAIL;
  }
}

void fake_freeaddrinfo(addrinfo* ai) noexcept {
  while (ai != nullptr) {
    addrinfo* next = ai->ai_next;
    std::free(ai->ai_canonname);
    // A freed entry must not look like ours if its memory is handed out again.
    if (is_fake_addrinfo(ai)) reinterpret_cast<FakeEntry*>(ai)->tag = 0;
    std::free(ai);
    ai = next;
  }
}

bool is_fake_addrinfo(const addrinfo* ai) noexcept {
  if (ai == nullptr) return false;
  const auto* base = reinterpret_cast<const unsigned char*>(ai);
  // Only ai's own fields are read until the layout says the entry is ours.
  if (reinterpret_cast<const unsigned char*>(ai->ai_addr) != base + offsetof(FakeEntry, addr)) {
    return false;
  }
  std::uint64_t tag;
  std::memcpy(&tag, base + offsetof(FakeEntry, tag), sizeof tag);
  return tag == tag_for(ai);
}

}  // namespace socksify

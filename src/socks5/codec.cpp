#include "socks5/codec.hpp"

#include <array>
#include <cerrno>
#include <cstring>

#include "base/named.hpp"

namespace socksify::socks5 {
namespace {

constexpr std::uint8_t u8(std::byte b) {
  return static_cast<std::uint8_t>(b);
}
constexpr std::byte b8(std::uint8_t v) {
  return static_cast<std::byte>(v);
}

// Bytes of the address field for an ATYP whose length does not depend on the
// data (RFC 1928 §5); 0 for the domain form, whose first byte is its length.
constexpr std::size_t fixed_address_size(std::uint8_t atyp) {
  switch (static_cast<AddressType>(atyp)) {
    case AddressType::IPv4:
      return 4;
    case AddressType::IPv6:
      return 16;
    case AddressType::Domain:
      return 0;
  }
  return 0;
}

constexpr bool known_atyp(std::uint8_t atyp) {
  return atyp == static_cast<std::uint8_t>(AddressType::IPv4) ||
         atyp == static_cast<std::uint8_t>(AddressType::Domain) ||
         atyp == static_cast<std::uint8_t>(AddressType::IPv6);
}

// Size on the wire of ATYP + ADDR + PORT for an endpoint (RFC 1928 §4, §7);
// 0 for Kind::None, which has no encoding.
std::size_t address_wire_size(const Endpoint& ep) {
  switch (ep.kind()) {
    case Endpoint::Kind::IPv4:
      return 1 + 4 + 2;
    case Endpoint::Kind::IPv6:
      return 1 + 16 + 2;
    case Endpoint::Kind::Name:
      return 1 + 1 + ep.host_name().size() + 2;
    case Endpoint::Kind::None:
      break;
  }
  return 0;
}

// Writes ATYP | ADDR | PORT; out must hold address_wire_size(ep) bytes.
void put_address(std::byte* out, const Endpoint& ep) {
  std::size_t i = 0;
  if (ep.kind() == Endpoint::Kind::Name) {
    const std::string_view name = ep.host_name();
    out[i++] = b8(static_cast<std::uint8_t>(AddressType::Domain));
    // RFC 1928 §5: one length octet, then the name with no terminating NUL.
    out[i++] = b8(static_cast<std::uint8_t>(name.size()));
    std::memcpy(out + i, name.data(), name.size());
    i += name.size();
  } else {
    const auto addr = ep.address();
    out[i++] = b8(static_cast<std::uint8_t>(ep.kind() == Endpoint::Kind::IPv4 ? AddressType::IPv4
                                                                              : AddressType::IPv6));
    std::memcpy(out + i, addr.data(), addr.size());
    i += addr.size();
  }
  // Network byte order (RFC 1928 §3: all fields are big-endian).
  out[i++] = b8(static_cast<std::uint8_t>(ep.port() >> 8));
  out[i] = b8(static_cast<std::uint8_t>(ep.port() & 0xFF));
}

// Result of parsing ATYP | ADDR | PORT starting at `in[0]` (the ATYP byte).
struct AddressParse {
  DecodeStatus status = DecodeStatus::NeedMore;
  // Ok: bytes of ATYP+ADDR+PORT. NeedMore: bytes of ATYP+ADDR+PORT needed so far
  // (2 while the domain length byte is missing, exact once known).
  std::size_t size = 0;
  Endpoint endpoint;
};

AddressParse parse_address(std::span<const std::byte> in) {
  AddressParse r;
  if (in.empty()) {
    r.size = 2;  // ATYP and the first address byte (the length, for names)
    return r;
  }
  const std::uint8_t atyp = u8(in[0]);
  if (!known_atyp(atyp)) {
    r.status = DecodeStatus::Malformed;
    return r;
  }
  std::size_t addr_len = fixed_address_size(atyp);
  std::size_t addr_off = 1;
  if (atyp == static_cast<std::uint8_t>(AddressType::Domain)) {
    if (in.size() < 2) {
      r.size = 2;
      return r;
    }
    addr_len = u8(in[1]);
    addr_off = 2;
    // RFC 1928 §5 has no meaning for an empty name; a zero length is garbage.
    if (addr_len == 0) {
      r.status = DecodeStatus::Malformed;
      return r;
    }
  }
  const std::size_t total = addr_off + addr_len + 2;
  if (in.size() < total) {
    r.size = total;
    return r;
  }
  const std::byte* p = in.data() + addr_off;
  const std::uint16_t port =
      static_cast<std::uint16_t>((u8(p[addr_len]) << 8) | u8(p[addr_len + 1]));
  if (atyp == static_cast<std::uint8_t>(AddressType::IPv4)) {
    std::array<std::uint8_t, 4> a;
    std::memcpy(a.data(), p, 4);
    r.endpoint = Endpoint::ipv4(a, port);
  } else if (atyp == static_cast<std::uint8_t>(AddressType::IPv6)) {
    std::array<std::uint8_t, 16> a;
    std::memcpy(a.data(), p, 16);
    r.endpoint = Endpoint::ipv6(a, port);
  } else {
    // 1..255 bytes always fit an Endpoint name.
    r.endpoint = *Endpoint::name({reinterpret_cast<const char*>(p), addr_len}, port);
  }
  r.status = DecodeStatus::Ok;
  r.size = total;
  return r;
}

template <class T>
Decoded<T> malformed() {
  return {DecodeStatus::Malformed, 0, T{}};
}

template <class T>
Decoded<T> need(std::size_t total) {
  return {DecodeStatus::NeedMore, total, T{}};
}

// Decodes the two-byte VER | X messages (method choice, RFC 1929 status).
Decoded<std::uint8_t> decode_pair(std::span<const std::byte> in, std::uint8_t version) {
  if (!in.empty() && u8(in[0]) != version) return malformed<std::uint8_t>();
  if (in.size() < 2) return need<std::uint8_t>(2);
  return {DecodeStatus::Ok, 2, u8(in[1])};
}

}  // namespace

// RFC 1928 §3: VER | NMETHODS | METHODS. NoAuth is always offered so a proxy
// without authentication still accepts us when we hold credentials.
std::size_t encode_greeting(std::span<std::byte> out, bool with_password) {
  const std::size_t n = with_password ? 4 : 3;
  if (out.size() < n) return 0;  // no room: nothing written
  out[0] = b8(kVersion);
  out[1] = b8(static_cast<std::uint8_t>(n - 2));
  out[2] = b8(static_cast<std::uint8_t>(Method::NoAuth));
  if (with_password) out[3] = b8(static_cast<std::uint8_t>(Method::UserPassword));
  return n;
}

// RFC 1928 §3: VER | METHOD. Any METHOD byte decodes; whether it is one we
// offered is the handshake's decision.
Decoded<Method> decode_method_choice(std::span<const std::byte> in) {
  const auto d = decode_pair(in, kVersion);
  return {d.status, d.size, static_cast<Method>(d.value)};
}

// RFC 1929 §2: VER=1 | ULEN | UNAME | PLEN | PASSWD, lengths 1..255.
Result<std::size_t> encode_auth_request(std::span<std::byte> out, std::string_view user,
                                        std::string_view password) {
  if (user.empty() || user.size() > 255 || password.empty() || password.size() > 255) {
    return Errno{EINVAL};
  }
  const std::size_t n = 3 + user.size() + password.size();
  if (out.size() < n) return Errno{ENOBUFS};
  std::byte* p = out.data();
  *p++ = b8(kAuthVersion);
  *p++ = b8(static_cast<std::uint8_t>(user.size()));
  std::memcpy(p, user.data(), user.size());
  p += user.size();
  *p++ = b8(static_cast<std::uint8_t>(password.size()));
  std::memcpy(p, password.data(), password.size());
  return n;
}

// RFC 1929 §2: VER=1 | STATUS; 0 is success, anything else a failure.
Decoded<bool> decode_auth_reply(std::span<const std::byte> in) {
  const auto d = decode_pair(in, kAuthVersion);
  return {d.status, d.size, d.status == DecodeStatus::Ok && d.value == 0};
}

// RFC 1928 §4: VER | CMD | RSV=0 | ATYP | DST.ADDR | DST.PORT.
Result<std::size_t> encode_request(std::span<std::byte> out, Command cmd, const Endpoint& dst) {
  const std::size_t addr = address_wire_size(dst);
  if (addr == 0) return Errno{EINVAL};
  const std::size_t n = 3 + addr;
  if (out.size() < n) return Errno{ENOBUFS};
  out[0] = b8(kVersion);
  out[1] = b8(static_cast<std::uint8_t>(cmd));
  out[2] = std::byte{0};
  put_address(out.data() + 3, dst);
  return n;
}

// RFC 1928 §6: VER | REP | RSV=0 | ATYP | BND.ADDR | BND.PORT. Until the fifth
// byte (the first address byte, a name's length) has arrived we ask for 5,
// after that for the exact total, so a reader never reads past the reply.
Decoded<Reply> decode_reply(std::span<const std::byte> in) {
  constexpr std::size_t kFixed = 3;  // VER, REP, RSV
  // Reject what we can see already, so a hostile server is noticed before we
  // wait for bytes that may never come.
  if (in.size() >= 1 && u8(in[0]) != kVersion) return malformed<Reply>();
  if (in.size() >= 3 && u8(in[2]) != 0) return malformed<Reply>();
  if (in.size() >= 4 && !known_atyp(u8(in[3]))) return malformed<Reply>();
  if (in.size() < kFixed + 2) return need<Reply>(kFixed + 2);
  const AddressParse a = parse_address(in.subspan(kFixed));
  if (a.status == DecodeStatus::Malformed) return malformed<Reply>();
  if (a.status == DecodeStatus::NeedMore) return need<Reply>(kFixed + a.size);
  return {DecodeStatus::Ok, kFixed + a.size, Reply{u8(in[1]), a.endpoint}};
}

// RFC 1928 §7: RSV(2)=0 | FRAG | ATYP | DST.ADDR | DST.PORT, then DATA.
Result<std::size_t> encode_udp_header(std::span<std::byte> out, const Endpoint& dst) {
  const std::size_t addr = address_wire_size(dst);
  if (addr == 0) return Errno{EINVAL};
  const std::size_t n = 3 + addr;
  if (out.size() < n) return Errno{ENOBUFS};
  out[0] = std::byte{0};
  out[1] = std::byte{0};
  out[2] = std::byte{0};  // FRAG: we never fragment (RFC 1928 §7 makes it optional)
  put_address(out.data() + 3, dst);
  return n;
}

Decoded<UdpHeader> decode_udp_header(std::span<const std::byte> in) {
  constexpr std::size_t kFixed = 3;  // RSV(2), FRAG
  if (in.size() < kFixed + 1) return malformed<UdpHeader>();
  if (u8(in[0]) != 0 || u8(in[1]) != 0) return malformed<UdpHeader>();
  const AddressParse a = parse_address(in.subspan(kFixed));
  // One datagram is one whole message: a header cut short will never be
  // completed by later bytes, so NeedMore would be a lie.
  if (a.status != DecodeStatus::Ok) return malformed<UdpHeader>();
  return {DecodeStatus::Ok, kFixed + a.size, UdpHeader{u8(in[2]), a.endpoint}};
}

namespace {

// RFC 1928 §6: what each reply code means, as an errno and as text.
constexpr CodeMeaning<ReplyCode> kReplies[] = {
    {ReplyCode::Succeeded, 0, "succeeded"},
    {ReplyCode::GeneralFailure, ECONNABORTED, "general proxy server failure"},
    {ReplyCode::NotAllowed, EACCES, "connection not allowed by proxy rules"},
    {ReplyCode::NetworkUnreachable, ENETUNREACH, "network unreachable from proxy"},
    {ReplyCode::HostUnreachable, EHOSTUNREACH, "host unreachable from proxy"},
    {ReplyCode::ConnectionRefused, ECONNREFUSED, "connection refused by destination host"},
    {ReplyCode::TtlExpired, ETIMEDOUT, "TTL expired on the way to destination"},
    {ReplyCode::CommandNotSupported, EOPNOTSUPP, "command not supported by proxy"},
    {ReplyCode::AddressTypeNotSupported, EAFNOSUPPORT, "address type not supported by proxy"},
};

}  // namespace

int reply_errno(std::uint8_t rep) {
  // X'09' to X'FF' are unassigned; the proxy still refused.
  return error_of(kReplies, static_cast<ReplyCode>(rep), ECONNABORTED);
}

std::string_view reply_text(std::uint8_t rep) {
  return text_of(kReplies, static_cast<ReplyCode>(rep), "unassigned reply code");
}

}  // namespace socksify::socks5

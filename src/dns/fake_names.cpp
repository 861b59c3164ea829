#include "dns/fake_names.hpp"

#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>

#include "base/ascii.hpp"
#include "base/v4_mapped.hpp"
#include "dns/fake_range.hpp"

namespace socksify {
namespace {

using namespace fake_range;

using Lowered = std::array<char, Endpoint::kMaxNameLength>;

// name lower-cased into buf (DNS names compare case-insensitively, RFC 4343),
// if a proxy can be sent it.
std::optional<std::string_view> lowered(std::string_view name, Lowered& buf) {
  if (name.empty() || name.size() > Endpoint::kMaxNameLength) return std::nullopt;
  std::transform(name.begin(), name.end(), buf.begin(), ascii::lower);
  return std::string_view(buf.data(), name.size());
}

// The range serving family, if out holds one of its addresses.
const Cidr* range_for(const Cidr& v4, const Cidr& v6, int family, std::size_t out_size) {
  const Cidr* range = family == AF_INET ? &v4 : family == AF_INET6 ? &v6 : nullptr;
  if (range == nullptr || is_absent(*range) || out_size != address_size(*range)) return nullptr;
  return range;
}

// address_for and find_address: the range serving family, the name
// lower-cased, its number from number() (claiming one or not), and that
// number's address written to out.
template <class Number>
bool write_address_of(const Cidr& v4, const Cidr& v6, std::string_view name, int family,
                      std::span<std::uint8_t> out, Number number) {
  const Cidr* range = range_for(v4, v6, family, out.size());
  Lowered buf;
  const auto l = range != nullptr ? lowered(name, buf) : std::nullopt;
  const std::optional<std::uint64_t> n = l ? number(*l) : std::nullopt;
  if (!n) return false;
  write_address(*range, *n, out);
  return true;
}

}  // namespace

FakeNames::FakeNames(const Cidr& v4, const Cidr& v6) : v4_(normalized(v4)), v6_(normalized(v6)) {}

bool FakeNames::address_for(std::string_view name, int family, std::span<std::uint8_t> out) {
  return write_address_of(v4_, v6_, name, family, out,
                          [&](std::string_view l) { return number_for(l); });
}

bool FakeNames::addresses_for(std::string_view name, std::span<std::uint8_t, 4> v4,
                              std::span<std::uint8_t, 16> v6) {
  if (is_absent(v4_) && is_absent(v6_)) return false;
  Lowered buf;
  const auto l = lowered(name, buf);
  const auto number = l ? number_for(*l) : std::nullopt;
  if (!number) return false;
  if (!is_absent(v4_)) write_address(v4_, *number, v4);
  if (!is_absent(v6_)) write_address(v6_, *number, v6);
  return true;
}

bool FakeNames::find_address(std::string_view name, int family, std::span<std::uint8_t> out) const {
  return write_address_of(v4_, v6_, name, family, out,
                          [&](std::string_view l) { return held_number(l); });
}

std::optional<Endpoint> FakeNames::endpoint_for(std::span<const std::uint8_t> addr,
                                                std::uint16_t port) const {
  const auto number = number_of(v4_, v6_, addr);
  if (!number) return std::nullopt;
  Lowered name;
  const std::size_t length = name_of(*number, name);
  if (length == 0) return std::nullopt;  // never handed out, or forgotten
  return Endpoint::name({name.data(), length}, port);
}

bool FakeNames::in_range(std::span<const std::uint8_t> addr) const {
  if (addr.size() == 4) return matches(v4_, addr.data(), 4);
  if (is_v4_mapped(addr)) return matches(v4_, addr.data() + 12, 4);
  return addr.size() == 16 && matches(v6_, addr.data(), 16);
}

bool FakeNames::serves(int family) const {
  if (family == AF_INET) return !is_absent(v4_);
  if (family == AF_INET6) return !is_absent(v6_);
  return false;
}

}  // namespace socksify

#include "dns/name_table_source.hpp"

#include <sys/socket.h>

#include <algorithm>
#include <exception>

namespace socksify::dns {

AddressSource::Status NameTableSource::address_for(std::string_view name, int family,
                                                   std::span<std::uint8_t> out) noexcept {
  if (family != AF_INET && family != AF_INET6) return Status::Unavailable;
  if (!table_.serves(family)) {
    const int other = family == AF_INET ? AF_INET6 : AF_INET;
    return table_.serves(other) ? Status::NoAddress : Status::Unavailable;
  }
  try {
    return table_.address_for(name, family, out) ? Status::Found : Status::Unavailable;
  } catch (const std::exception&) {  // std::bad_alloc for a new name: table unchanged
    return Status::Unavailable;
  }
}

AddressSource::Status NameTableSource::name_for(std::span<const std::uint8_t> addr,
                                                std::span<char> out, std::size_t* size) noexcept {
  if (!table_.in_range(addr)) return Status::NotFake;
  const auto endpoint = table_.endpoint_for(addr, 0);
  if (!endpoint) return Status::NoName;
  const std::string_view name = endpoint->host_name();
  if (name.size() > out.size()) return Status::Unavailable;
  std::copy(name.begin(), name.end(), out.begin());
  *size = name.size();
  return Status::Found;
}

}  // namespace socksify::dns

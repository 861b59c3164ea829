// The hostent answers: fake_gethostbyname_r and fake_gethostbyaddr_r.
#include <netinet/in.h>

#include <array>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <new>

#include "dns/fake_resolver.hpp"
#include "dns/host_name.hpp"

namespace socksify {

namespace {

// The caller's buffer holds, in order: the alias list (just its NULL), the
// address list (one pointer and its NULL), the address bytes, the name. The
// pointers come first so that only the start needs aligning.
struct HostentLayout {
  std::size_t pad;
  std::size_t size;
};

HostentLayout layout_for(const char* buf, std::size_t name_len, std::size_t addr_len) {
  const auto misalign = reinterpret_cast<std::uintptr_t>(buf) % alignof(char*);
  const std::size_t pad = misalign == 0 ? 0 : alignof(char*) - misalign;
  return {pad, pad + 3 * sizeof(char*) + addr_len + name_len + 1};
}

// Fills ret from buf, which the caller checked is large enough.
void fill_hostent(std::string_view name, int af, const std::uint8_t* addr, std::size_t addr_len,
                  hostent* ret, char* buf, const HostentLayout& layout) {
  char* p = buf + layout.pad;
  auto** pointers = reinterpret_cast<char**>(p);
  char* addr_copy = p + 3 * sizeof(char*);
  char* name_copy = addr_copy + addr_len;
  std::memcpy(addr_copy, addr, addr_len);
  std::memcpy(name_copy, name.data(), name.size());
  name_copy[name.size()] = '\0';
  pointers[0] = nullptr;  // no aliases
  pointers[1] = addr_copy;
  pointers[2] = nullptr;
  ret->h_name = name_copy;
  ret->h_aliases = pointers;
  ret->h_addrtype = af;
  ret->h_length = static_cast<int>(addr_len);
  ret->h_addr_list = pointers + 1;
}

std::size_t address_length(int af) {
  if (af == AF_INET) return 4;
  if (af == AF_INET6) return 16;
  return 0;
}

}  // namespace

int fake_gethostbyname_r(FakeNames& table, const char* name, int af, hostent* ret, char* buf,
                         std::size_t buflen, hostent** result, int* h_errnop) noexcept {
  int ignored_h_errno = 0;
  if (h_errnop == nullptr) h_errnop = &ignored_h_errno;
  if (result != nullptr) *result = nullptr;
  const std::size_t addr_len = address_length(af);
  if (addr_len == 0) {
    *h_errnop = NETDB_INTERNAL;
    return EAFNOSUPPORT;
  }
  const auto host = plausible_host_name(name);
  if (!host) {
    *h_errnop = HOST_NOT_FOUND;
    return 0;
  }
  if (!table.serves(af)) {
    *h_errnop = NO_DATA;  // as a real name without records of that family
    return 0;
  }
  // Checked before the table is touched, so that a call failing with ERANGE
  // has no effect and only the caller's retry claims (or refreshes) the name.
  const HostentLayout layout = layout_for(buf, host->size(), addr_len);
  if (ret == nullptr || result == nullptr || buf == nullptr || buflen < layout.size) {
    *h_errnop = NETDB_INTERNAL;
    return ERANGE;
  }
  std::array<std::uint8_t, 16> addr{};
  try {
    if (!table.address_for(*host, af, std::span<std::uint8_t>(addr.data(), addr_len))) {
      *h_errnop = NO_RECOVERY;
      return 0;
    }
  } catch (const std::bad_alloc&) {
    *h_errnop = NETDB_INTERNAL;
    return ENOMEM;
  } catch (...) {
    *h_errnop = NO_RECOVERY;
    return 0;
  }
  fill_hostent(*host, af, addr.data(), addr_len, ret, buf, layout);
  *result = ret;
  *h_errnop = NETDB_SUCCESS;
  return 0;
}

int fake_gethostbyaddr_r(const FakeNames& table, const void* addr, socklen_t len, int type,
                         hostent* ret, char* buf, std::size_t buflen, hostent** result,
                         int* h_errnop, bool* handled) noexcept {
  bool ignored_handled = false;
  if (handled == nullptr) handled = &ignored_handled;
  int ignored_h_errno = 0;
  if (h_errnop == nullptr) h_errnop = &ignored_h_errno;
  *handled = false;
  if (result != nullptr) *result = nullptr;
  const std::size_t addr_len = address_length(type);
  if (addr == nullptr || addr_len == 0 || static_cast<std::size_t>(len) != addr_len) return 0;
  const std::span<const std::uint8_t> bytes(static_cast<const std::uint8_t*>(addr), addr_len);
  if (!table.in_range(bytes)) return 0;

  *handled = true;
  const auto ep = table.endpoint_for(bytes, 0);
  if (!ep) {
    *h_errnop = HOST_NOT_FOUND;
    return 0;
  }
  const HostentLayout layout = layout_for(buf, ep->host_name().size(), addr_len);
  if (ret == nullptr || result == nullptr || buf == nullptr || buflen < layout.size) {
    *h_errnop = NETDB_INTERNAL;
    return ERANGE;
  }
  fill_hostent(ep->host_name(), type, bytes.data(), addr_len, ret, buf, layout);
  *result = ret;
  *h_errnop = NETDB_SUCCESS;
  return 0;
}

}  // namespace socksify

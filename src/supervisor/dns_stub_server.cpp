#include "supervisor/dns_stub_server.hpp"

#include <arpa/inet.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <mutex>
#include <thread>
#include <vector>

#include "core/log.hpp"
#include "core/runtime.hpp"
#include "core/tree_names.hpp"
#include "dns/dns_message.hpp"
#include "dns/dns_stub.hpp"
#include "dns/fake_names.hpp"
#include "dns/name_table_source.hpp"

namespace socksify::supervisor {
namespace {

void serve(int fd, FakeNames* table) {
  dns::NameTableSource source(*table);
  const dns::StubOptions options;
  std::vector<std::byte> in(dns::kMaxMessage), out(dns::kMaxMessage);
  for (;;) {
    sockaddr_storage peer;
    socklen_t peer_len = sizeof peer;
    const ssize_t n =
        ::recvfrom(fd, in.data(), in.size(), 0, reinterpret_cast<sockaddr*>(&peer), &peer_len);
    if (n < 0) {
      if (errno == EINTR) continue;
      log::error("supervisor: DNS stub stopped: {}", log::errno_name(errno));
      return;
    }
    const auto outcome =
        dns::answer_udp(std::span(in).first(static_cast<std::size_t>(n)), source, options, out);
    if (outcome.action != dns::StubAction::Reply) {
      log::debug("supervisor: DNS stub dropped a query it cannot answer");
      continue;
    }
    ::sendto(fd, out.data(), outcome.size, MSG_NOSIGNAL, reinterpret_cast<sockaddr*>(&peer),
             peer_len);
  }
}

std::optional<sockaddr_in> start(const Runtime& rt) {
  FakeNames* table = rt.names();
  if (table == nullptr) return std::nullopt;
  const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return std::nullopt;
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof sin;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&sin), sizeof sin) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&sin), &len) != 0) {
    ::close(fd);
    return std::nullopt;
  }
  try {
    std::thread(serve, fd, table).detach();
  } catch (const std::system_error&) {
    ::close(fd);
    return std::nullopt;
  }
  return sin;
}

}  // namespace

std::optional<sockaddr_in> dns_stub_address(const Runtime& rt) {
  static std::once_flag once;
  static std::optional<sockaddr_in> address;
  std::call_once(once, [&] { address = start(rt); });
  return address;
}

}  // namespace socksify::supervisor

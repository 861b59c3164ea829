#include "core/dns_resolvers.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <mutex>
#include <new>
#include <string>

#include "core/errno_saver.hpp"
#include "core/real.hpp"
#include "dns/system_resolvers.hpp"

namespace socksify {
namespace {

constexpr const char* kResolvConf = "/etc/resolv.conf";
constexpr std::size_t kMaxFile = 64 * 1024;  // resolv.conf is a few lines

struct Cache {
  std::mutex mu;
  bool loaded = false;
  struct stat seen {};
  dns::SystemResolvers list = dns::SystemResolvers::parse("");
};

Cache& cache() {
  static Cache c;  // first use is inside a hook, after our constructor
  return c;
}

bool same_file(const struct stat& a, const struct stat& b) {
  return a.st_dev == b.st_dev && a.st_ino == b.st_ino && a.st_size == b.st_size &&
         a.st_mtim.tv_sec == b.st_mtim.tv_sec && a.st_mtim.tv_nsec == b.st_mtim.tv_nsec;
}

// The file's text; empty when it cannot be read (then only the defaults count:
// a missing resolv.conf makes glibc use 127.0.0.1 too).
std::string read_resolv_conf() {
  std::string text;
  const int fd = ::open(kResolvConf, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return text;
  char buf[4096];
  while (text.size() < kMaxFile) {
    const ssize_t n = REAL(read)(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    text.append(buf, static_cast<std::size_t>(n));
  }
  REAL(close)(fd);
  return text;
}

}  // namespace

bool is_system_resolver(const Endpoint& dst) noexcept {
  if (dst.port() != dns::kDnsPort || !dst.is_ip()) return false;
  ErrnoSaver keep;
  Cache& c = cache();
  std::lock_guard lock(c.mu);
  struct stat now {};
  const bool exists = ::stat(kResolvConf, &now) == 0;
  if (!c.loaded || !exists || !same_file(now, c.seen)) {
    try {
      c.list = dns::SystemResolvers::parse(exists ? read_resolv_conf() : std::string());
    } catch (...) {  // std::bad_alloc: keep the last list (it still holds the defaults)
    }
    c.loaded = exists;
    c.seen = now;
  }
  return c.list.contains(dst);
}

void dns_resolvers_reset_in_child() noexcept {
  new (&cache().mu) std::mutex;
}

}  // namespace socksify

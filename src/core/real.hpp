// The real libc functions behind every call we interpose, found with
// dlsym(RTLD_NEXT) on first use (so a hook works even when it is called from
// another library's constructor, before ours ran), and all at once from our
// constructor. Call them as REAL(connect)(fd, addr, len).
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <setjmp.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <atomic>
#include <type_traits>

// glibc's _FORTIFY_SOURCE entry points (declared by its headers only when
// fortification is on): programs built with it call these instead.
extern "C" {
ssize_t __recv_chk(int fd, void* buf, size_t len, size_t buflen, int flags);
ssize_t __recvfrom_chk(int fd, void* buf, size_t len, size_t buflen, int flags, sockaddr* addr,
                       socklen_t* addrlen);
ssize_t __read_chk(int fd, void* buf, size_t nbytes, size_t buflen);
[[noreturn]] void __chk_fail(void);
[[noreturn]] void __longjmp_chk(__jmp_buf_tag* env, int val);
}

// One list of every real symbol: it generates the pointer table and the resolver.
#define SOCKSIFY_REAL_SYMBOLS(X) \
  X(connect)                     \
  X(close)                       \
  X(close_range)                 \
  X(closefrom)                   \
  X(dup)                         \
  X(dup2)                        \
  X(dup3)                        \
  X(fcntl)                       \
  X(fcntl64)                     \
  X(getpeername)                 \
  X(getsockname)                 \
  X(bind)                        \
  X(listen)                      \
  X(accept)                      \
  X(accept4)                     \
  X(socket)                      \
  X(poll)                        \
  X(ppoll)                       \
  X(select)                      \
  X(pselect)                     \
  X(epoll_ctl)                   \
  X(getsockopt)                  \
  X(read)                        \
  X(write)                       \
  X(readv)                       \
  X(writev)                      \
  X(send)                        \
  X(recv)                        \
  X(sendto)                      \
  X(recvfrom)                    \
  X(sendmsg)                     \
  X(recvmsg)                     \
  X(sendmmsg)                    \
  X(recvmmsg)                    \
  X(syscall)                     \
  X(getaddrinfo)                 \
  X(freeaddrinfo)                \
  X(getnameinfo)                 \
  X(gethostbyname)               \
  X(gethostbyname2)              \
  X(gethostbyname_r)             \
  X(gethostbyname2_r)            \
  X(gethostbyaddr)               \
  X(gethostbyaddr_r)             \
  X(longjmp)                     \
  X(_longjmp)                    \
  X(siglongjmp)                  \
  X(__longjmp_chk)

namespace socksify::real {

// glibc marks some declarations with access/nonnull attributes that do not
// belong in a pointer type; dropping them is what we want.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wignored-attributes"
#define SOCKSIFY_DECLARE_REAL(name)                             \
  using name##_type = decltype(&::name);                        \
  extern std::atomic<name##_type> name##_ptr;                   \
  name##_type resolve_##name();                                 \
  inline name##_type name##_fn() {                              \
    name##_type p = name##_ptr.load(std::memory_order_relaxed); \
    return p != nullptr ? p : resolve_##name();                 \
  }
SOCKSIFY_REAL_SYMBOLS(SOCKSIFY_DECLARE_REAL)
#undef SOCKSIFY_DECLARE_REAL
#pragma GCC diagnostic pop

// Resolves every symbol now (called from the library constructor).
void resolve_all();

// The next definition of a symbol that is not in the list above because it
// lives outside libc or must not be looked up at start-up (libresolv's
// compatibility entry points, present only when a program loaded libresolv;
// exec and spawn, looked up by exec_guard's own constructor; the time64 entry
// points, which only 32-bit glibc 2.34+ has):
// null when there is none; aborts, as the list does, if it is our own hook.
void* next_symbol(const char* name);

// next_symbol(name) as a function pointer, looked up on first use and kept.
template <class F>
F* next_symbol_cached(const char* name, std::atomic<F*>& slot) {
  F* f = slot.load(std::memory_order_relaxed);
  if (f == nullptr) {
    f = reinterpret_cast<F*>(next_symbol(name));
    slot.store(f, std::memory_order_relaxed);
  }
  return f;
}

}  // namespace socksify::real

#define REAL(name) (::socksify::real::name##_fn())

// The real function behind a hook outside SOCKSIFY_REAL_SYMBOLS (null when no
// loaded object defines it): REAL_LAZY(res_query)(...). One slot per use.
#define REAL_LAZY(name)                                                                        \
  ([]() {                                                                                      \
    static std::atomic<decltype(&name)> slot{nullptr};                                         \
    return ::socksify::real::next_symbol_cached<std::remove_pointer_t<decltype(&name)>>(#name, \
                                                                                        slot); \
  }())

#include "supervisor/bpf_filter.hpp"

#include <linux/audit.h>
#include <linux/seccomp.h>
#include <sys/syscall.h>

#include <cerrno>

namespace socksify::supervisor {
namespace {

// x32 syscalls are the x86-64 numbers with this bit set (asm/unistd.h).
constexpr std::uint32_t kX32SyscallBit = 0x40000000;

sock_filter load(std::uint32_t offset) {
  return BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offset);
}
sock_filter ret(std::uint32_t action) {
  return BPF_STMT(BPF_RET | BPF_K, action);
}
sock_filter jeq(std::uint32_t k, std::uint8_t jt, std::uint8_t jf) {
  return BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, k, jt, jf);
}
sock_filter jge(std::uint32_t k, std::uint8_t jt, std::uint8_t jf) {
  return BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, k, jt, jf);
}

// "if nr == k return action": two instructions, no jump past the next one,
// so the rules can be listed in any order without computing far offsets.
void rule(std::vector<sock_filter>& p, std::uint32_t nr, std::uint32_t action) {
  p.push_back(jeq(nr, 0, 1));
  p.push_back(ret(action));
}

}  // namespace

std::vector<sock_filter> supervisor_filter() {
  constexpr std::uint32_t kNotify = SECCOMP_RET_USER_NOTIF;
  constexpr std::uint32_t kAllow = SECCOMP_RET_ALLOW;
  std::vector<sock_filter> p;
  p.push_back(load(kOffsetArch));
  p.push_back(jeq(AUDIT_ARCH_X86_64, 1, 0));
  p.push_back(ret(SECCOMP_RET_KILL_PROCESS));
  p.push_back(load(kOffsetNr));
  p.push_back(jge(kX32SyscallBit, 0, 1));
  p.push_back(ret(SECCOMP_RET_KILL_PROCESS));
  rule(p, SYS_connect, kNotify);
  rule(p, SYS_sendmsg, kNotify);
  rule(p, SYS_sendmmsg, kNotify);
  rule(p, SYS_getpeername, kNotify);
  rule(p, SYS_io_uring_setup, SECCOMP_RET_ERRNO | (ENOSYS & SECCOMP_RET_DATA));
  // sendto(fd, buf, len, flags, dest_addr, addrlen): dest_addr is args[4], a
  // 64-bit pointer read as two words. Last, so its block falls through to the
  // final allow without reloading the syscall number.
  p.push_back(jeq(SYS_sendto, 0, 6));
  p.push_back(load(kOffsetArgs + 8 * 4));      // low word
  p.push_back(jeq(0, 0, 3));                   // non-zero: notify
  p.push_back(load(kOffsetArgs + 8 * 4 + 4));  // high word
  p.push_back(jeq(0, 0, 1));
  p.push_back(ret(kAllow));  // no destination: the data path
  p.push_back(ret(kNotify));
  p.push_back(ret(kAllow));
  return p;
}

std::vector<sock_filter> allow_all_filter() {
  return {ret(SECCOMP_RET_ALLOW)};
}

}  // namespace socksify::supervisor

// The supervisor's filter, run through a small classic-BPF interpreter (the
// instructions the builder emits, and nothing else: an unknown one fails the
// test), then once for real in a forked child.
#include "supervisor/bpf_filter.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <linux/audit.h>
#include <linux/seccomp.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <optional>

namespace socksify::supervisor {
namespace {

struct Input {
  std::uint32_t nr;
  std::uint32_t arch = AUDIT_ARCH_X86_64;
  std::array<std::uint64_t, 6> args{};
};

// Returns the action, or nullopt for a program the kernel would reject
// (jump out of range, falling off the end, an instruction we do not emit).
std::optional<std::uint32_t> run(const std::vector<sock_filter>& prog, const Input& in) {
  seccomp_data data{};
  data.nr = static_cast<int>(in.nr);
  data.arch = in.arch;
  for (int i = 0; i < 6; ++i) data.args[i] = in.args[i];
  std::byte raw[sizeof data];
  std::memcpy(raw, &data, sizeof data);
  std::uint32_t a = 0;
  std::size_t pc = 0;
  for (int steps = 0; steps < 4096 && pc < prog.size(); ++steps) {
    const sock_filter& f = prog[pc];
    switch (f.code) {
      case BPF_LD | BPF_W | BPF_ABS:
        if (f.k % 4 != 0 || f.k + 4 > sizeof raw) return std::nullopt;
        std::memcpy(&a, raw + f.k, 4);
        ++pc;
        break;
      case BPF_JMP | BPF_JEQ | BPF_K:
        pc += 1 + (a == f.k ? f.jt : f.jf);
        break;
      case BPF_JMP | BPF_JGE | BPF_K:
        pc += 1 + (a >= f.k ? f.jt : f.jf);
        break;
      case BPF_RET | BPF_K:
        return f.k;
      default:
        return std::nullopt;
    }
  }
  return std::nullopt;
}

constexpr std::uint32_t kNotify = SECCOMP_RET_USER_NOTIF;
constexpr std::uint32_t kAllow = SECCOMP_RET_ALLOW;
constexpr std::uint32_t kKill = SECCOMP_RET_KILL_PROCESS;

TEST(SupervisorFilter, TheCallsThatChooseADestinationGoToTheSupervisor) {
  const auto prog = supervisor_filter();
  EXPECT_EQ(run(prog, {SYS_connect}), kNotify);
  EXPECT_EQ(run(prog, {SYS_sendmsg}), kNotify);
  EXPECT_EQ(run(prog, {SYS_sendmmsg}), kNotify);
  EXPECT_EQ(run(prog, {SYS_getpeername}), kNotify);
}

TEST(SupervisorFilter, SendtoIsTrappedOnlyWithADestination) {
  const auto prog = supervisor_filter();
  EXPECT_EQ(run(prog, {SYS_sendto, AUDIT_ARCH_X86_64, {3, 0x1000, 10, 0, 0, 0}}), kAllow);
  EXPECT_EQ(run(prog, {SYS_sendto, AUDIT_ARCH_X86_64, {3, 0x1000, 10, 0, 0x7fff1234, 16}}),
            kNotify);
  // A pointer with only its high word set is still a pointer.
  EXPECT_EQ(run(prog, {SYS_sendto, AUDIT_ARCH_X86_64, {3, 0, 0, 0, 0x700000000000ULL, 16}}),
            kNotify);
  // Other arguments do not matter.
  EXPECT_EQ(run(prog, {SYS_sendto, AUDIT_ARCH_X86_64, {~0ULL, ~0ULL, ~0ULL, ~0ULL, 0, ~0ULL}}),
            kAllow);
}

TEST(SupervisorFilter, IoUringSetupFailsWithEnosys) {
  EXPECT_EQ(run(supervisor_filter(), {SYS_io_uring_setup}), SECCOMP_RET_ERRNO | ENOSYS);
}

TEST(SupervisorFilter, TheDataPathAndEverythingElseRunsUntouched) {
  const auto prog = supervisor_filter();
  for (std::uint32_t nr :
       {SYS_read, SYS_write, SYS_recvfrom, SYS_recvmsg, SYS_socket, SYS_close, SYS_execve,
        SYS_clone, SYS_exit_group, SYS_io_uring_enter, SYS_getsockopt, SYS_epoll_wait}) {
    EXPECT_EQ(run(prog, {nr}), kAllow) << nr;
  }
  for (std::uint32_t nr = 0; nr < 600; ++nr) {
    const auto action = run(prog, {nr});
    ASSERT_TRUE(action) << nr;
    if (nr == SYS_connect || nr == SYS_sendmsg || nr == SYS_sendmmsg || nr == SYS_sendto ||
        nr == SYS_getpeername) {
      continue;
    }
    if (nr == SYS_io_uring_setup) continue;
    EXPECT_EQ(*action, kAllow) << nr;
  }
}

TEST(SupervisorFilter, OtherAbisAreKilled) {
  const auto prog = supervisor_filter();
  // i386's socketcall and connect (102, 362), through int 0x80 on x86-64.
  EXPECT_EQ(run(prog, {102, AUDIT_ARCH_I386}), kKill);
  EXPECT_EQ(run(prog, {362, AUDIT_ARCH_I386}), kKill);
  EXPECT_EQ(run(prog, {SYS_read, AUDIT_ARCH_I386}), kKill);
  EXPECT_EQ(run(prog, {SYS_connect, AUDIT_ARCH_AARCH64}), kKill);
  // x32: x86-64 numbers with the x32 bit.
  EXPECT_EQ(run(prog, {0x40000000u | SYS_connect}), kKill);
  EXPECT_EQ(run(prog, {0x40000000u | SYS_read}), kKill);
  EXPECT_EQ(run(prog, {0xffffffffu}), kKill);
}

TEST(SupervisorFilter, EveryPathEndsInAReturnTheKernelAccepts) {
  const auto prog = supervisor_filter();
  ASSERT_LE(prog.size(), 4096u);  // BPF_MAXINSNS
  for (std::size_t pc = 0; pc < prog.size(); ++pc) {
    if (BPF_CLASS(prog[pc].code) == BPF_JMP) {
      EXPECT_LT(pc + 1 + prog[pc].jt, prog.size()) << pc;
      EXPECT_LT(pc + 1 + prog[pc].jf, prog.size()) << pc;
    }
  }
  EXPECT_EQ(BPF_CLASS(prog.back().code), BPF_RET);
}

// Installed for real: the child has no supervisor listening, so a trapped call
// fails with ENOSYS (the kernel's answer when no listener exists, and what a
// program sees after its supervisor died); the rest runs.
TEST(SupervisorFilter, InstalledInAChildTrappedCallsFailWithoutASupervisor) {
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    auto prog = supervisor_filter();
    sock_fprog fprog{static_cast<unsigned short>(prog.size()), prog.data()};
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) ::_exit(10);
    const long listener =
        ::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &fprog);
    if (listener < 0) ::_exit(11);
    ::close(static_cast<int>(listener));  // no supervisor from here on
    const int s = ::socket(AF_INET, SOCK_STREAM, 0);
    if (s < 0) ::_exit(12);
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_port = htons(9);
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(s, reinterpret_cast<sockaddr*>(&sin), sizeof sin) == 0 || errno != ENOSYS)
      ::_exit(13);
    if (::syscall(SYS_io_uring_setup, 4, nullptr) != -1 || errno != ENOSYS) ::_exit(14);
    char byte = 'x';
    if (::send(s, &byte, 1, MSG_NOSIGNAL) != -1 || errno != EPIPE)
      ::_exit(15);  // ran: ENOTCONN->EPIPE
    if (::sendto(s, &byte, 1, MSG_NOSIGNAL, reinterpret_cast<sockaddr*>(&sin), sizeof sin) != -1 ||
        errno != ENOSYS)
      ::_exit(16);
    ::_exit(0);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
#if defined(__x86_64__)
  ASSERT_TRUE(WIFEXITED(status)) << status;
  EXPECT_EQ(WEXITSTATUS(status), 0);
#else
  // The i386 unit tests: the filter admits x86-64 calls only, so the 32-bit
  // child dies of SIGSYS at its first call after installing it.
  ASSERT_TRUE(WIFSIGNALED(status)) << status;
  EXPECT_EQ(WTERMSIG(status), SIGSYS);
#endif
}

}  // namespace
}  // namespace socksify::supervisor

// The seccomp filter of the supervised mode (issue 11), written by hand as
// classic BPF (no libseccomp): pure, so the unit tests run the emitted program
// through an interpreter. What it decides, per syscall of the x86-64 ABI:
//   connect, sendmsg, sendmmsg, sendto with a destination -> the supervisor
//     (SECCOMP_RET_USER_NOTIF): these are the calls that choose where a
//     packet goes; sendto without a destination (send(2), the data path of a
//     connected socket) runs untouched.
//   getpeername -> the supervisor: a tunnel's peer is the proxy, the program
//     is told the destination it asked for.
//   io_uring_setup -> ENOSYS: a ring's connects would never reach a filter,
//     and liburing/libuv users fall back to plain syscalls on ENOSYS.
//   everything else -> allowed.
// Any other ABI (i386 through int 0x80, x32's numbers with the x32 bit) kills
// the process: their connect has another number, and letting it run would be
// a way around the proxy.
#pragma once

#include <linux/filter.h>

#include <cstdint>
#include <vector>

namespace socksify::supervisor {

// The program, ready for seccomp(SECCOMP_SET_MODE_FILTER).
std::vector<sock_filter> supervisor_filter();

// An allow-everything program: the kernel feature probe installs it in a
// throwaway child to learn which filter flags the kernel takes.
std::vector<sock_filter> allow_all_filter();

// The seccomp_data layout the program reads (linux/seccomp.h), spelled out so
// the test interpreter builds its input from the same numbers.
inline constexpr std::uint32_t kOffsetNr = 0;
inline constexpr std::uint32_t kOffsetArch = 4;
inline constexpr std::uint32_t kOffsetArgs = 16;  // args[i] at 16 + 8 * i, low word first

}  // namespace socksify::supervisor

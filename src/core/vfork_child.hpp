// Whether the caller is a child that borrows its parent's memory: vfork(), or
// clone(CLONE_VM) without a thread of its own process (posix_spawn's child runs
// only libc's internal calls, never our hooks). Such a child has a descriptor
// table of its own but writes into the parent's memory: socksify's state (fd
// table, UDP associations, own descriptors) is the parent's, and a child that
// changes it (its close(), close_range(), dup2() ...) changes what the parent's
// sockets do. Hooks that would change shared state ask this first and leave it
// alone (or refuse the call) in such a child.
//
// The owner is the process whose memory it is: set at start-up and in the
// pthread_atfork child handler (a fork child has memory of its own); a child
// made without those handlers (a raw clone syscall) is told apart from a vfork
// child by kcmp(KCMP_VM). A raw getpid syscall, only on the paths that change
// state for a managed descriptor: unmanaged descriptors never pay for it.
#pragma once

namespace socksify {

// From the library constructor and the atfork child handler.
void remember_owner_process() noexcept;

// True in a vfork child (any process other than the owner of this memory).
bool in_vfork_child() noexcept;

// For calls that would have to record state to be carried by the proxy (a new
// UDP socket, a connect, a first datagram): in a vfork child, logs that `call`
// is refused and returns true (the caller fails it: never carried around the
// proxy, never recorded in the parent's memory).
bool refuse_in_vfork_child(const char* call) noexcept;

}  // namespace socksify

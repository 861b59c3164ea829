// FdState: what socksify knows about one socket it manages, shared by every
// descriptor that refers to it (dup, dup2, fcntl F_DUPFD...) through the
// FdTable (src/core/fd_table.hpp).
//
// A common head (the kind, the count of references, the pool links, the peer
// name as the program passed it, a SocketName: core/socket_name.hpp) and one
// part per kind of socket, as libuv's
// handles are a uv_handle_t head and per-type fields. Each part is a class of
// its own whose file alone reads and writes its fields: it resets them when a
// state is reused, releases what it holds when the socket's last descriptor
// closes, and makes its locks anew in a forked child.
//
//   kind                       part                  owner
//   TcpTunnel (connect())      ConnectState connect  core/connect_state.* (the
//                                                    worker pool: core/async_connect.*)
//   TcpBindCandidate, TcpBind  BindState bind        core/bind_state.hpp, core/tcp_bind.cpp
//   Udp                        UdpState udp          core/udp_state.hpp, core/udp_association.cpp
//   Udp, DnsTcp                DnsState dns          core/dns_state.hpp, core/dns_intercept.cpp
//                                                    (a UDP socket that queried a system
//                                                    resolver; a TCP stream to one)
//
// Every part is there in every state (not a union): states are recycled, never
// freed, and a thread racing a close() on the same descriptor (a bug in the
// program already) reads a stale but whole object of each part, never another
// kind's bytes. The hooks call the small API below (connecting, the connect
// error, the peer name, on close) or a part's own methods, never its fields;
// the connect path asks before_connect() rather than calling BIND code.
//
// A new kind of socket: a Kind, its part (a class with reset/release/
// reset_in_child) and owner file, a member here, its line in each of the
// three life calls below, and its case in the dispatch of fd_state.cpp.
#pragma once

#include <sys/socket.h>

#include <atomic>
#include <cstdint>
#include <optional>

#include "base/result.hpp"
#include "core/bind_state.hpp"
#include "core/connect_state.hpp"
#include "core/dns_state.hpp"
#include "core/socket_name.hpp"
#include "core/udp_state.hpp"

namespace socksify {

struct FdState {
  // TcpTunnel: connected through the proxy (by connect(), or accepted through
  // a BIND). TcpBindCandidate: a TCP socket the program bound to port 0 of a
  // non-loopback address, with `bind on`; TcpBind: it now listens at the proxy
  // (SOCKS BIND, src/core/tcp_bind.hpp), the descriptor being the connection
  // to the proxy. Udp: a UDP socket, carried through an association. DnsTcp: a
  // TCP socket the program connected to a system resolver under remote DNS,
  // answered by socksify (src/core/dns_intercept.hpp).
  enum class Kind : std::uint8_t { TcpTunnel, Udp, TcpBindCandidate, TcpBind, DnsTcp };

  // --- the head ---
  Kind kind = Kind::TcpTunnel;
  std::atomic<int> refs{0};
  // What the program connected to (TCP through the proxy, connected UDP), as
  // it passed it (a fake remote-DNS address stays fake): getpeername() answers
  // with this.
  SocketName peer;
  FdState* next_free = nullptr;       // pool link
  FdState* next_allocated = nullptr;  // every state ever made (for fork)

  // --- the parts ---
  ConnectState connect;
  BindState bind;
  UdpState udp;
  DnsState dns;

  // --- the life calls (FdTable) ---
  void reset(Kind k) noexcept {
    kind = k;
    peer.clear();
    connect.reset();
    bind.reset();
    udp.reset();
    dns.reset();
  }
  // The last descriptor closed.
  void release() noexcept {
    connect.release();
    udp.release();
    dns.release();
  }
  void reset_in_child() noexcept {
    connect.reset_in_child();
    udp.reset_in_child();
    dns.reset_in_child();
  }

  // --- what the hooks ask ---
  // Still in its SOCKS handshake: no I/O, not writable (lock-free).
  bool connecting() const noexcept { return kind == Kind::TcpTunnel && connect.connecting(); }
  // getsockopt(SO_ERROR) after a non-blocking connect: the handshake's errno,
  // once; 0 while connecting (as the kernel's), nullopt when it is the
  // kernel's to answer (no error of ours, or it was reported).
  std::optional<int> take_connect_error() noexcept;
  // getpeername(): Ok with the peer copied out, the errno, or nullopt when it
  // is the kernel's to answer.
  std::optional<Status> peer_name(sockaddr* addr, socklen_t* len) const noexcept;
  // connect() on a socket of another kind than a tunnel: its owner makes it a
  // plain socket again (Ok), or says why it cannot.
  Status before_connect(int fd) noexcept;
  // The program closes fd, one of this socket's descriptors (before the table
  // forgets it): a handshake in flight is cancelled, or goes on for another
  // descriptor. true when fd must not be closed for real now (see
  // close_pending in core/async_connect.hpp).
  bool on_close(int fd) noexcept;
};

}  // namespace socksify

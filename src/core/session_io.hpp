// The socket operations a session performs on the program's descriptor,
// behind one interface so that failover and chains can be unit-tested without
// a socket. SystemSessionIo is the production implementation: the same system
// calls the session made before this seam existed, one virtual call each.
#pragma once

#include <sys/socket.h>

#include <optional>

#include "base/result.hpp"
#include "core/socket_stream.hpp"
#include "socks5/handshake.hpp"

namespace socksify {

class SessionIo {
 public:
  virtual ~SessionIo() = default;
  // The socket's address family (SO_DOMAIN); AF_UNSPEC when it cannot say.
  virtual int family(int fd) = 0;
  // The descriptor's file status flags (F_GETFL / F_SETFL); -1 when unknown.
  virtual int status_flags(int fd) = 0;
  virtual void set_status_flags(int fd, int flags) = 0;
  // Puts a fresh TCP socket of `family` under the same descriptor number.
  virtual Status replace_socket(int fd, int family) = 0;
  // connect() to the proxy, bounded by the deadline.
  virtual Status connect(int fd, const sockaddr* addr, socklen_t len, Deadline deadline) = 0;
  // The byte stream over the connected descriptor for the handshake; valid
  // until the next call of stream() or the end of the session.
  virtual socks5::Stream& stream(int fd, Deadline deadline) = 0;
  // Dissolves a failed attempt's connection so the socket can be used again.
  virtual void disconnect(int fd) = 0;
};

class SystemSessionIo final : public SessionIo {
 public:
  SystemSessionIo() = default;
  // For a caller that asked the socket already (the supervisor's connect
  // handler): its family and status flags, so the session need not ask again.
  // The socket must not be replaced (SessionOptions::may_replace_socket).
  SystemSessionIo(int known_family, int known_flags)
      : known_family_(known_family), known_flags_(known_flags) {}
  int family(int fd) override;
  int status_flags(int fd) override;
  void set_status_flags(int fd, int flags) override;
  Status replace_socket(int fd, int family) override;
  Status connect(int fd, const sockaddr* addr, socklen_t len, Deadline deadline) override;
  socks5::Stream& stream(int fd, Deadline deadline) override;
  void disconnect(int fd) override;

 private:
  std::optional<SocketStream> stream_;  // in place: no allocation per session
  int known_family_ = AF_UNSPEC;
  int known_flags_ = -1;
};

}  // namespace socksify

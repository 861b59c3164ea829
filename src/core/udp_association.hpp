// UdpAssociation: a UDP socket's SOCKS5 UDP ASSOCIATE (RFC 1928 §7): the TCP
// control connection, which the association lives as long as, and the relay's
// UDP address that datagrams go to and must come from.
#pragma once

#include <sys/socket.h>

namespace socksify {

struct UdpAssociation {
  int control_fd = -1;
  sockaddr_storage relay{};
  socklen_t relay_len = 0;
};

}  // namespace socksify

// connect() on a UDP socket.
#pragma once

#include <sys/socket.h>

#include "core/result.hpp"

namespace socksify {

Status udp_connect(int fd, const sockaddr* addr, socklen_t len) noexcept;

}  // namespace socksify

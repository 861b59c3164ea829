// UDP sockets the process had before socksify was loaded (inherited across
// exec, passed by a service manager): socket() never saw them, so without this
// their datagrams would skip the fd table's one-load check and go out directly.
#pragma once

namespace socksify {

// Scans the open descriptors once (from the library constructor) and gives
// every IPv4/IPv6 UDP socket a state, as socket() would have. A socket
// already connected to a destination that is proxied cannot be fixed without
// contacting the proxy at start-up: it is logged (its datagrams go to that
// peer, which the program chose before socksify was there).
void adopt_inherited_udp_sockets() noexcept;

}  // namespace socksify

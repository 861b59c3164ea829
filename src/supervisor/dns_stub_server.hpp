// The supervisor's DNS stub for remote DNS (socks5h): a Go program resolves
// names itself, sending queries over UDP to its resolv.conf servers. Under
// remote DNS such a query would leak every name, so the supervisor connects
// the program's UDP socket to this stub instead (a socket of ours on
// 127.0.0.1 in the program's network namespace, which the launcher shares),
// and the stub answers A and AAAA with the fake addresses of the supervisor's
// name table (dns/dns_stub.hpp, the library's own stub). That table is
// Runtime::names(): the tree's (core/tree_names.hpp) when SOCKSIFY_NAME_TABLE
// is set, as it is for a program the library's exec guard handed to the
// supervised mode from a preloaded tree, so an address means the same name to
// the Go child and to its preloaded siblings; else the supervisor's own. The program's
// connect to a fake address then goes to the proxy by name (core/route.cpp).
// UDP only: the answers are small; a query the stub cannot answer is dropped
// (the program's resolver times out), never forwarded.
#pragma once

#include <netinet/in.h>

#include <optional>

namespace socksify {
class Runtime;
}

namespace socksify::supervisor {

// The stub's address, started on first use (one thread); nullopt when it
// cannot start (then the query is refused, never sent).
std::optional<sockaddr_in> dns_stub_address(const Runtime& rt);

}  // namespace socksify::supervisor

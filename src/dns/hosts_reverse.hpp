// Reverse lookups of addresses outside the remote-DNS ranges, under remote
// DNS. glibc's getnameinfo and gethostbyaddr ask the system's resolver for
// the PTR record of an address the hosts file does not list, and send that
// query from inside libc, out of reach of LD_PRELOAD: a program logging its
// peers' names (a server, `netstat`) would leak a query per peer. Under remote
// DNS socksify answers them from the hosts file alone, as glibc's "files"
// source does (the first line listing the address, its canonical name), and
// an address it does not list has no name: the numeric form, or EAI_NONAME /
// HOST_NOT_FOUND when a name is required.
//
// Pure: the hosts file's text is passed in.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace socksify {

// The canonical name the hosts file text gives addr (4 bytes: IPv4, 16: IPv6),
// from the first line whose address is equal (glibc's files backend); nullopt
// when no line lists it. Comments (#...) and malformed lines are skipped.
std::optional<std::string_view> hosts_name_for(std::string_view hosts_text,
                                               std::span<const std::uint8_t> addr) noexcept;

}  // namespace socksify

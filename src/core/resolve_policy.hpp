// Whether a name lookup is answered from the remote-DNS table (no query leaves
// the machine) or by the real resolver.
#pragma once

#include <netdb.h>

#include <string_view>

namespace socksify {

class NameTable;

enum class Lookup : unsigned char {
  Real,    // libc: remote DNS off, numeric host, NULL node, localhost, bypassed name
  Fake,    // the name table: the name goes to the proxy at connect time
  Refuse,  // remote DNS was asked for but the configuration is broken: fail closed
};

// service: used for port-specific direct rules ("host:22"); may be null.
Lookup lookup_policy(const char* node, const char* service, int ai_flags) noexcept;

// For the resolver calls that take no host name of ours to judge first
// (res_query, res_send, getaddrinfo_a, shim/resolv.cpp): Fake under remote
// DNS (socksify answers them), Real with local DNS or inside our own code,
// Refuse when the configuration is broken (fail closed; one error line
// unless report is false).
Lookup resolver_call_policy(bool report = true) noexcept;

// Under remote DNS: true when a name is not for the proxy (localhost with
// direct_loopback, a direct rule), so a DNS question about it goes to the
// program's own resolver, as getaddrinfo() of it does.
bool resolves_locally(std::string_view name) noexcept;

// The table, when remote DNS is on.
NameTable* name_table() noexcept;

// After the table refused a name: if that is because its ranges are used up,
// one error line saying so (addresses are never reused, so this lookup fails).
void report_if_used_up(const NameTable& table, const char* node) noexcept;

}  // namespace socksify

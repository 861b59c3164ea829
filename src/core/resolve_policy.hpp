// Whether a name lookup is answered from the remote-DNS table (no query leaves
// the machine) or by the real resolver.
#pragma once

#include <netdb.h>

namespace socksify {

class FakeNames;

enum class Lookup : unsigned char {
  Real,    // libc: remote DNS off, numeric host, NULL node, localhost, bypassed name
  Fake,    // the name table: the name goes to the proxy at connect time
  Refuse,  // remote DNS was asked for but the configuration is broken: fail closed
};

// service: used for port-specific direct rules ("host:22"); may be null.
Lookup lookup_policy(const char* node, const char* service, int ai_flags) noexcept;

// The table, when remote DNS is on.
FakeNames* name_table() noexcept;

// After the table refused a name: if that is because its ranges are used up,
// one error line saying so (addresses are never reused, so this lookup fails).
void report_if_used_up(const FakeNames& table, const char* node) noexcept;

}  // namespace socksify

// `isolate on`: a SOCKS5 login of this process's own for proxies that have no
// configured credentials, as torsocks' IsolatePID does: Tor's IsolateSOCKSAuth
// (on by default) gives streams with different credentials different
// circuits, so two processes of one tree do not share an exit.
#pragma once

#include "config/proxy_spec.hpp"

namespace socksify {

// The spec the handshake should use: `spec` itself, or (isolate on, a SOCKS5
// proxy with no user) `scratch` filled with user "socksify-PID-RANDOM" and a
// password of the same RANDOM. PID is asked at each call, so a fork()ed child
// gets a login of its own; RANDOM is drawn once per process image.
const ProxySpec& isolated_login(const ProxySpec& spec, bool isolate, ProxySpec& scratch);

}  // namespace socksify

#include "core/udp_association.hpp"

#include "core/fd_table.hpp"
#include "core/real.hpp"

namespace socksify {

void release_udp_association(UdpAssociation* udp) noexcept {
  // Closing the control connection ends the association at the proxy (§7).
  if (udp->control_fd >= 0) REAL(close)(udp->control_fd);
  delete udp;
}

}  // namespace socksify

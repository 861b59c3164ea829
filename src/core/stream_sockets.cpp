#include "core/stream_sockets.hpp"

namespace socksify {

StreamSockets& stream_sockets() noexcept {
  // As fd_table(): constant-initialised, untouched words cost no memory.
  static StreamSockets sockets;
  return sockets;
}

}  // namespace socksify

// How much the library logs (SOCKSIFY_LOG_LEVEL): set by the settings, read by
// the logger.
#pragma once

#include <cstdint>

namespace socksify {

enum class LogLevel : std::uint8_t { Quiet, Error, Warn, Info, Debug };

}  // namespace socksify

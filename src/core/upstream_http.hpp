// The HTTP CONNECT Upstream (core/upstream_http.cpp), for upstream_for().
#pragma once

#include "core/upstream.hpp"

namespace socksify {

const Upstream& http_upstream() noexcept;

}  // namespace socksify

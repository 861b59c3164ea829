#include "core/trace.hpp"

#include <unistd.h>

#include "core/log.hpp"

namespace socksify::trace {
namespace {

void json_string(fmt::memory_buffer& out, std::string_view s) {
  out.push_back('"');
  for (const char c : s) {
    switch (c) {
      case '"':
        fmt::format_to(std::back_inserter(out), "\\\"");
        break;
      case '\\':
        fmt::format_to(std::back_inserter(out), "\\\\");
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          fmt::format_to(std::back_inserter(out), "\\u{:04x}", static_cast<unsigned>(c));
        } else {
          out.push_back(c);
        }
    }
  }
  out.push_back('"');
}

}  // namespace

void configure(const Settings& s) {
  g_json.store(s.log_format == LogFormat::Json, std::memory_order_relaxed);
  g_on.store(s.verbose, std::memory_order_relaxed);
}

void format_event(fmt::memory_buffer& out, const Event& e, bool json) {
  auto it = std::back_inserter(out);
  const std::string dst = e.dst != nullptr ? fmt::format("{}", *e.dst) : std::string(e.name);
  if (json) {
    fmt::format_to(it, "{{\"pid\":{},\"event\":", ::getpid());
    json_string(out, e.kind);
    fmt::format_to(it, ",\"dst\":");
    json_string(out, dst);
    fmt::format_to(it, ",\"rule\":");
    json_string(out, e.rule);
    fmt::format_to(it, ",\"via\":");
    json_string(out, e.via);
    fmt::format_to(it, ",\"proxies\":[");
    for (std::size_t i = 0; i < e.proxies.size(); ++i) {
      if (i != 0) out.push_back(',');
      json_string(out, e.proxies[i]->display());
    }
    fmt::format_to(it, "],\"outcome\":");
    json_string(out, e.outcome);
    if (!e.detail.empty()) {
      fmt::format_to(it, ",\"detail\":");
      json_string(out, e.detail);
    }
    if (e.ms >= 0) fmt::format_to(it, ",\"ms\":{}", e.ms);
    out.push_back('}');
    return;
  }
  fmt::format_to(it, "socksify[{}]: {} {}", ::getpid(), e.kind, dst);
  if (!e.rule.empty()) fmt::format_to(it, " rule '{}'", e.rule);
  if (!e.via.empty()) fmt::format_to(it, " via {}", e.via);
  for (std::size_t i = 0; i < e.proxies.size(); ++i) {
    fmt::format_to(it, "{}{}", i == 0 ? " [" : " -> ", e.proxies[i]->display());
  }
  if (!e.proxies.empty()) out.push_back(']');
  fmt::format_to(it, ": {}", e.outcome);
  if (!e.detail.empty()) fmt::format_to(it, " ({})", e.detail);
  if (e.ms >= 0) fmt::format_to(it, " {} ms", e.ms);
}

void emit(const Event& e) {
  try {
    fmt::memory_buffer line;
    format_event(line, e, g_json.load(std::memory_order_relaxed));
    log::write_line(std::string_view(line.data(), line.size()));
  } catch (...) {
    // Out of memory formatting a trace line: the line is lost, not the program.
  }
}

}  // namespace socksify::trace

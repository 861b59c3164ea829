#include "core/session_outcome.hpp"

#include <cstring>
#include <iterator>

#include "base/named.hpp"
#include "core/log.hpp"

namespace socksify {
namespace {

// What the program was doing, as the failure lines say it.
constexpr Named<socks5::Command> kVerbs[] = {
    {socks5::Command::Connect, "connect to"},
    {socks5::Command::UdpAssociate, "UDP to"},
    {socks5::Command::Bind, "listen at"},
};

std::string_view verb(socks5::Command cmd) {
  return name_of(kVerbs, cmd, "connect to");
}

constexpr Named<SessionStage> kStageNames[] = {
    {SessionStage::Configuration, "configuration"},
    {SessionStage::Unsupported, "unsupported"},
    {SessionStage::TcpConnect, "tcp connect"},
    {SessionStage::Greeting, "greeting"},
    {SessionStage::Method, "method"},
    {SessionStage::Auth, "auth"},
    {SessionStage::Request, "request"},
    {SessionStage::Reply, "reply"},
};

}  // namespace

SessionStage session_stage(socks5::Stage s) {
  switch (s) {
    case socks5::Stage::Greeting:
      return SessionStage::Greeting;
    case socks5::Stage::Method:
      return SessionStage::Method;
    case socks5::Stage::Auth:
      return SessionStage::Auth;
    case socks5::Stage::Request:
      return SessionStage::Request;
    case socks5::Stage::Reply:
      return SessionStage::Reply;
  }
  return SessionStage::Reply;
}

std::string_view stage_name(SessionStage s) {
  return name_of(kStageNames, s, "?");
}

LogLevel attempt_level(const SessionAttempt& a) {
  return a.moved_on ? LogLevel::Warn : LogLevel::Error;
}

void format_attempt(fmt::memory_buffer& out, const SessionOutcome& o, const SessionAttempt& a) {
  auto it = std::back_inserter(out);
  const Endpoint& shown = o.shown != nullptr ? *o.shown : Endpoint{};
  const Endpoint& dst = o.dst != nullptr ? *o.dst : shown;
  const int e = a.error.code;
  switch (a.stage) {
    case SessionStage::Configuration:
      fmt::format_to(it, "refusing {}: socksify is not configured ({})", shown, a.reason);
      return;
    case SessionStage::Unsupported:
      fmt::format_to(it, "refusing {} {}: {}",
                     o.cmd == socks5::Command::UdpAssociate ? "UDP to"
                     : o.cmd == socks5::Command::Bind       ? "to listen at"
                                                            : "connect to",
                     shown, a.reason);
      return;
    default:
      break;
  }
  const std::string display = a.spec != nullptr ? a.spec->display() : std::string("?");
  const std::string_view more = a.moved_on ? "; trying the next proxy" : "";
  if (a.stage == SessionStage::TcpConnect) {
    // A chain's first hop fails the way a pool's proxy does.
    fmt::format_to(it, "{} {} via {} failed: {}: {} ({}){}", verb(o.cmd), o.chain ? dst : shown,
                   display, a.reason, std::strerror(e), log::errno_name(e), more);
  } else if (o.chain) {
    fmt::format_to(it, "{} {} via chain hop {} ({}) failed: {} ({})", verb(o.cmd), dst, a.proxy + 1,
                   display, a.reason, log::errno_name(e));
  } else {
    fmt::format_to(it, "{} {} via {} failed: {} ({}){}", verb(o.cmd), shown, display, a.reason,
                   log::errno_name(e), more);
  }
}

void format_success(fmt::memory_buffer& out, const SessionOutcome& o) {
  auto it = std::back_inserter(out);
  const Endpoint& shown = o.shown != nullptr ? *o.shown : Endpoint{};
  if (o.chain) {
    fmt::format_to(it, "{} via a chain of {}: tunnel open", o.dst != nullptr ? *o.dst : shown,
                   o.hops);
    return;
  }
  fmt::format_to(it, "{} via {}: {} open", shown,
                 o.served_spec != nullptr ? o.served_spec->display() : std::string("?"),
                 o.cmd == socks5::Command::UdpAssociate ? "UDP association"
                 : o.cmd == socks5::Command::Bind       ? "BIND listener"
                                                        : "tunnel");
}

}  // namespace socksify

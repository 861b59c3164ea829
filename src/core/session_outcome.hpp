// SessionOutcome: what open_session did, as data: each failed attempt (which
// proxy or chain hop, at which stage, the errno, the SOCKS reply code, the
// reason, whether failover moved on) and, on success, which proxy served and
// the reply's bound address. The library's log lines and --check's verdicts
// are both formatted from it (format_attempt), so they say the same thing.
// Pure: no I/O, nothing allocated but by the formatters' callers.
#pragma once

#include <fmt/format.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "base/endpoint.hpp"
#include "base/result.hpp"
#include "config/proxy_spec.hpp"
#include "config/settings.hpp"
#include "socks5/codec.hpp"
#include "socks5/handshake.hpp"

namespace socksify {

enum class SessionStage : std::uint8_t {
  Configuration,  // socksify is not configured: nothing was tried
  Unsupported,    // the proxy mode or protocol cannot carry the command
  TcpConnect,     // connecting to the proxy
  Greeting,       // sending the greeting, waiting for its answer
  Method,         // the proxy's method choice (none acceptable, not offered, malformed)
  Auth,
  Request,
  Reply,
};

SessionStage session_stage(socks5::Stage s);
std::string_view stage_name(SessionStage s);  // "tcp connect", "greeting", ...

struct SessionAttempt {
  std::size_t proxy = 0;            // index into the runtime's proxies = chain hop
  const ProxySpec* spec = nullptr;  // that proxy (null for Configuration)
  SessionStage stage = SessionStage::TcpConnect;
  Errno error{0};           // what the program gets
  std::uint8_t reply = 0;   // SOCKS REP when the proxy refused, else 0
  std::string_view reason;  // static text, or the runtime's configuration error
  bool moved_on = false;    // failover tried the next proxy after this one
};

struct SessionOutcome {
  // Attempts kept; with more proxies than this the first ones and the last stay.
  static constexpr std::size_t kKept = 8;

  socks5::Command cmd = socks5::Command::Connect;
  bool chain = false;
  // What the program reached (dst) and how the log names it (shown: not UDP
  // ASSOCIATE's DST). Borrowed from the caller: valid while its arguments are.
  const Endpoint* dst = nullptr;
  const Endpoint* shown = nullptr;

  std::array<SessionAttempt, kKept> kept{};
  std::size_t failures = 0;  // failed attempts, kept or not

  // On success.
  bool ok = false;
  std::size_t served_by = 0;  // the proxy that served; chain: the last hop
  std::size_t hops = 0;       // proxies crossed (1 for a pool)
  const ProxySpec* served_spec = nullptr;
  Endpoint bound;  // the reply's BND.ADDR:BND.PORT

  void add(const SessionAttempt& a) {
    kept[failures < kKept ? failures : kKept - 1] = a;
    ++failures;
  }
  std::span<const SessionAttempt> attempts() const {
    return std::span(kept).first(failures < kKept ? failures : kKept);
  }
  // The failure the program's errno comes from; null on success.
  const SessionAttempt* last_failure() const {
    return failures == 0 ? nullptr : &attempts().back();
  }
};

// The library's log line for one failed attempt (without "socksify[pid]: level: "):
//   connect to 10.0.2.1:80 via socks5://10.0.1.1:1080 failed: proxy unreachable:
//   Connection refused (ECONNREFUSED); trying the next proxy
// and at which level it is logged (Warn when failover moved on, else Error).
void format_attempt(fmt::memory_buffer& out, const SessionOutcome& o, const SessionAttempt& a);
LogLevel attempt_level(const SessionAttempt& a);
// The debug line of a success: "10.0.2.1:80 via socks5://...: tunnel open".
void format_success(fmt::memory_buffer& out, const SessionOutcome& o);

}  // namespace socksify

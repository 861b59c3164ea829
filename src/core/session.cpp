#include "core/session.hpp"

#include <fcntl.h>
#include <netinet/in.h>

#include <array>
#include <chrono>
#include <cstdint>

#include "core/isolate.hpp"
#include "core/log.hpp"
#include "core/pool_choice.hpp"
#include "core/route.hpp"
#include "core/runtime.hpp"
#include "core/session_io.hpp"
#include "core/trace.hpp"
#include "core/upstream.hpp"

namespace socksify {
namespace {

// Restores the descriptor's file status flags on every path out.
class NonBlockingScope {
 public:
  NonBlockingScope(SessionIo& io, int fd) : io_(io), fd_(fd), flags_(io.status_flags(fd)) {
    if (flags_ >= 0 && !(flags_ & O_NONBLOCK)) io_.set_status_flags(fd_, flags_ | O_NONBLOCK);
  }
  ~NonBlockingScope() {
    if (flags_ >= 0 && !(flags_ & O_NONBLOCK)) io_.set_status_flags(fd_, flags_);
  }
  NonBlockingScope(const NonBlockingScope&) = delete;
  NonBlockingScope& operator=(const NonBlockingScope&) = delete;
  // After replace_socket the new file needs the flags set again.
  void reapply() const {
    if (flags_ >= 0) io_.set_status_flags(fd_, flags_ | O_NONBLOCK);
  }

 private:
  SessionIo& io_;
  int fd_;
  int flags_;
};

// Files each failed attempt in the outcome and tells the reporter at once
// (a "trying the next proxy" line is written before the next proxy is tried).
class Recorder {
 public:
  Recorder(SessionOutcome& out, const SessionOptions& options) : out_(out), options_(options) {}
  Errno fail(const SessionAttempt& a) {
    out_.add(a);
    if (options_.report != nullptr) options_.report(out_, out_.last_failure());
    return a.error;
  }
  void served(std::size_t i, const ProxySpec& spec, std::size_t hops, const socks5::Reply& r) {
    out_.ok = true;
    out_.served_by = i;
    out_.served_spec = &spec;
    out_.hops = hops;
    out_.bound = r.bound;
    if (options_.report != nullptr) options_.report(out_, nullptr);
  }
  SessionOutcome& outcome() { return out_; }

 private:
  SessionOutcome& out_;
  const SessionOptions& options_;
};

constexpr std::string_view kUnreachable = "proxy unreachable";

// Connects fd to proxy i (swapping an AF_INET socket for an AF_INET6 one when
// the proxy needs it and that is allowed).
Status reach_proxy(const Runtime& rt, SessionIo& io, int fd, std::size_t i, int& family,
                   const NonBlockingScope& nonblocking, bool may_replace_socket,
                   Deadline deadline) {
  sockaddr_storage addr;
  socklen_t len = rt.proxy_address(i, family, addr);
  if (len != 0 && family == AF_INET && addr.ss_family == AF_INET6) {
    if (!may_replace_socket) return Errno{EAFNOSUPPORT};
    if (auto r = io.replace_socket(fd, AF_INET6); !r) return r;
    nonblocking.reapply();
    family = AF_INET6;
    len = rt.proxy_address(i, family, addr);
  }
  if (len == 0) return Errno{EHOSTUNREACH};
  return io.connect(fd, reinterpret_cast<sockaddr*>(&addr), len, deadline);
}

// The handshake's pipelining for proxy i: the setting, and under auto what
// this process learnt about the proxy (Probe until it is known).
socks5::Pipelining pipelining_for(const Runtime& rt, std::size_t i) {
  if (const Pipeline set = rt.settings().pipeline; set != Pipeline::Auto) {
    return set == Pipeline::On ? socks5::Pipelining::On : socks5::Pipelining::Off;
  }
  const PipelineMemory learnt = rt.pipeline_memory(i);
  if (learnt == PipelineMemory::Unknown) return socks5::Pipelining::Probe;
  return learnt == PipelineMemory::Takes ? socks5::Pipelining::On : socks5::Pipelining::Off;
}

// Notes when the last write left and the last read came back, so that the
// final round trip of a sequential handshake (request -> reply) can be timed
// whatever the protocol.
class TimedStream final : public socks5::Stream {
 public:
  explicit TimedStream(socks5::Stream& inner) : inner_(inner) {}
  Result<std::size_t> read_some(std::span<std::byte> buf) override {
    auto n = inner_.read_some(buf);
    if (n) last_read_ = Clock::now();
    return n;
  }
  Result<std::size_t> write_some(std::span<const std::byte> buf) override {
    auto n = inner_.write_some(buf);
    if (n) last_write_ = Clock::now();
    return n;
  }
  void limit_waits(std::chrono::milliseconds limit) override { inner_.limit_waits(limit); }
  Result<std::size_t> peek_some(std::span<std::byte> buf) override {
    auto n = inner_.peek_some(buf);
    if (n) last_read_ = Clock::now();
    return n;
  }
  // How long the answer to the last message took (zero before any answer).
  std::chrono::milliseconds last_round_trip() const {
    if (last_read_ < last_write_) return std::chrono::milliseconds{0};
    return std::chrono::duration_cast<std::chrono::milliseconds>(last_read_ - last_write_);
  }

 private:
  socks5::Stream& inner_;
  Deadline last_write_{};
  Deadline last_read_{};
};

// What a probe that stalled left to decide: a proxy that drops the bytes
// behind the greeting (microsocks) and one that took them but waits for a slow
// destination before its CONNECT reply look the same for the whole window.
// The sequential retry tells them apart: a request answered within the window
// one message per round trip means the proxy, not the destination, was the
// wait. Only then is the proxy remembered as not pipelining.
struct Stall {
  std::size_t proxy = 0;
  std::chrono::milliseconds window{0};  // zero: no stall to decide
  bool pending() const { return window.count() > 0; }
};

// After the sequential retry of a stalled probe: remembers the proxy as not
// pipelining when that retry's request was answered within the window.
void decide_stall(const Runtime& rt, Stall& stall, const ProxySpec& spec,
                  const Result<socks5::Reply, socks5::Failure>& reply, const TimedStream& timed) {
  const std::size_t i = stall.proxy;
  const auto window = stall.window;
  stall = {};
  // Only an answer to the request itself times the destination.
  if (!reply && reply.error().stage != socks5::Stage::Reply) return;
  const auto took = timed.last_round_trip();
  if (took < window) {
    rt.remember_pipeline(i, PipelineMemory::Refuses);
    log::info(
        "proxy {}: does not take a pipelined handshake (one message per round trip it "
        "answered the request in {} ms); remembered (for the tree when it shares a region, see "
        "socksify.conf(5))",
        spec.display(), took.count());
  } else {
    log::info(
        "proxy {}: the request took {} ms one message per round trip too: a slow "
        "destination, not a proxy that drops pipelined bytes; still pipelining",
        spec.display(), took.count());
  }
}

// Remembers what a probing handshake showed. True when the proxy did not take
// it: the caller asks it again on a fresh connection, one message per round
// trip (the program sees no failure). A refused method is remembered at once;
// a stall is left in `stall` for decide_stall() after the retry.
bool learn_pipelining(const Runtime& rt, std::size_t i, const ProxySpec& spec,
                      socks5::Pipelining how, const Result<socks5::Reply, socks5::Failure>& reply,
                      Stall& stall) {
  if (how != socks5::Pipelining::Probe) return false;
  if (reply) {
    rt.remember_pipeline(i, PipelineMemory::Takes);
    return false;
  }
  const socks5::Failure& f = reply.error();
  if (!f.retry_sequential) return false;
  if (f.stalled_for.count() > 0) {
    stall = {i, f.stalled_for};
    log::info(
        "proxy {}: no answer within {} ms of its method choice to a pipelined handshake; "
        "asking again one message per round trip",
        spec.display(), f.stalled_for.count());
    return true;
  }
  rt.remember_pipeline(i, PipelineMemory::Refuses);
  log::info("proxy {}: {}; asking again one message per round trip", spec.display(), f.what);
  return true;
}

// Pipelining for proxy i in this session: sequential while a stall on it is
// being decided, else pipelining_for().
socks5::Pipelining pipelining_now(const Runtime& rt, std::size_t i, const Stall& stall) {
  if (stall.pending() && stall.proxy == i) return socks5::Pipelining::Off;
  return pipelining_for(rt, i);
}

SessionAttempt failed_handshake(std::size_t i, const ProxySpec& spec, const socks5::Failure& f,
                                bool moved_on) {
  return {i, &spec, session_stage(f.stage), f.error, f.reply, f.what, moved_on};
}

// proxy_mode chain: through every proxy in turn, each asked to CONNECT to the
// next, the last to the destination.
Result<socks5::Reply> open_chain(const Runtime& rt, SessionIo& io, int fd, socks5::Command cmd,
                                 const Endpoint& dst, const SessionOptions& options,
                                 const NonBlockingScope& nonblocking, Recorder& rec) {
  const auto proxies = rt.group_proxies(options.group);
  const std::size_t base = rt.group_first(options.group);  // index in the runtime's proxies
  rec.outcome().chain = true;
  if (cmd != socks5::Command::Connect) {
    // A UDP relay at the end of a chain is not reachable from here; BIND is
    // left to a single proxy too.
    const bool udp = cmd == socks5::Command::UdpAssociate;
    return rec.fail({0, &proxies[0].spec, SessionStage::Unsupported, Errno{EOPNOTSUPP}, 0,
                     udp ? "UDP cannot cross a proxy chain" : "BIND cannot cross a proxy chain",
                     false});
  }
  int family = io.family(fd);
  // A hop that does not take the pipelined handshake costs the chain a fresh
  // start. Each hop can stall once per round, and a stalled hop runs
  // sequentially in the next, so a round without a stall comes within
  // 2 x hops rounds (a hop found slow only for its destination probes again
  // in a later session, not in this one).
  Stall stall;
  std::uint64_t sequential_hops = 0;  // hops decided slow destinations, for this session
  for (std::size_t round = 0; round <= 2 * proxies.size(); ++round) {
    const Deadline deadline = Clock::now() + rt.settings().connect_timeout;
    if (auto c = reach_proxy(rt, io, fd, base, family, nonblocking, options.may_replace_socket,
                             deadline);
        !c) {
      io.disconnect(fd);
      return rec.fail(
          {0, &proxies[0].spec, SessionStage::TcpConnect, c.error(), 0, kUnreachable, false});
    }
    TimedStream stream(io.stream(fd, deadline));
    bool again = false;
    // Hop by hop: the next hop's greeting, auth and request leave in one write
    // once the previous hop's tunnel is open, never before its reply (a hop
    // that refused would otherwise have sent our next hop's credentials on).
    for (std::size_t i = 0; i < proxies.size() && !again; ++i) {
      const bool last_hop = i + 1 == proxies.size();
      const Endpoint& hop = last_hop ? dst : proxies[i + 1].endpoint;
      const ProxySpec& spec = proxies[i].spec;
      const Upstream& upstream = upstream_for(spec);
      if (!upstream.carries(cmd)) {
        io.disconnect(fd);
        return rec.fail({i, &spec, SessionStage::Unsupported, Errno{EOPNOTSUPP}, 0,
                         upstream.refusal(cmd), false});
      }
      const std::size_t k = base + i;  // the hop's index in the runtime's proxies
      const bool decided_here = i < 64 && (sequential_hops >> i & 1) != 0;
      const socks5::Pipelining how =
          decided_here ? socks5::Pipelining::Off : pipelining_now(rt, k, stall);
      ProxySpec login;
      auto reply = upstream.open_pipelined(
          stream, isolated_login(spec, rt.settings().isolate, login), cmd, hop, how);
      if (stall.pending() && stall.proxy == k) {
        decide_stall(rt, stall, spec, reply, stream);
        if (i < 64 && rt.pipeline_memory(k) != PipelineMemory::Refuses) {
          sequential_hops |= std::uint64_t{1} << i;
        }
      }
      if (learn_pipelining(rt, k, spec, how, reply, stall)) {
        if (i >= 64) {
          // Past 64 hops there is no room to decide: remembered at once.
          rt.remember_pipeline(k, PipelineMemory::Refuses);
          stall = {};
        }
        io.disconnect(fd);
        again = true;
        continue;
      }
      if (!reply) {
        io.disconnect(fd);
        return rec.fail(failed_handshake(i, spec, reply.error(), false));
      }
      if (last_hop) {
        rec.served(i, spec, i + 1, reply.value());
        return std::move(reply.value());
      }
    }
  }
  return Errno{EHOSTUNREACH};  // unreachable: the last round runs every hop sequentially
}

// The -v line of one session: what it reached, by which rule, through which
// proxies, and how it ended.
void trace_session(const Runtime& rt, const Endpoint& target, const SessionOutcome& out,
                   std::size_t group, int error, std::int64_t ms) {
  const Settings& s = rt.settings();
  std::string_view rule;
  if (rt.configured() && !s.routes.empty()) {
    const RouteChoice c = choose_route(s, target.unmapped());
    if (c.rule != kNoRoute) rule = s.routes[c.rule].text;
  }
  std::string_view via = kDefaultProxyName;
  if (group != 0 && group <= s.named_proxies.size()) via = s.named_proxies[group - 1].name;
  std::array<const ProxySpec*, 8> chain{};
  std::size_t n = 0;
  if (out.chain) {
    for (const ProxyTarget& p : rt.group_proxies(group)) {
      if (n < chain.size()) chain[n++] = &p.spec;
    }
  } else if (out.served_spec != nullptr) {
    chain[n++] = out.served_spec;
  } else if (const SessionAttempt* last = out.last_failure(); last && last->spec != nullptr) {
    chain[n++] = last->spec;
  }
  const SessionAttempt* last = out.last_failure();
  trace::Event e;
  e.kind = out.cmd == socks5::Command::UdpAssociate ? "udp"
           : out.cmd == socks5::Command::Bind       ? "bind"
                                                    : "connect";
  e.dst = &target;
  e.rule = rule;
  e.via = via;
  e.proxies = std::span<const ProxySpec* const>(chain.data(), n);
  e.outcome = error == 0 ? std::string_view("ok") : log::errno_name(error);
  if (error != 0 && last != nullptr) e.detail = last->reason;
  e.ms = ms;
  trace::emit(e);
}

}  // namespace

bool session_replayable(const Runtime& rt, std::size_t group) noexcept {
  if (!rt.configured() || rt.settings().isolate) return false;
  const auto proxies = rt.group_proxies(group);
  if (proxies.size() != 1) return false;
  switch (proxies[0].spec.protocol) {
    case ProxyProtocol::Socks4:
    case ProxyProtocol::Socks4a:
      return true;  // one request, one 8-byte reply
    case ProxyProtocol::Socks5:
      // A pipelining probe times its waits and may start over: not replayable.
      return pipelining_for(rt, rt.group_first(group)) != socks5::Pipelining::Probe;
    case ProxyProtocol::Http:
      return true;  // one CONNECT, one reply of at most http::kMaxResponse bytes
  }
  return false;
}

Status prepare_socket(const Runtime& rt, SessionIo& io, int fd, int family, std::size_t group,
                      int* replaced) noexcept {
  if (!rt.configured() || family != AF_INET || rt.group_proxies(group).empty()) return {};
  sockaddr_storage addr;
  if (rt.proxy_address(rt.group_first(group), AF_INET, addr) == 0 || addr.ss_family != AF_INET6) {
    return {};
  }
  NonBlockingScope nonblocking(io, fd);  // restores the flags on the new socket too
  if (auto r = io.replace_socket(fd, AF_INET6); !r) return r;
  nonblocking.reapply();
  if (replaced != nullptr) *replaced = AF_INET6;
  return {};
}

Status prepare_socket(int fd, int family, std::size_t group, int* now_family) noexcept {
  SystemSessionIo io;
  int replaced = AF_UNSPEC;
  Status s = prepare_socket(Runtime::get(), io, fd, family, group, &replaced);
  if (now_family != nullptr) *now_family = replaced != AF_UNSPEC ? replaced : family;
  return s;
}

Result<socks5::Reply> open_session(const Runtime& rt, SessionIo& io, int fd, socks5::Command cmd,
                                   const Endpoint& dst, SessionOutcome& outcome,
                                   const SessionOptions& options) noexcept {
  const Endpoint& shown = options.subject != nullptr ? *options.subject : dst;
  outcome.cmd = cmd;
  outcome.dst = &dst;
  outcome.shown = &shown;
  Recorder rec(outcome, options);
  if (!rt.configured()) {
    return rec.fail(
        {0, nullptr, SessionStage::Configuration, Errno{ENETUNREACH}, 0, rt.config_error(), false});
  }
  NonBlockingScope nonblocking(io, fd);
  const auto proxies = rt.group_proxies(options.group);
  const std::size_t base = rt.group_first(options.group);  // index in the runtime's proxies
  const ProxyMode mode = rt.settings().group_mode(options.group);
  if (mode == ProxyMode::Chain && proxies.size() > 1) {
    return open_chain(rt, io, fd, cmd, dst, options, nonblocking, rec);
  }
  // A pool: the first proxy that answers serves, starting at the pool's choice
  // (the first, or for round_robin/random the next or a random one).
  const std::size_t start = pool_start(options.group, mode, proxies.size());
  int family = io.family(fd);
  Stall stall;
  for (std::size_t n = 0; n < proxies.size(); ++n) {
    const std::size_t i = (start + n) % proxies.size();
    const ProxySpec& spec = proxies[i].spec;
    const bool more = n + 1 < proxies.size();
    const Upstream& upstream = upstream_for(spec);
    if (!upstream.carries(cmd)) {
      rec.fail(
          {i, &spec, SessionStage::Unsupported, Errno{EOPNOTSUPP}, 0, upstream.refusal(cmd), more});
      continue;
    }
    const Deadline deadline = Clock::now() + rt.settings().connect_timeout;
    if (auto c = reach_proxy(rt, io, fd, base + i, family, nonblocking, options.may_replace_socket,
                             deadline);
        !c) {
      io.disconnect(fd);
      rec.fail({i, &spec, SessionStage::TcpConnect, c.error(), 0, kUnreachable, more});
      continue;
    }
    const socks5::Pipelining how = pipelining_now(rt, base + i, stall);
    TimedStream stream(io.stream(fd, deadline));
    ProxySpec login;
    auto reply = upstream.open_pipelined(stream, isolated_login(spec, rt.settings().isolate, login),
                                         cmd, dst, how);
    if (stall.pending()) decide_stall(rt, stall, spec, reply, stream);
    if (learn_pipelining(rt, base + i, spec, how, reply, stall)) {
      // The same proxy again, one message per round trip: a sequential
      // handshake never stalls a probe, so once.
      io.disconnect(fd);
      --n;
      continue;
    }
    if (reply) {
      rec.served(i, spec, 1, reply.value());
      return std::move(reply.value());
    }
    const socks5::Failure& f = reply.error();
    io.disconnect(fd);
    const bool try_next = more && upstream.is_down(f);
    rec.fail(failed_handshake(i, spec, f, try_next));
    if (!try_next) return f.error;
  }
  const SessionAttempt* last = outcome.last_failure();
  return last != nullptr ? last->error : Errno{ECONNREFUSED};
}

void log_session(const SessionOutcome& outcome, const SessionAttempt* failed) noexcept {
  const LogLevel level = failed != nullptr ? attempt_level(*failed) : LogLevel::Debug;
  if (!log::enabled(level)) return;  // nothing formatted for a line nobody sees
  fmt::memory_buffer line;
  if (failed != nullptr) {
    format_attempt(line, outcome, *failed);
  } else {
    format_success(line, outcome);
  }
  log::log_at(level, "{}", std::string_view(line.data(), line.size()));
}

Result<socks5::Reply> open_session(int fd, socks5::Command cmd, const Endpoint& dst,
                                   bool may_replace_socket, const Endpoint* subject,
                                   SessionOutcome* outcome) noexcept {
  SessionOutcome local;
  SessionOutcome& out = outcome != nullptr ? *outcome : local;
  SystemSessionIo io;
  const Runtime& rt = Runtime::get();
  SessionOptions options{may_replace_socket, subject, log_session};
  const Endpoint& target = subject != nullptr ? *subject : dst;
  options.group = route_group_for(rt, target);
  if (!trace::on()) return open_session(rt, io, fd, cmd, dst, out, options);
  const auto start = trace::Clock::now();
  auto reply = open_session(rt, io, fd, cmd, dst, out, options);
  trace_session(rt, target, out, options.group, reply ? 0 : reply.error().code,
                trace::ms_since(start));
  return reply;
}

}  // namespace socksify

// Runtime: the process-wide state of the preloaded library, built once (from
// our constructor, or from the first hook if another library's constructor
// calls in before ours) and read-only afterwards, so hooks read it without locks.
#pragma once

#include <sys/socket.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "base/endpoint.hpp"
#include "config/settings.hpp"

namespace socksify {

class SharedNameTable;
class TreeNames;

// One proxy, with its address when known (a name resolves on first use).
struct ProxyTarget {
  ProxySpec spec;
  Endpoint endpoint;  // IP or Name: how a previous hop of a chain names it
};

// What the process tree learnt about a proxy and the pipelined SOCKS5
// handshake (settings pipeline auto; issue 12 item 2). With remote DNS under
// the launcher it is kept in the tree's shared region as a note
// (SharedNameTable::note(), keyed by the proxy's protocol, host, port and
// login), so a program the tree starts later does not probe again; each
// process also keeps its own copy (what it read or learnt: no shared read
// once known). Without that region (local DNS, plain LD_PRELOAD, a process
// that cannot attach it, a tree with more than SharedNameTable::kNotes
// proxies) it is per process: a forked child inherits it, a new program
// probes once again.
enum class PipelineMemory : std::uint8_t { Unknown, Takes, Refuses };

class Runtime {
 public:
  // Never fails: a process with a bad configuration gets a Runtime whose
  // configured() is false, and every proxied call then fails closed.
  static Runtime& get() noexcept;

  bool configured() const { return configured_; }
  const std::string& config_error() const { return config_error_; }
  const Settings& settings() const { return settings_; }
  // The unnamed proxy list (route group 0).
  std::span<const ProxyTarget> proxies() const { return group_proxies(0); }
  // Route group g's proxies (0: the unnamed list; k: settings().named_proxies[k-1]).
  // Every group's proxies sit in one array: proxy_address, pipeline_memory and
  // remember_pipeline take an index into it, group_first(g) + the position.
  std::span<const ProxyTarget> group_proxies(std::size_t g) const {
    if (g >= groups_.size()) return {};
    return std::span(proxies_).subspan(groups_[g].first, groups_[g].count);
  }
  std::size_t group_first(std::size_t g) const { return g < groups_.size() ? groups_[g].first : 0; }
  std::size_t group_count() const { return groups_.size(); }
  // Non-null when remote DNS is on: the process's one name table (the tree's,
  // under the launcher; core/tree_names.hpp).
  TreeNames* names() const { return names_.get(); }

  // The address to connect to for proxy i, in the wanted family when possible
  // (AF_INET6 sockets can reach IPv4 proxies through v4-mapped addresses).
  // Resolves a proxy given by name with the real resolver on first use.
  socklen_t proxy_address(std::size_t i, int family, sockaddr_storage& out) const noexcept;

  // True when ep is one of the proxies (the program talks to the proxy itself).
  bool is_proxy(const Endpoint& ep) const noexcept;

  // Lock-free (read by every handshake, written by the first ones).
  PipelineMemory pipeline_memory(std::size_t i) const noexcept;
  void remember_pipeline(std::size_t i, PipelineMemory m) const noexcept;

  // For pthread_atfork.
  void lock_for_fork() noexcept;
  void unlock_after_fork() noexcept;

  // Builds from the environment (tests call it directly with their own lookup).
  void load(const EnvLookup& env);

 private:
  bool configured_ = false;
  std::string config_error_;
  Settings settings_;
  std::vector<ProxyTarget> proxies_;  // every group's, group 0 first
  struct GroupSpan {
    std::size_t first = 0;
    std::size_t count = 0;
  };
  std::vector<GroupSpan> groups_;
  std::unique_ptr<TreeNames> names_;
  SharedNameTable* tree_region() const noexcept;
  // PipelineMemory per proxy index; a child of fork() inherits what we learnt.
  std::unique_ptr<std::atomic<std::uint8_t>[]> pipeline_;
  // Per proxy index: the key of its note in the tree's region.
  std::vector<std::uint64_t> pipeline_keys_;
  // Proxies named by host name, resolved on first use (index = proxy index;
  // Kind::None = not yet): the one part that changes after load(). Movable so
  // that a test can return a loaded Runtime (a move takes the names, not the lock).
  struct ResolvedProxies {
    std::mutex mu;
    std::vector<Endpoint> endpoints;
    ResolvedProxies() = default;
    ResolvedProxies(ResolvedProxies&& o) noexcept : endpoints(std::move(o.endpoints)) {}
    ResolvedProxies& operator=(ResolvedProxies&& o) noexcept {
      endpoints = std::move(o.endpoints);
      return *this;
    }
  };
  mutable ResolvedProxies resolved_;
};

}  // namespace socksify

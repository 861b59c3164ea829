#include "core/runtime.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <pthread.h>
#include <stdlib.h>

#include <cstring>
#include <string_view>

#include "config/effective.hpp"
#include "core/guard.hpp"
#include "core/log.hpp"
#include "core/real.hpp"
#include "core/trace.hpp"
#include "core/tree_names.hpp"
#include "dns/shared_name_table.hpp"
#include "dns/tree_table_ref.hpp"

namespace socksify {
namespace {

// Names remembered at once for remote DNS; the range allows far more, this caps memory.
constexpr std::size_t kNameTableCapacity = 1 << 16;

Endpoint endpoint_of(const ProxySpec& p) {
  std::uint8_t a[16];
  if (inet_pton(AF_INET, p.host.c_str(), a) == 1) {
    return Endpoint::ipv4(std::span<const std::uint8_t, 4>(a, 4), p.port);
  }
  if (inet_pton(AF_INET6, p.host.c_str(), a) == 1) {
    return Endpoint::ipv6(std::span<const std::uint8_t, 16>(a, 16), p.port);
  }
  return Endpoint::name(p.host, p.port).value_or(Endpoint{});
}

// The tree-wide note key for a proxy's pipelining (SharedNameTable::note()):
// FNV-1a over what makes it another proxy to talk to (a login changes the
// handshake); the same in every process of the tree, whatever the order of
// its proxy list. The password itself is left out of shared memory.
std::uint64_t pipeline_key(const ProxySpec& p) {
  std::uint64_t h = 0xcbf29ce484222325;
  auto add = [&h](std::string_view bytes) {
    for (const char c : bytes) {
      h ^= static_cast<std::uint8_t>(c);
      h *= 0x100000001b3;
    }
    h ^= 0xff;  // field separator: ("ab", "c") is not ("a", "bc")
    h *= 0x100000001b3;
  };
  add("pipeline");
  const char kind[] = {static_cast<char>(p.protocol), static_cast<char>(p.password.empty()),
                       static_cast<char>(p.port >> 8), static_cast<char>(p.port & 0xff)};
  add({kind, sizeof kind});
  add(p.host);
  add(p.user);
  return h;
}

}  // namespace

Runtime& Runtime::get() noexcept {
  static Runtime* instance = [] {
    // Leaked on purpose: hooks may run during and after exit-time destructors.
    auto* r = new Runtime;
    r->load([](const char* name) { return ::secure_getenv(name); });
    return r;
  }();
  return *instance;
}

void Runtime::load(const EnvLookup& env) {
  ReentryGuard guard;
  EffectiveSettings effective = load_effective_settings(env);
  auto& loaded = effective.settings;
  for (const auto& w : effective.warnings) log::warn("{}", w);
  if (!loaded) {
    configured_ = false;
    config_error_.clear();
    for (const auto& e : loaded.error()) {
      if (!config_error_.empty()) config_error_ += "; ";
      config_error_ += e;
    }
    log::error("configuration: {} (every proxied connection will fail)", config_error_);
    return;
  }
  settings_ = std::move(loaded.value());
  log::set_level(settings_.log_level);
  trace::configure(settings_);
  if (!settings_.log_file.empty()) {
    const int fd =
        ::open(settings_.log_file.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (fd >= 0) {
      log::set_fd(fd);
    } else {
      log::warn("cannot open log file {}: {}", settings_.log_file, std::strerror(errno));
    }
  }
  proxies_.clear();
  groups_.clear();
  for (std::size_t g = 0; g < settings_.group_count(); ++g) {
    groups_.push_back({proxies_.size(), settings_.group_proxies(g).size()});
    for (const auto& spec : settings_.group_proxies(g)) {
      proxies_.push_back({spec, endpoint_of(spec)});
    }
  }
  resolved_.endpoints.assign(proxies_.size(), Endpoint{});
  pipeline_ = std::make_unique<std::atomic<std::uint8_t>[]>(proxies_.size());
  pipeline_keys_.clear();
  for (std::size_t i = 0; i < proxies_.size(); ++i) {
    pipeline_[i].store(0);
    pipeline_keys_.push_back(pipeline_key(proxies_[i].spec));
  }
  if (settings_.remote_dns()) {
    // Under the launcher: the tree's table, attached at first use. Plain
    // LD_PRELOAD: this process's own.
    if (const char* tree = env(kTreeTableVariable); tree != nullptr && *tree != '\0') {
      names_ = TreeNames::tree(tree, settings_.fake_v4, settings_.fake_v6);
    } else {
      names_ = TreeNames::per_process(settings_.fake_v4, settings_.fake_v6, kNameTableCapacity);
    }
  }
  configured_ = !proxies_.empty();
  if (!configured_) config_error_ = "no proxy configured";
}

socklen_t Runtime::proxy_address(std::size_t i, int family, sockaddr_storage& out) const noexcept {
  if (i >= proxies_.size()) return 0;
  Endpoint ep = proxies_[i].endpoint;
  if (!ep.is_ip()) {
    // A proxy named by host name: resolve it locally, once (the proxy's own
    // address is the one name that must be resolved here, not through itself).
    std::lock_guard lock(resolved_.mu);
    Endpoint& cached = resolved_.endpoints[i];
    if (cached.kind() == Endpoint::Kind::None) {
      ReentryGuard guard;
      addrinfo hints{};
      hints.ai_socktype = SOCK_STREAM;
      addrinfo* res = nullptr;
      const int rc = REAL(getaddrinfo)(proxies_[i].spec.host.c_str(), nullptr, &hints, &res);
      if (rc != 0 || res == nullptr) {
        log::error("cannot resolve proxy {}: {}", proxies_[i].spec.display(), gai_strerror(rc));
        return 0;
      }
      if (auto found = Endpoint::from_sockaddr(res->ai_addr, res->ai_addrlen)) {
        cached = *found;
        cached.set_port(ep.port());
      }
      REAL(freeaddrinfo)(res);
      if (cached.kind() == Endpoint::Kind::None) return 0;
    }
    ep = cached;
  }
  if (family == AF_INET6) return ep.v4_mapped().to_sockaddr(out);
  return ep.to_sockaddr(out);
}

bool Runtime::is_proxy(const Endpoint& ep) const noexcept {
  const Endpoint plain = ep.unmapped();
  for (const auto& p : proxies_) {
    if (p.endpoint == plain) return true;
  }
  return false;
}

void Runtime::lock_for_fork() noexcept {
  resolved_.mu.lock();
  if (names_) names_->lock_for_fork();
}

void Runtime::unlock_after_fork() noexcept {
  if (names_) names_->unlock_after_fork();
  resolved_.mu.unlock();
}

SharedNameTable* Runtime::tree_region() const noexcept {
  // Attaches it if this process has not yet (one open and mmap, as at the
  // first lookup); nullptr outside a remote-DNS tree or when it cannot.
  return names_ != nullptr && names_->is_tree() ? names_->shared() : nullptr;
}

PipelineMemory Runtime::pipeline_memory(std::size_t i) const noexcept {
  if (pipeline_ == nullptr || i >= proxies_.size()) return PipelineMemory::Unknown;
  const auto own = static_cast<PipelineMemory>(pipeline_[i].load(std::memory_order_relaxed));
  if (own != PipelineMemory::Unknown) return own;
  SharedNameTable* tree = tree_region();
  if (tree == nullptr) return PipelineMemory::Unknown;
  // Any other value (a scribbled region) is as good as nothing noted.
  const std::uint8_t noted = tree->note(pipeline_keys_[i]);
  if (noted != static_cast<std::uint8_t>(PipelineMemory::Takes) &&
      noted != static_cast<std::uint8_t>(PipelineMemory::Refuses)) {
    return PipelineMemory::Unknown;
  }
  pipeline_[i].store(noted, std::memory_order_relaxed);
  return static_cast<PipelineMemory>(noted);
}

void Runtime::remember_pipeline(std::size_t i, PipelineMemory m) const noexcept {
  if (pipeline_ == nullptr || i >= proxies_.size()) return;
  pipeline_[i].store(static_cast<std::uint8_t>(m), std::memory_order_relaxed);
  if (m == PipelineMemory::Unknown) return;
  if (SharedNameTable* tree = tree_region()) {
    tree->set_note(pipeline_keys_[i], static_cast<std::uint8_t>(m));
  }
}

}  // namespace socksify

// The UDP part of a socket's state (FdState::udp, src/core/fd_state.hpp): a
// UDP socket socksify tracks (Kind::Udp) and its association with the proxy
// (src/core/udp_association.hpp), opened on first use. The association is
// read lock-free by every datagram call and published once under the part's
// lock, so two threads sending the first datagram open one.
#pragma once

#include <atomic>
#include <mutex>
#include <new>

namespace socksify {

struct UdpAssociation;  // src/core/udp_association.hpp

// Releases what an association holds (its control connection) when the
// socket's last descriptor closes. Defined with the UDP code.
void release_udp_association(UdpAssociation* udp) noexcept;

class UdpState {
 public:
  // --- the part's life (FdState calls these) ---
  void reset() noexcept {
    association_.store(nullptr, std::memory_order_relaxed);
    direct_peer_.store(false, std::memory_order_relaxed);
  }
  void release() noexcept {
    if (UdpAssociation* a = association_.exchange(nullptr, std::memory_order_acq_rel)) {
      release_udp_association(a);
    }
  }
  // In a forked child: another thread of the parent may have held the lock.
  void reset_in_child() noexcept { new (&mu_) std::mutex; }

  // The association, nullptr until the first one is opened.
  UdpAssociation* association() const noexcept {
    return association_.load(std::memory_order_acquire);
  }
  // Opening (or replacing) the association: under this lock, then published.
  std::mutex& open_lock() noexcept { return mu_; }
  void publish(UdpAssociation* a) noexcept { association_.store(a, std::memory_order_release); }

  // Connected straight to a destination that is not proxied (the kernel now
  // filters for that peer; datagrams pass through untouched).
  bool direct_peer() const noexcept { return direct_peer_.load(std::memory_order_relaxed); }
  void set_direct_peer(bool direct) noexcept {
    direct_peer_.store(direct, std::memory_order_relaxed);
  }

 private:
  std::atomic<UdpAssociation*> association_{nullptr};
  std::mutex mu_;
  std::atomic<bool> direct_peer_{false};
};

}  // namespace socksify

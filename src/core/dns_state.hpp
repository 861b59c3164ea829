// The DNS part of a socket's state (FdState::dns, src/core/fd_state.hpp): a UDP
// socket that sent a query to a system resolver (Kind::Udp), or a TCP stream
// connected to one (Kind::DnsTcp), under remote DNS. Its owner is
// core/dns_intercept.cpp, which alone knows what a DnsSocket holds (the
// resolver the program named, the stream's far end, a partial query); here
// only the pointer and its life.
#pragma once

#include <atomic>

namespace socksify {

struct DnsSocket;  // src/core/dns_intercept.cpp

// Defined with the DNS interception.
void release_dns_socket(DnsSocket* d) noexcept;
void dns_socket_reset_in_child(DnsSocket* d) noexcept;

class DnsState {
 public:
  // --- the part's life (FdState calls these) ---
  void reset() noexcept { socket_.store(nullptr, std::memory_order_relaxed); }
  void release() noexcept {
    if (DnsSocket* d = socket_.exchange(nullptr, std::memory_order_acq_rel)) release_dns_socket(d);
  }
  void reset_in_child() noexcept {
    if (DnsSocket* d = socket_.load(std::memory_order_relaxed)) dns_socket_reset_in_child(d);
  }

  // nullptr until the first query (made on first use by its owner).
  DnsSocket* get() const noexcept { return socket_.load(std::memory_order_acquire); }
  // Publishes d unless another thread did first; returns the one in place.
  DnsSocket* publish(DnsSocket* d) noexcept {
    DnsSocket* expected = nullptr;
    if (socket_.compare_exchange_strong(expected, d, std::memory_order_acq_rel)) return d;
    return expected;
  }

 private:
  std::atomic<DnsSocket*> socket_{nullptr};
};

}  // namespace socksify

#include "supervisor/connect_claims.hpp"

namespace socksify::supervisor {

ConnectClaims::State ConnectClaims::claim(ino_t ino) {
  std::lock_guard lock(mu_);
  if (swapped_.count(ino) != 0) return State::Swapped;
  if (!in_flight_.insert(ino).second) return State::InFlight;
  return State::Claimed;
}

void ConnectClaims::release(ino_t ino, bool swapped) {
  std::lock_guard lock(mu_);
  in_flight_.erase(ino);
  if (!swapped || !swapped_.insert(ino).second) return;
  swapped_order_.push_back(ino);
  while (swapped_order_.size() > kMaxSwapped) {
    swapped_.erase(swapped_order_.front());
    swapped_order_.pop_front();
  }
}

}  // namespace socksify::supervisor

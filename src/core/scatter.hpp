// Byte arithmetic over a scatter list (an iovec array seen as one sequence of
// bytes). The UDP relay header is received into a buffer of its own, in front
// of the program's buffers; when a datagram's header turns out longer or
// shorter than that buffer, the payload is moved to where the program expects
// it with these. Pure: no I/O, no allocation.
#pragma once

#include <sys/uio.h>

#include <cstddef>
#include <memory>
#include <new>
#include <span>

namespace socksify {

// Sum of the lengths (saturating, like the kernel's own bound on a message).
std::size_t scatter_size(std::span<const iovec> iov) noexcept;

// Copies up to out.size() bytes starting at offset `from` of the sequence;
// returns how many were copied (fewer when the sequence ends).
std::size_t scatter_gather(std::span<const iovec> iov, std::size_t from,
                           std::span<std::byte> out) noexcept;

// memmove within the sequence: the len bytes at offset src go to offset dst.
// Overlap is fine in either direction. Ranges past the end are clipped.
void scatter_move(std::span<const iovec> iov, std::size_t dst, std::size_t src,
                  std::size_t len) noexcept;

// After a datagram was received into [header buffer of `expected` bytes,
// program buffers...,  slack], with its relay header actually `actual` bytes
// long: moves the payload so that it starts at the program's first buffer.
// `payload` is how many payload bytes were received and fit (the caller's
// min(payload length, program capacity, bytes received after the header)).
inline void realign_payload(std::span<const iovec> all, std::size_t expected, std::size_t actual,
                            std::size_t payload) noexcept {
  if (actual != expected) scatter_move(all, expected, actual, payload);
}

// An iovec array for one call: on the stack when small, else on the heap (only
// for programs that pass more than kInline buffers in one message).
class IovArray {
 public:
  static constexpr std::size_t kInline = 64;
  explicit IovArray(std::size_t n) noexcept : n_(n) {
    if (n > kInline) {
      heap_.reset(new (std::nothrow) iovec[n]);
      data_ = heap_.get();
    }
  }
  bool ok() const { return data_ != nullptr; }
  iovec* data() { return data_; }
  std::size_t size() const { return n_; }
  iovec& operator[](std::size_t i) { return data_[i]; }

 private:
  std::size_t n_;
  iovec inline_[kInline];
  std::unique_ptr<iovec[]> heap_;
  iovec* data_ = inline_;
};

}  // namespace socksify

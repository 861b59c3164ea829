#include "core/scatter.hpp"

#include <algorithm>
#include <cstring>
#include <limits>

namespace socksify {
namespace {

std::byte* base(const iovec& v) {
  return static_cast<std::byte*>(v.iov_base);
}

// Position of byte `pos` as (segment, offset); (size, 0) past the end.
struct Pos {
  std::size_t seg;
  std::size_t off;
};

Pos locate(std::span<const iovec> iov, std::size_t pos) {
  for (std::size_t i = 0; i < iov.size(); ++i) {
    if (pos < iov[i].iov_len) return {i, pos};
    pos -= iov[i].iov_len;
  }
  return {iov.size(), 0};
}

// Position just after byte pos-1 (pos > 0): the segment that holds that byte,
// with off in 1..len.
Pos locate_end(std::span<const iovec> iov, std::size_t pos) {
  for (std::size_t i = 0; i < iov.size(); ++i) {
    if (iov[i].iov_len != 0 && pos <= iov[i].iov_len) return {i, pos};
    pos -= std::min(pos, iov[i].iov_len);
  }
  return {iov.size(), 0};
}

}  // namespace

std::size_t scatter_size(std::span<const iovec> iov) noexcept {
  std::size_t total = 0;
  for (const iovec& v : iov) {
    if (v.iov_len > std::numeric_limits<std::size_t>::max() - total) {
      return std::numeric_limits<std::size_t>::max();
    }
    total += v.iov_len;
  }
  return total;
}

std::size_t scatter_gather(std::span<const iovec> iov, std::size_t from,
                           std::span<std::byte> out) noexcept {
  Pos p = locate(iov, from);
  std::size_t done = 0;
  while (done < out.size() && p.seg < iov.size()) {
    const std::size_t n = std::min(out.size() - done, iov[p.seg].iov_len - p.off);
    // An empty buffer may have a null base, which memcpy may not be given.
    if (n != 0) std::memcpy(out.data() + done, base(iov[p.seg]) + p.off, n);
    done += n;
    ++p.seg;
    p.off = 0;
  }
  return done;
}

void scatter_move(std::span<const iovec> iov, std::size_t dst, std::size_t src,
                  std::size_t len) noexcept {
  const std::size_t total = scatter_size(iov);
  if (dst == src || len == 0 || dst >= total || src >= total) return;
  len = std::min({len, total - dst, total - src});
  if (dst < src) {
    // Forward: every chunk reads at or after where it writes, so no byte is
    // overwritten before it is read.
    Pos d = locate(iov, dst);
    Pos s = locate(iov, src);
    while (len > 0) {
      while (d.off == iov[d.seg].iov_len) d = {d.seg + 1, 0};
      while (s.off == iov[s.seg].iov_len) s = {s.seg + 1, 0};
      const std::size_t n = std::min({len, iov[d.seg].iov_len - d.off, iov[s.seg].iov_len - s.off});
      std::memmove(base(iov[d.seg]) + d.off, base(iov[s.seg]) + s.off, n);
      d.off += n;
      s.off += n;
      len -= n;
    }
    return;
  }
  // Backward, from the end, for the same reason.
  Pos d = locate_end(iov, dst + len);
  Pos s = locate_end(iov, src + len);
  while (len > 0) {
    while (d.off == 0) d = {d.seg - 1, iov[d.seg - 1].iov_len};
    while (s.off == 0) s = {s.seg - 1, iov[s.seg - 1].iov_len};
    const std::size_t n = std::min({len, d.off, s.off});
    std::memmove(base(iov[d.seg]) + d.off - n, base(iov[s.seg]) + s.off - n, n);
    d.off -= n;
    s.off -= n;
    len -= n;
  }
}

}  // namespace socksify

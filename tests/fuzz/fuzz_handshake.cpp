// Fuzzes handshake() against a hostile server. Input layout:
//   [0] flags: bit 0 send credentials; bits 1-2 command; bits 3-4 destination
//       kind (IPv4, IPv6, name, none); bit 5 end of script is ETIMEDOUT rather
//       than ECONNRESET; bit 6 writes fail with EPIPE after [2] bytes.
//   [1] largest read chunk (0: as much as asked)
//   [2] largest write chunk (0: as much as offered), or the write budget
//   [3..] the bytes the server sends.
#include <algorithm>
#include <array>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

#include "fuzz_check.hpp"
#include "socks5/handshake.hpp"

using namespace socksify;
using namespace socksify::socks5;

namespace {

class FuzzedStream : public Stream {
 public:
  FuzzedStream(std::span<const std::byte> script, std::size_t read_chunk, std::size_t write_chunk,
               Errno end_error, bool write_budget)
      : script_(script),
        read_chunk_(read_chunk == 0 ? SIZE_MAX : read_chunk),
        write_chunk_(write_chunk == 0 || write_budget ? SIZE_MAX : write_chunk),
        end_error_(end_error),
        write_budget_(write_budget ? write_chunk : SIZE_MAX) {}

  Result<std::size_t> read_some(std::span<std::byte> buf) override {
    FUZZ_CHECK(!buf.empty() && buf.size() <= kMaxReply);
    if (consumed_ == script_.size()) return end_error_;
    const std::size_t n = std::min({buf.size(), read_chunk_, script_.size() - consumed_});
    std::memcpy(buf.data(), script_.data() + consumed_, n);
    consumed_ += n;
    return n;
  }

  Result<std::size_t> write_some(std::span<const std::byte> buf) override {
    FUZZ_CHECK(!buf.empty());
    if (written_ >= write_budget_) return Errno{EPIPE};
    const std::size_t n = std::min({buf.size(), write_chunk_, write_budget_ - written_});
    written_ += n;
    return n;
  }

  std::size_t consumed() const { return consumed_; }

 private:
  std::span<const std::byte> script_;
  std::size_t read_chunk_;
  std::size_t write_chunk_;
  Errno end_error_;
  std::size_t write_budget_;
  std::size_t consumed_ = 0;
  std::size_t written_ = 0;
};

Endpoint destination(unsigned kind) {
  static constexpr std::array<std::uint8_t, 4> kV4{192, 0, 2, 1};
  static constexpr std::array<std::uint8_t, 16> kV6{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,
                                                    0,    0,    0,    0,    0, 0, 0, 1};
  switch (kind) {
    case 0:
      return Endpoint::ipv4(kV4, 80);
    case 1:
      return Endpoint::ipv6(kV6, 443);
    case 2:
      return *Endpoint::name("example.test", 8080);
    default:
      return Endpoint{};
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 3) return 0;
  const std::uint8_t flags = data[0];
  const bool with_creds = (flags & 0x01) != 0;
  static constexpr Command kCommands[] = {Command::Connect, Command::Bind, Command::UdpAssociate,
                                          Command::Connect};
  const Command cmd = kCommands[(flags >> 1) & 0x03];
  const Endpoint dst = destination((flags >> 3) & 0x03);
  const Errno end_error{(flags & 0x20) != 0 ? ETIMEDOUT : ECONNRESET};
  const bool write_budget = (flags & 0x40) != 0;

  const std::span<const std::byte> script(reinterpret_cast<const std::byte*>(data + 3), size - 3);
  FuzzedStream stream(script, data[1], data[2], end_error, write_budget);
  const Credentials creds = with_creds ? Credentials{"user", "password"} : Credentials{};

  const auto r = handshake(stream, creds, cmd, dst);
  if (!r) {
    const Failure& f = r.error();
    FUZZ_CHECK(f.error.code != 0);
    FUZZ_CHECK(!f.what.empty());
    if (f.reply != 0) {
      FUZZ_CHECK(f.stage == Stage::Reply);
      FUZZ_CHECK(f.error.code == reply_errno(f.reply));
    }
    return 0;
  }
  // Success: the handshake consumed exactly method choice, the optional auth
  // status and one successful reply, and not one byte more.
  FUZZ_CHECK(r->code == 0);
  FUZZ_CHECK(script.size() >= 2);
  const bool authed = static_cast<Method>(data[3 + 1]) == Method::UserPassword;
  FUZZ_CHECK(!authed || with_creds);
  const std::size_t offset = authed ? 4 : 2;
  FUZZ_CHECK(stream.consumed() > offset);
  const auto reply = decode_reply(script.subspan(offset));
  FUZZ_CHECK(reply.status == DecodeStatus::Ok);
  FUZZ_CHECK(offset + reply.size == stream.consumed());
  FUZZ_CHECK(reply.value.bound == r->bound);
  return 0;
}

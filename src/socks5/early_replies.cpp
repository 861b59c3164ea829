#include "socks5/early_replies.hpp"

#include <cerrno>
#include <cstring>

namespace socksify::socks5 {

Result<std::size_t, Failure> encode_pipelined(std::span<std::byte, kMaxPipelined> out,
                                              const Credentials& creds, Command cmd,
                                              const Endpoint& dst) {
  const bool with_password = !creds.user.empty();
  out[0] = std::byte{kVersion};
  out[1] = std::byte{1};
  out[2] =
      std::byte{static_cast<std::uint8_t>(with_password ? Method::UserPassword : Method::NoAuth)};
  std::size_t len = 3;
  if (with_password) {
    auto n = encode_auth_request(std::span(out).subspan(len, kMaxAuthRequest), creds.user,
                                 creds.password);
    if (!n) {
      return Failure{n.error(), Stage::Auth, 0, "user name or password empty or too long"};
    }
    len += *n;
  }
  auto n = encode_request(std::span(out).subspan(len, kMaxRequest), cmd, dst);
  if (!n) return Failure{n.error(), Stage::Request, 0, "no destination"};
  return len + *n;
}

std::size_t EarlyReplies::wanted() const noexcept {
  return state_ == State::Reading ? need_ - have_ : 0;
}

EarlyReplies::State EarlyReplies::fail(int code, Stage stage, std::string_view what,
                                       std::uint8_t rep) noexcept {
  failure_ = Failure{Errno{code}, stage, rep, what};
  state_ = State::Failed;
  return state_;
}

EarlyReplies::State EarlyReplies::feed(std::span<const std::byte> bytes) noexcept {
  if (state_ != State::Reading) return state_;
  if (bytes.size() > need_ - have_) return fail(EIO, stage_, "read more than asked");
  std::memcpy(buf_.data() + have_, bytes.data(), bytes.size());
  have_ += bytes.size();
  return advance();
}

EarlyReplies::State EarlyReplies::closed() noexcept {
  if (state_ != State::Reading) return state_;
  return fail(ECONNRESET, stage_, "proxy closed the connection");
}

EarlyReplies::State EarlyReplies::advance() noexcept {
  const std::span<const std::byte> in(buf_.data(), have_);
  // Each message's decoder says how many bytes it needs; once it has them,
  // the next message starts in an empty buffer.
  auto next = [&](DecodeStatus status, std::size_t size, Stage malformed_stage,
                  std::string_view malformed) -> bool {
    if (status == DecodeStatus::Ok) return true;
    if (status == DecodeStatus::Malformed || size <= have_ || size > buf_.size()) {
      fail(EPROTO, malformed_stage, malformed);
    } else {
      need_ = size;
    }
    return false;
  };
  switch (stage_) {
    case Stage::Greeting: {
      auto d = decode_method_choice(in);
      if (!next(d.status, d.size, Stage::Method, "malformed method choice")) return state_;
      const Method want = with_password_ ? Method::UserPassword : Method::NoAuth;
      if (d.value == Method::NoAcceptable) {
        return fail(EACCES, Stage::Method, "no acceptable auth method");
      }
      if (d.value != want) {
        return fail(EPROTO, Stage::Method, "proxy chose a method we did not offer");
      }
      stage_ = with_password_ ? Stage::Auth : Stage::Reply;
      have_ = 0;
      need_ = 2;
      return state_;
    }
    case Stage::Auth: {
      auto d = decode_auth_reply(in);
      if (!next(d.status, d.size, Stage::Auth, "malformed auth reply")) return state_;
      if (!d.value) return fail(EACCES, Stage::Auth, "proxy rejected credentials");
      stage_ = Stage::Reply;
      have_ = 0;
      need_ = 4;  // VER REP RSV ATYP, then the decoder knows the rest
      return state_;
    }
    default: {
      auto d = decode_reply(in);
      if (!next(d.status, d.size, Stage::Reply, "malformed reply")) return state_;
      reply_ = d.value;
      if (reply_.code != static_cast<std::uint8_t>(ReplyCode::Succeeded)) {
        return fail(reply_errno(reply_.code), Stage::Reply, reply_text(reply_.code), reply_.code);
      }
      state_ = State::Done;
      return state_;
    }
  }
}

}  // namespace socksify::socks5

#include "dns/dns_message.hpp"

#include <algorithm>
#include <cstring>

namespace socksify::dns {
namespace {

// Bounds-checked big-endian reads over the message.
class Reader {
 public:
  explicit Reader(std::span<const std::byte> m)
      : p_(reinterpret_cast<const std::uint8_t*>(m.data())), size_(m.size()) {}

  std::size_t size() const { return size_; }
  bool has(std::size_t pos, std::size_t n) const { return pos <= size_ && n <= size_ - pos; }
  std::uint8_t u8(std::size_t pos) const { return p_[pos]; }
  std::uint16_t u16(std::size_t pos) const {
    return static_cast<std::uint16_t>((p_[pos] << 8) | p_[pos + 1]);
  }
  std::uint32_t u32(std::size_t pos) const {
    return (std::uint32_t{u16(pos)} << 16) | u16(pos + 2);
  }

 private:
  const std::uint8_t* p_;
  std::size_t size_;
};

// Where a name ended and what it held, wire form uncompressed.
struct NameRead {
  bool ok = false;
  std::size_t next = 0;  // the byte after the name where it was (after a pointer)
  std::size_t wire_size = 0;
};

// Reads the name at pos (RFC 1035 §4.1.4), writing its uncompressed wire form
// to wire when given. A pointer must point past the header and strictly before
// the start of the run of labels it ends, so the runs' starts strictly
// decrease and every chain of pointers terminates; the 255-byte cap on the
// whole name bounds it further.
NameRead read_name(const Reader& r, std::size_t pos, std::uint8_t* wire) {
  NameRead out;
  std::size_t run_start = pos;
  std::size_t wire_size = 0;
  bool jumped = false;
  for (;;) {
    if (!r.has(pos, 1)) return {};
    const std::uint8_t len = r.u8(pos);
    if ((len & 0xC0) == 0xC0) {
      if (!r.has(pos, 2)) return {};
      const std::size_t target = r.u16(pos) & 0x3FFF;
      if (target < kHeaderSize || target >= run_start) return {};
      if (!jumped) out.next = pos + 2;
      jumped = true;
      pos = run_start = target;
      continue;
    }
    // 0x40 and 0x80: extended label types (RFC 6891 §5 deprecates them).
    if ((len & 0xC0) != 0) return {};
    if (wire_size + 1 + len > kMaxNameWire) return {};
    if (!r.has(pos, 1 + std::size_t{len})) return {};
    if (wire != nullptr) {
      for (std::size_t i = 0; i <= len; ++i) wire[wire_size + i] = r.u8(pos + i);
    }
    wire_size += 1 + len;
    pos += 1 + len;
    if (len == 0) break;
  }
  if (!jumped) out.next = pos;
  out.ok = true;
  out.wire_size = wire_size;
  return out;
}

// Fills q.text from q.wire; text_ok only when every label byte can appear in a
// dotted host name.
void set_text(Question& q) {
  std::size_t t = 0;
  bool ok = true;
  for (std::size_t i = 0; q.wire[i] != 0;) {
    const std::size_t len = q.wire[i];
    if (t != 0) q.text[t++] = '.';
    for (std::size_t k = 1; k <= len; ++k) {
      const auto ch = static_cast<char>(q.wire[i + k]);
      const auto uch = static_cast<unsigned char>(ch);
      if (uch <= 0x20 || uch == 0x7F || ch == '.') ok = false;
      q.text[t++] = ch;
    }
    i += 1 + len;
  }
  q.text_size = static_cast<std::uint16_t>(t);
  q.text_ok = ok;
}

// Bounds-checked big-endian writes; after the first overflow every write is
// dropped and ok() stays false.
class Writer {
 public:
  Writer(std::span<std::byte> out, std::size_t max_size)
      : p_(reinterpret_cast<std::uint8_t*>(out.data())), cap_(std::min(out.size(), max_size)) {}

  bool ok() const { return ok_; }
  std::size_t size() const { return n_; }
  void u8(std::uint8_t v) {
    if (!room(1)) return;
    p_[n_++] = v;
  }
  void u16(std::uint16_t v) {
    u8(static_cast<std::uint8_t>(v >> 8));
    u8(static_cast<std::uint8_t>(v));
  }
  void u32(std::uint32_t v) {
    u16(static_cast<std::uint16_t>(v >> 16));
    u16(static_cast<std::uint16_t>(v));
  }
  void bytes(std::span<const std::uint8_t> b) {
    if (!room(b.size())) return;
    if (!b.empty()) std::memcpy(p_ + n_, b.data(), b.size());
    n_ += b.size();
  }

 private:
  bool room(std::size_t n) {
    if (!ok_ || n > cap_ - n_) ok_ = false;
    return ok_;
  }
  std::uint8_t* p_;
  std::size_t cap_;
  std::size_t n_ = 0;
  bool ok_ = true;
};

// RFC 6891 §6.1.2, §6.1.3: the OPT record's fixed part after its root name.
bool read_opt(const Reader& r, std::size_t pos, Edns& edns) {
  // pos is at TYPE; CLASS, TTL, RDLENGTH follow, then options (code, length).
  edns.udp_size = r.u16(pos + 2);
  const std::uint32_t ttl = r.u32(pos + 4);
  edns.version = static_cast<std::uint8_t>(ttl >> 16);
  edns.dnssec_ok = (ttl & 0x8000) != 0;
  const std::size_t rdlen = r.u16(pos + 8);
  std::size_t opt = pos + 10;
  const std::size_t end = opt + rdlen;
  while (opt < end) {
    if (end - opt < 4) return false;
    const std::size_t len = r.u16(opt + 2);
    if (len > end - opt - 4) return false;
    opt += 4 + len;
  }
  edns.present = true;
  return true;
}

// Skips the records after the question, picking up the OPT record (RFC 6891
// §6.1.1). False when one is malformed.
bool read_records(const Reader& r, std::size_t pos, std::size_t answers, std::size_t authority,
                  std::size_t additional, Edns& edns) {
  // Each record takes at least 11 bytes (root name and fixed fields): counts
  // the message cannot hold are FormErr at once, not a long walk.
  const std::size_t total = answers + authority + additional;
  if (total > (r.size() - pos) / 11) return false;
  bool seen_opt = false;
  for (std::size_t i = 0; i < total; ++i) {
    const NameRead name = read_name(r, pos, nullptr);
    if (!name.ok) return false;
    pos = name.next;
    if (!r.has(pos, 10)) return false;
    const std::size_t rdlen = r.u16(pos + 8);
    if (!r.has(pos + 10, rdlen)) return false;
    if (r.u16(pos) == type::OPT) {
      // Only in the additional section, only once, owned by the root.
      if (i < answers + authority || seen_opt || name.wire_size != 1) return false;
      seen_opt = true;
      if (!read_opt(r, pos, edns)) return false;
    }
    pos += 10 + rdlen;
  }
  return true;
}

constexpr std::uint16_t kRcodeMask = 0x000F;

// The header and echoed question of a response to q; the OPT record, the last
// record, is write_opt's.
void write_head(Writer& w, const Query& q, Rcode rcode, std::uint16_t extra_flags,
                std::uint16_t ancount) {
  const std::uint16_t copied = q.flags & (flag::RD | flag::CD);
  const auto opcode = static_cast<std::uint16_t>(q.opcode() << 11);
  const auto rc = static_cast<std::uint16_t>(static_cast<std::uint16_t>(rcode) & kRcodeMask);
  w.u16(q.id);
  w.u16(static_cast<std::uint16_t>(flag::QR | opcode | flag::RA | copied | extra_flags | rc));
  w.u16(q.has_question ? 1 : 0);
  w.u16(ancount);
  w.u16(0);  // NSCOUNT
  w.u16(q.edns.present ? 1 : 0);
  if (q.has_question) {
    w.bytes(q.question.name_wire());
    w.u16(q.question.qtype);
    w.u16(q.question.qclass);
  }
}

void write_opt(Writer& w, const Query& q, Rcode rcode) {
  if (!q.edns.present) return;
  // RFC 6891 §6.1.3: extended RCODE (upper 8 bits), version 0, DO copied.
  const auto ext = static_cast<std::uint32_t>(static_cast<std::uint16_t>(rcode) >> 4);
  w.u8(0);  // root name
  w.u16(type::OPT);
  w.u16(kOurUdpPayload);
  w.u32((ext << 24) | (q.edns.dnssec_ok ? 0x8000u : 0u));
  w.u16(0);
}

}  // namespace

Query parse_query(std::span<const std::byte> message) {
  Query q;
  const Reader r(message);
  if (!r.has(0, kHeaderSize)) return q;  // Drop: not even an ID to answer
  q.id = r.u16(0);
  q.flags = r.u16(2);
  if ((q.flags & flag::QR) != 0) return q;  // a response: answering it could loop
  if (q.opcode() != 0) {
    q.status = QueryStatus::NotImp;
    return q;
  }
  q.status = QueryStatus::FormErr;
  if (r.u16(4) != 1) return q;
  Question& qn = q.question;
  const NameRead name = read_name(r, kHeaderSize, qn.wire.data());
  if (!name.ok || !r.has(name.next, 4)) return q;
  qn.wire_size = static_cast<std::uint16_t>(name.wire_size);
  qn.qtype = r.u16(name.next);
  qn.qclass = r.u16(name.next + 2);
  set_text(qn);
  q.has_question = true;
  Edns edns;
  if (!read_records(r, name.next + 4, r.u16(6), r.u16(8), r.u16(10), edns)) return q;
  q.edns = edns;
  q.status = edns.present && edns.version != 0 ? QueryStatus::BadVersion : QueryStatus::Ok;
  return q;
}

std::size_t udp_response_limit(const Query& q) {
  if (!q.edns.present) return kMaxUdpPlain;
  return std::max<std::size_t>(kMaxUdpPlain, q.edns.udp_size);
}

std::size_t build_response(std::span<std::byte> out, std::size_t max_size, const Query& q,
                           Rcode rcode, std::span<const Answer> answers) {
  if (q.status == QueryStatus::Drop) return 0;
  // An extended code needs an OPT record to carry it.
  if (static_cast<std::uint16_t>(rcode) > kRcodeMask && !q.edns.present) rcode = Rcode::ServFail;
  if (answers.size() > 0xFFFF || (!answers.empty() && !q.has_question)) return 0;
  Writer w(out, max_size);
  write_head(w, q, rcode, 0, static_cast<std::uint16_t>(answers.size()));
  for (const Answer& a : answers) {
    if (a.rdata.size() > 0xFFFF) return 0;
    w.u16(0xC000 | kHeaderSize);  // the question's name, RFC 1035 §4.1.4
    w.u16(a.type);
    w.u16(kClassIn);
    w.u32(a.ttl);
    w.u16(static_cast<std::uint16_t>(a.rdata.size()));
    w.bytes(a.rdata);
  }
  write_opt(w, q, rcode);
  if (w.ok()) return w.size();
  return build_truncated(out, max_size, q, rcode);
}

std::size_t build_truncated(std::span<std::byte> out, std::size_t max_size, const Query& q,
                            Rcode rcode) {
  if (q.status == QueryStatus::Drop) return 0;
  if (static_cast<std::uint16_t>(rcode) > kRcodeMask && !q.edns.present) rcode = Rcode::ServFail;
  Writer w(out, max_size);
  write_head(w, q, rcode, flag::TC, 0);
  write_opt(w, q, rcode);
  return w.ok() ? w.size() : 0;
}

std::size_t encode_name(std::span<std::uint8_t> out, std::string_view dotted) {
  if (!dotted.empty() && dotted.back() == '.') dotted.remove_suffix(1);
  std::size_t n = 0;
  while (!dotted.empty()) {
    const std::size_t dot = dotted.find('.');
    const std::string_view label = dotted.substr(0, dot);
    if (label.empty() || label.size() > kMaxLabel) return 0;
    if (n + 1 + label.size() + 1 > kMaxNameWire || n + 1 + label.size() >= out.size()) return 0;
    out[n++] = static_cast<std::uint8_t>(label.size());
    std::memcpy(out.data() + n, label.data(), label.size());
    n += label.size();
    dotted = dot == std::string_view::npos ? std::string_view{} : dotted.substr(dot + 1);
    if (dot != std::string_view::npos && dotted.empty()) return 0;  // "a..": empty label
  }
  if (n >= out.size()) return 0;
  out[n++] = 0;
  return n;
}

TcpFrame next_tcp_frame(std::span<const std::byte> stream) {
  TcpFrame f;
  if (stream.size() < 2) return f;
  const Reader r(stream);
  const std::size_t len = r.u16(0);
  if (stream.size() - 2 < len) {
    f.size = 2 + len;
    return f;
  }
  f.status = FrameStatus::Ok;
  f.message = stream.subspan(2, len);
  f.size = 2 + len;
  return f;
}

bool put_tcp_length(std::span<std::byte> out, std::size_t size) {
  if (size > kMaxMessage || out.size() < 2) return false;
  out[0] = static_cast<std::byte>(size >> 8);
  out[1] = static_cast<std::byte>(size);
  return true;
}

}  // namespace socksify::dns

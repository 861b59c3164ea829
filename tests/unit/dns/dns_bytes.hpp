// Helpers for the DNS codec tests: queries built by hand or by glibc's
// res_mkquery, and responses read back with libresolv's parser (ns_initparse,
// ns_parserr), the one a real stub resolver uses, so the tests check what a
// resolver accepts rather than what our own decoder believes.
#pragma once

#include <arpa/nameser.h>
#include <netinet/in.h>
#include <resolv.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace socksify::dns::testing {

using Bytes = std::vector<std::uint8_t>;

inline std::span<const std::byte> as_bytes(const Bytes& b) {
  return {reinterpret_cast<const std::byte*>(b.data()), b.size()};
}

inline void put16(Bytes& b, std::uint16_t v) {
  b.push_back(static_cast<std::uint8_t>(v >> 8));
  b.push_back(static_cast<std::uint8_t>(v));
}

inline void put32(Bytes& b, std::uint32_t v) {
  put16(b, static_cast<std::uint16_t>(v >> 16));
  put16(b, static_cast<std::uint16_t>(v));
}

// The wire form of a dotted name (no compression, labels as given).
inline Bytes wire_name(std::string_view dotted) {
  Bytes b;
  while (!dotted.empty()) {
    const auto dot = dotted.find('.');
    const auto label = dotted.substr(0, dot);
    b.push_back(static_cast<std::uint8_t>(label.size()));
    b.insert(b.end(), label.begin(), label.end());
    dotted = dot == std::string_view::npos ? std::string_view{} : dotted.substr(dot + 1);
  }
  b.push_back(0);
  return b;
}

inline Bytes header(std::uint16_t id, std::uint16_t flags, std::uint16_t qd, std::uint16_t an,
                    std::uint16_t ns, std::uint16_t ar) {
  Bytes b;
  for (const auto v : {id, flags, qd, an, ns, ar}) put16(b, v);
  return b;
}

// A standard query (RD set) for name/qtype, class IN.
inline Bytes query(std::string_view name, std::uint16_t qtype, std::uint16_t id = 0x1234,
                   std::uint16_t ar = 0) {
  Bytes b = header(id, 0x0100, 1, 0, 0, ar);
  const Bytes n = wire_name(name);
  b.insert(b.end(), n.begin(), n.end());
  put16(b, qtype);
  put16(b, 1);
  return b;
}

// An OPT record (RFC 6891 §6.1.2) with the given options bytes.
inline Bytes opt(std::uint16_t udp_size, std::uint8_t version, bool dnssec_ok,
                 const Bytes& options = {}) {
  Bytes b{0};
  put16(b, 41);
  put16(b, udp_size);
  put32(b, (std::uint32_t{version} << 16) | (dnssec_ok ? 0x8000u : 0u));
  put16(b, static_cast<std::uint16_t>(options.size()));
  b.insert(b.end(), options.begin(), options.end());
  return b;
}

inline Bytes query_with_opt(std::string_view name, std::uint16_t qtype, std::uint16_t udp_size,
                            bool dnssec_ok = false, std::uint8_t version = 0) {
  Bytes b = query(name, qtype, 0x1234, 1);
  const Bytes o = opt(udp_size, version, dnssec_ok);
  b.insert(b.end(), o.begin(), o.end());
  return b;
}

// The query glibc itself would send (res_mkquery, RFC 1035 layout), for
// name/type. Empty when res_mkquery refuses.
inline Bytes glibc_query(const char* name, int qtype) {
  unsigned char buf[NS_PACKETSZ];
  const int n = res_mkquery(ns_o_query, name, ns_c_in, qtype, nullptr, 0, nullptr, buf, sizeof buf);
  if (n <= 0) return {};
  return Bytes(buf, buf + n);
}

// A response as libresolv reads it.
struct Parsed {
  bool ok = false;  // ns_initparse and every ns_parserr succeeded
  ns_msg msg{};
  std::uint16_t id = 0;
  int rcode = -1;
  bool qr = false, tc = false, rd = false, ra = false, aa = false, cd = false;
  int qd = 0, an = 0, ns = 0, ar = 0;
  std::string qname;
  int qtype = 0, qclass = 0;
  struct Rr {
    std::string name;
    int type = 0, klass = 0;
    std::uint32_t ttl = 0;
    Bytes rdata;
    std::string rdata_name;  // PTR: the expanded name
  };
  std::vector<Rr> answers, additional;
};

inline Parsed parse_response(std::span<const std::byte> bytes) {
  Parsed p;
  const auto* data = reinterpret_cast<const unsigned char*>(bytes.data());
  if (ns_initparse(data, static_cast<int>(bytes.size()), &p.msg) != 0) return p;
  p.id = ns_msg_id(p.msg);
  p.rcode = ns_msg_getflag(p.msg, ns_f_rcode);
  p.qr = ns_msg_getflag(p.msg, ns_f_qr) != 0;
  p.tc = ns_msg_getflag(p.msg, ns_f_tc) != 0;
  p.rd = ns_msg_getflag(p.msg, ns_f_rd) != 0;
  p.ra = ns_msg_getflag(p.msg, ns_f_ra) != 0;
  p.aa = ns_msg_getflag(p.msg, ns_f_aa) != 0;
  p.cd = ns_msg_getflag(p.msg, ns_f_cd) != 0;
  p.qd = ns_msg_count(p.msg, ns_s_qd);
  p.an = ns_msg_count(p.msg, ns_s_an);
  p.ns = ns_msg_count(p.msg, ns_s_ns);
  p.ar = ns_msg_count(p.msg, ns_s_ar);
  ns_rr rr;
  if (p.qd > 0) {
    if (ns_parserr(&p.msg, ns_s_qd, 0, &rr) != 0) return p;
    p.qname = ns_rr_name(rr);
    p.qtype = ns_rr_type(rr);
    p.qclass = ns_rr_class(rr);
  }
  for (auto [section, out] : {std::pair{ns_s_an, &p.answers}, std::pair{ns_s_ar, &p.additional}}) {
    for (int i = 0; i < ns_msg_count(p.msg, section); ++i) {
      if (ns_parserr(&p.msg, section, i, &rr) != 0) return p;
      Parsed::Rr r;
      r.name = ns_rr_name(rr);
      r.type = ns_rr_type(rr);
      r.klass = ns_rr_class(rr);
      r.ttl = ns_rr_ttl(rr);
      r.rdata.assign(ns_rr_rdata(rr), ns_rr_rdata(rr) + ns_rr_rdlen(rr));
      if (r.type == ns_t_ptr) {
        char name[NS_MAXDNAME];
        const int n =
            dn_expand(ns_msg_base(p.msg), ns_msg_end(p.msg), ns_rr_rdata(rr), name, sizeof name);
        if (n < 0) return p;
        r.rdata_name = name;
      }
      out->push_back(std::move(r));
    }
  }
  p.ok = true;
  return p;
}

}  // namespace socksify::dns::testing

// parse_direct_rule: the text form of a bypass rule. Matching (rules.cpp) runs
// inside connect(), so everything that can be normalised is normalised here:
// names are lower-cased and lose their final dot, networks are parsed.
#include "config/direct_rule.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <string>

#include "base/ascii.hpp"
#include "base/decimal.hpp"

namespace socksify {
namespace {

// RFC 1928 §5: names travel with a one-byte length.
constexpr std::size_t kMaxName = 255;

Result<std::uint16_t, Message> parse_rule_port(std::string_view text) {
  if (text.empty()) return Message{"missing port after ':'"};
  const auto value = parse_decimal(text, 65535);
  if (text.size() > 5 || !value || *value < 1) {
    return Message{fmt::format("invalid port '{}' (expected 1..65535)", text)};
  }
  return static_cast<std::uint16_t>(*value);
}

bool name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_';
}

Result<std::string, Message> normalise_name(std::string_view text) {
  std::string_view n = text;
  if (!n.empty() && n.back() == '.') n.remove_suffix(1);  // "example.test." is fully qualified
  if (n.empty()) return Message{"missing host name"};
  if (n.size() > kMaxName) return Message{"host name longer than 255 bytes"};
  // One final dot is the root; a second one ("a..") is an empty label, like "a..b".
  if (n.front() == '.' || n.back() == '.' || n.find("..") != std::string_view::npos) {
    return Message{fmt::format("empty label in host name '{}'", text)};
  }
  std::string out;
  out.reserve(n.size());
  for (const char c : n) {
    if (!name_char(c)) return Message{fmt::format("invalid character in host name '{}'", text)};
    out.push_back((c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c);
  }
  return out;
}

Result<DirectRule, Message> network_rule(std::string_view cidr_text, std::string_view port_text,
                                         bool has_port) {
  DirectRule rule;
  rule.kind = DirectRule::Kind::Network;
  auto cidr = parse_cidr(cidr_text);
  if (!cidr) return cidr.error();
  rule.network = *cidr;
  if (has_port) {
    auto port = parse_rule_port(port_text);
    if (!port) return port.error();
    rule.port = *port;
  }
  return rule;
}

}  // namespace

Result<DirectRule, Message> parse_direct_rule(std::string_view text) {
  if (text.empty()) return Message{"empty rule"};

  if (text.front() == ':' && text.find(':', 1) == std::string_view::npos) {
    DirectRule rule;  // Kind::AnyHost
    auto port = parse_rule_port(text.substr(1));
    if (!port) return port.error();
    rule.port = *port;
    return rule;
  }

  if (text.front() == '[') {
    const std::size_t close = text.find(']');
    if (close == std::string_view::npos) return Message{"unterminated IPv6 bracket"};
    std::string cidr(text.substr(1, close - 1));
    if (cidr.find(':') == std::string::npos) {
      return Message{fmt::format("invalid IPv6 address '{}'", cidr)};
    }
    std::string_view rest = text.substr(close + 1);
    if (!rest.empty() && rest.front() == '/') {
      const std::size_t colon = rest.find(':');
      cidr += rest.substr(0, colon);
      rest = colon == std::string_view::npos ? std::string_view{} : rest.substr(colon);
    }
    if (!rest.empty() && rest.front() != ':') {
      return Message{fmt::format("unexpected text after ']' in '{}'", text)};
    }
    return network_rule(cidr, rest.empty() ? rest : rest.substr(1), !rest.empty());
  }

  const std::size_t slash = text.find('/');
  if (slash != std::string_view::npos) {
    // The prefix is digits, so a ':' after the '/' can only start a port.
    const std::size_t colon = text.find(':', slash);
    if (colon == std::string_view::npos) return network_rule(text, {}, false);
    return network_rule(text.substr(0, colon), text.substr(colon + 1), true);
  }

  const std::size_t colons = static_cast<std::size_t>(std::count(text.begin(), text.end(), ':'));
  if (colons >= 2) return network_rule(text, {}, false);  // bare IPv6 address, no port

  const std::size_t colon = text.find(':');
  const std::string_view host = text.substr(0, colon);
  const bool has_port = colon != std::string_view::npos;
  const std::string_view port_text = has_port ? text.substr(colon + 1) : std::string_view{};
  if (host.empty()) return Message{"missing host name"};
  if (ascii::looks_numeric(host)) return network_rule(host, port_text, has_port);

  DirectRule rule;
  std::string_view name = host;
  if (name.front() == '.') {
    rule.kind = DirectRule::Kind::DomainSuffix;
    name.remove_prefix(1);
  } else {
    rule.kind = DirectRule::Kind::HostName;
  }
  auto normalised = normalise_name(name);
  if (!normalised) return normalised.error();
  rule.name = std::move(*normalised);
  if (has_port) {
    auto port = parse_rule_port(port_text);
    if (!port) return port.error();
    rule.port = *port;
  }
  return rule;
}

}  // namespace socksify

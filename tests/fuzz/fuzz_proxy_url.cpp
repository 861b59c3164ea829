// Fuzzes parse_proxy_url with arbitrary text. Properties: a parsed proxy has a
// port, a host, credentials within RFC 1929's limits; display() does not
// depend on the password at all; and display() parses back to the same spec.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "config/proxy_spec.hpp"
#include "fuzz_check.hpp"

using namespace socksify;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto spec = parse_proxy_url(text);
  if (!spec) {
    FUZZ_CHECK(!spec.error().text.empty());
    return 0;
  }
  FUZZ_CHECK(spec->port != 0);
  FUZZ_CHECK(!spec->host.empty());
  FUZZ_CHECK(spec->user.size() <= 255 && spec->password.size() <= 255);
  const std::string shown = spec->display();
  if (!spec->password.empty()) FUZZ_CHECK(shown.find(":***@") != std::string::npos);
  // The password's content never reaches display(): any other password
  // displays the same.
  ProxySpec other = *spec;
  other.password = spec->password.empty() ? "" : "x";
  FUZZ_CHECK(other.display() == shown);
  // display() is a URL that parses back to the same proxy (password aside).
  const auto again = parse_proxy_url(shown);
  FUZZ_CHECK(again.ok());
  ProxySpec expected = *spec;
  expected.password = spec->password.empty() ? "" : "***";
  FUZZ_CHECK(*again == expected);
  return 0;
}

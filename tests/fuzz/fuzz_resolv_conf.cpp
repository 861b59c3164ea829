// Fuzzes SystemResolvers::parse (resolv.conf text, which another program may
// write). Properties: the list is bounded, always holds 127.0.0.53, every entry
// is an IP address on port 53 with no v4-mapped form (contains() compares
// unmapped), and every entry is found by contains().
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "dns/system_resolvers.hpp"
#include "fuzz_check.hpp"

using namespace socksify;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto r = dns::SystemResolvers::parse(text);
  FUZZ_CHECK(r.size() >= 1 && r.size() <= dns::SystemResolvers::kMax + 3);
  static constexpr std::uint8_t kStub[4] = {127, 0, 0, 53};
  FUZZ_CHECK(r.contains(Endpoint::ipv4(kStub, 53)));
  FUZZ_CHECK(!r.contains(Endpoint::ipv4(kStub, 54)));
  for (std::size_t i = 0; i < r.size(); ++i) {
    const Endpoint& e = r[i];
    FUZZ_CHECK(e.is_ip() && e.port() == 53);
    FUZZ_CHECK(e.unmapped() == e);
    FUZZ_CHECK(r.contains(e) && r.contains(e.v4_mapped()));
  }
  return 0;
}

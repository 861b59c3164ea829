// Fuzzes http::parse_response (the HTTP CONNECT reply) with arbitrary bytes
// and checks the contract its reader relies on to never read past the headers.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "fuzz_check.hpp"
#include "http/connect_codec.hpp"

using namespace socksify::http;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::byte> in(reinterpret_cast<const std::byte*>(data), size);
  // A small limit too, so that TooLarge is reached without megabyte inputs.
  for (const std::size_t limit : {kMaxResponse, std::size_t{64}}) {
    const Parsed p = parse_response(in, limit);
    switch (p.status) {
      case ParseStatus::Malformed:
      case ParseStatus::TooLarge:
        FUZZ_CHECK(p.size == 0);
        break;
      case ParseStatus::NeedMore:
        FUZZ_CHECK(p.size > size && p.size <= limit);
        FUZZ_CHECK(p.size <= (size + 4 > kMinResponse ? size + 4 : kMinResponse));
        break;
      case ParseStatus::Ok: {
        FUZZ_CHECK(p.size >= kMinResponse && p.size <= size && p.size <= limit);
        const std::string_view s(reinterpret_cast<const char*>(data), p.size);
        FUZZ_CHECK(s.substr(p.size - 4) == "\r\n\r\n");
        FUZZ_CHECK(s.find("\r\n\r\n") == p.size - 4);  // the first blank line, not a later one
        FUZZ_CHECK(p.code >= 0 && p.code <= 999);
        // Every shorter prefix asks for more, and for no byte past the headers.
        for (std::size_t k = 0; k < p.size; ++k) {
          const Parsed q = parse_response(in.first(k), limit);
          FUZZ_CHECK(q.status == ParseStatus::NeedMore && q.size > k && q.size <= p.size);
        }
        (void)status_errno(p.code);
        FUZZ_CHECK(!status_text(p.code).empty());
        break;
      }
    }
  }
  return 0;
}

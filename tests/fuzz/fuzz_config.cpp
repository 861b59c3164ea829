// Fuzzes the config file scanner and the layered loader. Input layout:
//   [0]   which variables are set (bit i: kVars[i]), each taking the next
//         NUL-terminated chunk as its value;
//   rest  the config file's text.
// SOCKSIFY_PASSWORD, when bit 7 is set, is a fixed distinctive secret.
// Properties: parse_config_file and load_settings agree on whether the file is
// clean; no message ever quotes that password; a loaded configuration has a
// proxy and a valid timeout.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

#include "config/config_file.hpp"
#include "config/settings.hpp"
#include "fuzz_check.hpp"

using namespace socksify;

namespace {

constexpr const char* kVars[] = {
    "SOCKSIFY_PROXY",      "SOCKSIFY_USERNAME",        "SOCKSIFY_DNS",      "SOCKSIFY_DIRECT",
    "SOCKSIFY_PROXY_MODE", "SOCKSIFY_CONNECT_TIMEOUT", "SOCKSIFY_FAKE_IPV4"};
// The "!" cannot come out of display()'s percent-encoding of a user name, so
// a display that contains the secret has it from the password.
constexpr const char* kSecret = "Fz!S3cr3t!9q7w";

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::uint8_t mask = data[0];
  std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
  std::string values[std::size(kVars)];
  bool set[std::size(kVars)] = {};
  for (std::size_t i = 0; i < std::size(kVars); ++i) {
    if ((mask & (1u << i)) == 0) continue;
    const auto nul = rest.find('\0');
    values[i] = std::string(rest.substr(0, nul));
    set[i] = true;
    rest = nul == std::string_view::npos ? std::string_view() : rest.substr(nul + 1);
  }
  const bool with_secret = (mask & 0x80) != 0;
  const EnvLookup env = [&](const char* name) -> const char* {
    for (std::size_t i = 0; i < std::size(kVars); ++i) {
      if (set[i] && std::strcmp(name, kVars[i]) == 0) return values[i].c_str();
    }
    if (with_secret && std::strcmp(name, "SOCKSIFY_PASSWORD") == 0) return kSecret;
    return nullptr;
  };

  // libFuzzer learns strings from comparisons and may put the secret into a
  // file or variable itself, where quoting it back is fine.
  const bool secret_in_input =
      std::string_view(reinterpret_cast<const char*>(data), size).find(kSecret) !=
      std::string_view::npos;

  const auto parsed = parse_config_file(rest, "fuzz.conf");
  (void)config_mentions_password(rest);
  if (parsed) {
    for (const ConfigEntry& e : parsed->entries) FUZZ_CHECK(e.line >= 1 && !e.key.empty());
  } else {
    FUZZ_CHECK(!parsed.error().empty());
  }

  const auto loaded = load_settings(env, ConfigText{"fuzz.conf", std::string(rest)});
  if (!loaded) {
    FUZZ_CHECK(!loaded.error().empty());
    bool file_blamed = false;
    for (const std::string& e : loaded.error()) {
      FUZZ_CHECK(secret_in_input || e.find(kSecret) == std::string::npos);
      if (e.starts_with("fuzz.conf:")) file_blamed = true;
    }
    // A file the scanner rejects is blamed by the loader too.
    FUZZ_CHECK(parsed || file_blamed);
    return 0;
  }
  FUZZ_CHECK(parsed.ok());  // the loader accepted the file, so the scanner does
  FUZZ_CHECK(!loaded->proxies.empty());
  FUZZ_CHECK(loaded->connect_timeout.count() >= 1);
  for (const ProxySpec& p : loaded->proxies) {
    FUZZ_CHECK(secret_in_input || p.display().find(kSecret) == std::string::npos);
  }
  // The environment-only loader must not crash on the same variables either.
  (void)load_settings(env);
  return 0;
}

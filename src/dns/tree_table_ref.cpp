#include "dns/tree_table_ref.hpp"

#include <climits>

#include "dns/fake_range.hpp"
#include "dns/shared_name_table.hpp"

namespace socksify {
namespace {

constexpr std::string_view kPrefix = "/proc/";
constexpr std::string_view kMiddle = "/fd/";

// A decimal in [min, max] spanning all of text: no sign, no leading zero.
template <class T>
std::optional<T> strict_decimal(std::string_view text, T min, T max) {
  if (text.empty() || text.size() > 10 || (text.size() > 1 && text[0] == '0')) return std::nullopt;
  long long v = 0;
  for (const char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + (c - '0');
  }
  if (v < static_cast<long long>(min) || v > static_cast<long long>(max)) return std::nullopt;
  return static_cast<T>(v);
}

}  // namespace

std::string format_tree_table_ref(const TreeTableRef& ref) {
  return std::string(kPrefix) + std::to_string(ref.pid) + std::string(kMiddle) +
         std::to_string(ref.fd);
}

std::optional<TreeTableRef> parse_tree_table_ref(std::string_view text) {
  if (!text.starts_with(kPrefix)) return std::nullopt;
  text.remove_prefix(kPrefix.size());
  const std::size_t middle = text.find(kMiddle);
  if (middle == std::string_view::npos) return std::nullopt;
  const auto pid = strict_decimal<pid_t>(text.substr(0, middle), 1, INT_MAX);
  const auto fd = strict_decimal<int>(text.substr(middle + kMiddle.size()), 0, INT_MAX);
  if (!pid || !fd) return std::nullopt;
  return TreeTableRef{*pid, *fd};
}

bool plausible_region_size(std::int64_t st_size) {
  if (st_size <= 0) return false;
  const auto size = static_cast<std::uint64_t>(st_size);
  return size >= SharedNameTable::region_size(1) &&
         size <= SharedNameTable::region_size(SharedNameTable::kMaxCapacity);
}

std::string_view tree_table_mismatch(const SharedNameTable& table, const Cidr& v4, const Cidr& v6) {
  // Absent ranges (family 0) are compared as they are: normalizing leaves them.
  if (!(fake_range::normalized(v4) == table.v4_range())) {
    return "its fake_ipv4 range differs from this process's";
  }
  if (!(fake_range::normalized(v6) == table.v6_range())) {
    return "its fake_ipv6 range differs from this process's";
  }
  return {};
}

}  // namespace socksify

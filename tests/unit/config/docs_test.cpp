// The man pages cannot drift from the option table: every variable is in
// socksify(1)'s ENVIRONMENT, and every config key has its own entry in
// socksify.conf(5) that names its variable and its default.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

#include "config/settings.hpp"

namespace socksify {
namespace {

std::string read_man(const char* name) {
  std::ifstream in(std::string(SOCKSIFY_SOURCE_DIR) + "/man/" + name);
  EXPECT_TRUE(in.good()) << "cannot read man/" << name;
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The text of the .TP entry in the KEYS section that starts with ".BI key ".
std::string key_entry(const std::string& page, std::string_view key) {
  const std::string start = "\n.BI " + std::string(key) + " ";
  const auto at = page.find(start);
  if (at == std::string::npos) return {};
  const auto end = page.find("\n.TP", at + 1);
  return page.substr(at, end == std::string::npos ? std::string::npos : end - at);
}

TEST(ManPages, EveryVariableIsInSocksify1Environment) {
  const std::string page = read_man("socksify.1");
  const auto env = page.find("\n.SH ENVIRONMENT");
  ASSERT_NE(env, std::string::npos);
  const std::string section = page.substr(env, page.find("\n.SH ", env + 1) - env);
  for (const OptionInfo& opt : option_table()) {
    EXPECT_NE(section.find(opt.name), std::string::npos)
        << opt.name << " is missing from ENVIRONMENT in man/socksify.1";
  }
}

TEST(ManPages, EveryConfigKeyHasAnEntryWithItsVariableAndDefault) {
  const std::string page = read_man("socksify.conf.5");
  for (const OptionInfo& opt : option_table()) {
    if (opt.file_key.empty()) {
      EXPECT_NE(page.find(opt.name), std::string::npos)
          << opt.name << " not in man/socksify.conf.5";
      continue;
    }
    const std::string entry = key_entry(page, opt.file_key);
    ASSERT_FALSE(entry.empty()) << "no '.BI " << opt.file_key << " ' entry in man/socksify.conf.5";
    EXPECT_NE(entry.find(opt.name), std::string::npos)
        << "the entry for " << opt.file_key << " does not name " << opt.name;
    if (!opt.default_value.empty()) {
      EXPECT_NE(entry.find(opt.default_value), std::string::npos)
          << "the entry for " << opt.file_key << " does not give its default " << opt.default_value;
    }
  }
}

TEST(ManPages, SocksifyCheckIsDocumented) {
  const std::string page = read_man("socksify.1");
  EXPECT_NE(page.find("\\-\\-check\\-target"), std::string::npos);
  EXPECT_NE(page.find(".B \\-\\-check\n"), std::string::npos);
}

}  // namespace
}  // namespace socksify

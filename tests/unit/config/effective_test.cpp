// load_effective_settings with a real file: the safety warnings are said once
// per tree, so a process stays quiet about the file the launcher reported on.
#include "config/effective.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "env_map.hpp"

namespace socksify {
namespace {

using ::testing::ElementsAre;
using testing::EnvMap;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

class OpenConfig : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::string(::testing::TempDir()) + "socksify-effective-XXXXXX";
    ASSERT_NE(mkdtemp(dir_.data()), nullptr);
    path_ = dir_ + "/socksify.conf";
    FILE* f = std::fopen(path_.c_str(), "w");
    ASSERT_NE(f, nullptr);
    std::fputs("proxy socks5://127.0.0.1:1080\n", f);
    std::fclose(f);
    chmod(path_.c_str(), 0666);
  }
  void TearDown() override {
    unlink(path_.c_str());
    rmdir(dir_.c_str());
  }
  std::string dir_, path_;
};

TEST_F(OpenConfig, AWorldWritableFileIsReported) {
  const EnvMap env{{"SOCKSIFY_CONF_FILE", path_}};
  const auto effective = load_effective_settings(env.lookup());
  ASSERT_TRUE(effective.settings.ok());
  EXPECT_THAT(effective.warnings, ElementsAre(HasSubstr(path_ + ": writable by its group and every "
                                                                "user (mode 0666)")));
}

TEST_F(OpenConfig, TheFileTheLauncherReportedOnIsNotReportedAgain) {
  const EnvMap env{{"SOCKSIFY_CONF_FILE", path_}, {kConfCheckedVariable, path_}};
  const auto effective = load_effective_settings(env.lookup());
  ASSERT_TRUE(effective.settings.ok());
  EXPECT_THAT(effective.warnings, IsEmpty());
  EXPECT_EQ(effective.file, path_);
}

TEST_F(OpenConfig, AnotherFileThanTheOneReportedOnIsReported) {
  const EnvMap env{{"SOCKSIFY_CONF_FILE", path_}, {kConfCheckedVariable, "/etc/socksify.conf"}};
  EXPECT_THAT(load_effective_settings(env.lookup()).warnings,
              ElementsAre(HasSubstr("writable by its group and every user")));
}

TEST_F(OpenConfig, ADirectoryOthersCanWriteIsReported) {
  chmod(path_.c_str(), 0600);
  chmod(dir_.c_str(), 0777);
  const EnvMap env{{"SOCKSIFY_CONF_FILE", path_}};
  EXPECT_THAT(load_effective_settings(env.lookup()).warnings,
              ElementsAre(HasSubstr("its directory " + dir_ +
                                    " is writable by its group and "
                                    "every user without the sticky bit")));
  chmod(dir_.c_str(), 01777);
  EXPECT_THAT(load_effective_settings(env.lookup()).warnings, IsEmpty());
}

}  // namespace
}  // namespace socksify

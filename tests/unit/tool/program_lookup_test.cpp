#include "tool/program_lookup.hpp"

#include <gtest/gtest.h>
#include <linux/capability.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>

namespace socksify {
namespace {

// A temporary directory tree, removed at the end of the test.
class ProgramLookup : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/socksify-lookup-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    root_ = tmpl;
    ASSERT_EQ(::mkdir((root_ + "/a").c_str(), 0755), 0);
    ASSERT_EQ(::mkdir((root_ + "/b").c_str(), 0755), 0);
  }
  void TearDown() override {
    const std::string cmd = "rm -rf '" + root_ + "'";
    ASSERT_EQ(std::system(cmd.c_str()), 0);
  }
  std::string file(const std::string& rel, mode_t mode) {
    const std::string path = root_ + "/" + rel;
    std::ofstream(path) << "#!/bin/sh\n";
    EXPECT_EQ(::chmod(path.c_str(), mode), 0);
    return path;
  }
  std::string dirs(std::initializer_list<const char*> names) {
    std::string out;
    for (const char* n : names) out += (out.empty() ? "" : ":") + root_ + "/" + n;
    return out;
  }
  std::string root_;
};

TEST_F(ProgramLookup, FirstExecutableInPathOrderWins) {
  file("a/prog", 0755);
  file("b/prog", 0755);
  auto r = find_program("prog", dirs({"b", "a"}));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(*r, root_ + "/b/prog");
}

TEST_F(ProgramLookup, NonExecutableEarlierInPathIsSkipped) {
  file("a/prog", 0644);
  file("b/prog", 0755);
  auto r = find_program("prog", dirs({"a", "b"}));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(*r, root_ + "/b/prog");
}

TEST_F(ProgramLookup, OnlyNonExecutableIs126) {
  // Root may execute any file with an x bit, but not one with none.
  file("a/prog", 0644);
  auto r = find_program("prog", dirs({"a"}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().exit_code, 126);
  EXPECT_EQ(r.error().message, "prog: Permission denied");
}

TEST_F(ProgramLookup, NowhereIs127CommandNotFound) {
  auto r = find_program("prog", dirs({"a", "b"}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().exit_code, 127);
  EXPECT_EQ(r.error().message, "prog: command not found");
  EXPECT_EQ(find_program("", dirs({"a"})).error().exit_code, 127);
}

TEST_F(ProgramLookup, DirectoryInPathIsNotAProgram) {
  ASSERT_EQ(::mkdir((root_ + "/a/prog").c_str(), 0755), 0);
  EXPECT_EQ(find_program("prog", dirs({"a"})).error().exit_code, 127);
}

TEST_F(ProgramLookup, EmptyPathEntryIsTheCurrentDirectory) {
  file("a/prog", 0755);
  char old[4096];
  ASSERT_NE(::getcwd(old, sizeof old), nullptr);
  ASSERT_EQ(::chdir((root_ + "/a").c_str()), 0);
  auto r = find_program("prog", "/nonexistent-dir:");
  ASSERT_EQ(::chdir(old), 0);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(*r, "./prog");
}

TEST_F(ProgramLookup, NameWithSlashIsAPathNotSearched) {
  const std::string exe = file("a/prog", 0755);
  EXPECT_EQ(*find_program(exe, "/nonexistent-dir"), exe);
  auto missing = find_program(root_ + "/a/none", dirs({"a"}));
  EXPECT_EQ(missing.error().exit_code, 127);
  EXPECT_EQ(missing.error().message, root_ + "/a/none: No such file or directory");
  EXPECT_EQ(find_program(root_ + "/a", "").error().exit_code, 126);
  file("a/data", 0644);
  EXPECT_EQ(find_program(root_ + "/a/data", "").error().exit_code, 126);
}

TEST_F(ProgramLookup, SecureModeIsSetuidSetgidWithGroupExecuteOnly) {
  EXPECT_EQ(secure_mode_reason(file("a/plain", 0755)), "");
  EXPECT_EQ(secure_mode_reason(file("a/suid", 04755)), "setuid");
  EXPECT_EQ(secure_mode_reason(file("a/sgid", 02755)), "setgid");
  // setgid without group execute is mandatory locking, not a privilege.
  EXPECT_EQ(secure_mode_reason(file("a/lock", 02745)), "");
  EXPECT_EQ(secure_mode_reason(root_ + "/a/none"), "");
}

TEST_F(ProgramLookup, FileCapabilitiesAreSecureModeToo) {
  // What `setcap cap_net_raw+ep` writes (VFS_CAP_REVISION_2, effective).
  const std::string exe = file("a/capped", 0755);
  vfs_cap_data caps{};
  caps.magic_etc = VFS_CAP_REVISION_2 | VFS_CAP_FLAGS_EFFECTIVE;
  caps.data[0].permitted = 1u << CAP_NET_RAW;
  ASSERT_EQ(::setxattr(exe.c_str(), "security.capability", &caps, XATTR_CAPS_SZ_2, 0), 0)
      << "setxattr: " << std::strerror(errno) << " (tests run as root on a filesystem with xattrs)";
  EXPECT_EQ(secure_mode_reason(exe), "file capabilities");
}

}  // namespace
}  // namespace socksify

#include "config/file_safety.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <string>

namespace socksify {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr unsigned kMe = 1000;
constexpr unsigned kOther = 1001;

// A directory tree by hand: path -> mode and owner. Unlisted directories
// cannot be looked at.
struct FakeDirs {
  std::map<std::string, FileOwnership> dirs{
      {"/", {0755, 0}}, {"/home", {0755, 0}}, {"/home/me", {0700, kMe}}, {"/tmp", {01777, 0}}};
  StatDirectory lookup() const {
    return [this](const std::string& d) -> std::optional<FileOwnership> {
      auto it = dirs.find(d);
      if (it == dirs.end()) return std::nullopt;
      return it->second;
    };
  }
};

std::vector<std::string> warnings(std::string_view path, FileOwnership file,
                                  const FakeDirs& fs = FakeDirs{},
                                  std::string_view real_path = {}) {
  return config_safety_warnings(path, real_path.empty() ? path : real_path, file, kMe, fs.lookup());
}

TEST(ConfigSafety, AFileOnlyTheCallerCanChangeIsQuiet) {
  EXPECT_THAT(warnings("/home/me/s.conf", {0600, kMe}), IsEmpty());
  EXPECT_THAT(warnings("/home/me/s.conf", {0644, kMe}), IsEmpty());  // reading is another check
  EXPECT_THAT(
      warnings("/etc/socksify.conf", {0644, 0}, FakeDirs{{{"/", {0755, 0}}, {"/etc", {0755, 0}}}}),
      IsEmpty());
}

TEST(ConfigSafety, WarnsAboutAFileOthersOrTheGroupCanWrite) {
  EXPECT_THAT(warnings("/home/me/s.conf", {0666, kMe}),
              ElementsAre("/home/me/s.conf: writable by its group and every user (mode 0666): "
                          "whoever can write it can send your traffic to a proxy of their "
                          "choosing; chmod go-w it"));
  EXPECT_THAT(warnings("/home/me/s.conf", {0602, kMe}),
              ElementsAre(HasSubstr("writable by every user (mode 0602)")));
  EXPECT_THAT(warnings("/home/me/s.conf", {0620, kMe}),
              ElementsAre(HasSubstr("writable by its group (mode 0620)")));
}

TEST(ConfigSafety, WarnsAboutAFileOwnedByAnotherUserButNotByRoot) {
  EXPECT_THAT(warnings("/home/me/s.conf", {0600, kOther}),
              ElementsAre(HasSubstr("/home/me/s.conf: owned by uid 1001, neither you nor root")));
  EXPECT_THAT(warnings("/home/me/s.conf", {0600, 0}), IsEmpty());
}

TEST(ConfigSafety, AStickyWorldWritableDirectoryIsFine) {
  // /tmp (1777, root): others may add names there but not replace ours.
  EXPECT_THAT(warnings("/tmp/s.conf", {0600, kMe}), IsEmpty());
}

TEST(ConfigSafety, WarnsAboutADirectoryOthersCanWriteWithoutTheStickyBit) {
  FakeDirs fs;
  fs.dirs["/srv"] = {0777, 0};
  EXPECT_THAT(warnings("/srv/s.conf", {0600, kMe}, fs),
              ElementsAre("/srv/s.conf: its directory /srv is writable by its group and every "
                          "user without the sticky bit (mode 0777): they can replace the file; "
                          "chmod go-w /srv"));
  fs.dirs["/srv"] = {0775, kMe};
  EXPECT_THAT(warnings("/srv/s.conf", {0600, kMe}, fs),
              ElementsAre(HasSubstr("directory /srv is writable by its group without")));
}

TEST(ConfigSafety, WarnsAboutEveryUnsafeAncestorNotJustTheParent) {
  FakeDirs fs;
  fs.dirs["/home"] = {0777, 0};               // anyone can rename /home/me away
  fs.dirs["/home/me/conf"] = {0755, kOther};  // kOther can replace the file
  EXPECT_THAT(warnings("/home/me/conf/s.conf", {0600, kMe}, fs),
              ElementsAre(HasSubstr("its directory /home/me/conf is owned by uid 1001"),
                          HasSubstr("its directory /home is writable by")));
}

TEST(ConfigSafety, ADirectoryOwnedByAnotherUserIsUnsafeEvenWhenSticky) {
  FakeDirs fs;
  fs.dirs["/tmp/shared"] = {01777, kOther};  // its owner may remove anything in it
  EXPECT_THAT(warnings("/tmp/shared/s.conf", {0600, kMe}, fs),
              ElementsAre(HasSubstr("its directory /tmp/shared is owned by uid 1001")));
}

TEST(ConfigSafety, ChecksTheDirectoriesOfBothTheGivenAndTheResolvedPath) {
  // /home/me/s.conf is a symlink into /srv/cfg, which another user controls;
  // and a link in a directory others write could be pointed elsewhere.
  FakeDirs fs;
  fs.dirs["/srv"] = {0755, 0};
  fs.dirs["/srv/cfg"] = {0755, kOther};
  EXPECT_THAT(warnings("/home/me/s.conf", {0600, kMe}, fs, "/srv/cfg/s.conf"),
              ElementsAre(HasSubstr("its directory /srv/cfg is owned by uid 1001")));
  fs.dirs["/pub"] = {0777, 0};
  EXPECT_THAT(warnings("/pub/link.conf", {0600, kMe}, fs, "/home/me/s.conf"),
              ElementsAre(HasSubstr("its directory /pub is writable")));
}

TEST(ConfigSafety, DirectoriesThatCannotBeLookedAtAreSkipped) {
  EXPECT_THAT(warnings("/nowhere/deep/s.conf", {0600, kMe}), IsEmpty());
  EXPECT_THAT(warnings("relative.conf", {0600, kMe}), IsEmpty());  // no ancestors to walk
}

}  // namespace
}  // namespace socksify

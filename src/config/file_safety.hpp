// Who can change what a config file says. Whoever can write the file, or
// replace it in its directory, can send this user's traffic to a proxy of
// their own: worth a warning, as ssh's StrictModes is for authorized_keys.
// Pure: the file's and the directories' modes and owners come in through a
// lookup, so the rules are unit-tested without a file system.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace socksify {

struct FileOwnership {
  unsigned mode = 0;  // permission bits with the sticky bit (st_mode & 07777)
  unsigned uid = 0;   // owner
};

// A directory's mode and owner (following symlinks, as stat(2)); nullopt when
// it cannot be looked at (then nothing is said about it).
using StatDirectory = std::function<std::optional<FileOwnership>(const std::string& dir)>;

// Warnings for the config file `path` as given (absolute) and `real_path`, the
// same file with every symlink resolved (may equal path). Says so when:
// - the file is writable by its group or by others;
// - the file belongs to a user other than `caller` and root;
// - a directory on either path (every ancestor up to /) belongs to such a
//   user, or is writable by its group or others without the sticky bit.
// A sticky directory (/tmp, mode 1777) is fine: in it an entry can be renamed
// or removed only by its owner, the directory's owner or root (unlink(2),
// rename(2): EPERM), and both owners are checked, so others can add names
// beside the file but not replace it. Empty: only the caller and root can
// change what the file says.
std::vector<std::string> config_safety_warnings(std::string_view path, std::string_view real_path,
                                                const FileOwnership& file, unsigned caller,
                                                const StatDirectory& stat_dir);

}  // namespace socksify

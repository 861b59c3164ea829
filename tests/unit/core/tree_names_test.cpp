// TreeNames with a real memfd region, as the launcher creates it and a
// process of the tree attaches it through /proc/<pid>/fd/<n>.
#include "core/tree_names.hpp"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <map>
#include <string>

#include "core/route.hpp"
#include "dns/shared_name_table.hpp"
#include "dns/tree_table_ref.hpp"
#include "test_cidr.hpp"
#include "test_runtime.hpp"
#include "tool/name_table_region.hpp"

namespace socksify {
namespace {

using ::socksify::testing::cidr;

const Cidr kV4 = cidr(AF_INET, "240.0.0.0", 4);
const Cidr kV6 = cidr(AF_INET6, "100::", 64);

int open_fds() {
  int n = 0;
  DIR* d = opendir("/proc/self/fd");
  while (dirent* e = readdir(d)) n += e->d_name[0] != '.';
  closedir(d);
  return n - 1;  // the directory's own
}

// A region as the launcher makes it, and the variable's value naming it.
struct Region {
  int fd = -1;
  std::string path;
  Region() {
    auto r = create_name_table_region(kV4, kV6, 1024);
    EXPECT_TRUE(r) << (r ? "" : r.error().text);
    if (r) {
      fd = r->fd;
      EXPECT_TRUE(r->sealed);
      path = format_tree_table_ref({getpid(), fd});
    }
  }
  ~Region() {
    if (fd >= 0) close(fd);
  }
};

std::string name_of(const FakeNames& t, std::span<const std::uint8_t> addr) {
  const auto ep = t.endpoint_for(addr, 80);
  return ep ? std::string(ep->host_name()) : std::string();
}

TEST(TreeNames, AttachesLazilyAndKeepsNoDescriptor) {
  Region region;
  const int before = open_fds();
  auto names = TreeNames::tree(region.path, kV4, kV6);
  ASSERT_TRUE(names->is_tree());
  std::array<std::uint8_t, 4> a{};
  ASSERT_TRUE(names->address_for("one.test", AF_INET, a));
  EXPECT_EQ(name_of(*names, a), "one.test");
  EXPECT_EQ(open_fds(), before) << "the fd opened to attach must be closed again";
  ASSERT_NE(names->shared(), nullptr);
  EXPECT_EQ(names->shared()->capacity(), 1024U);
}

TEST(TreeNames, TheRegionCannotBeResized) {
  Region region;
  EXPECT_NE(ftruncate(region.fd, 4096), 0);
  EXPECT_EQ(errno, EPERM);
}

TEST(TreeNames, AProcessThatExecsSeesWhatAnotherResolved) {
  Region region;
  // Two independent attachments (as two exec'd processes have) of one region.
  auto first = TreeNames::tree(region.path, kV4, kV6);
  auto second = TreeNames::tree(region.path, kV4, kV6);
  std::array<std::uint8_t, 4> a{};
  std::array<std::uint8_t, 16> a6{};
  ASSERT_TRUE(first->addresses_for("shared.test", a, a6));
  EXPECT_EQ(name_of(*second, a), "shared.test");
  EXPECT_EQ(name_of(*second, a6), "shared.test");
  std::array<std::uint8_t, 4> again{};
  ASSERT_TRUE(second->find_address("SHARED.test", AF_INET, again));
  EXPECT_EQ(again, a);
}

TEST(TreeNames, AForkedChildThatAttachesFirstSharesWithItsParent) {
  Region region;
  auto names = TreeNames::tree(region.path, kV4, kV6);
  int pipefd[2];
  ASSERT_EQ(pipe(pipefd), 0);
  const pid_t pid = fork();
  if (pid == 0) {
    std::array<std::uint8_t, 4> a{};
    const bool ok = names->address_for("from-child.test", AF_INET, a);
    (void)!write(pipefd[1], a.data(), a.size());
    _exit(ok ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  std::array<std::uint8_t, 4> a{};
  ASSERT_EQ(read(pipefd[0], a.data(), a.size()), 4);
  close(pipefd[0]);
  close(pipefd[1]);
  EXPECT_EQ(name_of(*names, a), "from-child.test");
}

TEST(TreeNames, FailsClosedWhenTheTableCannotBeAttached) {
  Region region;
  const std::string gone = format_tree_table_ref({getpid(), 1000});  // no such fd
  for (const std::string& path :
       {gone, std::string("/tmp/not-a-proc-path"), format_tree_table_ref({getpid(), 0})}) {
    auto names = TreeNames::tree(path, kV4, kV6);
    std::array<std::uint8_t, 4> a{};
    EXPECT_FALSE(names->address_for("x.test", AF_INET, a)) << path;
    EXPECT_FALSE(names->serves(AF_INET)) << path;
    EXPECT_FALSE(names->serves(AF_INET6)) << path;
    EXPECT_EQ(names->shared(), nullptr) << path;
    // Still recognises its addresses, so a connect to one is refused, never sent direct.
    const std::array<std::uint8_t, 4> fake{240, 0, 0, 1};
    EXPECT_TRUE(names->in_range(fake)) << path;
    EXPECT_FALSE(names->endpoint_for(fake, 80)) << path;
  }
  // Other ranges than the table's: its addresses would mean other names here.
  auto other = TreeNames::tree(region.path, cidr(AF_INET, "10.64.0.0", 10), kV6);
  std::array<std::uint8_t, 4> a{};
  EXPECT_FALSE(other->address_for("x.test", AF_INET, a));
}

TEST(TreeNames, PerProcessModeIsTheOwnTable) {
  auto names = TreeNames::per_process(kV4, kV6, 16);
  EXPECT_FALSE(names->is_tree());
  EXPECT_EQ(names->shared(), nullptr);
  std::array<std::uint8_t, 4> a{};
  ASSERT_TRUE(names->address_for("own.test", AF_INET, a));
  EXPECT_EQ(a, (std::array<std::uint8_t, 4>{240, 0, 0, 1}));
  EXPECT_EQ(name_of(*names, a), "own.test");
}

TEST(TreeNames, RuntimeUsesTheTreeTableWhenTheVariableIsSetAndRoutesByIt) {
  Region region;
  Runtime rt = testing::runtime(
      {{"SOCKSIFY_PROXY", "socks5h://10.0.0.1:1080"}, {kTreeTableVariable, region.path}});
  ASSERT_TRUE(rt.configured()) << rt.config_error();
  ASSERT_NE(rt.names(), nullptr);
  EXPECT_TRUE(rt.names()->is_tree());
  // Resolved by "another process" of the tree.
  auto other = TreeNames::tree(region.path, kV4, kV6);
  std::array<std::uint8_t, 4> a{};
  ASSERT_TRUE(other->address_for("elsewhere.test", AF_INET, a));
  const Route r = route_for(rt, Endpoint::ipv4(a, 443));
  EXPECT_EQ(r.kind, Route::Kind::Proxy);
  EXPECT_EQ(r.target, *Endpoint::name("elsewhere.test", 443));

  Runtime plain = testing::runtime({{"SOCKSIFY_PROXY", "socks5h://10.0.0.1:1080"}});
  ASSERT_NE(plain.names(), nullptr);
  EXPECT_FALSE(plain.names()->is_tree());
  Runtime local = testing::runtime(
      {{"SOCKSIFY_PROXY", "socks5://10.0.0.1:1080"}, {kTreeTableVariable, region.path}});
  EXPECT_EQ(local.names(), nullptr);  // socks5://: local DNS, no table at all
}

// Issue 12 item 2: what one process of a tree learnt about a proxy's
// pipelining, every other process (a fresh Runtime: a new program) knows.
TEST(TreeNames, PipelineMemoryIsSharedThroughTheTreeRegion) {
  Region region;
  auto load = [&](const char* proxy, bool tree = true) {
    std::map<std::string, std::string> env{{"SOCKSIFY_PROXY", proxy}};
    if (tree) env[kTreeTableVariable] = region.path;
    return testing::runtime(env);
  };
  Runtime parent = load("socks5h://10.0.0.1:1080,socks5h://10.0.0.2:1080");
  Runtime child = load("socks5h://10.0.0.2:1080,socks5h://10.0.0.1:1080");
  Runtime other_port = load("socks5h://10.0.0.1:1081");
  Runtime with_login = load("socks5h://u:p@10.0.0.1:1080");
  Runtime plain = load("socks5h://10.0.0.1:1080", false);
  ASSERT_TRUE(parent.configured() && child.configured()) << parent.config_error();
  EXPECT_EQ(child.pipeline_memory(1), PipelineMemory::Unknown);
  parent.remember_pipeline(0, PipelineMemory::Refuses);
  parent.remember_pipeline(1, PipelineMemory::Takes);
  EXPECT_EQ(parent.pipeline_memory(0), PipelineMemory::Refuses);
  // By proxy, not by position in the list.
  EXPECT_EQ(child.pipeline_memory(1), PipelineMemory::Refuses);
  EXPECT_EQ(child.pipeline_memory(0), PipelineMemory::Takes);
  EXPECT_EQ(other_port.pipeline_memory(0), PipelineMemory::Unknown);
  EXPECT_EQ(with_login.pipeline_memory(0), PipelineMemory::Unknown);
  // No region (plain LD_PRELOAD): per process.
  EXPECT_EQ(plain.pipeline_memory(0), PipelineMemory::Unknown);
  plain.remember_pipeline(0, PipelineMemory::Takes);
  EXPECT_EQ(plain.pipeline_memory(0), PipelineMemory::Takes);
  EXPECT_EQ(load("socks5h://10.0.0.1:1080").pipeline_memory(0), PipelineMemory::Refuses);
}

}  // namespace
}  // namespace socksify

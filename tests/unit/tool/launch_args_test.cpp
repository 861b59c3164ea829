#include "tool/launch_args.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <initializer_list>
#include <vector>

namespace socksify {
namespace {

using ::testing::ElementsAre;
using ::testing::Pair;
using Action = LaunchArgs::Action;

Result<LaunchArgs, Message> parse(std::initializer_list<const char*> args) {
  std::vector<const char*> argv{"socksify"};
  argv.insert(argv.end(), args);
  argv.push_back(nullptr);
  return parse_launch_args(static_cast<int>(argv.size()) - 1, argv.data());
}

std::string error_of(std::initializer_list<const char*> args) {
  auto r = parse(args);
  EXPECT_FALSE(r.ok()) << "parsed unexpectedly";
  return r.ok() ? "" : r.error().text;
}

TEST(LaunchArgs, ProgramStartsAtTheFirstNonOption) {
  auto r = parse({"-x", "socks5://p:1", "curl", "-x", "http://other/"});
  ASSERT_TRUE(r.ok()) << r.error().text;
  EXPECT_EQ(r->action, Action::Run);
  EXPECT_EQ(r->program_index, 3);  // curl's own -x is curl's
  EXPECT_THAT(r->env, ElementsAre(Pair("SOCKSIFY_PROXY", "socks5://p:1")));
}

TEST(LaunchArgs, DoubleDashEndsOptionsEvenBeforeADashProgram) {
  auto r = parse({"-q", "--", "-weird-name", "arg"});
  ASSERT_TRUE(r.ok()) << r.error().text;
  EXPECT_EQ(r->program_index, 3);
  EXPECT_THAT(r->env, ElementsAre(Pair("SOCKSIFY_LOG_LEVEL", "quiet")));
}

TEST(LaunchArgs, EveryValueSpellingIsAccepted) {
  for (auto args : {std::initializer_list<const char*>{"-x", "U", "p"},
                    {"-xU", "p"},
                    {"--proxy", "U", "p"},
                    {"--proxy=U", "p"}}) {
    auto r = parse(args);
    ASSERT_TRUE(r.ok()) << r.error().text;
    EXPECT_THAT(r->env, ElementsAre(Pair("SOCKSIFY_PROXY", "U")));
  }
  auto f = parse({"-f", "/etc/s.conf", "--config=/x.conf", "p"});
  ASSERT_TRUE(f.ok()) << f.error().text;
  EXPECT_THAT(f->env, ElementsAre(Pair("SOCKSIFY_CONF_FILE", "/etc/s.conf"),
                                  Pair("SOCKSIFY_CONF_FILE", "/x.conf")));
}

TEST(LaunchArgs, LaterFlagsWinAndEachVariableIsReportedOnce) {
  auto r = parse({"-q", "-d", "-x", "A", "--proxy", "B", "p"});
  ASSERT_TRUE(r.ok()) << r.error().text;
  EXPECT_EQ(r->env.back(), std::make_pair(std::string("SOCKSIFY_PROXY"), std::string("B")));
  EXPECT_THAT(flag_variables(*r), ElementsAre("SOCKSIFY_LOG_LEVEL", "SOCKSIFY_PROXY"));
}

TEST(LaunchArgs, MissingValueNamesTheOption) {
  EXPECT_EQ(error_of({"-x"}), "option -x needs a URL (try --help)");
  EXPECT_EQ(error_of({"--config"}), "option --config needs a file (try --help)");
  EXPECT_EQ(error_of({"--check", "--check-target"}),
            "option --check-target needs HOST:PORT (try --help)");
}

TEST(LaunchArgs, UnknownOptionIsAnError) {
  EXPECT_EQ(error_of({"--no-such-option", "true"}), "unknown option --no-such-option (try --help)");
  EXPECT_EQ(error_of({"-", "true"}), "unknown option - (try --help)");
  EXPECT_EQ(error_of({"--proxyx=U", "true"}), "unknown option --proxyx=U (try --help)");
}

TEST(LaunchArgs, NoProgramIsTheEmptyMessageForUsage) {
  EXPECT_EQ(error_of({}), "");
  EXPECT_EQ(error_of({"-x", "U", "--"}), "");
}

TEST(LaunchArgs, CheckTakesNoProgramAndATarget) {
  auto r = parse({"-x", "U", "--check", "--check-target=t.test:80"});
  ASSERT_TRUE(r.ok()) << r.error().text;
  EXPECT_EQ(r->action, Action::Check);
  EXPECT_EQ(r->check_target, "t.test:80");
  EXPECT_EQ(error_of({"--check", "curl"}), "--check runs no program (got curl)");
  EXPECT_EQ(error_of({"--check-target", "t:1", "curl"}), "--check-target needs --check");
}

TEST(LaunchArgs, HelpAndVersionStopParsing) {
  auto h = parse({"-h", "--no-such-option"});
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->action, Action::Help);
  auto v = parse({"-x", "U", "--version"});
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->action, Action::Version);
}

// Issue 14 item 11: a password on the command line is visible to every user.
TEST(LaunchArgs, NotesAPasswordInAProxyUrl) {
  EXPECT_TRUE(parse({"-x", "socks5://u:secret@p:1", "curl"})->password_in_arguments);
  EXPECT_TRUE(parse({"--proxy=socks5://p:1,socks5h://u:pw@q", "curl"})->password_in_arguments);
  EXPECT_TRUE(parse({"-xsocks5://u:pw@p", "curl"})->password_in_arguments);
  // An unparsable URL with credentials may still hold one.
  EXPECT_TRUE(parse({"-x", "socks5://u:pw@p:99999", "curl"})->password_in_arguments);
  EXPECT_FALSE(parse({"-x", "socks5://u@p:1", "curl"})->password_in_arguments);
  EXPECT_FALSE(
      parse({"-x", "socks5://p:1", "curl", "-x", "http://u:pw@h/"})->password_in_arguments);
  EXPECT_FALSE(parse({"-f", "/etc/socksify.conf", "curl"})->password_in_arguments);
}

TEST(LaunchArgs, UsageNamesEveryOption) {
  const std::string_view usage = launch_usage();
  for (const char* opt : {"--proxy", "--config", "--quiet", "--debug", "--check", "--check-target",
                          "--help", "--version", "125", "126", "127"}) {
    EXPECT_NE(usage.find(opt), std::string_view::npos) << opt;
  }
}

TEST(LaunchArgs, ModeBecomesSocksifyMode) {
  for (const char* mode : {"auto", "preload", "seccomp"}) {
    auto r = parse({"--mode", mode, "prog"});
    ASSERT_TRUE(r.ok()) << r.error().text;
    EXPECT_THAT(r->env, ElementsAre(Pair("SOCKSIFY_MODE", mode)));
    EXPECT_EQ(r->program_index, 3);
  }
  auto r = parse({"--mode=seccomp", "prog"});
  ASSERT_TRUE(r.ok()) << r.error().text;
  EXPECT_THAT(r->env, ElementsAre(Pair("SOCKSIFY_MODE", "seccomp")));
}

TEST(LaunchArgs, AnUnknownModeIsAnError) {
  EXPECT_EQ(error_of({"--mode", "ptrace", "prog"}),
            "--mode wants auto, preload or seccomp, got 'ptrace' (try --help)");
  EXPECT_EQ(error_of({"--mode"}), "option --mode needs auto, preload or seccomp (try --help)");
}

TEST(LaunchMode, AutoSupervisesGoAndStaticProgramsOnly) {
  EXPECT_EQ(effective_mode(LaunchMode::Auto, false, false), LaunchMode::Preload);
  EXPECT_EQ(effective_mode(LaunchMode::Auto, true, false), LaunchMode::Seccomp);
  EXPECT_EQ(effective_mode(LaunchMode::Auto, false, true), LaunchMode::Seccomp);
  EXPECT_EQ(effective_mode(LaunchMode::Preload, true, true), LaunchMode::Preload);
  EXPECT_EQ(effective_mode(LaunchMode::Seccomp, false, false), LaunchMode::Seccomp);
  EXPECT_EQ(parse_launch_mode("seccomp"), LaunchMode::Seccomp);
  EXPECT_EQ(parse_launch_mode("SECCOMP"), std::nullopt);
}

}  // namespace
}  // namespace socksify

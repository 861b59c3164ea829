// The launcher's resident parent: instead of exec'ing the program, the
// launcher forks a keeper that stays for the life of the whole process tree
// (issue 10 item 1: it holds the tree's name table; the seccomp supervisor
// can reuse it to hold its own state).
//
//   shell -> socksify (L) -> keeper (K, PR_SET_CHILD_SUBREAPER) -> program (P) -> ...
//
// L is what the shell waits for: it exits with P's status as soon as P ends
// (or re-raises the signal that killed P, so the shell sees the same), even
// if P left daemons behind. K is their subreaper: a double-forked daemon,
// one that called setsid, every orphan of the tree is reparented to K rather
// than to init, so K knows when the last process of the tree is gone and
// only then exits, dropping what it holds (for the name table: the memfd,
// freed with its last mapping: no file is left behind). When P ends, K
// calls setsid() before L returns, so that a killpg() of the finished job's
// process group (test harnesses and some supervisors kill stragglers that
// way) does not take the table from daemons that left the group with setsid;
// daemons that stayed in the group die with it, and K follows once its last
// child is gone. Once P has run, K
// closes every descriptor but those it keeps (stdio goes to /dev/null, its
// cwd to /), so it never holds a pipe open behind the program's back
// ($(socksify ...) returns when P is done) nor pins a mount. L puts its own
// stdin and stdout on /dev/null once K runs (a reader sees EOF when P closes
// its output) and keeps stderr for its own error lines.
//
// Signals: SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGWINCH, SIGUSR1, SIGUSR2 and
// SIGALRM sent to L (kill(1), a supervisor) are forwarded to K and from K to
// P. Signals the kernel sends a terminal's foreground process group (^C,
// ^\, a resize, a hangup: si_code SI_KERNEL) are not forwarded: P, in the
// same group, already got them; forwarding would deliver them twice. The job
// control signals (SIGTSTP, SIGCONT, ...) keep their default action, so ^Z
// stops L, K and P together and fg resumes them. A signal ignored when
// socksify started stays ignored in all three. P starts with the signal mask
// and dispositions socksify started with.
#pragma once

#include <sys/types.h>

#include <functional>
#include <vector>

namespace socksify {

struct ResidentProgram {
  // Runs in K before P is forked: e.g. export a variable naming K's pid.
  std::function<void(pid_t keeper)> in_keeper;
  // Runs in K once P has been forked, on a thread of its own at idle priority
  // (work that must delay neither P's start nor its status).
  std::function<void()> after_start;
  // Runs in P, and must exec; returns only if that fails, with the exit
  // status for P (126/127 as env(1)).
  std::function<int()> exec;
  // Descriptors K keeps open (each >= 3). L closes its copies.
  std::vector<int> keep_fds;
};

// Returns the status for main() to return: P's exit status; 125 when K
// could not start P or died; 128 + signal when re-raising P's fatal signal
// did not end L (it always should).
int run_resident(const ResidentProgram& program);

// Moves fd to a number >= 3 (close-on-exec kept) so that a launcher started
// with stdin, stdout or stderr closed cannot have its own descriptor taken
// for stdio. Returns the new fd (or fd itself), -1 on error (fd closed).
int above_stdio(int fd);

}  // namespace socksify

/* A C client the i386 tests compile with gcc -m32 (and once more with
 * -D_TIME_BITS=64, which makes glibc route select/recvmsg/... to their time64
 * entry points). One line of JSON on stdout: {"ok":true,...} or the failing
 * step and its errno.
 *   tcp HOST PORT              blocking connect (HOST may be a name), echo 4 KiB
 *   poll|epoll|select HOST PORT  non-blocking connect, wait with that call, echo
 *   udp HOST PORT              sendto + recvfrom of one datagram
 *   exec PROGRAM ARG...        execv PROGRAM (a 32-bit program running another) */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <unistd.h>

static int fail(const char* step, int e) {
  printf("{\"ok\": false, \"step\": \"%s\", \"errno\": %d, \"bits\": %d}\n", step, e,
         (int)(8 * sizeof(void*)));
  return 1;
}

static struct addrinfo* lookup(const char* host, const char* port, int type) {
  struct addrinfo hints = {0}, *ai = NULL;
  hints.ai_family = AF_INET;
  hints.ai_socktype = type;
  return getaddrinfo(host, port, &hints, &ai) == 0 ? ai : NULL;
}

static int wait_writable(const char* how, int fd) {
  if (strcmp(how, "poll") == 0) {
    struct pollfd p = {fd, POLLOUT, 0};
    return poll(&p, 1, 10000) == 1 && (p.revents & POLLOUT) ? 0 : -1;
  }
  if (strcmp(how, "select") == 0) {
    fd_set w;
    FD_ZERO(&w);
    FD_SET(fd, &w);
    struct timeval tv = {10, 0};
    return select(fd + 1, NULL, &w, NULL, &tv) == 1 && FD_ISSET(fd, &w) ? 0 : -1;
  }
  int ep = epoll_create1(EPOLL_CLOEXEC);
  struct epoll_event ev = {.events = EPOLLOUT, .data.fd = fd}, got;
  if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) != 0) return -1;
  int n = epoll_wait(ep, &got, 1, 10000);
  close(ep);
  return n == 1 && (got.events & EPOLLOUT) ? 0 : -1;
}

/* strict: the socket was just reported writable, so the first write must not
 * find it still busy (EAGAIN is what a write gets while the SOCKS handshake of a
 * non-blocking connect runs: a readiness call that bypassed us said "ready"). */
static int echo(int fd, int strict) {
  char out[4096], in[4096];
  for (size_t i = 0; i < sizeof out; ++i) out[i] = (char)('a' + i % 26);
  size_t sent = 0, got = 0;
  while (sent < sizeof out) {
    ssize_t n = write(fd, out + sent, sizeof out - sent);
    if (n < 0 && errno == EAGAIN && strict && sent == 0) return fail("write-after-ready", errno);
    if (n < 0 && errno == EAGAIN) {
      struct pollfd p = {fd, POLLOUT, 0};
      poll(&p, 1, 10000);
      continue;
    }
    if (n <= 0) return fail("write", errno);
    sent += (size_t)n;
  }
  while (got < sizeof in) {
    struct pollfd p = {fd, POLLIN, 0};
    if (poll(&p, 1, 10000) != 1) return fail("poll-read", ETIMEDOUT);
    ssize_t n = read(fd, in + got, sizeof in - got);
    if (n <= 0) return fail("read", n == 0 ? EPIPE : errno);
    got += (size_t)n;
  }
  if (memcmp(in, out, sizeof in) != 0) return fail("compare", 0);
  printf("{\"ok\": true, \"bytes\": %zu, \"bits\": %d}\n", got, (int)(8 * sizeof(void*)));
  return 0;
}

int main(int argc, char** argv) {
  if (argc >= 3 && strcmp(argv[1], "exec") == 0) {
    execv(argv[2], argv + 2);
    return fail("execv", errno);
  }
  if (argc != 4) return fail("usage", EINVAL);
  const char* mode = argv[1];
  int udp = strcmp(mode, "udp") == 0;
  struct addrinfo* ai = lookup(argv[2], argv[3], udp ? SOCK_DGRAM : SOCK_STREAM);
  if (ai == NULL) return fail("getaddrinfo", errno);
  int fd = socket(AF_INET, udp ? SOCK_DGRAM : SOCK_STREAM, 0);
  if (fd < 0) return fail("socket", errno);
  if (udp) {
    const char msg[] = "i386 datagram";
    char in[64];
    if (sendto(fd, msg, sizeof msg, 0, ai->ai_addr, ai->ai_addrlen) != (ssize_t)sizeof msg) {
      return fail("sendto", errno);
    }
    struct pollfd p = {fd, POLLIN, 0};
    if (poll(&p, 1, 10000) != 1) return fail("poll-udp", ETIMEDOUT);
    ssize_t n = recvfrom(fd, in, sizeof in, 0, NULL, NULL);
    if (n != (ssize_t)sizeof msg || memcmp(in, msg, sizeof msg) != 0)
      return fail("recvfrom", errno);
    printf("{\"ok\": true, \"bytes\": %zd, \"bits\": %d}\n", n, (int)(8 * sizeof(void*)));
    return 0;
  }
  if (strcmp(mode, "tcp") == 0) {
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) return fail("connect", errno);
    return echo(fd, 0);
  }
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) return echo(fd, 0);
  if (errno != EINPROGRESS) return fail("connect", errno);
  if (wait_writable(mode, fd) != 0) return fail(mode, errno);
  int err = -1;
  socklen_t len = sizeof err;
  if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0)
    return fail("so_error", err);
  return echo(fd, 1);
}

/* A static musl program: TCP connect by IP, one line echoed.
 *   musl_connect IP PORT [nonblock|opts|timeouts]
 * prints the echoed line, or "connect: ERRNO-TEXT" (exit 1). With nonblock the
 * socket is SOCK_NONBLOCK|SOCK_CLOEXEC: connect may return 0 or EINPROGRESS,
 * then poll for writability and SO_ERROR, and the program prints what connect
 * returned and whether its descriptor kept O_NONBLOCK and FD_CLOEXEC. With
 * opts it sets TCP_NODELAY, SO_KEEPALIVE and SO_RCVBUF 65536 before connect
 * and prints them after. With timeouts it binds the socket (any address, a
 * port of the kernel's choice) and sets SO_RCVTIMEO 1.5 s and SO_SNDTIMEO
 * 2.5 s before connect, and prints the timeouts after. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

static int wait_for(int fd, short events) {
  struct pollfd p = {fd, events, 0};
  return poll(&p, 1, 10000) == 1 ? 0 : -1;
}

int main(int argc, char** argv) {
  if (argc < 3) return 2;
  const int nonblock = argc > 3 && strcmp(argv[3], "nonblock") == 0;
  struct sockaddr_in sin = {0};
  sin.sin_family = AF_INET;
  sin.sin_port = htons((unsigned short)atoi(argv[2]));
  if (inet_pton(AF_INET, argv[1], &sin.sin_addr) != 1) return 2;
  int fd = socket(AF_INET, SOCK_STREAM | (nonblock ? SOCK_NONBLOCK | SOCK_CLOEXEC : 0), 0);
  if (fd < 0) return 3;
  const int opts = argc > 3 && strcmp(argv[3], "opts") == 0;
  if (opts) {
    int one = 1, rcvbuf = 65536;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
  }
  const int timeouts = argc > 3 && strcmp(argv[3], "timeouts") == 0;
  if (timeouts) {
    struct sockaddr_in any = {0};
    any.sin_family = AF_INET;
    if (bind(fd, (struct sockaddr*)&any, sizeof any) != 0) return 7;
    struct timeval rcv = {1, 500000}, snd = {2, 500000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &rcv, sizeof rcv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &snd, sizeof snd);
  }
  int rc = connect(fd, (struct sockaddr*)&sin, sizeof sin);
  if (rc != 0 && !(nonblock && errno == EINPROGRESS)) {
    printf("connect: %s\n", strerror(errno));
    return 1;
  }
  if (nonblock) {
    printf("connect returned %s\n", rc == 0 ? "0" : "EINPROGRESS");
    int err = -1;
    socklen_t len = sizeof err;
    if (wait_for(fd, POLLOUT) != 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
      return 5;
    if (err != 0) {
      printf("connect: %s\n", strerror(err));
      return 1;
    }
    printf("flags nonblock=%d cloexec=%d\n", (fcntl(fd, F_GETFL) & O_NONBLOCK) != 0,
           (fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0);
  }
  if (opts) {
    int v[3] = {0, 0, 0};
    socklen_t len = sizeof v[0];
    getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &v[0], &len);
    getsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &v[1], &len);
    getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v[2], &len);
    printf("nodelay=%d keepalive=%d rcvbuf=%d\n", v[0], v[1], v[2]);
  }
  if (timeouts) {
    struct timeval t[2];
    socklen_t len = sizeof t[0];
    getsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &t[0], &len);
    getsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &t[1], &len);
    printf("rcvtimeo=%ld.%06ld sndtimeo=%ld.%06ld\n", (long)t[0].tv_sec, (long)t[0].tv_usec,
           (long)t[1].tv_sec, (long)t[1].tv_usec);
  }
  const char msg[] = "hello from musl\n";
  if (send(fd, msg, sizeof msg - 1, 0) != (ssize_t)(sizeof msg - 1)) return 3;
  char buf[64];
  size_t got = 0;
  while (got < sizeof msg - 1) {
    if (nonblock && wait_for(fd, POLLIN) != 0) return 6;
    ssize_t n = recv(fd, buf + got, sizeof buf - got, 0);
    if (n <= 0) return 4;
    got += (size_t)n;
  }
  fwrite(buf, 1, got, stdout);
  return 0;
}

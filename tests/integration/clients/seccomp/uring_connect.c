/* liburing IORING_OP_CONNECT, then one line echoed. When the ring cannot be
 * set up it says why and falls back to connect(2), as libuv and liburing
 * users do.   uring_connect IP PORT */
#include <arpa/inet.h>
#include <errno.h>
#include <liburing.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char** argv) {
  if (argc != 3) return 2;
  struct sockaddr_in sin = {0};
  sin.sin_family = AF_INET;
  sin.sin_port = htons((unsigned short)atoi(argv[2]));
  if (inet_pton(AF_INET, argv[1], &sin.sin_addr) != 1) return 2;
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return 3;
  struct io_uring ring;
  int rc = io_uring_queue_init(4, &ring, 0);
  if (rc < 0) {
    printf("io_uring_queue_init: %s; falling back to connect(2)\n", strerror(-rc));
    if (connect(fd, (struct sockaddr*)&sin, sizeof sin) != 0) {
      printf("connect: %s\n", strerror(errno));
      return 1;
    }
  } else {
    printf("io_uring: ring set up\n");
    struct io_uring_sqe* sqe = io_uring_get_sqe(&ring);
    io_uring_prep_connect(sqe, fd, (struct sockaddr*)&sin, sizeof sin);
    io_uring_submit(&ring);
    struct io_uring_cqe* cqe;
    if (io_uring_wait_cqe(&ring, &cqe) < 0 || cqe->res < 0) {
      printf("ring connect failed\n");
      return 1;
    }
    io_uring_cqe_seen(&ring, cqe);
  }
  const char msg[] = "hello from uring\n";
  if (send(fd, msg, sizeof msg - 1, 0) != (ssize_t)(sizeof msg - 1)) return 4;
  char buf[64];
  size_t got = 0;
  while (got < sizeof msg - 1) {
    ssize_t n = recv(fd, buf + got, sizeof buf - got, 0);
    if (n <= 0) return 5;
    got += (size_t)n;
  }
  fwrite(buf, 1, got, stdout);
  return 0;
}

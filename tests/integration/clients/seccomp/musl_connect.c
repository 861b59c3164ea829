/* A static musl program: TCP connect by IP, one line echoed.
 *   musl_connect IP PORT   prints the echoed line, or "connect: ERRNO-TEXT" (exit 1). */
#include <arpa/inet.h>
#include <errno.h>
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
  if (fd < 0 || connect(fd, (struct sockaddr*)&sin, sizeof sin) != 0) {
    printf("connect: %s\n", strerror(errno));
    return 1;
  }
  const char msg[] = "hello from musl\n";
  if (send(fd, msg, sizeof msg - 1, 0) != (ssize_t)(sizeof msg - 1)) return 3;
  char buf[64];
  size_t got = 0;
  while (got < sizeof msg - 1) {
    ssize_t n = recv(fd, buf + got, sizeof buf - got, 0);
    if (n <= 0) return 4;
    got += (size_t)n;
  }
  fwrite(buf, 1, got, stdout);
  return 0;
}

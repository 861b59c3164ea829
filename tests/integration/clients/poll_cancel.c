// poll_cancel HOST PORT: pthread_cancel() of a thread blocked in poll() on a
// socket whose non-blocking connect is still in its SOCKS handshake (its
// eventfd stands in for it inside the poll). The cleanup handler runs, the
// program's pollfd is given back as it was, and once the handshake is over
// (the proxy is silent; SOCKSIFY_CONNECT_TIMEOUT ends it) no descriptor of
// ours is left. Prints one JSON line.
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

static struct pollfd pfd;
static volatile int cleaned = 0;
static volatile int polling = 0;

static void cleanup(void* arg) {
  (void)arg;
  cleaned = 1;
}

static void* poller(void* arg) {
  (void)arg;
  pthread_cleanup_push(cleanup, NULL);
  polling = 1;
  poll(&pfd, 1, 20000);
  pthread_cleanup_pop(0);
  return NULL;
}

static int open_fds(void) {
  int n = 0;
  DIR* d = opendir("/proc/self/fd");
  if (d == NULL) return -1;
  while (readdir(d) != NULL) ++n;
  closedir(d);
  return n;
}

int main(int argc, char** argv) {
  if (argc != 3) return 2;
  struct sockaddr_in dst = {0};
  dst.sin_family = AF_INET;
  dst.sin_port = htons((unsigned short)atoi(argv[2]));
  inet_pton(AF_INET, argv[1], &dst.sin_addr);
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  const int before = open_fds();
  const int rc = connect(fd, (const struct sockaddr*)&dst, sizeof dst);
  const int connect_errno = rc < 0 ? errno : 0;
  pfd.fd = fd;
  pfd.events = POLLOUT;
  pthread_t t;
  if (pthread_create(&t, NULL, poller, NULL) != 0) return 3;
  for (int i = 0; i < 100 && !polling; ++i) usleep(10000);
  usleep(300000);  // inside poll by now
  const int cancel_rc = pthread_cancel(t);
  void* ret = NULL;
  const int join_rc = pthread_join(t, &ret);
  const int restored = pfd.fd == fd && pfd.events == POLLOUT;
  // The handshake ends (ETIMEDOUT) after SOCKSIFY_CONNECT_TIMEOUT: by then its
  // eventfd must be closed, which it is only if the cancelled poll gave it back.
  int so_error = 0;
  for (int i = 0; i < 50; ++i) {
    struct pollfd p = {fd, POLLOUT, 0};
    if (poll(&p, 1, 100) > 0) break;
  }
  socklen_t len = sizeof so_error;
  getsockopt(fd, SOL_SOCKET, SO_ERROR, &so_error, &len);
  usleep(100000);
  const int after = open_fds();
  printf(
      "{\"connect_errno\": %d, \"cancel_rc\": %d, \"join_rc\": %d, \"canceled\": %s, "
      "\"cleanup_ran\": %s, \"restored\": %s, \"so_error\": %d, \"fds_before\": %d, "
      "\"fds_after\": %d}\n",
      connect_errno, cancel_rc, join_rc, ret == PTHREAD_CANCELED ? "true" : "false",
      cleaned ? "true" : "false", restored ? "true" : "false", so_error, before, after);
  return 0;
}

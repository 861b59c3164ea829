// udp_cancel HOST PORT: pthread_cancel() of a thread blocked in recvfrom() on
// a UDP socket associated through the proxy (issue 14 item 3). Without
// socksify the thread is cancelled cleanly; so it must be with it: the
// cleanup handler runs, join() sees PTHREAD_CANCELED, the process exits 0 and
// the socket still works afterwards. Prints one JSON line.
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

static int fd = -1;
static volatile int cleaned = 0;
static volatile int blocking = 0;

static void cleanup(void* arg) {
  (void)arg;
  cleaned = 1;
}

static void* blocker(void* arg) {
  (void)arg;
  char buf[256];
  pthread_cleanup_push(cleanup, NULL);
  for (int i = 0; i < 1000; ++i) {
    blocking = 1;
    recvfrom(fd, buf, sizeof buf, 0, NULL, NULL);  // nothing comes: blocks until cancelled
  }
  pthread_cleanup_pop(0);
  return NULL;
}

static void set_timeout(int seconds) {
  struct timeval tv = {seconds, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
}

// One echo round trip; the reply's length, or -errno.
static int echo(const struct sockaddr_in* dst, const char* tag, char* reply, size_t cap) {
  set_timeout(5);
  if (sendto(fd, tag, strlen(tag), 0, (const struct sockaddr*)dst, sizeof *dst) < 0) return -errno;
  ssize_t n = recvfrom(fd, reply, cap - 1, 0, NULL, NULL);
  if (n < 0) return -errno;
  reply[n] = 0;
  return (int)n;
}

int main(int argc, char** argv) {
  if (argc != 3) return 2;
  struct sockaddr_in dst = {0};
  dst.sin_family = AF_INET;
  dst.sin_port = htons((unsigned short)atoi(argv[2]));
  inet_pton(AF_INET, argv[1], &dst.sin_addr);
  fd = socket(AF_INET, SOCK_DGRAM, 0);
  char first[64] = "", last[64] = "";
  const int got_first = echo(&dst, "first", first, sizeof first);
  set_timeout(0);  // the blocked receive waits for ever
  pthread_t t;
  if (pthread_create(&t, NULL, blocker, NULL) != 0) return 3;
  for (int i = 0; i < 100 && !blocking; ++i) usleep(10000);
  usleep(300000);  // inside recvfrom by now
  const int cancel_rc = pthread_cancel(t);
  void* ret = NULL;
  const int join_rc = pthread_join(t, &ret);
  const int got_last = echo(&dst, "last", last, sizeof last);
  printf(
      "{\"first\": \"%s\", \"first_rc\": %d, \"cancel_rc\": %d, \"join_rc\": %d, "
      "\"canceled\": %s, \"cleanup_ran\": %s, \"last\": \"%s\", \"last_rc\": %d}\n",
      first, got_first, cancel_rc, join_rc, ret == PTHREAD_CANCELED ? "true" : "false",
      cleaned ? "true" : "false", last, got_last);
  return 0;
}

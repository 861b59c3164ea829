/* A static program whose threads meet on one blocking TCP socket during a
 * slow connect() through the supervisor.
 *   connect_race flags IP PORT
 *     thread A connects; thread B, started first, loops fcntl(fd, F_GETFL)
 *     until A's connect returns (at most kMaxChecks times, kMaxSeconds long)
 *     and counts how often it saw O_NONBLOCK. Prints "connect 0",
 *     "checks many|few", "nonblock seen N", then one line echoed.
 *   connect_race twice IP PORT
 *     two threads, released together by a barrier, connect the same socket.
 *     Prints "connect 0" and "connect ERRNO-NAME" (the winner first), then one
 *     line echoed through the socket.
 * Exit 1 when a connect or the echo failed. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum { kMaxChecks = 50000000, kMaxSeconds = 20 };

static int fd;
static struct sockaddr_in target;
static atomic_int connect_done;
static atomic_int checker_ready;
static pthread_barrier_t start;

struct Result {
  int rc;
  int err;
};

/* The outcomes the tests expect by name; anything else as its text. */
static const char* errno_name(int e) {
  if (e == 0) return "0";
  if (e == EALREADY) return "EALREADY";
  if (e == EISCONN) return "EISCONN";
  return strerror(e);
}

static struct Result connect_once(void) {
  struct Result r;
  r.rc = connect(fd, (struct sockaddr*)&target, sizeof target);
  r.err = r.rc == 0 ? 0 : errno;
  return r;
}

static long checks, seen;

static void* check_flags(void* arg) {
  (void)arg;
  const time_t until = time(NULL) + kMaxSeconds;
  atomic_store(&checker_ready, 1);
  while (!atomic_load(&connect_done) && checks < kMaxChecks) {
    const int flags = fcntl(fd, F_GETFL);
    ++checks;
    if (flags >= 0 && (flags & O_NONBLOCK)) ++seen;
    if ((checks & 1023) == 0 && time(NULL) > until) break;
  }
  return NULL;
}

static void* connect_at_barrier(void* arg) {
  pthread_barrier_wait(&start);
  *(struct Result*)arg = connect_once();
  return NULL;
}

/* One line through the socket, echoed back. */
static int echo(void) {
  const char msg[] = "hello through the race\n";
  if (send(fd, msg, sizeof msg - 1, MSG_NOSIGNAL) != (ssize_t)(sizeof msg - 1)) {
    printf("send: %s\n", strerror(errno));
    return 1;
  }
  char buf[64];
  size_t got = 0;
  while (got < sizeof msg - 1) {
    ssize_t n = recv(fd, buf + got, sizeof buf - got, 0);
    if (n <= 0) {
      printf("recv: %s\n", n == 0 ? "end of stream" : strerror(errno));
      return 1;
    }
    got += (size_t)n;
  }
  fwrite(buf, 1, got, stdout);
  return 0;
}

static int flags_mode(void) {
  pthread_t t;
  if (pthread_create(&t, NULL, check_flags, NULL) != 0) return 3;
  while (!atomic_load(&checker_ready)) sched_yield();
  struct Result r = connect_once();
  atomic_store(&connect_done, 1);
  pthread_join(t, NULL);
  printf("connect %s\n", errno_name(r.err));
  /* A 300 ms handshake gives thousands of checks; a few mean the loop did not
   * overlap the connect, and the test proves nothing. */
  printf("checks %s\n", checks > 1000 ? "many" : "few");
  printf("nonblock seen %ld\n", seen);
  if (r.rc != 0) return 1;
  return echo();
}

static int twice_mode(void) {
  pthread_t t[2];
  struct Result r[2];
  pthread_barrier_init(&start, NULL, 2);
  for (int i = 0; i < 2; ++i) {
    if (pthread_create(&t[i], NULL, connect_at_barrier, &r[i]) != 0) return 3;
  }
  for (int i = 0; i < 2; ++i) pthread_join(t[i], NULL);
  const int first = r[0].rc == 0 ? 0 : 1;
  printf("connect %s\n", errno_name(r[first].err));
  printf("connect %s\n", errno_name(r[1 - first].err));
  if (r[first].rc != 0) return 1;
  return echo();
}

int main(int argc, char** argv) {
  if (argc != 4) return 2;
  target.sin_family = AF_INET;
  target.sin_port = htons((unsigned short)atoi(argv[3]));
  if (inet_pton(AF_INET, argv[2], &target.sin_addr) != 1) return 2;
  fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return 3;
  if (strcmp(argv[1], "flags") == 0) return flags_mode();
  if (strcmp(argv[1], "twice") == 0) return twice_mode();
  return 2;
}

/* A blocking connect() interrupted the ways real programs interrupt it, for
 * test_tcp_interrupt. Prints one JSON line.
 *
 *   connect_interrupt longjmp HOST PORT
 *     Twice: sigsetjmp, alarm(1), connect() on a new blocking socket; the
 *     SIGALRM handler siglongjmps out (wget's --connect-timeout does this).
 *     Then waits 2.5 s (the handshakes' deadline passes) and reports whether
 *     the first socket was left O_NONBLOCK.
 *   connect_interrupt alarm HOST PORT
 *     alarm(2) with a handler installed without SA_RESTART around connect():
 *     its errno and time, then poll() for the outcome and SO_ERROR.
 *   connect_interrupt alarm-restart HOST PORT
 *     The same with SA_RESTART: connect() goes on waiting, as the kernel's does.
 *   connect_interrupt gai-longjmp HOST PORT NAME
 *     sigsetjmp, alarm(1), getaddrinfo(NAME) against a resolver that never
 *     answers; the handler siglongjmps out of it. Then a connect() to HOST
 *     (bounded by another alarm) reports its errno: proxied, not libc's.
 *   connect_interrupt cancel HOST PORT
 *     A thread blocked in connect() is cancelled with pthread_cancel; its
 *     cleanup handler closes the socket; the thread must end PTHREAD_CANCELED.
 *     Then the main thread connects once more (its errno is reported).
 *   connect_interrupt handler-connects HOST PORT restart|norestart
 *     A one-shot 3 ms timer whose SIGALRM handler (with or without SA_RESTART)
 *     makes a blocking connect() of its own, to HOST too, while the main
 *     connect() waits for a slow proxy. Reports both errnos, then (after
 *     EINTR) poll() and SO_ERROR for the main one's outcome.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static struct sockaddr_in target;
static sigjmp_buf jump;

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static const char* name_of(int e) {
  switch (e) {
    case 0:
      return "OK";
    case EINTR:
      return "EINTR";
    case ETIMEDOUT:
      return "ETIMEDOUT";
    case EALREADY:
      return "EALREADY";
    case EINPROGRESS:
      return "EINPROGRESS";
    case ECONNREFUSED:
      return "ECONNREFUSED";
    case ENETUNREACH:
      return "ENETUNREACH";
    case ECANCELED:
      return "ECANCELED";
    case EAGAIN:
      return "EAGAIN";
    case EBADF:
      return "EBADF";
    default:
      return strerror(e);
  }
}

static int connect_errno(int fd) {
  return connect(fd, (struct sockaddr*)&target, sizeof target) == 0 ? 0 : errno;
}

static void on_alarm_jump(int sig) {
  (void)sig;
  siglongjmp(jump, 1);
}

static void on_alarm(int sig) {
  (void)sig;
}

static int run_longjmp(void) {
  signal(SIGALRM, on_alarm_jump);
  int fds[2];
  int jumped = 0;
  for (int i = 0; i < 2; ++i) {
    fds[i] = socket(AF_INET, SOCK_STREAM, 0);
    if (sigsetjmp(jump, 1) == 0) {
      alarm(1);
      const int e = connect_errno(fds[i]);
      alarm(0);
      printf("{\"error\": \"connect returned %s\"}\n", name_of(e));
      return 1;
    }
    ++jumped;
  }
  usleep(2500 * 1000);
  const int flags = fcntl(fds[0], F_GETFL);
  printf("{\"jumped\": %d, \"nonblocking_after\": %s}\n", jumped,
         (flags & O_NONBLOCK) ? "true" : "false");
  close(fds[0]);
  close(fds[1]);
  return 0;
}

static int run_gai_longjmp(const char* name) {
  signal(SIGALRM, on_alarm_jump);
  int jumped = 0;
  if (sigsetjmp(jump, 1) == 0) {
    alarm(1);
    struct addrinfo* res = NULL;
    const int rc = getaddrinfo(name, "80", NULL, &res);
    alarm(0);
    printf("{\"error\": \"getaddrinfo returned %d\"}\n", rc);
    return 1;
  }
  ++jumped;
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  int e = -1;
  if (sigsetjmp(jump, 1) == 0) {
    alarm(3);
    e = connect_errno(fd);
    alarm(0);
  }
  printf("{\"jumped\": %d, \"connect\": \"%s\"}\n", jumped, e < 0 ? "hung" : name_of(e));
  close(fd);
  return 0;
}

static int run_alarm(int restart) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_alarm;
  sa.sa_flags = restart ? SA_RESTART : 0;
  sigaction(SIGALRM, &sa, NULL);
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  const double start = now();
  alarm(restart ? 1 : 2);
  const int e = connect_errno(fd);
  const double connect_s = now() - start;
  alarm(0);
  /* What the kernel does for a connect() a signal interrupted: the attempt goes
     on; poll() says when it is over and SO_ERROR how it ended. */
  struct pollfd p = {fd, POLLOUT, 0};
  const int ready = poll(&p, 1, 10000);
  int so_error = -1;
  socklen_t len = sizeof so_error;
  getsockopt(fd, SOL_SOCKET, SO_ERROR, &so_error, &len);
  const double outcome_s = now() - start;
  printf(
      "{\"errno\": \"%s\", \"connect_s\": %.3f, \"ready\": %d, \"so_error\": \"%s\", "
      "\"outcome_s\": %.3f}\n",
      name_of(e), connect_s, ready, name_of(so_error), outcome_s);
  close(fd);
  return 0;
}

static int cleanup_ran = 0;

static void cleanup(void* arg) {
  cleanup_ran = 1;
  close(*(int*)arg);
}

static void* cancelled_thread(void* arg) {
  (void)arg;
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  pthread_cleanup_push(cleanup, &fd);
  connect_errno(fd);
  pthread_cleanup_pop(1);
  return NULL;
}

static int run_cancel(void) {
  pthread_t t;
  pthread_create(&t, NULL, cancelled_thread, NULL);
  usleep(500 * 1000);
  pthread_cancel(t);
  void* result = NULL;
  pthread_join(t, &result);
  /* The process goes on: another connect, from this thread. */
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  const double start = now();
  const int e = connect_errno(fd);
  printf("{\"cancelled\": %s, \"cleanup_ran\": %d, \"after\": \"%s\", \"after_s\": %.3f}\n",
         result == PTHREAD_CANCELED ? "true" : "false", cleanup_ran, name_of(e), now() - start);
  close(fd);
  return 0;
}

static volatile sig_atomic_t handler_errno = -1;

static void on_alarm_connect(int sig) {
  (void)sig;
  const int saved = errno;
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  handler_errno = connect_errno(fd);
  close(fd);
  errno = saved;
}

static int run_handler_connects(int restart) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_alarm_connect;
  sa.sa_flags = restart ? SA_RESTART : 0;
  sigaction(SIGALRM, &sa, NULL);
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct itimerval it;
  memset(&it, 0, sizeof it);
  it.it_value.tv_usec = 3000;
  const double start = now();
  setitimer(ITIMER_REAL, &it, NULL);
  const int e = connect_errno(fd);
  const double connect_s = now() - start;
  int ready = -1, so_error = -1;
  if (e == EINTR) {
    struct pollfd p = {fd, POLLOUT, 0};
    ready = poll(&p, 1, 10000);
    socklen_t len = sizeof so_error;
    getsockopt(fd, SOL_SOCKET, SO_ERROR, &so_error, &len);
  }
  printf(
      "{\"errno\": \"%s\", \"connect_s\": %.3f, \"handler\": \"%s\", \"ready\": %d, "
      "\"so_error\": \"%s\"}\n",
      name_of(e), connect_s, handler_errno < 0 ? "not run" : name_of(handler_errno), ready,
      so_error < 0 ? "none" : name_of(so_error));
  close(fd);
  return 0;
}

int main(int argc, char** argv) {
  if (argc < 4) return 2;
  target.sin_family = AF_INET;
  target.sin_port = htons((unsigned short)atoi(argv[3]));
  inet_pton(AF_INET, argv[2], &target.sin_addr);
  setvbuf(stdout, NULL, _IONBF, 0);
  if (strcmp(argv[1], "longjmp") == 0) return run_longjmp();
  if (strcmp(argv[1], "alarm") == 0) return run_alarm(0);
  if (strcmp(argv[1], "alarm-restart") == 0) return run_alarm(1);
  if (strcmp(argv[1], "cancel") == 0) return run_cancel();
  if (strcmp(argv[1], "gai-longjmp") == 0 && argc == 5) return run_gai_longjmp(argv[4]);
  if (strcmp(argv[1], "handler-connects") == 0 && argc == 5) {
    return run_handler_connects(strcmp(argv[4], "restart") == 0);
  }
  return 2;
}

/* glibc's own resolver calls, then an HTTP GET to the address they gave:
 *   resolv_client MODE NAME PORT PATH
 * MODE: query (res_query A), search (res_search A), querydomain (NAME is
 * "label domain" split at the first dot), nquery (res_ninit + res_nquery),
 * nsend (res_nmkquery + res_nsend), compat (__res_query@GLIBC_2.2.5, the
 * name pre-2.34 binaries bind to), compat-hostent (libresolv's
 * res_gethostbyname@GLIBC_2.2.5), gai-wait, gai-signal (GAI_NOWAIT +
 * SIGEV_SIGNAL), gai-thread (GAI_NOWAIT + SIGEV_THREAD), mx (res_query MX,
 * no GET), srv (res_search SRV _http._tcp.NAME, no GET).
 * Prints one JSON line: {"rc":..,"h_errno":..,"addr":"..","status":..,
 * "notified":..,"thread":..}, then the body of the response. Every wait is
 * bounded. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <resolv.h>
#include <semaphore.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* The pre-2.34 name, as an old binary imports it, and libresolv's
 * compatibility-only gethostbyname (no default version: old binaries only). */
extern int old_res_query(const char*, int, int, unsigned char*, int);
__asm__(".symver old_res_query, __res_query@GLIBC_2.2.5");
extern struct hostent* old_res_gethostbyname(const char*);
__asm__(".symver old_res_gethostbyname, res_gethostbyname@GLIBC_2.2.5");

static char g_addr[INET6_ADDRSTRLEN] = "";
static int g_family = 0;
static unsigned char g_bytes[16];
static volatile sig_atomic_t g_signalled = 0;
static volatile int g_sig_code = 0;
static sem_t g_thread_done;
static volatile int g_thread_value = 0;
static volatile int g_thread_other = 0;
static pthread_t g_main_thread;

/* The first A (or AAAA) record of a response. */
static int first_address(const unsigned char* answer, int len) {
  ns_msg msg;
  if (len > NS_PACKETSZ * 8) len = NS_PACKETSZ * 8;
  if (ns_initparse(answer, len, &msg) != 0) return -1;
  for (int i = 0; i < ns_msg_count(msg, ns_s_an); ++i) {
    ns_rr rr;
    if (ns_parserr(&msg, ns_s_an, i, &rr) != 0) return -1;
    if (ns_rr_type(rr) == ns_t_a && ns_rr_rdlen(rr) == 4) {
      g_family = AF_INET;
      memcpy(g_bytes, ns_rr_rdata(rr), 4);
      inet_ntop(AF_INET, g_bytes, g_addr, sizeof g_addr);
      return 0;
    }
  }
  return -1;
}

static void from_addrinfo(const struct addrinfo* ai) {
  if (ai == NULL || ai->ai_family != AF_INET) return;
  const struct sockaddr_in* sin = (const struct sockaddr_in*)ai->ai_addr;
  g_family = AF_INET;
  memcpy(g_bytes, &sin->sin_addr, 4);
  inet_ntop(AF_INET, g_bytes, g_addr, sizeof g_addr);
}

/* GET path from the address found, Host: name:port. Returns the status. */
static int http_get(const char* name, int port, const char* path, char* body, size_t cap,
                    size_t* body_len) {
  if (g_family != AF_INET) return -1;
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct timeval tv = {10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  struct sockaddr_in sin = {0};
  sin.sin_family = AF_INET;
  sin.sin_port = htons((unsigned short)port);
  memcpy(&sin.sin_addr, g_bytes, 4);
  if (connect(fd, (struct sockaddr*)&sin, sizeof sin) != 0) {
    fprintf(stderr, "connect: %s\n", strerror(errno));
    close(fd);
    return -1;
  }
  char req[600];
  int n = snprintf(req, sizeof req, "GET /%s HTTP/1.0\r\nHost: %s:%d\r\nConnection: close\r\n\r\n",
                   path, name, port);
  if (write(fd, req, (size_t)n) != n) {
    close(fd);
    return -1;
  }
  static char resp[65536];
  size_t got = 0;
  for (int i = 0; i < 1000 && got < sizeof resp; ++i) {
    ssize_t r = read(fd, resp + got, sizeof resp - got);
    if (r <= 0) break;
    got += (size_t)r;
  }
  close(fd);
  int status = -1;
  if (got < 12 || sscanf(resp, "HTTP/%*s %d", &status) != 1) return -1;
  const char* end = memmem(resp, got, "\r\n\r\n", 4);
  if (end == NULL) return -1;
  end += 4;
  *body_len = got - (size_t)(end - resp);
  if (*body_len > cap) *body_len = cap;
  memcpy(body, end, *body_len);
  return status;
}

static void on_signal(int sig, siginfo_t* info, void* ctx) {
  (void)sig;
  (void)ctx;
  g_sig_code = info->si_code;
  g_signalled = info->si_value.sival_int;
}

static void on_thread(union sigval value) {
  g_thread_value = value.sival_int;
  g_thread_other = !pthread_equal(pthread_self(), g_main_thread);
  sem_post(&g_thread_done);
}

int main(int argc, char** argv) {
  if (argc < 5) {
    fprintf(stderr, "usage: %s MODE NAME PORT PATH\n", argv[0]);
    return 2;
  }
  const char *mode = argv[1], *name = argv[2], *path = argv[4];
  const int port = atoi(argv[3]);
  g_main_thread = pthread_self();
  static unsigned char answer[NS_PACKETSZ * 4];
  int rc = 0, herr = 0, get = 1, notified = -1;
  struct gaicb req = {0};
  struct addrinfo hints = {0};
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_STREAM;
  req.ar_name = name;
  req.ar_request = &hints;
  struct gaicb* list[] = {&req};

  h_errno = 0;
  int errno_after = -1;
  if (strcmp(mode, "query") == 0) {
    errno = EBADMSG; /* a success must leave it as it was */
    rc = res_query(name, ns_c_in, ns_t_a, answer, sizeof answer);
    errno_after = errno;
  } else if (strcmp(mode, "compat") == 0) {
    rc = old_res_query(name, ns_c_in, ns_t_a, answer, sizeof answer);
  } else if (strcmp(mode, "compat-hostent") == 0) {
    const struct hostent* h = old_res_gethostbyname(name);
    rc = h != NULL ? 0 : -1;
    if (h != NULL && h->h_addrtype == AF_INET && h->h_addr_list[0] != NULL) {
      g_family = AF_INET;
      memcpy(g_bytes, h->h_addr_list[0], 4);
      inet_ntop(AF_INET, g_bytes, g_addr, sizeof g_addr);
    }
  } else if (strcmp(mode, "search") == 0) {
    rc = res_search(name, ns_c_in, ns_t_a, answer, sizeof answer);
  } else if (strcmp(mode, "querydomain") == 0) {
    char label[256];
    const char* dot = strchr(name, '.');
    snprintf(label, sizeof label, "%.*s", (int)(dot - name), name);
    rc = res_querydomain(label, dot + 1, ns_c_in, ns_t_a, answer, sizeof answer);
  } else if (strcmp(mode, "mx") == 0 || strcmp(mode, "srv") == 0) {
    get = 0;
    char srv[300];
    snprintf(srv, sizeof srv, "_http._tcp.%s", name);
    rc = mode[0] == 'm' ? res_query(name, ns_c_in, ns_t_mx, answer, sizeof answer)
                        : res_search(srv, ns_c_in, ns_t_srv, answer, sizeof answer);
  } else if (strcmp(mode, "nquery") == 0 || strcmp(mode, "nsend") == 0) {
    static struct __res_state state;
    if (res_ninit(&state) != 0) {
      fprintf(stderr, "res_ninit failed\n");
      return 1;
    }
    if (mode[1] == 'q') {
      rc = res_nquery(&state, name, ns_c_in, ns_t_a, answer, sizeof answer);
    } else {
      unsigned char query[NS_PACKETSZ];
      const int qlen = res_nmkquery(&state, ns_o_query, name, ns_c_in, ns_t_a, NULL, 0, NULL, query,
                                    sizeof query);
      rc = qlen > 0 ? res_nsend(&state, query, qlen, answer, sizeof answer) : -1;
      if (rc > 0 && (answer[0] != query[0] || answer[1] != query[1])) {
        fprintf(stderr, "res_nsend: the response's ID is not the query's\n");
        return 1;
      }
    }
    herr = state.res_h_errno;
    res_nclose(&state);
  } else if (strncmp(mode, "gai-", 4) == 0) {
    struct sigevent sev = {0};
    if (strcmp(mode, "gai-wait") == 0) {
      rc = getaddrinfo_a(GAI_WAIT, list, 1, NULL);
    } else if (strcmp(mode, "gai-signal") == 0) {
      struct sigaction sa = {0};
      sa.sa_sigaction = on_signal;
      sa.sa_flags = SA_SIGINFO;
      sigaction(SIGUSR1, &sa, NULL);
      sigset_t block, old;
      sigemptyset(&block);
      sigaddset(&block, SIGUSR1);
      sigprocmask(SIG_BLOCK, &block, &old);
      sev.sigev_notify = SIGEV_SIGNAL;
      sev.sigev_signo = SIGUSR1;
      sev.sigev_value.sival_int = 42;
      rc = getaddrinfo_a(GAI_NOWAIT, list, 1, &sev);
      /* The notification arrives once every request is done, while the signal
       * is blocked it stays pending: wait for it (bounded). */
      struct timespec ts = {10, 0};
      siginfo_t info;
      const int got = sigtimedwait(&block, &info, &ts);
      if (got == SIGUSR1) {
        g_signalled = info.si_value.sival_int;
        g_sig_code = info.si_code;
      }
      sigprocmask(SIG_SETMASK, &old, NULL);
      notified = g_signalled;
      printf("{\"si_code\":%d,\"si_asyncnl\":%d}\n", g_sig_code, SI_ASYNCNL);
    } else {
      sem_init(&g_thread_done, 0, 0);
      sev.sigev_notify = SIGEV_THREAD;
      sev.sigev_notify_function = on_thread;
      sev.sigev_value.sival_int = 7;
      rc = getaddrinfo_a(GAI_NOWAIT, list, 1, &sev);
      struct timespec deadline;
      clock_gettime(CLOCK_REALTIME, &deadline);
      deadline.tv_sec += 10;
      if (sem_timedwait(&g_thread_done, &deadline) == 0 && g_thread_other)
        notified = g_thread_value;
    }
    /* The companions on a finished request: never "in progress". */
    const struct gaicb* clist[] = {&req};
    struct timespec zero = {0, 1000000};
    for (int i = 0; i < 100 && gai_error(&req) == EAI_INPROGRESS; ++i) gai_suspend(clist, 1, &zero);
    herr = gai_error(&req);
    if (herr == 0) from_addrinfo(req.ar_result);
    printf("{\"gai_error\":%d,\"gai_cancel\":%d,\"alldone\":%d}\n", herr, gai_cancel(&req),
           EAI_ALLDONE);
  } else {
    fprintf(stderr, "unknown mode %s\n", mode);
    return 2;
  }
  if (strncmp(mode, "n", 1) != 0 && strncmp(mode, "gai-", 4) != 0) herr = h_errno;
  if (rc > 0 && strncmp(mode, "gai-", 4) != 0) first_address(answer, rc);

  int status = -1;
  static char body[4096];
  size_t body_len = 0;
  if (get && g_family != 0) status = http_get(name, port, path, body, sizeof body, &body_len);
  printf(
      "{\"rc\":%d,\"h_errno\":%d,\"addr\":\"%s\",\"status\":%d,\"notified\":%d,"
      "\"errno_after\":%d,\"ebadmsg\":%d}\n",
      rc, herr, g_addr, status, notified, errno_after, EBADMSG);
  fwrite(body, 1, body_len, stdout);
  if (req.ar_result != NULL) freeaddrinfo(req.ar_result);
  return 0;
}

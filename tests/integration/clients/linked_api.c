/* A program that uses libsocksify.so without the launcher (see
 * include/socksify/socksify.h):
 *   linked_api linked HOST PORT PATH       built with -DLINKED -lsocksify; plain
 *                                          getaddrinfo and connect, no LD_PRELOAD
 *   linked_api dlopen LIB HOST PORT PATH   built without it; dlopen(RTLD_LOCAL), then Rgetaddrinfo
 *                                          and Rconnect found with dlsym
 *   linked_api dlopen-plain LIB HOST PORT PATH
 *                                          dlopen'ed the same way, but plain
 *                                          connect: libc's, so direct
 * Each fetches http://HOST:PORT/PATH and prints the response body on stdout,
 * socksify_version() on stderr; on failure, the failing call and its errno
 * name, and exit status 1. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <netdb.h>
#include <socksify/socksify.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

typedef int (*getaddrinfo_fn)(const char*, const char*, const struct addrinfo*, struct addrinfo**);
typedef void (*freeaddrinfo_fn)(struct addrinfo*);
typedef int (*connect_fn)(int, const struct sockaddr*, socklen_t);
typedef const char* (*version_fn)(void);

static int fail(const char* what, int err) {
  printf("FAILED %s: %s\n", what, strerrorname_np(err) ? strerrorname_np(err) : "?");
  return 1;
}

static int fetch(getaddrinfo_fn gai, freeaddrinfo_fn fai, connect_fn conn, const char* host,
                 const char* port, const char* path) {
  struct addrinfo hints = {.ai_socktype = SOCK_STREAM};
  struct addrinfo* ai = NULL;
  int rc = gai(host, port, &hints, &ai);
  if (rc != 0) {
    printf("FAILED getaddrinfo: %s\n", gai_strerror(rc));
    return 1;
  }
  int fd = socket(ai->ai_family, SOCK_STREAM, 0);
  if (fd < 0) return fail("socket", errno);
  if (conn(fd, ai->ai_addr, ai->ai_addrlen) != 0) return fail("connect", errno);
  fai(ai);
  char request[512];
  int n = snprintf(request, sizeof request, "GET /%s HTTP/1.0\r\nHost: %s\r\n\r\n", path, host);
  if (write(fd, request, (size_t)n) != n) return fail("write", errno);
  static char response[1 << 16];
  size_t got = 0;
  ssize_t r;
  while (got < sizeof response && (r = read(fd, response + got, sizeof response - got)) > 0)
    got += (size_t)r;
  close(fd);
  const char* body = memmem(response, got, "\r\n\r\n", 4);
  if (body == NULL) return fail("read (no HTTP header)", EPROTO);
  body += 4;
  fwrite(body, 1, got - (size_t)(body - response), stdout);
  return 0;
}

int main(int argc, char** argv) {
#ifdef LINKED /* built with -lsocksify: then, and only then, socksify_version is linked */
  if (argc == 5 && strcmp(argv[1], "linked") == 0) {
    fprintf(stderr, "socksify_version %s\n", socksify_version());
    return fetch(getaddrinfo, freeaddrinfo, connect, argv[2], argv[3], argv[4]);
  }
#endif
  if (argc == 6 && (strcmp(argv[1], "dlopen") == 0 || strcmp(argv[1], "dlopen-plain") == 0)) {
    void* lib = dlopen(argv[2], RTLD_NOW | RTLD_LOCAL);
    if (lib == NULL) {
      printf("FAILED dlopen: %s\n", dlerror());
      return 1;
    }
    version_fn version = (version_fn)dlsym(lib, "socksify_version");
    getaddrinfo_fn gai = (getaddrinfo_fn)dlsym(lib, "Rgetaddrinfo");
    freeaddrinfo_fn fai = (freeaddrinfo_fn)dlsym(lib, "Rfreeaddrinfo");
    connect_fn conn = (connect_fn)dlsym(lib, "Rconnect");
    if (!version || !gai || !fai || !conn) {
      printf("FAILED dlsym: %s\n", dlerror());
      return 1;
    }
    fprintf(stderr, "socksify_version %s\n", version());
    if (strcmp(argv[1], "dlopen-plain") == 0)
      return fetch(getaddrinfo, freeaddrinfo, connect, argv[3], argv[4], argv[5]);
    return fetch(gai, fai, conn, argv[3], argv[4], argv[5]);
  }
  fprintf(stderr, "usage: linked_api linked HOST PORT PATH | dlopen[-plain] LIB HOST PORT PATH\n");
  return 2;
}

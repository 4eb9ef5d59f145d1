/* test-ssh-resolve.c - unit tests for broker/ssh-resolve.c: a lookup waited
 * for through its fd, and one its caller leaves while it runs. */
#include "test.h"

#include <netinet/in.h>
#include <dirent.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ssh-resolve.h"

/* Wait for r's fd to become readable (at most 10 s). */
static void
wait_done(struct ssh_resolve *r)
{
	struct pollfd p = { .fd = ssh_resolve_fd(r), .events = POLLIN };

	ASSERT_INT_EQ(poll(&p, 1, 10000), 1);
}

TEST(address_resolved_with_port)
{
	struct ssh_resolve *r = ssh_resolve_start("127.0.0.1", 2222, NULL);
	const struct addrinfo *ai = NULL;
	const struct sockaddr_in *sin;
	int rc = -1;

	wait_done(r);
	ASSERT_INT_EQ(ssh_resolve_result(r, &rc, &ai), 1);
	ASSERT_INT_EQ(rc, 0);
	ASSERT_NOT_NULL(ai);
	ASSERT_INT_EQ(ai->ai_family, AF_INET);
	ASSERT_INT_EQ(ai->ai_socktype, SOCK_STREAM);
	sin = (const struct sockaddr_in *)ai->ai_addr;
	ASSERT_INT_EQ(ntohs(sin->sin_port), 2222);
	ASSERT_INT_EQ(ntohl(sin->sin_addr.s_addr), INADDR_LOOPBACK);
	ssh_resolve_free(r);
}

TEST(failure_gives_getaddrinfo_code)
{
	/* (an empty label: refused by the resolver itself, no DNS asked) */
	struct ssh_resolve *r = ssh_resolve_start("bad..name", 22, NULL);
	const struct addrinfo *ai = NULL;
	int rc = 0;

	wait_done(r);
	ASSERT_INT_EQ(ssh_resolve_result(r, &rc, &ai), 1);
	ASSERT_INT_NE(rc, 0);
	ASSERT_NULL(ai);
	ASSERT_NOT_NULL(gai_strerror(rc));
	ssh_resolve_free(r);
}

/* How many file descriptors this process has open. */
static int
open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	ASSERT_NOT_NULL(d);
	while ((e = readdir(d)) != NULL)
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

TEST(left_while_running)
{
	struct ssh_resolve *r;
	int i, before = open_fds(), waited;

	/* The caller frees at once, before or after the helper ends: the
	 * last of the two frees (ASan: no leak, no use after free), and
	 * every lookup's pipe is closed once its helper has ended. */
	for (i = 0; i < 50; i++) {
		r = ssh_resolve_start("localhost", 22, NULL);
		ASSERT_NOT_NULL(r);
		ssh_resolve_free(r);
	}
	ssh_resolve_free(NULL);
	for (waited = 0; open_fds() > before && waited < 10000; waited += 20)
		usleep(20 * 1000);
	ASSERT_TRUE(open_fds() <= before);
}

TEST(no_fd_is_an_error_not_an_exit)
{
	struct rlimit old, low;
	char *cause = NULL;
	int n = open_fds(), fds[64], k = 0, i;

	/* (no descriptor left for the pipe: an error for the connect) */
	ASSERT_INT_EQ(getrlimit(RLIMIT_NOFILE, &old), 0);
	low = old;
	low.rlim_cur = (rlim_t)n + 16;
	ASSERT_INT_EQ(setrlimit(RLIMIT_NOFILE, &low), 0);
	while (k < 64 && (fds[k] = dup(2)) >= 0)
		k++;
	ASSERT_NULL(ssh_resolve_start("localhost", 22, &cause));
	for (i = 0; i < k; i++)
		close(fds[i]);
	ASSERT_INT_EQ(setrlimit(RLIMIT_NOFILE, &old), 0);
	ASSERT_TRUE(k < 64);
	ASSERT_NOT_NULL(cause);
	ASSERT_STR_CONTAINS(cause, "looking localhost up: pipe");
	free(cause);
	ASSERT_INT_EQ(open_fds(), n);
}

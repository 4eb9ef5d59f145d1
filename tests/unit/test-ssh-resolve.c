/* test-ssh-resolve.c - unit tests for broker/ssh-resolve.c: a lookup waited
 * for through its fd, and one its caller leaves while it runs. */
#include "test.h"

#include <netinet/in.h>
#include <poll.h>
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
	struct ssh_resolve *r = ssh_resolve_start("127.0.0.1", 2222);
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
	struct ssh_resolve *r = ssh_resolve_start("bad..name", 22);
	const struct addrinfo *ai = NULL;
	int rc = 0;

	wait_done(r);
	ASSERT_INT_EQ(ssh_resolve_result(r, &rc, &ai), 1);
	ASSERT_INT_NE(rc, 0);
	ASSERT_NULL(ai);
	ASSERT_NOT_NULL(gai_strerror(rc));
	ssh_resolve_free(r);
}

TEST(left_while_running)
{
	int i;

	/* The caller frees at once, before or after the helper ends: the
	 * last of the two frees (ASan: no leak, no use after free). */
	for (i = 0; i < 50; i++)
		ssh_resolve_free(ssh_resolve_start("localhost", 22));
	ssh_resolve_free(NULL);
	/* (the helpers still running end by themselves) */
	usleep(200 * 1000);
}

/* test-broker-client.c - unit tests for common/broker-client.c */
#include "test.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "broker-client.h"
#include "clock.h"
#include "proto-conn.h"
#include "xmalloc.h"

/* A broker that is stopped (SIGSTOP) with its listen backlog full: a
 * connect by a deadline gives up at the deadline (a blocking connect would
 * wait for ever: alarm ends the test then). */
TEST(connect_by_a_deadline_to_a_full_backlog_gives_up)
{
	char dir[] = "/tmp/rdev-test-broker-client-XXXXXX", *path;
	struct sockaddr_un sa;
	struct proto_conn *c = NULL;
	char *cause = NULL;
	long long t0;
	int l, q[8], n = 0, not_running = -1, rc;

	ASSERT_NOT_NULL(mkdtemp(dir));
	setenv("RDEV_RUNTIME_DIR", dir, 1);
	path = xasprintf("%s/%s", dir, BROKER_SOCKET_NAME);
	ASSERT_INT_EQ(broker_socket_addr(&sa, path, &cause), 0);
	ASSERT_TRUE((l = socket(AF_UNIX, SOCK_STREAM, 0)) >= 0);
	ASSERT_INT_EQ(bind(l, (struct sockaddr *)&sa, sizeof sa), 0);
	ASSERT_INT_EQ(listen(l, 0), 0);
	/* (fill the backlog: connects that nobody accepts, until one would
	 * wait) */
	for (n = 0; n < 8; n++) {
		ASSERT_TRUE(
		    (q[n] = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0)) >= 0);
		if (connect(q[n], (struct sockaddr *)&sa, sizeof sa) != 0) {
			ASSERT_INT_EQ(errno, EAGAIN);
			close(q[n]);
			break;
		}
	}
	ASSERT_TRUE(n < 8);
	alarm(10);
	t0 = clock_now_ms();
	rc = broker_client_connect_by(0, "test", t0 + 300, &c, &not_running, &cause);
	alarm(0);
	ASSERT_INT_EQ(rc, -1);
	ASSERT_NULL(c);
	ASSERT_INT_EQ(not_running, 0);
	ASSERT_STR_CONTAINS(cause, "did not answer in time");
	ASSERT_TRUE(clock_now_ms() - t0 >= 250);
	ASSERT_TRUE(clock_now_ms() - t0 < 3000);
	free(cause);
	cause = NULL;
	/* the proxy's port path (no deadline of its own): at once, not
	 * blocked in connect for ever */
	alarm(10);
	t0 = clock_now_ms();
	rc = broker_client_connect_nowait("test", &c, &cause);
	alarm(0);
	ASSERT_INT_EQ(rc, -1);
	ASSERT_NULL(c);
	ASSERT_STR_CONTAINS(cause, "did not answer in time");
	ASSERT_TRUE(clock_now_ms() - t0 < 1000);
	free(cause);
	while (n-- > 0)
		close(q[n]);
	close(l);
	unlink(path);
	rmdir(dir);
	free(path);
}

/* No broker runs and the deadline has passed: no `rdev-broker start` is
 * begun (it can take ~10 s, all of it past the deadline). The rdev-broker
 * found on PATH (no sibling of the test) only leaves a mark. */
TEST(no_broker_start_after_the_deadline)
{
	char dir[] = "/tmp/rdev-test-broker-client-XXXXXX", *prog, *mark, *path;
	struct proto_conn *c = NULL;
	char *cause = NULL;
	FILE *f;
	int not_running = -1;

	ASSERT_NOT_NULL(mkdtemp(dir));
	setenv("RDEV_RUNTIME_DIR", dir, 1);
	prog = xasprintf("%s/rdev-broker", dir);
	mark = xasprintf("%s/started", dir);
	ASSERT_NOT_NULL(f = fopen(prog, "w"));
	fprintf(f, "#!/bin/sh\ntouch '%s'\nexit 1\n", mark);
	fclose(f);
	ASSERT_INT_EQ(chmod(prog, 0755), 0);
	path = xasprintf("%s:%s", dir, getenv("PATH") != NULL ? getenv("PATH") : "");
	setenv("PATH", path, 1);
	ASSERT_INT_EQ(broker_client_connect_by(
			  1, "test", clock_now_ms() - 1, &c, &not_running, &cause),
	    -1);
	ASSERT_NULL(c);
	ASSERT_STR_CONTAINS(cause, "did not answer in time");
	ASSERT_INT_EQ(access(mark, F_OK), -1);
	free(cause);
	unlink(prog);
	rmdir(dir);
	free(prog);
	free(mark);
	free(path);
}

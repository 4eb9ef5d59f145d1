/* test-forward-listen.c - unit tests for broker/forward-listen.c: the local
 * port a forward gets. The privileged-port case runs in a child that drops
 * root (skipped when not root or when this machine lets anyone bind 80). */
#include "test.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "forward.h"

/* net.ipv4.ip_unprivileged_port_start (1024 when it cannot be read). */
static int
unprivileged_port_start(void)
{
	FILE *f = fopen("/proc/sys/net/ipv4/ip_unprivileged_port_start", "r");
	int n = 1024;

	if (f != NULL) {
		if (fscanf(f, "%d", &n) != 1)
			n = 1024;
		fclose(f);
	}
	return n;
}

TEST(busy_port_gives_the_next_free_one)
{
	int a4, a6, b4, b6, bound_a, bound_b;
	char *cause = NULL;

	ASSERT_INT_EQ(forward_listen(41000, 0, &a4, &a6, &bound_a, &cause), 0);
	ASSERT_INT_EQ(forward_listen(bound_a, 0, &b4, &b6, &bound_b, &cause), 0);
	ASSERT_TRUE(bound_b > bound_a);
	ASSERT_INT_NE(forward_listen(bound_a, 1, &b4, &b6, &bound_b, &cause), 0);
	ASSERT_STR_CONTAINS(cause, "is not free");
	free(cause);
	close(a4);
	if (a6 >= 0)
		close(a6);
}

TEST(privileged_port_without_root_goes_10000_up)
{
	pid_t pid;
	int status;

	if (geteuid() != 0 || unprivileged_port_start() <= 80) {
		printf("  (skipped: needs root to drop, and port 80 privileged)\n");
		return;
	}
	if ((pid = fork()) == 0) {
		int fd4, fd6, bound;
		char *cause = NULL;

		if (setgid(65534) != 0 || setuid(65534) != 0)
			_exit(3);
		if (forward_listen(80, 0, &fd4, &fd6, &bound, &cause) != 0)
			_exit(4);
		_exit(bound >= 10080 && bound < 10180 ? 0 : 5);
	}
	ASSERT_TRUE(pid > 0);
	ASSERT_INT_EQ(waitpid(pid, &status, 0), pid);
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_INT_EQ(WEXITSTATUS(status), 0);
}

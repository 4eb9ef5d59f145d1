/* test-agent-state.c - unit tests for agent/agent-state.c's locks: a lock
 * file removed by its holder (agent_lock_remove, as the sync state's prune
 * does) while another waits for it keeps the lock exclusive: the waiter
 * takes the path's new file, not the removed one, so no third process
 * gets the lock beside it. */
#include "test.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent-state.h"

#define DIR "rdev-test-agent-state"

/* agent_lock_acquire's on_wait: say so on the pipe *arg. */
static void
agent_state_test_on_wait(void *arg)
{
	if (write(*(int *)arg, "w", 1) != 1)
		_exit(4);
}

TEST(a_lock_removed_while_another_waits_stays_exclusive)
{
	int holder, fd, up[2], down[2], status;
	char c, *cause = NULL;
	pid_t pid;

	ASSERT_INT_EQ(system("rm -rf " DIR " && mkdir -p " DIR), 0);
	holder = agent_lock_acquire(DIR, "sync-w", NULL, NULL, &cause);
	ASSERT_TRUE(holder >= 0);
	ASSERT_INT_EQ(pipe(up), 0);
	ASSERT_INT_EQ(pipe(down), 0);
	fflush(stdout);
	fflush(stderr);
	if ((pid = fork()) == 0) {
		/* (not the parent's lock: a flock belongs to the open file,
		 * which our copy of holder would keep locked) */
		close(holder);
		close(up[0]);
		close(down[1]);
		/* (it opens the file, finds it held, says so and waits) */
		if ((fd = agent_lock_acquire(
			 DIR, "sync-w", agent_state_test_on_wait, &up[1], &cause)) < 0)
			_exit(2);
		if (write(up[1], "L", 1) != 1)
			_exit(3);
		(void)!read(down[0], &c, 1); /* (held until told) */
		_exit(0);
	}
	ASSERT_TRUE(pid > 0);
	close(up[1]);
	close(down[0]);
	ASSERT_INT_EQ(read(up[0], &c, 1), 1);
	ASSERT_INT_EQ(c, 'w');
	/* the holder removes the file the child waits on, and lets go */
	ASSERT_INT_EQ(agent_lock_remove(DIR, "sync-w", holder), 0);
	ASSERT_INT_EQ(read(up[0], &c, 1), 1);
	ASSERT_INT_EQ(c, 'L');
	/* the child holds the lock of the path's file: nobody else gets it */
	ASSERT_INT_EQ(access(DIR "/locks/sync-w.lock", F_OK), 0);
	fd = agent_lock_try(DIR, "sync-w");
	if (fd >= 0)
		close(fd);
	ASSERT_INT_EQ(fd, -1);
	ASSERT_INT_EQ(write(down[1], "x", 1), 1);
	ASSERT_INT_EQ(waitpid(pid, &status, 0), pid);
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_INT_EQ(WEXITSTATUS(status), 0);
	close(up[0]);
	close(down[1]);
	/* once it let go, the lock is free */
	ASSERT_TRUE((fd = agent_lock_try(DIR, "sync-w")) >= 0);
	agent_lock_release(fd);
	ASSERT_INT_EQ(system("rm -rf " DIR), 0);
}

/* agent_lock_try never waits: -1 while another holds the lock; and a lock
 * folder that is missing (no lock was ever taken) makes none. errno tells
 * them apart (EWOULDBLOCK: held, worth waiting for; else the file cannot
 * be opened, as a directory in its place: down's wait never ended). */
TEST(a_lock_tried_is_not_waited_for)
{
	int a, b;
	char *cause = NULL;

	ASSERT_INT_EQ(system("rm -rf " DIR " && mkdir -p " DIR), 0);
	ASSERT_INT_EQ(agent_lock_try(DIR, "k"), -1);
	ASSERT_INT_EQ(errno, ENOENT);
	ASSERT_TRUE((a = agent_lock_acquire(DIR, "k", NULL, NULL, &cause)) >= 0);
	ASSERT_INT_EQ(agent_lock_try(DIR, "k"), -1);
	ASSERT_INT_EQ(errno, EWOULDBLOCK);
	agent_lock_release(a);
	ASSERT_TRUE((b = agent_lock_try(DIR, "k")) >= 0);
	agent_lock_release(b);
	ASSERT_INT_EQ(mkdir(DIR "/locks/d.lock", 0700), 0);
	ASSERT_INT_EQ(agent_lock_try(DIR, "d"), -1);
	ASSERT_INT_EQ(errno, EISDIR);
	ASSERT_INT_EQ(system("rm -rf " DIR), 0);
}

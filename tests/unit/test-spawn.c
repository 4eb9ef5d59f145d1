/* test-spawn.c - unit tests for common/spawn.c (runs real programs). */
#include "test.h"

#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clock.h"
#include "spawn.h"
#include "xmalloc.h"

TEST(captures_stdout_stderr_and_status)
{
	const char *argv[] = { "sh", "-c", "echo out; echo err >&2; exit 3", NULL };
	struct spawn_result res;
	char *cause = NULL, *desc;

	ASSERT_INT_EQ(spawn_run(argv, NULL, &res, &cause), 0);
	ASSERT_STR_EQ(res.out, "out\n");
	ASSERT_STR_EQ(res.err, "err\n");
	ASSERT_TRUE(res.exited);
	ASSERT_INT_EQ(res.exit_code, 3);
	ASSERT_INT_EQ(spawn_result_status(&res), 3);
	desc = spawn_result_describe(&res);
	ASSERT_STR_EQ(desc, "exited with status 3");
	free(desc);
	spawn_result_free(&res);
}

TEST(arguments_are_not_shell_interpreted)
{
	const char *argv[] = { "printf", "%s|", "a b", "$(echo no)", "; rm -rf /", "*",
		NULL };
	struct spawn_result res;

	ASSERT_INT_EQ(spawn_run(argv, NULL, &res, NULL), 0);
	ASSERT_STR_EQ(res.out, "a b|$(echo no)|; rm -rf /|*|");
	spawn_result_free(&res);
}

TEST(feeds_stdin_larger_than_pipe_buffer)
{
	const char *argv[] = { "wc", "-c", NULL };
	size_t n = 1 << 20;
	char *data = malloc(n);
	struct spawn_opts opts = { 0 };
	struct spawn_result res;

	memset(data, 'x', n);
	opts.stdin_data = data;
	opts.stdin_len = n;
	ASSERT_INT_EQ(spawn_run(argv, &opts, &res, NULL), 0);
	ASSERT_INT_EQ(atol(res.out), (long)n);
	spawn_result_free(&res);
	free(data);
}

TEST(large_output_on_both_streams_does_not_deadlock)
{
	const char *argv[] = { "sh", "-c",
		"head -c 300000 /dev/zero; head -c 300000 /dev/zero >&2", NULL };
	struct spawn_result res;

	ASSERT_INT_EQ(spawn_run(argv, NULL, &res, NULL), 0);
	ASSERT_INT_EQ(res.out_len, 300000);
	ASSERT_INT_EQ(res.err_len, 300000);
	spawn_result_free(&res);
}

TEST(output_cap_truncates)
{
	const char *argv[] = { "head", "-c", "10000", "/dev/zero", NULL };
	struct spawn_opts opts = { 0 };
	struct spawn_result res;

	opts.max_output = 100;
	ASSERT_INT_EQ(spawn_run(argv, &opts, &res, NULL), 0);
	ASSERT_INT_EQ(res.out_len, 100);
	ASSERT_TRUE(res.truncated);
	spawn_result_free(&res);
}

TEST(missing_program_is_an_error_naming_it)
{
	const char *argv[] = { "rdev-no-such-program", NULL };
	struct spawn_result res;
	char *cause = NULL;

	ASSERT_INT_EQ(spawn_run(argv, NULL, &res, &cause), -1);
	ASSERT_STR_CONTAINS(cause, "cannot run rdev-no-such-program");
	ASSERT_STR_CONTAINS(cause, "No such file or directory");
	free(cause);
}

TEST(signal_status_is_128_plus_signal)
{
	const char *argv[] = { "sh", "-c", "kill -TERM $$", NULL };
	struct spawn_result res;
	char *desc;

	ASSERT_INT_EQ(spawn_run(argv, NULL, &res, NULL), 0);
	ASSERT_FALSE(res.exited);
	ASSERT_INT_EQ(res.term_signal, SIGTERM);
	ASSERT_INT_EQ(spawn_result_status(&res), 128 + SIGTERM);
	desc = spawn_result_describe(&res);
	ASSERT_STR_CONTAINS(desc, "killed by signal 15");
	free(desc);
	spawn_result_free(&res);
}

/* A program past its time is killed, and a child it left holding the pipes
 * (the sleep) does not keep spawn_run waiting. (The times leave a loaded
 * machine room: sh must have said "started" before the kill, and a quick
 * program must end within its time.) */
TEST(timeout_kills_and_returns)
{
	const char *argv[] = { "sh", "-c", "echo started; sleep 10 & wait", NULL };
	struct spawn_opts o = { .timeout_ms = 1000 }, roomy = { .timeout_ms = 30000 };
	struct spawn_result res;
	long long t0 = clock_now_ms();
	char *desc;

	ASSERT_INT_EQ(spawn_run(argv, &o, &res, NULL), 0);
	ASSERT_TRUE(clock_now_ms() - t0 < 6000);
	ASSERT_INT_EQ(res.timed_out, 1000);
	ASSERT_FALSE(res.exited);
	ASSERT_INT_EQ(res.term_signal, SIGKILL);
	ASSERT_STR_EQ(res.out, "started\n");
	desc = spawn_result_describe(&res);
	ASSERT_STR_EQ(desc, "did not finish within 1 s (killed)");
	free(desc);
	spawn_result_free(&res);
	/* In time: no mark. */
	argv[2] = "echo quick";
	ASSERT_INT_EQ(spawn_run(argv, &roomy, &res, NULL), 0);
	ASSERT_INT_EQ(res.timed_out, 0);
	ASSERT_INT_EQ(res.exit_code, 0);
	spawn_result_free(&res);
}

/* stop_at_exit: done when the program exits, with all it printed, though
 * the sleep it left in the background holds both pipes (without the option
 * spawn_run waits for the sleep). The sleep is left running. */
TEST(stop_at_exit_does_not_wait_for_a_background_child)
{
	const char *argv[] = { "sh", "-c",
		"sleep 20 & echo $! >&2; seq 1 20000; echo done >&2", NULL };
	struct spawn_opts o = { .stop_at_exit = 1 };
	struct spawn_result res;
	long long t0 = clock_now_ms();
	pid_t bg;

	ASSERT_INT_EQ(spawn_run(argv, &o, &res, NULL), 0);
	ASSERT_TRUE(clock_now_ms() - t0 < 10000);
	ASSERT_TRUE(res.exited);
	ASSERT_INT_EQ(res.exit_code, 0);
	ASSERT_INT_EQ((long long)res.out_len, 108894); /* seq 1 20000 | wc -c */
	ASSERT_STR_CONTAINS(res.err, "\ndone\n");
	bg = (pid_t)atoi(res.err);
	ASSERT_TRUE(bg > 0);
	ASSERT_INT_EQ(kill(bg, 0), 0);
	kill(bg, SIGKILL);
	spawn_result_free(&res);
}

/* stop_at_exit: what the program left in the background may write after
 * the program exited and spawn_run returned (pipes it still holds as its
 * stdout and stderr), without dying of SIGPIPE: it goes on to make its
 * file. (Without the drainer its first write, `echo late`, was its end.) */
TEST(stop_at_exit_background_child_may_write_later)
{
	/* It holds both pipes; only stdout (its stderr elsewhere). */
	static const char *const redirs[] = { "", "2>/dev/null" };
	char dir[] = "/tmp/rdev-test-spawn-XXXXXX", *mark, *script;
	const char *argv[] = { "sh", "-c", NULL, NULL };
	struct spawn_opts o = { .stop_at_exit = 1 };
	struct spawn_result res;
	long long t0;

	ASSERT_TRUE(mkdtemp(dir) != NULL);
	mark = xasprintf("%s/F", dir);
	for (int i = 0; i < 2; i++) {
		t0 = clock_now_ms();
		script = xasprintf("(sleep 0.5; echo late; echo late >&2; "
				   "seq 1 100000; touch '%s') %s & echo started",
		    mark, redirs[i]);
		argv[2] = script;
		ASSERT_INT_EQ(spawn_run(argv, &o, &res, NULL), 0);
		ASSERT_TRUE(clock_now_ms() - t0 < 2500);
		ASSERT_STR_EQ(res.out, "started\n");
		spawn_result_free(&res);
		free(script);
		while (access(mark, F_OK) != 0 && clock_now_ms() - t0 < 10000)
			usleep(20000);
		ASSERT_INT_EQ(access(mark, F_OK), 0);
		ASSERT_INT_EQ(unlink(mark), 0);
	}
	rmdir(dir);
	free(mark);
}

/* Is some process other than us, running our own program, holding the
 * pipe named link ("pipe:[N]")? */
static int
spawn_copy_of_us_holds(const char *link)
{
	char self[4096], exe[4096], path[1024], l[256];
	struct dirent *p, *f;
	DIR *d = opendir("/proc"), *fd;
	ssize_t n;
	int found = 0;

	n = readlink("/proc/self/exe", self, sizeof self - 1);
	if (n <= 0 || d == NULL)
		abort();
	self[n] = '\0';
	while (!found && (p = readdir(d)) != NULL) {
		if (p->d_name[0] < '1' || p->d_name[0] > '9' ||
		    atoi(p->d_name) == (int)getpid())
			continue;
		snprintf(path, sizeof path, "/proc/%s/exe", p->d_name);
		if ((n = readlink(path, exe, sizeof exe - 1)) <= 0)
			continue;
		exe[n] = '\0';
		if (strcmp(exe, self) != 0)
			continue;
		snprintf(path, sizeof path, "/proc/%s/fd", p->d_name);
		if ((fd = opendir(path)) == NULL)
			continue;
		while (!found && (f = readdir(fd)) != NULL) {
			snprintf(
			    path, sizeof path, "/proc/%s/fd/%s", p->d_name, f->d_name);
			if ((n = readlink(path, l, sizeof l - 1)) > 0) {
				l[n] = '\0';
				found = strcmp(l, link) == 0;
			}
		}
		closedir(fd);
	}
	closedir(d);
	return found;
}

/* stop_at_exit: what drains the pipes a background process holds is not a
 * copy of the process that called spawn_run (the agent: a long-lived
 * daemon whose whole memory, secrets and all, it would keep for as long as
 * that background process runs), but a program of its own. */
TEST(stop_at_exit_drainer_is_not_a_copy_of_the_caller)
{
	const char *argv[] = { "sh", "-c", "sleep 2 & readlink /proc/$$/fd/1", NULL };
	struct spawn_opts o = { .stop_at_exit = 1 };
	struct spawn_result res;
	char *nl;

	ASSERT_INT_EQ(spawn_run(argv, &o, &res, NULL), 0);
	ASSERT_TRUE(strncmp(res.out, "pipe:[", 6) == 0);
	if ((nl = strchr(res.out, '\n')) != NULL)
		*nl = '\0';
	usleep(200000); /* (the drainer is in place) */
	ASSERT_FALSE(spawn_copy_of_us_holds(res.out));
	spawn_result_free(&res);
}

TEST(cwd_and_env_are_applied)
{
	const char *argv[] = { "sh", "-c", "pwd; echo $RDEV_X", NULL };
	const char *env[] = { "RDEV_X=42", "PATH=/usr/bin:/bin", NULL };
	struct spawn_opts opts = { 0 };
	struct spawn_result res;

	opts.cwd = "/tmp";
	opts.env = env;
	ASSERT_INT_EQ(spawn_run(argv, &opts, &res, NULL), 0);
	ASSERT_STR_EQ(res.out, "/tmp\n42\n");
	spawn_result_free(&res);
}

static void
count_output(void *arg, int stream, const char *data, size_t len)
{
	size_t *counts = arg;

	counts[stream] += len;
}

TEST(on_output_sees_every_byte_as_it_arrives)
{
	const char *argv[] = { "sh", "-c", "head -c 100000 /dev/zero; echo e >&2", NULL };
	struct spawn_opts opts = { 0 };
	struct spawn_result res;
	size_t counts[3] = { 0, 0, 0 };

	opts.on_output = count_output;
	opts.on_output_arg = counts;
	ASSERT_INT_EQ(spawn_run(argv, &opts, &res, NULL), 0);
	ASSERT_INT_EQ(counts[1], 100000);
	ASSERT_INT_EQ(counts[2], 2);
	ASSERT_INT_EQ(res.out_len, 100000);
	spawn_result_free(&res);
}

TEST(tail_keeps_the_last_lines_of_stderr_else_stdout)
{
	const char *argv[] = { "sh", "-c", "printf 'a\\nb\\nc\\nd\\n\\n'", NULL };
	const char *argv2[] = { "sh", "-c", "echo out; printf 'e1\\ne2\\n' >&2", NULL };
	struct spawn_result res;
	char *tail;

	ASSERT_INT_EQ(spawn_run(argv, NULL, &res, NULL), 0);
	tail = spawn_result_tail(&res, 2);
	ASSERT_STR_EQ(tail, "c\nd");
	free(tail);
	spawn_result_free(&res);
	ASSERT_INT_EQ(spawn_run(argv2, NULL, &res, NULL), 0);
	tail = spawn_result_tail(&res, 8);
	ASSERT_STR_EQ(tail, "e1\ne2");
	free(tail);
	spawn_result_free(&res);
}

TEST(run_ok_describes_a_failure_by_name_status_and_last_lines)
{
	const char *ok[] = { "sh", "-c", "echo fine >&2", NULL };
	const char *one[] = { "sh", "-c",
		"echo a >&2; echo 'fatal: no repo' >&2; exit 128", NULL };
	const char *two[] = { "sh", "-c", "printf 'x\\ny\\nz\\n' >&2; exit 1", NULL };
	const char *mute[] = { "sh", "-c", "kill -9 $$", NULL };
	const char *none[] = { "/nonexistent/prog", NULL };
	char *cause = NULL;

	ASSERT_INT_EQ(spawn_run_ok(ok, NULL, "sh", 3, &cause), 0);
	ASSERT_INT_EQ(spawn_run_ok(one, NULL, "git clone", 1, &cause), -1);
	ASSERT_STR_EQ(cause, "git clone exited with status 128: fatal: no repo");
	free(cause);
	ASSERT_INT_EQ(spawn_run_ok(two, NULL, "docker", 2, &cause), -1);
	ASSERT_STR_EQ(cause, "docker exited with status 1:\ny\nz");
	free(cause);
	ASSERT_INT_EQ(spawn_run_ok(mute, NULL, "sh", 3, &cause), -1);
	ASSERT_STR_EQ(cause, "sh killed by signal 9 (Killed)");
	free(cause);
	ASSERT_INT_EQ(spawn_run_ok(none, NULL, "prog", 3, &cause), -1);
	ASSERT_TRUE(strncmp(cause, "prog: ", 6) == 0);
	free(cause);
}

/* Write text to fd, close our sending half, read all it answers. */
static char *
socket_round_trip(int fd, const char *text)
{
	char buf[256];
	size_t have = 0;
	ssize_t n;

	if (*text != '\0')
		ASSERT_INT_EQ((int)write(fd, text, strlen(text)), (int)strlen(text));
	shutdown(fd, SHUT_WR);
	while ((n = read(fd, buf + have, sizeof buf - 1 - have)) > 0)
		have += (size_t)n;
	buf[have] = '\0';
	return xstrdup(buf);
}

TEST(socketpair_child_reads_and_writes_its_end_and_is_ours_to_reap)
{
	const char *argv[] = { "/bin/cat", NULL };
	char *cause = NULL, *got;
	int pid, fd, status;

	ASSERT_INT_EQ(spawn_socketpair(argv, 0, &pid, &fd, &cause), 0);
	ASSERT_TRUE(pid > 0);
	got = socket_round_trip(fd, "hello\n");
	ASSERT_STR_EQ(got, "hello\n");
	free(got);
	close(fd);
	ASSERT_INT_EQ(waitpid(pid, &status, 0), pid);
	ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

TEST(socketpair_detached_child_is_nobodys_and_a_bad_path_closes_the_socket)
{
	const char *argv[] = { "/bin/cat", NULL };
	const char *bad[] = { "/nonexistent/rdev-program", NULL };
	char *cause = NULL, *got;
	int pid, fd;

	/* The bad program's end may be closed before we shut ours down. */
	signal(SIGPIPE, SIG_IGN);

	ASSERT_INT_EQ(spawn_socketpair(argv, 1, &pid, &fd, &cause), 0);
	ASSERT_INT_EQ(pid, -1);
	ASSERT_INT_EQ(waitpid(-1, NULL, WNOHANG), -1); /* no child of ours */
	got = socket_round_trip(fd, "x");
	ASSERT_STR_EQ(got, "x");
	free(got);
	close(fd);

	ASSERT_INT_EQ(spawn_socketpair(bad, 1, &pid, &fd, &cause), 0);
	got = socket_round_trip(fd, "");
	ASSERT_STR_EQ(got, "");
	free(got);
	close(fd);
}

/* Is pid gone or a zombie (dead, not yet reaped by whoever adopted it)? */
static int
spawn_test_dead(pid_t pid)
{
	char path[64], buf[256], *p;
	FILE *f;
	size_t n;

	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	if ((f = fopen(path, "r")) == NULL)
		return 1;
	n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	return (p = strrchr(buf, ')')) != NULL && p[1] == ' ' &&
	    (p[2] == 'Z' || p[2] == 'X');
}

/* die_with_parent: a program whose spawner is killed (kill -9: no cleanup
 * of its own) goes with it, as an agent's `docker build` must; without the
 * option it lives on, adopted. */
TEST(die_with_parent_kills_the_program_with_its_spawner)
{
	for (int die = 1; die >= 0; die--) {
		char pidfile[] = "/tmp/rdev-test-spawn-pdeath-XXXXXX", buf[32] = "";
		const char *argv[] = { "sh", "-c", NULL, NULL };
		char *script;
		pid_t spawner, prog = 0;
		FILE *f;
		int fd = mkstemp(pidfile);

		ASSERT_TRUE(fd >= 0);
		close(fd);
		script = xasprintf("echo $$ > %s.tmp && mv %s.tmp %s && exec sleep 30",
		    pidfile, pidfile, pidfile);
		unlink(pidfile);
		argv[2] = script;
		if ((spawner = fork()) == 0) {
			struct spawn_opts o = { .die_with_parent = die };
			struct spawn_result res;

			spawn_run(argv, &o, &res, NULL);
			_exit(0);
		}
		ASSERT_TRUE(spawner > 0);
		for (int i = 0; i < 100 && prog <= 0; i++) {
			if ((f = fopen(pidfile, "r")) != NULL) {
				if (fgets(buf, sizeof buf, f) != NULL)
					prog = atoi(buf);
				fclose(f);
			}
			if (prog <= 0)
				usleep(50 * 1000);
		}
		ASSERT_TRUE(prog > 0);
		kill(spawner, SIGKILL);
		waitpid(spawner, NULL, 0);
		for (int i = 0; i < 40 && !spawn_test_dead(prog); i++)
			usleep(50 * 1000);
		ASSERT_INT_EQ(spawn_test_dead(prog), die);
		if (!die)
			kill(prog, SIGKILL);
		unlink(pidfile);
		free(script);
	}
}

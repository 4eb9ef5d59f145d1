/* test-docker.c - unit tests for docker_request_raw() and an exec's
 * ConsoleSize (agent/docker.c, agent/docker-exec.c)
 * against a scripted fake daemon: a child process on a temporary unix socket
 * that answers each connection with the next canned response and keeps the
 * request it got in a file. */
#include "test.h"

#include <sys/socket.h>
#include <poll.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <errno.h>
#include <signal.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "atomic-file.h"
#include "buf.h"
#include "clock.h"
#include "docker.h"
#include "xmalloc.h"

struct fake {
	char dir[64];
	char *sock;
	pid_t pid;  /* 0: waited for (fake_wait) */
	int status; /* its waitpid status, once waited for */
};

/* Read one request (headers and a Content-Length body) from fd into f. */
static void
fake_read_request(int fd, FILE *f)
{
	char buf[65536];
	size_t len = 0, want = (size_t)-1;
	const char *end, *cl;
	ssize_t n;

	while (len < want && len < sizeof buf) {
		if ((n = read(fd, buf + len, sizeof buf - len)) <= 0)
			break;
		len += (size_t)n;
		if (want == (size_t)-1 &&
		    (end = memmem(buf, len, "\r\n\r\n", 4)) != NULL) {
			want = (size_t)(end + 4 - buf);
			buf[len < sizeof buf ? len : sizeof buf - 1] = '\0';
			if ((cl = strcasestr(buf, "\r\nContent-Length: ")) != NULL &&
			    cl < end)
				want += strtoul(cl + 18, NULL, 10);
		}
	}
	fwrite(buf, 1, len, f);
}

/* A fake daemon's socket in a new folder (fk->dir, fk->sock), listening
 * with backlog, and the fork that serves it: in the child the socket (the
 * child never outlives a failed test), in the parent -1 (fk->pid set). */
static int
fake_fork(struct fake *fk, int backlog)
{
	struct sockaddr_un sun;
	int s;

	strcpy(fk->dir, "/tmp/rdev-test-docker-XXXXXX");
	if (mkdtemp(fk->dir) == NULL)
		abort();
	fk->sock = xasprintf("%s/docker.sock", fk->dir);
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	strcpy(sun.sun_path, fk->sock);
	if ((s = socket(AF_UNIX, SOCK_STREAM, 0)) < 0 ||
	    bind(s, (struct sockaddr *)&sun, sizeof sun) < 0 || listen(s, backlog) < 0)
		abort();
	fflush(NULL);
	if ((fk->pid = fork()) < 0)
		abort();
	if (fk->pid > 0) {
		close(s);
		return -1;
	}
	alarm(20);
	signal(SIGPIPE, SIG_IGN);
	return s;
}

/* Start a fake daemon answering n connections with responses[0..n). */
static void
fake_start(struct fake *fk, const char *const *responses, size_t n)
{
	int s, c;
	char *path;
	FILE *f;

	if ((s = fake_fork(fk, 4)) < 0)
		return;
	for (size_t i = 0; i < n; i++) {
		if ((c = accept(s, NULL, NULL)) < 0)
			_exit(1);
		path = xasprintf("%s/req%zu", fk->dir, i);
		if ((f = fopen(path, "w")) == NULL)
			_exit(1);
		fake_read_request(c, f);
		fclose(f);
		if (write(c, responses[i], strlen(responses[i])) < 0)
			_exit(1);
		close(c);
		free(path);
	}
	_exit(0);
}

/* The i-th request the fake daemon received (caller frees). */
/* Not inlined: gcc 12 -O2 then takes strstr() results in its callers for
 * pointers to this function's local (-Wdangling-pointer false positive). */
static __attribute__((noinline)) char *
fake_request(struct fake *fk, size_t i, size_t *len)
{
	char *path = xasprintf("%s/req%zu", fk->dir, i), *data = NULL;

	if (file_read_all(path, 1 << 20, &data, len, NULL) != 0)
		data = NULL;
	free(path);
	return data;
}

/* Wait for the fake daemon to exit (it has answered everything and written
 * what it writes after that), once: its exit status. */
static int
fake_wait(struct fake *fk)
{
	if (fk->pid > 0) {
		fk->status = -1;
		waitpid(fk->pid, &fk->status, 0);
		fk->pid = 0;
	}
	return fk->status;
}

/* Wait for the fake daemon (it has answered everything) and clean up. */
static int
fake_stop(struct fake *fk, size_t n)
{
	int st = fake_wait(fk);
	char *path;

	for (size_t i = 0; i < n; i++) {
		path = xasprintf("%s/req%zu", fk->dir, i);
		unlink(path);
		free(path);
	}
	unlink(fk->sock);
	rmdir(fk->dir);
	free(fk->sock);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static const unsigned char tar_body[] = { 'a', '\0', '\r', '\n', '\r', '\n', 0xff, 'z' };

/* Assert that the i-th request starts with line and carries tar_body. */
static void
assert_tar_request(struct fake *fk, size_t i, const char *line)
{
	size_t len, body_at;
	char *req = fake_request(fk, i, &len);
	const char *hdr_end;

	ASSERT_NOT_NULL(req);
	ASSERT_INT_EQ(strncmp(req, line, strlen(line)), 0);
	ASSERT_STR_CONTAINS(req, "\r\nContent-Type: application/x-tar\r\n");
	ASSERT_STR_CONTAINS(req, "\r\nContent-Length: 8\r\n");
	ASSERT_STR_CONTAINS(req, "\r\nConnection: close\r\n");
	hdr_end = strstr(req, "\r\n\r\n");
	ASSERT_NOT_NULL(hdr_end);
	body_at = (size_t)(hdr_end - req) + 4;
	ASSERT_INT_EQ(len - body_at, sizeof tar_body);
	ASSERT_INT_EQ(memcmp(req + body_at, tar_body, sizeof tar_body), 0);
	free(req);
}

TEST(raw_put_sends_body_as_its_content_type)
{
	static const char *const resp[] = {
		"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
	};
	struct fake fk;
	struct docker *d;
	char *out = NULL, *cause = NULL;
	size_t out_len = 99;
	int status = 0;

	fake_start(&fk, resp, 1);
	d = docker_new(fk.sock);
	ASSERT_INT_EQ(docker_request_raw(d, "PUT", "/containers/abc/archive?path=/",
			  "application/x-tar", tar_body, sizeof tar_body, &status, &out,
			  &out_len, &cause),
	    0);
	ASSERT_INT_EQ(status, 200);
	ASSERT_NOT_NULL(out);
	ASSERT_INT_EQ(out_len, 0);
	ASSERT_STR_EQ(out, "");
	assert_tar_request(
	    &fk, 0, "PUT /v1.41/containers/abc/archive?path=/ HTTP/1.1\r\n");
	ASSERT_INT_EQ(fake_stop(&fk, 1), 0);
	free(out);
	docker_free(d);
}

TEST(raw_get_gives_chunked_binary_body_exactly)
{
	/* Chunks split the body anywhere; one carries an extension. */
	static const char chunked[] =
	    "HTTP/1.1 200 OK\r\nContent-Type: application/x-tar\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n"
	    "4\r\nab\r\n\r\n3;ext=1\r\n\xff\x01z\r\n0\r\n\r\n";
	const char *const script[] = { chunked };
	struct fake fk;
	struct docker *d;
	char *out = NULL, *cause = NULL, *req;
	size_t out_len = 0, req_len;
	int status = 0;

	fake_start(&fk, script, 1);
	d = docker_new(fk.sock);
	ASSERT_INT_EQ(docker_request_raw(d, "GET", "/containers/abc/archive?path=/f",
			  NULL, NULL, 0, &status, &out, &out_len, &cause),
	    0);
	ASSERT_INT_EQ(status, 200);
	ASSERT_INT_EQ(out_len, 7);
	ASSERT_MEM_EQ(out, "ab\r\n\xff\x01z", 7);
	ASSERT_INT_EQ(out[7], '\0');
	req = fake_request(&fk, 0, &req_len);
	ASSERT_NOT_NULL(req);
	ASSERT_INT_EQ(
	    strncmp(req, "GET /v1.41/containers/abc/archive?path=/f HTTP/1.1\r\n", 52),
	    0);
	ASSERT_TRUE(strstr(req, "Content-Type") == NULL);
	ASSERT_TRUE(strstr(req, "Content-Length") == NULL);
	ASSERT_INT_EQ(fake_stop(&fk, 1), 0);
	free(req);
	free(out);
	docker_free(d);
}

TEST(raw_error_status_is_not_an_error)
{
	static const char *const resp[] = {
		"HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\n"
		"Content-Length: 46\r\n\r\n{\"message\":\"Could not find the file /f in "
		"x\"}\n"
	};
	struct fake fk;
	struct docker *d;
	char *out = NULL, *cause = NULL;
	size_t out_len = 0;
	int status = 0;

	fake_start(&fk, resp, 1);
	d = docker_new(fk.sock);
	ASSERT_INT_EQ(docker_request_raw(d, "GET", "/containers/x/archive?path=/f", NULL,
			  NULL, 0, &status, &out, &out_len, &cause),
	    0);
	ASSERT_INT_EQ(status, 404);
	ASSERT_INT_EQ(out_len, 46);
	ASSERT_STR_EQ(out, "{\"message\":\"Could not find the file /f in x\"}\n");
	ASSERT_INT_EQ(fake_stop(&fk, 1), 0);
	free(out);
	docker_free(d);
}

TEST(raw_body_is_sent_again_after_version_negotiation)
{
	static const char *const resp[] = {
		"HTTP/1.1 400 Bad Request\r\nContent-Length: 91\r\n\r\n"
		"{\"message\":\"client version 1.41 is too old. Minimum supported API "
		"version "
		"is 1.44, please\"}",
		"HTTP/1.1 200 OK\r\nContent-Length: 44\r\n\r\n"
		"{\"ApiVersion\":\"1.45\",\"MinAPIVersion\":\"1.44\"}",
		"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
	};
	struct fake fk;
	struct docker *d;
	char *out = NULL, *cause = NULL, *req;
	size_t out_len = 0, req_len;
	int status = 0;

	ASSERT_INT_EQ(strlen(strstr(resp[0], "\r\n\r\n") + 4), 91);
	ASSERT_INT_EQ(strlen(strstr(resp[1], "\r\n\r\n") + 4), 44);
	fake_start(&fk, resp, 3);
	d = docker_new(fk.sock);
	ASSERT_INT_EQ(docker_request_raw(d, "PUT", "/containers/abc/archive?path=/",
			  "application/x-tar", tar_body, sizeof tar_body, &status, &out,
			  &out_len, &cause),
	    0);
	ASSERT_INT_EQ(status, 200);
	req = fake_request(&fk, 1, &req_len);
	ASSERT_NOT_NULL(req);
	ASSERT_INT_EQ(strncmp(req, "GET /version HTTP/1.1\r\n", 23), 0);
	free(req);
	assert_tar_request(
	    &fk, 2, "PUT /v1.44/containers/abc/archive?path=/ HTTP/1.1\r\n");
	ASSERT_INT_EQ(fake_stop(&fk, 3), 0);
	free(out);
	docker_free(d);
}

TEST(raw_refuses_a_content_type_that_smuggles_headers)
{
	struct docker *d = docker_new("/nonexistent/docker.sock");
	char *out = NULL, *cause = NULL;
	size_t out_len = 5;
	int status = 7;

	ASSERT_INT_EQ(docker_request_raw(d, "PUT", "/x", "a/b\r\nX-Evil: 1", "", 0,
			  &status, &out, &out_len, &cause),
	    -1);
	ASSERT_STR_CONTAINS(cause, "bad content type");
	ASSERT_NULL(out);
	ASSERT_INT_EQ(out_len, 0);
	ASSERT_INT_EQ(status, 0);
	free(cause);
	docker_free(d);
}

TEST(raw_names_the_socket_when_unreachable)
{
	struct docker *d = docker_new("/nonexistent/docker.sock");
	char *out = NULL, *cause = NULL;
	int status;

	ASSERT_INT_EQ(docker_request_raw(
			  d, "GET", "/x", NULL, NULL, 0, &status, &out, NULL, &cause),
	    -1);
	ASSERT_STR_CONTAINS(cause, "/nonexistent/docker.sock does not exist");
	ASSERT_NULL(out);
	free(cause);
	docker_free(d);
}

/* A Docker socket nobody serves: a new folder dir (a mkdtemp template,
 * filled in) with docker.sock in it, listening with the given backlog and
 * never accepting. Its path in path (PATH_BYTES), its address in *sa; the
 * listening fd. */
#define PATH_BYTES 64
static int
silent_socket(char *dir, char *path, struct sockaddr_un *sa, int backlog)
{
	int s;

	if (mkdtemp(dir) == NULL)
		abort();
	snprintf(path, PATH_BYTES, "%s/docker.sock", dir);
	memset(sa, 0, sizeof *sa);
	sa->sun_family = AF_UNIX;
	snprintf(sa->sun_path, sizeof sa->sun_path, "%s", path);
	if ((s = socket(AF_UNIX, SOCK_STREAM, 0)) < 0 ||
	    bind(s, (struct sockaddr *)sa, sizeof *sa) < 0 || listen(s, backlog) < 0)
		abort();
	return s;
}

/* A daemon that accepts and never answers: with a deadline, a request gives
 * up at it (not after DOCKER_TIMEOUT_S), naming the budget, and so does
 * every later one. (A 2 s budget: "at once" for the second is then under
 * 1 s, against the 2 s a new budget would take; with 300 ms and under
 * 250 ms, a test descheduled a quarter second failed.) */
TEST(deadline_bounds_a_hung_daemon)
{
	char dir[] = "/tmp/rdev-test-docker.XXXXXX", path[PATH_BYTES];
	struct sockaddr_un sa;
	struct docker *d;
	char *cause = NULL;
	cJSON *res = NULL;
	long long t0;
	int s, status;

	s = silent_socket(dir, path, &sa, 16); /* (connects succeed, nothing answers) */
	d = docker_new(path);
	docker_set_deadline(d, 2000);
	t0 = clock_now_ms();
	ASSERT_INT_EQ(
	    docker_request(d, "GET", "/version", NULL, &status, &res, &cause), -1);
	ASSERT_TRUE(clock_now_ms() - t0 < 10000);
	ASSERT_STR_CONTAINS(cause, "within the 2000 ms allowed");
	ASSERT_NULL(res);
	free(cause);
	cause = NULL;
	/* The deadline is one for all requests: a second one, after it passed,
	 * gives up at once. */
	t0 = clock_now_ms();
	ASSERT_INT_EQ(docker_request(d, "GET", "/info", NULL, &status, &res, &cause), -1);
	ASSERT_TRUE(clock_now_ms() - t0 < 1000);
	ASSERT_STR_CONTAINS(cause, "within the 2000 ms allowed");
	free(cause);
	docker_free(d);
	close(s);
	unlink(path);
	rmdir(dir);
}

/* A daemon that accepts no connection at all (its listen backlog full):
 * connect gives up at the deadline, with a message saying so, instead of
 * waiting forever. */
TEST(deadline_bounds_a_connect_to_a_full_backlog)
{
	char dir[] = "/tmp/rdev-test-docker.XXXXXX", path[PATH_BYTES];
	struct sockaddr_un sa;
	struct docker *d;
	char *cause = NULL;
	cJSON *res = NULL;
	long long t0;
	int s, fill[4], nfill = 0, i, status;

	s = silent_socket(dir, path, &sa, 0);
	/* Fill the backlog: non-blocking connects until one would wait. */
	for (i = 0; i < 4; i++) {
		fill[nfill] = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
		ASSERT_TRUE(fill[nfill] >= 0);
		if (connect(fill[nfill], (struct sockaddr *)&sa, sizeof sa) < 0) {
			ASSERT_INT_EQ(errno, EAGAIN);
			close(fill[nfill]);
			break;
		}
		nfill++;
	}
	ASSERT_TRUE(i < 4);
	d = docker_new(path);
	docker_set_deadline(d, 300);
	t0 = clock_now_ms();
	ASSERT_INT_EQ(
	    docker_request(d, "GET", "/version", NULL, &status, &res, &cause), -1);
	ASSERT_TRUE(clock_now_ms() - t0 < 5000);
	ASSERT_STR_CONTAINS(cause, "accepts no connection");
	ASSERT_NULL(res);
	free(cause);
	docker_free(d);
	for (i = 0; i < nfill; i++)
		close(fill[i]);
	close(s);
	unlink(path);
	rmdir(dir);
}

/* Assert that s starts with prefix (both shown if not). */
#define ASSERT_STR_PREFIX(s, prefix) \
	do { \
		if (strncmp((s), (prefix), strlen(prefix)) != 0) \
			TEST_FAIL("%s does not start with %s", (s), (prefix)); \
	} while (0)

/* The fake daemon's answers for a ping, then an exec create and start. */
#define PING_ANSWER(version) \
	"HTTP/1.1 200 OK\r\nApi-Version: " version "\r\nContent-Length: 2\r\n\r\nOK"
#define EXEC_CREATED \
	"HTTP/1.1 201 Created\r\nApi-Version: 1.43\r\nContent-Type: " \
	"application/json\r\n" \
	"Content-Length: 11\r\n\r\n{\"Id\":\"e1\"}"
#define EXEC_STARTED \
	"HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\n" \
	"Connection: Upgrade\r\nUpgrade: tcp\r\n\r\n"

TEST(exec_console_size_goes_with_create_and_start_from_api_1_42)
{
	static const char *const resp[] = { PING_ANSWER("1.43"), EXEC_CREATED,
		EXEC_STARTED };
	static const char *const argv[] = { "stty", "size", NULL };
	struct docker_exec_opts opts = { 0 };
	struct fake fk;
	struct docker *d;
	struct buf *early = NULL;
	char *out = NULL, *cause = NULL, *id = NULL, *req;
	size_t len;
	int status, fd = -1;

	fake_start(&fk, resp, 3);
	d = docker_new(fk.sock);
	ASSERT_FALSE(docker_api_at_least(d, 1, 42));
	ASSERT_INT_EQ(docker_request_raw(
			  d, "GET", "/_ping", NULL, NULL, 0, &status, &out, NULL, &cause),
	    0);
	ASSERT_TRUE(docker_api_at_least(d, 1, 42));
	ASSERT_TRUE(docker_api_at_least(d, 1, 43));
	ASSERT_FALSE(docker_api_at_least(d, 1, 44));
	ASSERT_FALSE(docker_api_at_least(d, 2, 0));
	opts.argv = argv;
	opts.tty = 1;
	opts.attach_stdin = 1;
	opts.rows = 37;
	opts.cols = 101;
	ASSERT_INT_EQ(docker_exec_attach(d, "c1", &opts, &id, &fd, &early, &cause), 0);
	ASSERT_STR_EQ(id, "e1");
	close(fd);
	req = fake_request(&fk, 1, &len);
	ASSERT_NOT_NULL(req);
	ASSERT_STR_PREFIX(req, "POST /v1.42/containers/c1/exec HTTP/1.1\r\n");
	ASSERT_STR_CONTAINS(req, "\"Tty\":true");
	ASSERT_STR_CONTAINS(req, "\"ConsoleSize\":[37,101]");
	free(req);
	req = fake_request(&fk, 2, &len);
	ASSERT_NOT_NULL(req);
	ASSERT_STR_PREFIX(req, "POST /v1.42/exec/e1/start HTTP/1.1\r\n");
	ASSERT_STR_CONTAINS(
	    req, "{\"Detach\":false,\"Tty\":true,\"ConsoleSize\":[37,101]}");
	free(req);
	ASSERT_INT_EQ(fake_stop(&fk, 3), 0);
	buf_free(early);
	free(id);
	free(out);
	docker_free(d);
}

/* A fake daemon for an exec whose process ends right as its stream's 1 s
 * silence does: the exec is created (connection 0) and started (1: "a\n"
 * on stdout, then silence); the inspect asked after the silence (2) says
 * it ended; only then does the last line, "FINAL\n", come on the stream,
 * which the daemon then closes (nothing holds it); the exit-code inspect
 * (3) says 0. */
static void
fake_exec_late_output(struct fake *fk)
{
	static const char first[] = { 1, 0, 0, 0, 0, 0, 0, 2, 'a', '\n' };
	static const char last[] = { 1, 0, 0, 0, 0, 0, 0, 6, 'F', 'I', 'N', 'A', 'L',
		'\n' };
	static const char ended[] =
	    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
	    "Content-Length: 30\r\n\r\n{\"Running\":false,\"ExitCode\":0}";
	struct timespec late = { 0, 50 * 1000 * 1000 };
	int s, c[4];
	FILE *null;

	if ((s = fake_fork(fk, 4)) < 0)
		return;
	if ((null = fopen("/dev/null", "w")) == NULL)
		_exit(1);
	for (int i = 0; i < 4; i++) {
		if ((c[i] = accept(s, NULL, NULL)) < 0)
			_exit(1);
		fake_read_request(c[i], null);
		if (i == 0 && write(c[0], EXEC_CREATED, strlen(EXEC_CREATED)) < 0)
			_exit(1);
		if (i == 1 &&
		    (write(c[1], EXEC_STARTED, strlen(EXEC_STARTED)) < 0 ||
			write(c[1], first, sizeof first) < 0))
			_exit(1);
		if (i >= 2 && write(c[i], ended, strlen(ended)) < 0)
			_exit(1);
		if (i == 2) {
			nanosleep(&late, NULL);
			if (write(c[1], last, sizeof last) < 0)
				_exit(1);
			close(c[1]);
		}
		if (i != 1)
			close(c[i]);
	}
	_exit(0);
}

static void
collect_output(void *arg, int stream, const void *data, size_t len)
{
	(void)stream;
	buf_append(arg, data, len);
}

TEST(exec_output_that_comes_after_its_end_is_seen_is_read_not_taken_as_held)
{
	static const char *const argv[] = { "sh", "-c", "echo a; sleep 1; echo FINAL",
		NULL };
	struct docker_exec_opts opts = { 0 };
	struct fake fk;
	struct docker *d;
	struct buf *out = buf_new();
	char *cause = NULL;
	int exit_code = -1, held = -1;

	fake_exec_late_output(&fk);
	d = docker_new(fk.sock);
	opts.argv = argv;
	opts.output_held = &held;
	ASSERT_INT_EQ(
	    docker_exec(d, "c1", &opts, collect_output, out, &exit_code, &cause), 0);
	ASSERT_INT_EQ(exit_code, 0);
	ASSERT_INT_EQ(buf_len(out), 8);
	ASSERT_MEM_EQ(buf_data(out), "a\nFINAL\n", 8);
	ASSERT_INT_EQ(held, 0);
	ASSERT_INT_EQ(fake_stop(&fk, 0), 0);
	buf_free(out);
	docker_free(d);
}

TEST(exec_console_size_is_refused_before_api_1_42)
{
	static const char *const resp[] = { PING_ANSWER("1.41") };
	static const char *const argv[] = { "stty", "size", NULL };
	struct docker_exec_opts opts = { 0 };
	struct fake fk;
	struct docker *d;
	struct buf *early = NULL;
	char *out = NULL, *cause = NULL, *id = NULL;
	int status, fd = -1;

	fake_start(&fk, resp, 1);
	d = docker_new(fk.sock);
	ASSERT_INT_EQ(docker_request_raw(
			  d, "GET", "/_ping", NULL, NULL, 0, &status, &out, NULL, &cause),
	    0);
	ASSERT_INT_EQ(fake_stop(&fk, 1), 0);
	ASSERT_TRUE(docker_api_at_least(d, 1, 41));
	ASSERT_FALSE(docker_api_at_least(d, 1, 42));
	opts.argv = argv;
	opts.tty = 1;
	opts.rows = 37;
	opts.cols = 101;
	/* No request is made (the fake daemon is gone). */
	ASSERT_INT_EQ(docker_exec_attach(d, "c1", &opts, &id, &fd, &early, &cause), -1);
	ASSERT_STR_CONTAINS(cause, "API 1.42");
	ASSERT_NULL(id);
	ASSERT_INT_EQ(fd, -1);
	free(cause);
	free(out);
	docker_free(d);
}

/* A stop without t asks the container's grace (inspect) and passes it as t:
 * the daemon then answers within it, and the wait for it is 60 s past it,
 * not an hour. Compose's StopTimeout 30 is t=30; none is Docker's 10. */
TEST(stop_passes_the_containers_own_grace)
{
#define INSPECT_ANSWER(body) \
	"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " \
	"%zu\r\n\r\n" body
	static const char *const bodies[] = {
		"{\"Config\":{\"StopTimeout\":30},\"State\":{\"Running\":true}}",
		"{\"Config\":{},\"State\":{\"Running\":true}}",
		"{\"Config\":{\"StopTimeout\":-1},\"State\":{\"Running\":true}}",
		"{\"Config\":{\"StopTimeout\":90000},\"State\":{\"Running\":true}}",
	};
	/* (-1: Docker waits forever, and so does the stop; 90000 s, a day
	 * and more, is passed as it is, not replaced by 10) */
	static const char *const want[] = { "POST /v1.41/containers/abc/stop?t=30 ",
		"POST /v1.41/containers/abc/stop?t=10 ",
		"POST /v1.41/containers/abc/stop?t=-1 ",
		"POST /v1.41/containers/abc/stop?t=90000 " };
	char *resp[2], *cause = NULL, *req;
	struct fake fk;
	struct docker *d;
	size_t len;

	for (size_t k = 0; k < 4; k++) {
		resp[0] = xasprintf(INSPECT_ANSWER("%s"), strlen(bodies[k]), bodies[k]);
		resp[1] = xstrdup("HTTP/1.1 204 No Content\r\n\r\n");
		fake_start(&fk, (const char *const *)resp, 2);
		d = docker_new(fk.sock);
		ASSERT_INT_EQ(docker_container_stop(d, "abc", -1, &cause), 0);
		req = fake_request(&fk, 0, &len);
		ASSERT_NOT_NULL(req);
		ASSERT_STR_PREFIX(req, "GET /v1.41/containers/abc/json ");
		free(req);
		req = fake_request(&fk, 1, &len);
		ASSERT_NOT_NULL(req);
		ASSERT_STR_PREFIX(req, want[k]);
		free(req);
		ASSERT_INT_EQ(fake_stop(&fk, 2), 0);
		docker_free(d);
		free(resp[0]);
		free(resp[1]);
	}
#undef INSPECT_ANSWER
}

#define STOPPED "HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n"

/* A stop given the graces (docker_containers_grace()'s, which the op's
 * progress line inspected) inspects nothing again; a container gone since
 * it was listed (404) counts as already stopped, not as the stop's failure
 * nor as one this call stopped. */
TEST(containers_stop_uses_the_graces_and_counts_a_gone_one_already_stopped)
{
	static const char *const resp[] = {
		STOPPED,
		"HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\n"
		"Content-Length: 35\r\n\r\n{\"message\":\"No such container: c2\"}",
		"HTTP/1.1 304 Not Modified\r\nContent-Length: 0\r\n\r\n",
	};
	static char *const ids[] = { "c1", "c2", "c3", NULL };
	static const int graces[] = { 7, 7, 7 };
	struct fake fk;
	struct docker *d;
	char *cause = NULL, *req;
	size_t len;
	int stopped = -1, already = -1;

	fake_start(&fk, resp, 3);
	d = docker_new(fk.sock);
	ASSERT_INT_EQ(
	    docker_containers_stop(d, ids, graces, &stopped, &already, &cause), 0);
	ASSERT_NULL(cause);
	ASSERT_INT_EQ(stopped, 1);
	ASSERT_INT_EQ(already, 2);
	for (size_t i = 0; i < 3; i++) {
		req = fake_request(&fk, i, &len);
		ASSERT_NOT_NULL(req);
		ASSERT_STR_CONTAINS(req, "/stop?t=7 HTTP/1.1\r\n");
		free(req);
	}
	ASSERT_INT_EQ(fake_stop(&fk, 3), 0);
	docker_free(d);
}

/* down's removal: a container gone since it was listed (404) is removed
 * all the same, the next one still removed; the first other failure stops
 * there, *done counting those before it. */
TEST(containers_remove_counts_a_gone_one_removed)
{
#define GONE \
	"HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\n" \
	"Content-Length: 35\r\n\r\n{\"message\":\"No such container: c2\"}"
	static const char *const resp[] = {
		STOPPED,
		GONE,
		STOPPED,
		STOPPED,
		"HTTP/1.1 500 Internal Server Error\r\nContent-Type: "
		"application/json\r\nContent-Length: 16\r\n\r\n{\"message\":\"no\"}",
	};
	static char *const ids[] = { "c1", "c2", "c3", NULL };
	struct fake fk;
	struct docker *d;
	char *cause = NULL, *req;
	size_t done = 99, len;

	fake_start(&fk, resp, 5);
	d = docker_new(fk.sock);
	ASSERT_INT_EQ(docker_containers_remove(d, ids, 1, 1, &done, &cause), 0);
	ASSERT_NULL(cause);
	ASSERT_INT_EQ((long long)done, 3);
	req = fake_request(&fk, 1, &len);
	ASSERT_NOT_NULL(req);
	ASSERT_STR_CONTAINS(req, "DELETE ");
	ASSERT_STR_CONTAINS(req, "/containers/c2?");
	free(req);
	ASSERT_INT_EQ(docker_containers_remove(d, ids, 1, 1, &done, &cause), -1);
	ASSERT_INT_EQ((long long)done, 1);
	ASSERT_STR_CONTAINS(cause, "no");
	free(cause);
	ASSERT_INT_EQ(fake_stop(&fk, 5), 0);
	docker_free(d);
#undef GONE
}

/* A daemon that holds each stop request until none has come for 300 ms,
 * then answers those it holds, for n requests in all; dir/max gets the most
 * it held at once (what the stop ran in parallel). */
static void
fake_hold_start(struct fake *fk, size_t n)
{
	struct pollfd pfd[64];
	char buf[4096], *path;
	size_t held = 0, served = 0, max = 0, i;
	int s, c;
	FILE *f;

	if ((s = fake_fork(fk, 64)) < 0)
		return;
	pfd[0].fd = s;
	pfd[0].events = POLLIN;
	while (served < n) {
		if (poll(pfd, 1, 300) == 0) {
			/* (quiet: each held one has its request in) */
			for (i = 1; i <= held; i++) {
				if (write(pfd[i].fd, STOPPED, strlen(STOPPED)) < 0)
					_exit(1);
				close(pfd[i].fd);
			}
			served += held;
			held = 0;
			continue;
		}
		if ((c = accept(s, NULL, NULL)) < 0 || held + 1 >= 64)
			_exit(1);
		/* (the request: one small write by the client) */
		if (read(c, buf, sizeof buf) <= 0)
			_exit(1);
		pfd[++held].fd = c;
		if (held > max)
			max = held;
	}
	path = xasprintf("%s/req0", fk->dir);
	if ((f = fopen(path, "w")) == NULL)
		_exit(1);
	fprintf(f, "%zu", max);
	fclose(f);
	_exit(0);
}

/* A project of many services is stopped at most DOCKER_STOP_PARALLEL at a
 * time (not a thread and a connection each at once), all of them. */
TEST(containers_stop_caps_its_parallelism)
{
	enum { N = 40 };
	char *ids[N + 1], *max;
	int graces[N], stopped = -1, already = -1;
	struct fake fk;
	struct docker *d;
	char *cause = NULL;
	size_t len;

	for (int i = 0; i < N; i++) {
		ids[i] = xasprintf("c%d", i);
		graces[i] = 1;
	}
	ids[N] = NULL;
	fake_hold_start(&fk, N);
	d = docker_new(fk.sock);
	ASSERT_INT_EQ(
	    docker_containers_stop(d, ids, graces, &stopped, &already, &cause), 0);
	ASSERT_INT_EQ(stopped, N);
	ASSERT_INT_EQ(already, 0);
	/* (the daemon writes req0 after its last answer: wait for it to exit) */
	fake_wait(&fk);
	max = fake_request(&fk, 0, &len);
	ASSERT_NOT_NULL(max);
	/* (the first batch is all of them at once, unless a thread was slow
	 * to connect on a busy machine: the daemon waits for a quiet 300 ms.
	 * The number docs/CLI.md gives, not the macro: raising that alone
	 * fails here) */
	ASSERT_INT_EQ(DOCKER_STOP_PARALLEL, 32);
	ASSERT_TRUE(atoi(max) >= 2 && atoi(max) <= 32);
	free(max);
	ASSERT_INT_EQ(fake_stop(&fk, 1), 0);
	docker_free(d);
	for (int i = 0; i < N; i++)
		free(ids[i]);
}
#undef STOPPED

/* What the stop line says a stop may take: the longest grace for one batch
 * of DOCKER_STOP_PARALLEL (32, docs/CLI.md), once more for each further
 * batch; no limit stays no limit. */
TEST(containers_stop_bound)
{
	ASSERT_INT_EQ(docker_containers_stop_bound(0, 0), 0);
	ASSERT_INT_EQ(docker_containers_stop_bound(1, 10), 10);
	ASSERT_INT_EQ(docker_containers_stop_bound(9, 10), 10);
	ASSERT_INT_EQ(docker_containers_stop_bound(32, 30), 30);
	ASSERT_INT_EQ(docker_containers_stop_bound(33, 30), 60);
	ASSERT_INT_EQ(docker_containers_stop_bound(64, 30), 60);
	ASSERT_INT_EQ(docker_containers_stop_bound(65, 30), 90);
	ASSERT_INT_EQ(docker_containers_stop_bound(200, -1), -1);
}

/* test-docker.c - the Docker Engine API client against the real daemon.
 *
 * Needs the rig's Docker engine and its image rdev-test/busybox:r1; fails,
 * not skips, without them. The containers made here are rig.h's: removed at
 * exit (rig_docker()).
 */
#include "test.h"

#include <unistd.h>

#include <cjson/cJSON.h>

#include "docker.h"
#include "rig.h"

#define MISSING_IMAGE "rdev-test/no-such-image:r1"

/* A started (if start) busybox container of this run with
 * rdev.test.role=role. The caller frees the id. */
static char *
container_new(const char *role, const char *name, int start)
{
	return rig_container_create(rig_container_body(RIG_BUSYBOX, role), name, start);
}

/* Run argv in container with stdin; the caller frees *out and *err. */
static int
run(const char *container, const char *const *argv, const void *in, size_t in_len,
    char **out, size_t *out_len, char **err)
{
	struct docker_exec_opts opts = { argv, NULL, NULL, NULL, in, in_len, 0, 0, 0, 0,
		NULL };
	char *cause = NULL;
	int code;

	if (docker_exec_capture_len(rig_docker(), container, &opts, out, out_len, err,
		NULL, &code, &cause) != 0)
		TEST_FAIL("exec %s: %s", argv[0], cause);
	return code;
}

TEST(ping)
{
	char *version = NULL, *cause = NULL;

	if (docker_ping(rig_docker(), &version, &cause) != 0)
		TEST_FAIL("ping: %s", cause);
	ASSERT_NOT_NULL(version);
	ASSERT_TRUE(strncmp(version, "1.", 2) == 0);
	free(version);
}

TEST(unreachable_socket)
{
	struct docker *d = docker_new("/nonexistent/docker.sock");
	char *cause = NULL;
	cJSON *list = NULL;

	ASSERT_STR_EQ(docker_socket_path(d), "/nonexistent/docker.sock");
	ASSERT_INT_EQ(docker_ping(d, NULL, &cause), -1);
	ASSERT_STR_CONTAINS(cause, "/nonexistent/docker.sock does not exist");
	free(cause);
	cause = NULL;
	ASSERT_INT_EQ(docker_container_list(d, NULL, 1, &list, &cause), -1);
	ASSERT_NULL(list);
	ASSERT_STR_CONTAINS(cause, "/nonexistent/docker.sock");
	free(cause);
	docker_free(d);
}

TEST(docker_host)
{
	const char *saved = getenv("DOCKER_HOST");
	char *keep = saved != NULL ? strdup(saved) : NULL;
	struct docker *d;
	char *cause = NULL;

	setenv("DOCKER_HOST", "tcp://127.0.0.1:2375", 1);
	d = docker_new(NULL);
	ASSERT_NULL(docker_socket_path(d));
	ASSERT_INT_EQ(docker_ping(d, NULL, &cause), -1);
	ASSERT_STR_EQ(cause,
	    "DOCKER_HOST=tcp://127.0.0.1:2375: only unix:// sockets are supported");
	free(cause);
	docker_free(d);

	setenv("DOCKER_HOST", "unix:///run/elsewhere.sock", 1);
	d = docker_new(NULL);
	ASSERT_STR_EQ(docker_socket_path(d), "/run/elsewhere.sock");
	docker_free(d);

	unsetenv("DOCKER_HOST");
	d = docker_new(NULL);
	ASSERT_STR_EQ(docker_socket_path(d), DOCKER_DEFAULT_SOCKET);
	docker_free(d);
	if (keep != NULL) {
		setenv("DOCKER_HOST", keep, 1);
		free(keep);
	}
}

TEST(raw_request)
{
	cJSON *r = NULL;
	char *cause = NULL;
	int status;

	if (docker_request(rig_docker(), "GET", "/containers/json?all=1", NULL, &status,
		&r, &cause) != 0)
		TEST_FAIL("%s", cause);
	ASSERT_INT_EQ(status, 200);
	ASSERT_TRUE(cJSON_IsArray(r));
	cJSON_Delete(r);

	/* A non-2xx status is not an error at this level. */
	if (docker_request(rig_docker(), "GET", "/containers/rdev-no-such-container/json",
		NULL, &status, &r, &cause) != 0)
		TEST_FAIL("%s", cause);
	ASSERT_INT_EQ(status, 404);
	ASSERT_TRUE(cJSON_IsString(cJSON_GetObjectItem(r, "message")));
	cJSON_Delete(r);

	/* A text body comes back as a JSON string. */
	if (docker_request(
		rig_docker(), "GET", "/no-such-endpoint", NULL, &status, &r, &cause) != 0)
		TEST_FAIL("%s", cause);
	ASSERT_INT_EQ(status, 404);
	ASSERT_NOT_NULL(r);
	cJSON_Delete(r);

	ASSERT_INT_EQ(docker_request(rig_docker(), "GET", "containers/json", NULL,
			  &status, &r, &cause),
	    -1);
	ASSERT_STR_CONTAINS(cause, "bad API path");
	free(cause);
	cause = NULL;
	ASSERT_INT_EQ(
	    docker_request(rig_docker(), "GET", "/containers/json HTTP/1.1\r\nX-A: b",
		NULL, &status, &r, &cause),
	    -1);
	ASSERT_STR_CONTAINS(cause, "unencoded");
	free(cause);
	cause = NULL;
	ASSERT_INT_EQ(
	    docker_request(rig_docker(), "get /x", "/_ping", NULL, &status, &r, &cause),
	    -1);
	ASSERT_STR_CONTAINS(cause, "bad HTTP method");
	free(cause);
}

TEST(image_inspect)
{
	cJSON *info = NULL, *id;
	char *cause = NULL;

	if (docker_image_inspect(rig_docker(), RIG_BUSYBOX, &info, &cause) != 0)
		TEST_FAIL("%s", cause);
	ASSERT_NOT_NULL(info);
	id = cJSON_GetObjectItemCaseSensitive(info, "Id");
	ASSERT_TRUE(cJSON_IsString(id) && strncmp(id->valuestring, "sha256:", 7) == 0);
	cJSON_Delete(info);

	info = (cJSON *)1;
	if (docker_image_inspect(rig_docker(), MISSING_IMAGE, &info, &cause) != 0)
		TEST_FAIL("%s", cause);
	ASSERT_NULL(info);
}

TEST(pull_missing_image_gives_daemon_message)
{
	cJSON *r = NULL, *m;
	char *cause = NULL;
	int status;

	ASSERT_INT_EQ(docker_image_pull(rig_docker(), MISSING_IMAGE, &cause), -1);
	ASSERT_NOT_NULL(cause);
	fprintf(stderr, "  (pull said: %s)\n", cause);
	ASSERT_TRUE(strncmp(cause, "docker: ", 8) == 0 && strlen(cause) > 20);

	/* The same pull by hand: the message must be the daemon's own. */
	if (docker_request(rig_docker(), "POST",
		"/images/create?fromImage=rdev-test%2Fno-such-image&tag=r1", NULL,
		&status, &r, NULL) == 0 &&
	    (m = cJSON_GetObjectItemCaseSensitive(r, "message")) != NULL &&
	    cJSON_IsString(m)) {
		ASSERT_STR_EQ(cause + 8, m->valuestring);
	}
	cJSON_Delete(r);
	free(cause);

	cause = NULL;
	ASSERT_INT_EQ(
	    docker_image_pull(rig_docker(),
		"localhost:1/rdev-test/none@sha256:"
		"0000000000000000000000000000000000000000000000000000000000000000",
		&cause),
	    -1);
	ASSERT_TRUE(strncmp(cause, "docker: ", 8) == 0);
	free(cause);
}

TEST(container_lifecycle)
{
	const char *mine[] = { rig.label, "rdev.test.role=lifecycle", NULL };
	const char *other[] = { rig.label, "rdev.test.role=nobody", NULL };
	const char *keyonly[] = { "rdev.test.role", NULL };
	cJSON *list = NULL, *info = NULL, *c, *jid;
	char *id, *cause = NULL;
	int found, rc;

	id = container_new("lifecycle", NULL, 0);
	if (docker_container_start(rig_docker(), id, &cause) != 0)
		TEST_FAIL("start: %s", cause);
	/* Already started: success (304). */
	if (docker_container_start(rig_docker(), id, &cause) != 0)
		TEST_FAIL("second start: %s", cause);

	if (docker_container_inspect(rig_docker(), id, &info, &cause) != 0)
		TEST_FAIL("inspect: %s", cause);
	ASSERT_NOT_NULL(info);
	ASSERT_TRUE(cJSON_IsTrue(
	    cJSON_GetObjectItem(cJSON_GetObjectItem(info, "State"), "Running")));
	cJSON_Delete(info);

	if (docker_container_list(rig_docker(), mine, 0, &list, &cause) != 0)
		TEST_FAIL("list: %s", cause);
	ASSERT_INT_EQ(cJSON_GetArraySize(list), 1);
	jid = cJSON_GetObjectItem(cJSON_GetArrayItem(list, 0), "Id");
	ASSERT_STR_EQ(cJSON_GetStringValue(jid), id);
	cJSON_Delete(list);

	if (docker_container_list(rig_docker(), other, 1, &list, &cause) != 0)
		TEST_FAIL("list: %s", cause);
	ASSERT_INT_EQ(cJSON_GetArraySize(list), 0);
	cJSON_Delete(list);

	if (docker_container_list(rig_docker(), keyonly, 1, &list, &cause) != 0)
		TEST_FAIL("list: %s", cause);
	found = 0;
	cJSON_ArrayForEach(c, list)
		if (strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(c, "Id")), id) == 0)
			found = 1;
	ASSERT_TRUE(found);
	cJSON_Delete(list);

	if ((rc = docker_container_stop(rig_docker(), id, 1, &cause)) < 0)
		TEST_FAIL("stop: %s", cause);
	ASSERT_INT_EQ(rc, 0);
	if (docker_container_inspect(rig_docker(), id, &info, &cause) != 0)
		TEST_FAIL("inspect: %s", cause);
	ASSERT_FALSE(cJSON_IsTrue(
	    cJSON_GetObjectItem(cJSON_GetObjectItem(info, "State"), "Running")));
	cJSON_Delete(info);
	/* Already stopped: success (304), said apart. */
	if ((rc = docker_container_stop(rig_docker(), id, 1, &cause)) < 0)
		TEST_FAIL("second stop: %s", cause);
	ASSERT_INT_EQ(rc, 1);

	/* A stopped container is listed only with all. */
	if (docker_container_list(rig_docker(), mine, 0, &list, &cause) != 0)
		TEST_FAIL("list: %s", cause);
	ASSERT_INT_EQ(cJSON_GetArraySize(list), 0);
	cJSON_Delete(list);
	if (docker_container_list(rig_docker(), mine, 1, &list, &cause) != 0)
		TEST_FAIL("list: %s", cause);
	ASSERT_INT_EQ(cJSON_GetArraySize(list), 1);
	cJSON_Delete(list);

	if (docker_container_remove(rig_docker(), id, 0, 1, &cause) != 0)
		TEST_FAIL("remove: %s", cause);
	info = (cJSON *)1;
	if (docker_container_inspect(rig_docker(), id, &info, &cause) != 0)
		TEST_FAIL("inspect: %s", cause);
	ASSERT_NULL(info);
	ASSERT_INT_EQ(docker_container_remove(rig_docker(), id, 1, 1, &cause), -1);
	ASSERT_STR_CONTAINS(cause, "docker: ");
	ASSERT_STR_CONTAINS(cause, "No such container");
	free(cause);
	free(id);
}

TEST(container_errors)
{
	cJSON *body = cJSON_CreateObject();
	char *id = NULL, *id2 = NULL, *cause = NULL;
	const char *name = rig_docker_name("docker");
	int rc;

	cJSON_AddStringToObject(body, "Image", MISSING_IMAGE);
	rc = docker_container_create(rig_docker(), NULL, body, &id, &cause);
	cJSON_Delete(body);
	ASSERT_INT_EQ(rc, -1);
	ASSERT_NULL(id);
	ASSERT_STR_CONTAINS(cause, "docker: No such image: " MISSING_IMAGE);
	free(cause);
	cause = NULL;

	id = container_new("named", name, 0);
	body = rig_container_body(RIG_BUSYBOX, NULL);
	rc = docker_container_create(rig_docker(), name, body, &id2, &cause);
	cJSON_Delete(body);
	free(id2);
	ASSERT_INT_EQ(rc, -1);
	ASSERT_STR_CONTAINS(cause, "docker: ");
	ASSERT_STR_CONTAINS(cause, "is already in use");
	free(cause);
	cause = NULL;

	/* Not running: exec is refused with the daemon's message. */
	{
		const char *argv[] = { "true", NULL };
		struct docker_exec_opts opts = { argv, NULL, NULL, NULL, NULL, 0, 0, 0, 0,
			0, NULL };
		int code;

		ASSERT_INT_EQ(
		    docker_exec(rig_docker(), name, &opts, NULL, NULL, &code, &cause),
		    -1);
		ASSERT_STR_CONTAINS(cause, "is not running");
		free(cause);
		cause = NULL;
		ASSERT_INT_EQ(docker_exec(rig_docker(), "rdev-no-such-container", &opts,
				  NULL, NULL, &code, &cause),
		    -1);
		ASSERT_STR_CONTAINS(
		    cause, "docker: No such container: rdev-no-such-container");
		free(cause);
		cause = NULL;
	}

	ASSERT_INT_EQ(
	    docker_container_start(rig_docker(), "rdev-no-such-container", &cause), -1);
	ASSERT_STR_CONTAINS(cause, "docker: No such container");
	free(cause);
	rig_container_remove(id);
}

TEST(exec_exit_code_and_streams)
{
	const char *argv[] = { "sh", "-c", "echo out; echo err >&2; exit 7", NULL };
	char *id = container_new("exec", NULL, 1), *out, *err;
	int code;

	code = run(id, argv, NULL, 0, &out, NULL, &err);
	ASSERT_INT_EQ(code, 7);
	ASSERT_STR_EQ(out, "out\n");
	ASSERT_STR_EQ(err, "err\n");
	free(out);
	free(err);
	rig_container_remove(id);
}

struct order {
	char seq[64];
	size_t n;
	int last;
};

static void
order_cb(void *arg, int stream, const void *data, size_t len)
{
	struct order *o = arg;

	if (stream != o->last && o->n < sizeof o->seq - 1) {
		o->seq[o->n++] = (char)('0' + stream);
		o->last = stream;
	}
}

TEST(exec_streams_as_it_runs)
{
	const char *argv[] = { "sh", "-c",
		"echo a; sleep 0.3; echo b >&2; sleep 0.3; echo c", NULL };
	struct docker_exec_opts opts = { argv, NULL, NULL, NULL, NULL, 0, 0, 0, 0, 0,
		NULL };
	struct order o = { "", 0, 0 };
	char *id = container_new("exec", NULL, 1), *cause = NULL;
	int code;

	if (docker_exec(rig_docker(), id, &opts, order_cb, &o, &code, &cause) != 0)
		TEST_FAIL("%s", cause);
	ASSERT_INT_EQ(code, 0);
	ASSERT_STR_EQ(o.seq, "121");
	rig_container_remove(id);
}

TEST(exec_options)
{
	const char *argv[] = { "sh", "-c", "id -u; echo \"$FOO/$BAR\"; pwd", NULL };
	const char *env[] = { "FOO=bar baz", "BAR=", NULL };
	struct docker_exec_opts opts = { argv, "1000:1000", env, "/tmp", NULL, 0, 0, 0, 0,
		0, NULL };
	char *id = container_new("exec", NULL, 1), *out, *err, *cause = NULL;
	int code;

	if (docker_exec_capture(rig_docker(), id, &opts, &out, &err, &code, &cause) != 0)
		TEST_FAIL("%s", cause);
	ASSERT_INT_EQ(code, 0);
	ASSERT_STR_EQ(out, "1000\nbar baz/\n/tmp\n");
	ASSERT_STR_EQ(err, "");
	free(out);
	free(err);
	rig_container_remove(id);
}

TEST(exec_missing_command)
{
	const char *argv[] = { "/no/such/command", NULL };
	struct docker_exec_opts opts = { argv, NULL, NULL, NULL, NULL, 0, 0, 0, 0, 0,
		NULL };
	char *id = container_new("exec", NULL, 1), *out = NULL, *err = NULL,
	     *cause = NULL;
	int code = 0, rc;

	rc = docker_exec_capture(rig_docker(), id, &opts, &out, &err, &code, &cause);
	if (rc != 0)
		TEST_FAIL("%s", cause);
	/* As with docker exec: 126 (or 127), and the daemon's message on the
	 * output. */
	ASSERT_INT_EQ(rc, 0);
	ASSERT_TRUE(code == 126 || code == 127);
	ASSERT_TRUE(strstr(out, "/no/such/command") != NULL ||
	    strstr(err, "/no/such/command") != NULL);
	free(out);
	free(err);
	free(cause);
	rig_container_remove(id);
}

TEST(exec_stdin_1mib)
{
	const char *argv[] = { "wc", "-c", NULL };
	size_t len = 1024 * 1024;
	char *in = malloc(len), *id = container_new("exec", NULL, 1), *out, *err;
	int code;

	memset(in, 'x', len);
	code = run(id, argv, in, len, &out, NULL, &err);
	ASSERT_INT_EQ(code, 0);
	ASSERT_INT_EQ(strtol(out, NULL, 10), 1048576);
	free(out);
	free(err);
	free(in);
	rig_container_remove(id);
}

TEST(exec_stdin_empty_and_absent)
{
	const char *argv[] = { "cat", NULL };
	char *id = container_new("exec", NULL, 1), *out, *err;
	size_t out_len = 99;
	int code;

	/* Attached but empty: cat sees end of file at once. */
	code = run(id, argv, "", 0, &out, &out_len, &err);
	ASSERT_INT_EQ(code, 0);
	ASSERT_INT_EQ(out_len, 0);
	free(out);
	free(err);
	/* Not attached: the same, no hang. */
	code = run(id, argv, NULL, 0, &out, &out_len, &err);
	ASSERT_INT_EQ(code, 0);
	ASSERT_INT_EQ(out_len, 0);
	free(out);
	free(err);
	rig_container_remove(id);
}

TEST(exec_binary_roundtrip)
{
	const char *argv[] = { "cat", NULL };
	unsigned char in[256];
	char *id = container_new("exec", NULL, 1), *out, *err;
	size_t out_len, i;
	int code;

	for (i = 0; i < sizeof in; i++)
		in[i] = (unsigned char)i;
	code = run(id, argv, in, sizeof in, &out, &out_len, &err);
	ASSERT_INT_EQ(code, 0);
	ASSERT_INT_EQ(out_len, sizeof in);
	ASSERT_MEM_EQ(out, in, sizeof in);
	ASSERT_STR_EQ(err, "");
	free(out);
	free(err);
	rig_container_remove(id);
}

TEST(exec_large_roundtrip_both_ways)
{
	/* More than any socket buffer holds, in both directions at once: a
	 * client that wrote all stdin before reading would deadlock. */
	const char *argv[] = { "sh", "-c", "cat; cat /dev/null >&2", NULL };
	size_t len = 8 * 1024 * 1024, i, out_len;
	unsigned char *in = malloc(len);
	char *id = container_new("exec", NULL, 1), *out, *err;
	unsigned int x = 12345;
	int code;

	for (i = 0; i < len; i++) {
		x = x * 1103515245u + 12345u;
		in[i] = (unsigned char)(x >> 16);
	}
	code = run(id, argv, in, len, &out, &out_len, &err);
	ASSERT_INT_EQ(code, 0);
	ASSERT_INT_EQ(out_len, len);
	ASSERT_TRUE(memcmp(out, in, len) == 0);
	free(out);
	free(err);
	free(in);
	rig_container_remove(id);
}

TEST(exec_stdin_unread)
{
	/* The command exits without reading its 4 MiB of stdin. */
	const char *argv[] = { "sh", "-c", "exit 3", NULL };
	size_t len = 4 * 1024 * 1024;
	char *in = calloc(1, len), *id = container_new("exec", NULL, 1), *out, *err;
	int code;

	code = run(id, argv, in, len, &out, NULL, &err);
	ASSERT_INT_EQ(code, 3);
	free(out);
	free(err);
	free(in);
	rig_container_remove(id);
}

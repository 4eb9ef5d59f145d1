/* test-serve.c - `rdev-agent serve` in-process: serve_run() in a forked child
 * on one end of a socketpair, the test speaking frames on the other. Protocol
 * robustness needs no Docker; the exec tests bring a busybox workspace up on
 * the real engine.
 */
#include "test.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "buf.h"
#include "proto.h"
#include "rig.h"
#include "serve.h"
#include "spawn.h"
#include "xmalloc.h"

struct peer {
	int fd;
	pid_t pid;
	struct buf *in;
};

struct msg {
	uint16_t type;
	uint32_t channel;
	char *payload; /* NUL-terminated */
	size_t len;
	cJSON *json; /* parsed for HELLO/FATAL/CONTROL/CLOSE with a payload */
};

static void
msg_clear(struct msg *m)
{
	free(m->payload);
	cJSON_Delete(m->json);
	memset(m, 0, sizeof *m);
}

static void
peer_start(struct peer *p)
{
	struct serve_opts o;
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
		fatal("socketpair");
	p->in = buf_new();
	if ((p->pid = fork()) == 0) {
		close(sv[0]);
		o.in_fd = o.out_fd = sv[1];
		signal(SIGPIPE, SIG_IGN);
		exit(serve_run(&o));
	}
	close(sv[1]);
	p->fd = sv[0];
}

static void
peer_send_raw(struct peer *p, const void *data, size_t len)
{
	if (write(p->fd, data, len) != (ssize_t)len)
		fatal("write to serve: %s", strerror(errno));
}

static void
peer_send(struct peer *p, enum proto_type type, uint32_t ch, const char *payload)
{
	struct buf *b = buf_new();

	proto_encode(b, type, ch, payload, payload != NULL ? strlen(payload) : 0);
	peer_send_raw(p, buf_data(b), buf_len(b));
	buf_free(b);
}

/* The next frame from serve; 0, or -1 at end of stream or after 60 s. */
static int
peer_next(struct peer *p, struct msg *m)
{
	struct proto_frame f;
	struct pollfd pfd = { .fd = p->fd, .events = POLLIN };
	unsigned char *d;
	size_t used;
	ssize_t n;
	char *cause = NULL;
	int r;

	memset(m, 0, sizeof *m);
	for (;;) {
		r = proto_decode(buf_data(p->in), buf_len(p->in), &f, &used, &cause);
		if (r < 0)
			fatal("serve sent garbage: %s", cause);
		if (r == 1)
			break;
		if (poll(&pfd, 1, 60000) != 1)
			return -1;
		d = buf_reserve(p->in, 65536);
		if ((n = read(p->fd, d, 65536)) <= 0)
			return -1;
		buf_commit(p->in, (size_t)n);
	}
	m->type = f.type;
	m->channel = f.channel;
	m->payload = xmalloc(f.len + 1);
	memcpy(m->payload, f.payload, f.len);
	m->payload[f.len] = '\0';
	m->len = f.len;
	if (f.type != PROTO_DATA && f.len > 0)
		m->json = cJSON_Parse(m->payload);
	buf_consume(p->in, used);
	return 0;
}

/* Close our end and return serve's exit code. */
static int
peer_finish(struct peer *p)
{
	int status;

	close(p->fd);
	buf_free(p->in);
	if (waitpid(p->pid, &status, 0) != p->pid)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static int
peer_hello(struct peer *p)
{
	struct msg m;
	int ok;

	peer_start(p);
	peer_send(p, PROTO_HELLO, 0, "{\"versions\":[1,1],\"software\":\"test-serve\"}");
	if (peer_next(p, &m) != 0)
		return 0;
	ok = m.type == PROTO_HELLO;
	msg_clear(&m);
	return ok;
}

/* The next CONTROL frame with this id that is not an event. */
static int
peer_response(struct peer *p, int id, struct msg *m)
{
	const cJSON *v;

	for (;;) {
		if (peer_next(p, m) != 0)
			return -1;
		v = cJSON_GetObjectItemCaseSensitive(m->json, "id");
		if (m->type == PROTO_CONTROL && cJSON_IsNumber(v) && v->valueint == id &&
		    cJSON_GetObjectItemCaseSensitive(m->json, "event") == NULL)
			return 0;
		msg_clear(m);
	}
}

static const char *
jstr(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

	return cJSON_IsString(v) ? v->valuestring : "(none)";
}

static int
jint(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

	return cJSON_IsNumber(v) ? v->valueint : -999;
}

TEST(handshake_then_version)
{
	struct peer p;
	struct msg m;

	ASSERT_TRUE(peer_hello(&p));
	peer_send(&p, PROTO_CONTROL, 0, "{\"id\":1,\"op\":\"version\"}");
	ASSERT_INT_EQ(peer_response(&p, 1, &m), 0);
	ASSERT_TRUE(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(m.json, "ok")));
	ASSERT_STR_EQ(
	    jstr(cJSON_GetObjectItemCaseSensitive(m.json, "result"), "software"),
	    "rdev-agent " RDEV_VERSION);
	ASSERT_INT_EQ(
	    jint(cJSON_GetObjectItemCaseSensitive(m.json, "result"), "protocol"), 1);
	msg_clear(&m);
	ASSERT_INT_EQ(peer_finish(&p), 0);
}

TEST(hello_comes_first_even_before_the_peer_speaks)
{
	struct peer p;
	struct msg m;

	peer_start(&p);
	ASSERT_INT_EQ(peer_next(&p, &m), 0);
	ASSERT_INT_EQ(m.type, PROTO_HELLO);
	ASSERT_STR_CONTAINS(jstr(m.json, "software"), "rdev-agent");
	msg_clear(&m);
	ASSERT_INT_EQ(peer_finish(&p), 0);
}

TEST(request_before_hello_is_fatal)
{
	struct peer p;
	struct msg m;

	peer_start(&p);
	peer_send(&p, PROTO_CONTROL, 0, "{\"id\":1,\"op\":\"version\"}");
	ASSERT_INT_EQ(peer_next(&p, &m), 0);
	ASSERT_INT_EQ(m.type, PROTO_HELLO);
	msg_clear(&m);
	ASSERT_INT_EQ(peer_next(&p, &m), 0);
	ASSERT_INT_EQ(m.type, PROTO_FATAL);
	ASSERT_STR_CONTAINS(jstr(m.json, "error"), "expected HELLO first, got CONTROL");
	msg_clear(&m);
	ASSERT_INT_EQ(peer_finish(&p), 1);
}

TEST(version_mismatch_is_fatal)
{
	struct peer p;
	struct msg m;

	peer_start(&p);
	peer_send(&p, PROTO_HELLO, 0, "{\"versions\":[5,6],\"software\":\"rdev 9\"}");
	ASSERT_INT_EQ(peer_next(&p, &m), 0);
	msg_clear(&m);
	ASSERT_INT_EQ(peer_next(&p, &m), 0);
	ASSERT_INT_EQ(m.type, PROTO_FATAL);
	ASSERT_STR_CONTAINS(jstr(m.json, "error"), "protocol version mismatch");
	ASSERT_STR_CONTAINS(jstr(m.json, "error"), "rdev 9 speaks 5..6");
	msg_clear(&m);
	ASSERT_INT_EQ(peer_finish(&p), 1);
}

TEST(garbage_after_handshake_is_fatal)
{
	struct peer p;
	struct msg m;

	ASSERT_TRUE(peer_hello(&p));
	peer_send_raw(&p, "Welcome to host\n", 16);
	ASSERT_INT_EQ(peer_next(&p, &m), 0);
	ASSERT_INT_EQ(m.type, PROTO_FATAL);
	ASSERT_STR_CONTAINS(jstr(m.json, "error"), "not an rdev protocol stream");
	msg_clear(&m);
	ASSERT_INT_EQ(peer_finish(&p), 1);
}

TEST(oversize_and_unknown_type_are_fatal)
{
	unsigned char big[12] = { 0x7f, 0, 0, 0, 0x52, 0x44, 0, 64, 0, 0, 0, 1 };
	unsigned char odd[12] = { 0, 0, 0, 0, 0x52, 0x44, 0, 99, 0, 0, 0, 0 };
	struct peer p;
	struct msg m;

	ASSERT_TRUE(peer_hello(&p));
	peer_send_raw(&p, big, sizeof big);
	ASSERT_INT_EQ(peer_next(&p, &m), 0);
	ASSERT_INT_EQ(m.type, PROTO_FATAL);
	ASSERT_STR_CONTAINS(jstr(m.json, "error"), "exceeds");
	msg_clear(&m);
	ASSERT_INT_EQ(peer_finish(&p), 1);

	ASSERT_TRUE(peer_hello(&p));
	peer_send_raw(&p, odd, sizeof odd);
	ASSERT_INT_EQ(peer_next(&p, &m), 0);
	ASSERT_INT_EQ(m.type, PROTO_FATAL);
	ASSERT_STR_CONTAINS(jstr(m.json, "error"), "unknown type 99");
	msg_clear(&m);
	ASSERT_INT_EQ(peer_finish(&p), 1);
}

TEST(bad_requests_get_errors_and_serve_goes_on)
{
	struct peer p;
	struct msg m;

	ASSERT_TRUE(peer_hello(&p));
	peer_send(&p, PROTO_CONTROL, 0, "not json");
	ASSERT_INT_EQ(peer_next(&p, &m), 0);
	ASSERT_TRUE(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(m.json, "id")));
	ASSERT_STR_CONTAINS(jstr(m.json, "error"), "not a JSON object");
	msg_clear(&m);
	peer_send(&p, PROTO_CONTROL, 0, "{\"op\":\"version\"}");
	ASSERT_INT_EQ(peer_next(&p, &m), 0);
	ASSERT_STR_CONTAINS(jstr(m.json, "error"), "numeric \"id\"");
	msg_clear(&m);
	peer_send(&p, PROTO_CONTROL, 0, "{\"id\":3,\"op\":\"make-coffee\"}");
	ASSERT_INT_EQ(peer_response(&p, 3, &m), 0);
	ASSERT_TRUE(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(m.json, "ok")));
	ASSERT_STR_EQ(jstr(m.json, "error"), "unknown operation \"make-coffee\"");
	msg_clear(&m);
	peer_send(&p, PROTO_CONTROL, 0,
	    "{\"id\":4,\"op\":\"exec\",\"workspace\":\"/x\",\"command\":[\"true\"]}");
	ASSERT_INT_EQ(peer_response(&p, 4, &m), 0);
	ASSERT_STR_CONTAINS(jstr(m.json, "error"), "\"channel\"");
	ASSERT_INT_EQ(jint(m.json, "exitStatus"), 125);
	msg_clear(&m);
	peer_send(&p, PROTO_CONTROL, 0,
	    "{\"id\":5,\"op\":\"exec\",\"workspace\":\"/"
	    "x\",\"command\":\"true\",\"channel\":2}");
	ASSERT_INT_EQ(peer_response(&p, 5, &m), 0);
	ASSERT_STR_CONTAINS(jstr(m.json, "error"), "non-empty array");
	msg_clear(&m);
	/* A workspace that does not exist: the worker answers with an error. */
	peer_send(&p, PROTO_CONTROL, 0,
	    "{\"id\":6,\"op\":\"stop\",\"workspace\":\"/nonexistent/ws\"}");
	ASSERT_INT_EQ(peer_response(&p, 6, &m), 0);
	ASSERT_TRUE(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(m.json, "ok")));
	ASSERT_INT_EQ(jint(m.json, "exitStatus"), 1);
	msg_clear(&m);
	peer_send(&p, PROTO_CONTROL, 0, "{\"id\":7,\"op\":\"stop\"}");
	ASSERT_INT_EQ(peer_response(&p, 7, &m), 0);
	ASSERT_STR_CONTAINS(jstr(m.json, "error"), "\"workspace\"");
	msg_clear(&m);
	/* Data for a channel nobody has is dropped. */
	peer_send(&p, PROTO_DATA, 77, "stray");
	peer_send(&p, PROTO_CONTROL, 0, "{\"id\":8,\"op\":\"version\"}");
	ASSERT_INT_EQ(peer_response(&p, 8, &m), 0);
	ASSERT_TRUE(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(m.json, "ok")));
	msg_clear(&m);
	ASSERT_INT_EQ(peer_finish(&p), 0);
}

/* A busybox workspace in a temporary folder, brought up through serve. */
static char *
up_busybox(struct peer *p, char *dir)
{
	struct msg m;
	char *path, *req, *id = NULL;
	FILE *f;
	int events = 0;

	if (mkdtemp(dir) == NULL)
		return NULL;
	path = xasprintf("%s/.devcontainer.json", dir);
	f = fopen(path, "w");
	fprintf(f, "{\"image\":\"%s\",\"updateRemoteUserUID\":false}\n", RIG_BUSYBOX);
	fclose(f);
	free(path);
	req = xasprintf("{\"id\":1,\"op\":\"up\",\"workspace\":\"%s\"}", dir);
	peer_send(p, PROTO_CONTROL, 0, req);
	free(req);
	for (;;) {
		if (peer_next(p, &m) != 0)
			return NULL;
		if (strcmp(jstr(m.json, "event"), "progress") == 0)
			events++;
		else if (m.type == PROTO_CONTROL && jint(m.json, "id") == 1)
			break;
		msg_clear(&m);
	}
	if (events > 0 && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(m.json, "ok")))
		id = xstrdup(jstr(
		    cJSON_GetObjectItemCaseSensitive(m.json, "result"), "containerId"));
	else
		fprintf(stderr, "up: %s (%d events)\n", m.payload, events);
	msg_clear(&m);
	return id;
}

/* Remove what up_busybox() made: the container (if id is not NULL) and the
 * folder. */
static void
remove_container(const char *id, const char *dir, const char *state)
{
	const char *rm[] = { "rm", "-rf", dir, state, NULL };
	struct spawn_result res;
	char *cause = NULL;

	if (id != NULL && docker_container_remove(rig_docker(), id, 1, 1, &cause) != 0) {
		fprintf(stderr, "cleanup: %s\n", cause);
		free(cause);
	}
	if (spawn_run(rm, NULL, &res, NULL) == 0)
		spawn_result_free(&res);
}

TEST(two_execs_at_once_with_stdin_and_status)
{
	char dir[] = "/tmp/rdev-test-serve.XXXXXX", *cid, *req, state[64];
	struct buf *out[2] = { buf_new(), buf_new() }, *err = buf_new();
	int status[2] = { -1, -1 }, answered = 0, closes = 0, i;
	struct peer p;
	struct msg m;

	rig_docker();
	/* A state folder of this process's own (another test-serve may run
	 * meanwhile), removed with the workspace. */
	snprintf(state, sizeof state, "/tmp/rdev-test-serve-state.%ld", (long)getpid());
	setenv("RDEV_STATE_DIR", state, 1);
	mkdir(state, 0700);
	ASSERT_TRUE(peer_hello(&p));
	cid = up_busybox(&p, dir);
	if (cid == NULL) {
		peer_finish(&p);
		remove_container(NULL, dir, state);
		TEST_FAIL("up of the busybox workspace failed");
	}
	/* Each command waits for the other's file: they must run at once.
	 * Stdin goes out before the answers (the client may pipeline). */
	for (i = 0; i < 2; i++) {
		req = xasprintf(
		    "{\"id\":%d,\"op\":\"exec\",\"workspace\":\"%s\","
		    "\"channel\":%d,\"command\":[\"sh\",\"-c\",\"touch /tmp/%c; "
		    "while [ ! -e /tmp/%c ]; do sleep 0.1; done; tr a-z A-Z; "
		    "echo err%d >&2; exit %d\"]}",
		    10 + i, dir, 2 + 2 * i, 'a' + i, 'b' - i, i, 40 + i);
		peer_send(&p, PROTO_CONTROL, 0, req);
		free(req);
		peer_send(&p, PROTO_DATA, 2 + 2 * i, i == 0 ? "first" : "second");
		peer_send(&p, PROTO_EOF, 2 + 2 * i, NULL);
	}
	while (closes < 2 && peer_next(&p, &m) == 0) {
		if (m.type == PROTO_CONTROL &&
		    cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(m.json, "ok")))
			answered++;
		else if (m.type == PROTO_DATA && (m.channel == 2 || m.channel == 4))
			buf_append(out[m.channel / 2 - 1], m.payload, m.len);
		else if (m.type == PROTO_DATA && (m.channel == 3 || m.channel == 5))
			buf_append(err, m.payload, m.len);
		else if (m.type == PROTO_CLOSE) {
			status[m.channel / 2 - 1] = jint(m.json, "status");
			closes++;
		}
		msg_clear(&m);
	}
	req = xasprintf("{\"id\":21,\"op\":\"down\",\"workspace\":\"%s\"}", dir);
	peer_send(&p, PROTO_CONTROL, 0, req);
	free(req);
	ASSERT_INT_EQ(peer_response(&p, 21, &m), 0);
	ASSERT_INT_EQ(
	    jint(cJSON_GetObjectItemCaseSensitive(m.json, "result"), "removed"), 1);
	msg_clear(&m);
	ASSERT_INT_EQ(peer_finish(&p), 0);
	remove_container(cid, dir, state);
	free(cid);
	ASSERT_INT_EQ(answered, 2);
	ASSERT_INT_EQ(status[0], 40);
	ASSERT_INT_EQ(status[1], 41);
	ASSERT_MEM_EQ(buf_data(out[0]), "FIRST", 5);
	ASSERT_INT_EQ(buf_len(out[0]), 5);
	ASSERT_MEM_EQ(buf_data(out[1]), "SECOND", 6);
	ASSERT_INT_EQ(buf_len(err), 10); /* "err0\n" and "err1\n" */
	buf_free(out[0]);
	buf_free(out[1]);
	buf_free(err);
}
